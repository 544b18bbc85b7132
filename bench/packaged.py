"""(g) As packaged: cold start of an HTTP function from `lambdakit package`'s artifact, and package time.

Cold start: the bench service (`bench.apps.lk_app`) is packaged for this machine's architecture (so
its compiled dependencies run here), the zip is unzipped as /var/task would be, and each sample is a
fresh `python -S` whose path is the artifact and a folder holding only what the Lambda runtime adds
(boto3, botocore, s3transfer and their dependencies): no site-packages. The raw handler
(`bench.apps.raw_app`) runs from the same unzipped artifact in the same conditions, so both import
the same compiled pydantic. Like section (b), "lambdakit's own share" imports the raw handler's
modules first (untimed), then lambdakit's on top; the whole-import ratio is noisier.

Package time: `lambdakit package example_app.shop` in a fresh process, first with an empty wheel
cache (the compiled wheels are fetched from the package index and every dependency compiled), then
again with that cache (offline).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.common import median, ms, paired, spread, table

ROOT = Path(__file__).resolve().parent.parent
PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
IMPORTS = {
    "raw": "from bench.apps.raw_app import create as HANDLER",
    "lambdakit": "from lambdakit.entry import handler as HANDLER",
}
INCREMENT = "lambdakit increment"
PRELOAD = "import bench.apps.raw_app\n"
# The raw handler's imports alone, for the garbage collections that ran before lambdakit's share started:
# CPython's collections are deterministic for a given sequence of allocations, so the difference is the
# number that ran inside the share (a collection there costs ~1 ms: it scans every young object).
PRELOADED = "raw handler's imports only"

PROBE = """\
{preload}import time
_c0 = time.process_time()
{imports}
_c1 = time.process_time()
import gc
_collections = sum(generation["collections"] for generation in gc.get_stats())
import json, sys
class _Context:  # Lambda's context (lambdakit.testing's does not ship)
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    memory_limit_in_mb = 256
    aws_request_id = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "2026/03/10/[$LATEST]abcdef"
    def get_remaining_time_in_millis(self):
        return 10_000
with open(sys.argv[1]) as _f:
    _event = json.load(_f)
_ctx = _Context()
_c2 = time.process_time()
_r = HANDLER(_event, _ctx)
_c3 = time.process_time()
import json, sys
print(json.dumps({{"import": _c1 - _c0, "first": _c3 - _c2, "status": _r["statusCode"], "collections": _collections,
                  "site": [p for p in sys.path if "site-packages" in p],
                  "lambdakit": getattr(sys.modules.get("lambdakit"), "__file__", None)}}))
"""


def _architecture() -> str:
    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def make_artifact(dest: Path) -> Path:
    """Package the bench service for this machine and unzip it to `dest/task`; `dest/runtime` is Lambda's SDK."""
    from lambdakit.discovery import discover
    from lambdakit.packaging import package

    app = discover("bench.apps.lk_app")
    app.service.architecture = _architecture()  # so that its compiled dependencies run on this machine
    built = package(app, dest / "package")
    task, runtime = dest / "task", dest / "runtime"
    with zipfile.ZipFile(built.artifacts[0].path) as archive:
        archive.extractall(task)
    runtime.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in PROVIDED:
        (runtime / entry).symlink_to(site / entry)
    from bench.events import post_event

    (dest / "event.json").write_text(json.dumps(post_event()))
    return dest


def _env(dest: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{dest / 'task'}{os.pathsep}{dest / 'runtime'}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDAKIT_FUNCTION": "bench.apps.lk_app:create",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }


def sample(dest: Path, variant: str) -> dict[str, Any]:
    if variant == INCREMENT:
        code = PROBE.format(preload=PRELOAD, imports=IMPORTS["lambdakit"])
    elif variant == PRELOADED:
        code = PROBE.format(preload=PRELOAD, imports=IMPORTS["raw"])  # imported already: a lookup
    else:
        code = PROBE.format(preload="", imports=IMPORTS[variant])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, str(dest / "event.json")],
        cwd=dest / "task",
        env=_env(dest),
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{variant}: {out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != 201:
        raise AssertionError(f"{variant}: first call answered {result['status']}")
    if result["site"]:
        raise AssertionError(f"{variant}: site-packages on the path: {result['site']}")
    if variant not in ("raw", PRELOADED) and not str(result["lambdakit"]).startswith(str(dest / "task")):
        raise AssertionError(f"lambdakit was imported from {result['lambdakit']}, not the artifact")
    result["process"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def package_time(cache: Path, out: Path) -> float:
    """Wall time of `lambdakit package example_app.shop` in a fresh process, with `cache` as its cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDAKIT")} | {"LAMBDAKIT_CACHE": str(cache)}
    code = "import sys; from lambdakit.cli import main; sys.exit(main())"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, "package", "example_app.shop", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"lambdakit package failed: {done.stderr or done.stdout}")
    return took


def run(samples: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="lk-bench-packaged-"))
    try:
        cache = tmp / "cache"
        first = package_time(cache, tmp / "shop-1")
        cached = [package_time(cache, tmp / f"shop-{i + 2}") for i in range(3)]
        size = (tmp / "shop-1" / "shop.zip").stat().st_size
        with zipfile.ZipFile(tmp / "shop-1" / "shop.zip") as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
            files = len(archive.infolist())
        os.environ["LAMBDAKIT_CACHE"] = str(cache)
        try:
            dest = make_artifact(tmp / "bench")
        finally:
            del os.environ["LAMBDAKIT_CACHE"]
        jobs = [*IMPORTS, INCREMENT]
        results: dict[str, list[dict[str, Any]]] = {job: [] for job in jobs}
        for job in jobs:  # warm the OS file cache once, untimed
            sample(dest, job)
        for s in range(samples):
            for job in jobs[s % len(jobs) :] + jobs[: s % len(jobs)]:
                results[job].append(sample(dest, job))
        before = sample(dest, PRELOADED)["collections"]
        return {
            "collections in share": median([r["collections"] for r in results[INCREMENT]]) - before,
            "results": results,
            "first": first,
            "cached": median(cached),
            "size": size,
            "unzipped": unzipped,
            "files": files,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _med(rows: list[dict[str, Any]], *keys: str) -> float:
    return median([sum(r[k] for k in keys) for r in rows])


def report(result: dict[str, Any]) -> tuple[str, dict[str, float]]:
    results = result["results"]
    raw, lk, share = results["raw"], results["lambdakit"], results[INCREMENT]
    increment = (_med(raw, "import") + _med(share, "import")) / _med(raw, "import")

    def ratio(keys: tuple[str, ...]) -> float:
        return paired([sum(r[k] for k in keys) for r in lk], [sum(r[k] for k in keys) for r in raw])

    figures = {
        "packaged increment": increment,
        "packaged import": ratio(("import",)),
        "packaged import + first": ratio(("import", "first")),
        "packaged process": ratio(("process",)),
        "package first s": result["first"],
        "package cached s": result["cached"],
        "package size": float(result["size"]),
        "packaged collections in share": float(result["collections in share"]),
    }
    rows = [
        [
            "raw handler",
            "1.00x",
            f"{ms(_med(raw, 'import'))} {spread([r['import'] for r in raw])}",
            ms(_med(raw, "first")),
        ],
        [
            "lambdakit (whole imports)",
            f"{figures['packaged import']:.2f}x (import + 1st call {figures['packaged import + first']:.2f}x, "
            f"whole process {figures['packaged process']:.2f}x)",
            f"{ms(_med(lk, 'import'))} {spread([r['import'] for r in lk])}",
            ms(_med(lk, "first")),
        ],
        [
            "lambdakit, its own share: imported after the raw handler's imports",
            f"**{increment:.3f}x** (raw + {ms(_med(share, 'import'))}; "
            f"{result['collections in share']:.0f} garbage collections inside)",
            f"+{ms(_med(share, 'import'))} {spread([r['import'] for r in share])}",
            ms(_med(share, "first")),
        ],
    ]
    text = table(
        [
            "variant (from the artifact, `python -S`, only boto3 beside it)",
            "import ratio (CPU)",
            "import CPU",
            "1st call CPU",
        ],
        rows,
    )
    text += "\n\n" + table(
        ["`lambdakit package example_app.shop`", "wall time"],
        [
            [
                "first: empty wheel cache (fetch the compiled wheels, compile every dependency)",
                f"{result['first']:.2f} s",
            ],
            ["again: with the cache (offline), median of 3", f"{result['cached']:.2f} s"],
        ],
    )
    text += (
        f"\n\nThe artifact: {result['size'] / 1e6:.1f} MB zipped, {result['unzipped'] / 1e6:.1f} MB unzipped, "
        f"{result['files']} files."
    )
    return text, figures
