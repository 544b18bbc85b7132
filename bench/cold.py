"""(b) Cold start proxy: a fresh process per sample imports the handler and serves one POST.

Each sample runs in a function-artifact-like folder (lambdakit's runtime as
`lambdakit build` copies it, plus the bench apps) that is the first entry of
`sys.path`, as /var/task is on Lambda, with the dependencies from site-packages.
Lambda's /var/task is read-only, so code shipped without .pyc files is
compiled at every cold start; "as shipped" reproduces that (no .pyc for the
artifact, none written), "with .pyc" ships them compiled.
"""

from __future__ import annotations

import compileall
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import median, ms, ratio, spread, table

ROOT = Path(__file__).resolve().parent.parent

IMPORTS = {
    "raw": "from bench.apps.raw_app import create as HANDLER",
    "lambdakit": "from lambdakit.entry import handler as HANDLER",
    "Chalice": "from bench.apps.chalice_app import app as HANDLER",
    "Powertools (validation)": "from bench.apps.pt_app import handler as HANDLER",
}

PROBE = """\
import time
_t0 = time.perf_counter()
{imports}
_t1 = time.perf_counter()
from bench.events import Context, post_event
_event, _ctx = post_event(), Context()
_t2 = time.perf_counter()
_r = HANDLER(_event, _ctx)
_t3 = time.perf_counter()
import json, sys
print(json.dumps({{"import": _t1 - _t0, "first": _t3 - _t2, "status": _r["statusCode"],
                  "boto3": "boto3" in sys.modules, "powertools": "aws_lambda_powertools" in sys.modules,
                  "lambdakit": getattr(sys.modules.get("lambdakit"), "__file__", None)}}))
"""


def make_artifact(dest: Path, compiled: bool) -> Path:
    """A function artifact: lambdakit's runtime (as the builder copies it) and the bench apps."""
    from lambdakit.build import copy_runtime

    dest.mkdir(parents=True)
    copy_runtime(dest)
    bench = dest / "bench"
    (bench / "apps").mkdir(parents=True)
    for name in ("__init__.py", "events.py"):
        shutil.copy2(ROOT / "bench" / name, bench / name)
    for path in (ROOT / "bench" / "apps").glob("*.py"):
        shutil.copy2(path, bench / "apps" / path.name)
    if compiled:
        compileall.compile_dir(str(dest), quiet=1)
    return dest


def sample(artifact: Path, variant: str, boto3: bool) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LAMBDAKIT", "BENCH"))}
    env.update(PYTHONDONTWRITEBYTECODE="1", LAMBDAKIT_FUNCTION="bench.apps.lk_app:create",
               AWS_DEFAULT_REGION="eu-west-1")
    if boto3:
        env["BENCH_BOTO3"] = "1"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE.format(imports=IMPORTS[variant])], cwd=artifact, env=env,
                         capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{variant}: {out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != 201:
        raise AssertionError(f"{variant}: first call answered {result['status']}")
    if variant == "lambdakit" and not str(result["lambdakit"]).startswith(str(artifact)):
        raise AssertionError(f"lambdakit was imported from {result['lambdakit']}, not the artifact")
    result["process"] = wall
    return result


def import_profile(artifact: Path, runs: int) -> dict[str, float]:
    """Median self time of each lambdakit module on the HTTP path (`python -X importtime`), after the
    app's own dependencies are loaded, so only lambdakit's share is attributed to lambdakit."""
    code = ("import bench.apps.raw_app\nimport lambdakit.entry\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LAMBDAKIT", "BENCH"))}
    env.update(PYTHONDONTWRITEBYTECODE="1", LAMBDAKIT_FUNCTION="bench.apps.lk_app:create")
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=artifact, env=env,
                             capture_output=True, text=True, check=True).stderr
        seen = False
        for line in err.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
            if m and m[3].startswith("lambdakit"):
                times.setdefault(m[3], []).append(int(m[1]) / 1e6)
                seen = True
        assert seen, err[-2000:]
    return {name: median(values) for name, values in times.items()}


CONFIGS = [  # (mode, boto3)
    ("as shipped", False),
    ("as shipped", True),
    ("with .pyc", False),
]


def run(samples: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="lk-bench-cold-"))
    try:
        artifacts = {"as shipped": make_artifact(tmp / "shipped", compiled=False),
                     "with .pyc": make_artifact(tmp / "compiled", compiled=True)}
        jobs = [(mode, boto3, variant) for mode, boto3 in CONFIGS for variant in IMPORTS]
        results: dict[tuple[str, bool, str], list[dict[str, Any]]] = {job: [] for job in jobs}
        for job in jobs:  # warm the OS file cache once, untimed
            sample(artifacts[job[0]], job[2], job[1])
        for s in range(samples):
            for mode, boto3, variant in jobs[s % len(jobs):] + jobs[: s % len(jobs)]:
                results[(mode, boto3, variant)].append(sample(artifacts[mode], variant, boto3))
        profiles = {mode: import_profile(path, max(3, samples // 2)) for mode, path in artifacts.items()}
        return {"results": results, "profiles": profiles}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(result: dict[str, Any]) -> tuple[str, dict[str, float]]:
    results = result["results"]
    rows = []
    ratios: dict[str, float] = {}
    for mode, boto3 in CONFIGS:
        base = {k: median([r[k] for r in results[(mode, boto3, "raw")]]) for k in ("import", "first", "process")}
        base_total = median([r["import"] + r["first"] for r in results[(mode, boto3, "raw")]])
        for variant in IMPORTS:
            rs = results[(mode, boto3, variant)]
            imp = [r["import"] for r in rs]
            total = [r["import"] + r["first"] for r in rs]
            proc = [r["process"] for r in rs]
            loaded = [name for name in ("boto3", "powertools") if rs[0][name]]
            ratios[f"{variant} {mode} {'boto3' if boto3 else 'no boto3'}"] = median(imp) / base["import"]
            rows.append([
                mode, "yes" if boto3 else "no", variant,
                ratio(median(imp), base["import"]), f"{ms(median(imp))} {spread(imp)}",
                ratio(median(total), base_total), ms(median([r["first"] for r in rs])),
                ratio(median(proc), base["process"]), ms(median(proc)),
                ", ".join(loaded) or "-",
            ])
    header = ["artifact", "app imports boto3", "variant", "import ratio", "import time", "import+1st call ratio",
              "1st call", "process ratio", "process wall", "loaded by the end"]
    text = table(header, rows)
    profiles = result["profiles"]
    names = sorted({n for p in profiles.values() for n in p}, key=lambda n: -profiles["as shipped"].get(n, 0))
    prof_rows = [[f"`{n}`" + (" (incl. importing the app, building the plan)" if n == "lambdakit.entry" else ""),
                  *(ms(profiles[mode].get(n, 0.0)) for mode in profiles)] for n in names]
    prof_rows.append(["**total: lambdakit's own import cost**",
                      *(ms(sum(profiles[mode].values())) for mode in profiles)])
    for mode in profiles:
        ratios[f"lambdakit modules {mode}"] = sum(profiles[mode].values())
    text += ("\n\nProfile: self time of each lambdakit module on the HTTP path (`python -X importtime`, which "
             "inflates absolute times; median of several runs; the app's dependencies are imported first):\n\n")
    text += table(["module", *(f"{mode}" for mode in profiles)], prof_rows)
    return text, ratios
