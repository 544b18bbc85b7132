"""(b) Cold start proxy: a fresh process per sample imports the handler and serves one POST.

Each sample runs in a function artifact: lambdakit's runtime as `lambdakit
build` ships it, plus the bench apps, as the first entry of `sys.path` (as
/var/task is on Lambda), with the dependencies from site-packages.

Lambda's /var/task is read-only: Python cannot cache what it compiles there,
so whatever is shipped without .pyc files is compiled at every cold start.
`sam build` unpacks the dependencies' wheels without compiling them, so in a
SAM-built function pydantic, Powertools, Chalice and boto3 are compiled at
every cold start too; a layer or image made with `pip install` ships them
compiled. The scenarios:

- "SAM, source": dependencies and artifact from source (only the standard
  library, part of the Lambda runtime, is precompiled) - how lambdakit shipped
  before `lambdakit build` compiled its artifact;
- "SAM, .pyc": dependencies from source, artifact compiled, as `lambdakit
  build` ships it now;
- "all .pyc": dependencies and artifact compiled (a pip-installed layer or
  image): the floor, where the framework's own code weighs most.

Times are CPU time of the process (`time.process_time`), which a busy shared
machine disturbs far less than wall time; wall time is shown for context.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import median, ms, paired, spread, table

ROOT = Path(__file__).resolve().parent.parent

IMPORTS = {
    "raw": "from bench.apps.raw_app import create as HANDLER",
    "lambdakit": "from lambdakit.entry import handler as HANDLER",
    "Chalice": "from bench.apps.chalice_app import app as HANDLER",
    "Powertools (validation)": "from bench.apps.pt_app import handler as HANDLER",
}
# lambdakit's own share, precisely: the raw handler's imports first (untimed), then lambdakit's on top
INCREMENT = "lambdakit increment"
PRELOAD = "import bench.apps.raw_app\n"

MODES = {  # name: (dependencies compiled?, artifact compiled?)
    "SAM, source": (False, False),
    "SAM, .pyc": (False, True),
    "all .pyc": (True, True),
}
CONFIGS = [("SAM, source", False), ("SAM, .pyc", False), ("all .pyc", False), ("all .pyc", True)]

PROBE = """\
{preload}import time
_c0, _t0 = time.process_time(), time.perf_counter()
{imports}
_c1, _t1 = time.process_time(), time.perf_counter()
from bench.events import Context, post_event
_event, _ctx = post_event(), Context()
_c2, _t2 = time.process_time(), time.perf_counter()
_r = HANDLER(_event, _ctx)
_c3, _t3 = time.process_time(), time.perf_counter()
import json, sys
print(json.dumps({{"import": _c1 - _c0, "first": _c3 - _c2, "import_wall": _t1 - _t0, "first_wall": _t3 - _t2,
                  "status": _r["statusCode"],
                  "boto3": "boto3" in sys.modules, "powertools": "aws_lambda_powertools" in sys.modules,
                  "lambdakit": getattr(sys.modules.get("lambdakit"), "__file__", None)}}))
"""


def make_artifact(dest: Path, compiled: bool) -> Path:
    """A function artifact: lambdakit's runtime as the builder ships it, and the bench apps."""
    from lambdakit.build import compile_code, copy_runtime

    dest.mkdir(parents=True)
    copy_runtime(dest)
    bench = dest / "bench"
    (bench / "apps").mkdir(parents=True)
    for name in ("__init__.py", "events.py"):
        shutil.copy2(ROOT / "bench" / name, bench / name)
    for path in (ROOT / "bench" / "apps").glob("*.py"):
        shutil.copy2(path, bench / "apps" / path.name)
    if compiled:
        runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
        assert compile_code(dest, runtime), "compiling the artifact failed"
    return dest


def _env(prefix: Path | None, boto3: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LAMBDAKIT", "BENCH"))}
    env.update(
        PYTHONDONTWRITEBYTECODE="1", LAMBDAKIT_FUNCTION="bench.apps.lk_app:create", AWS_DEFAULT_REGION="eu-west-1"
    )
    if prefix is not None:  # Python looks for every .pyc there: only the standard library's are
        env["PYTHONPYCACHEPREFIX"] = str(prefix)
    if boto3:
        env["BENCH_BOTO3"] = "1"
    return env


def stdlib_only_cache(prefix: Path, artifact: Path) -> Path:
    """A pycache prefix holding compiled standard-library modules only (as the Lambda runtime has them),
    so that with it the dependencies and the artifact are compiled from source."""
    env = _env(prefix, boto3=True)
    del env["PYTHONDONTWRITEBYTECODE"]
    for code in IMPORTS.values():
        subprocess.run(
            [sys.executable, "-c", PROBE.format(preload="", imports=code)],
            cwd=artifact,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    keep = prefix / stdlib.relative_to(stdlib.anchor)
    kept = prefix.parent / (prefix.name + "-stdlib")
    shutil.move(str(keep), str(kept))
    shutil.rmtree(prefix)
    keep.parent.mkdir(parents=True)
    shutil.move(str(kept), str(keep))
    for name in ("purelib", "platlib"):  # a non-venv Python keeps site-packages inside the stdlib folder
        site = Path(sysconfig.get_paths()[name]).resolve()
        shutil.rmtree(prefix / site.relative_to(site.anchor), ignore_errors=True)
    return prefix


def with_artifact_bytecode(stdlib_cache: Path, artifact: Path, dest: Path) -> Path:
    """The stdlib-only cache plus the artifact's own .pyc: with a pycache prefix set, Python looks for
    every .pyc under it (mirroring the source's absolute path), never in the __pycache__ beside the source."""
    shutil.copytree(stdlib_cache, dest)
    for pyc in artifact.rglob("__pycache__/*.pyc"):
        source_dir = pyc.parent.parent.resolve()
        target = dest / source_dir.relative_to(source_dir.anchor) / pyc.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pyc, target)
    return dest


def sample(artifact: Path, variant: str, boto3: bool, prefix: Path | None) -> dict[str, Any]:
    if variant == INCREMENT:
        code = PROBE.format(preload=PRELOAD, imports=IMPORTS["lambdakit"])
    else:
        code = PROBE.format(preload="", imports=IMPORTS[variant])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=artifact, env=_env(prefix, boto3), capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{variant}: {out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != 201:
        raise AssertionError(f"{variant}: first call answered {result['status']}")
    if "lambdakit" in variant and not str(result["lambdakit"]).startswith(str(artifact)):
        raise AssertionError(f"lambdakit was imported from {result['lambdakit']}, not the artifact")
    result["process"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["process_wall"] = wall
    return result


def import_profile(artifact: Path, prefix: Path | None, runs: int) -> dict[str, float]:
    """Median self time of each lambdakit module on the HTTP path (`python -X importtime`), after the
    app's own dependencies are loaded, so only lambdakit's share is attributed to lambdakit."""
    code = PRELOAD + "import lambdakit.entry\n"
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            cwd=artifact,
            env=_env(prefix, False),
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        for line in err.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
            if m and m[3].startswith("lambdakit"):
                times.setdefault(m[3], []).append(int(m[1]) / 1e6)
    assert times, "no lambdakit module in the import profile"
    return {name: median(values) for name, values in times.items()}


def run(samples: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="lk-bench-cold-"))
    try:
        source, compiled = make_artifact(tmp / "source", False), make_artifact(tmp / "compiled", True)
        stdlib = stdlib_only_cache(tmp / "pycache", source)
        prefixes = {False: stdlib, True: with_artifact_bytecode(stdlib, compiled, tmp / "pycache-artifact")}
        where = {
            mode: (compiled if artifact_pyc else source, None if deps_pyc else prefixes[artifact_pyc])
            for mode, (deps_pyc, artifact_pyc) in MODES.items()
        }
        jobs = [(mode, boto3, variant) for mode, boto3 in CONFIGS for variant in IMPORTS]
        jobs += [(mode, False, INCREMENT) for mode in MODES]
        results: dict[tuple[str, bool, str], list[dict[str, Any]]] = {job: [] for job in jobs}
        for mode, boto3, variant in jobs:  # warm the OS file cache once, untimed
            sample(where[mode][0], variant, boto3, where[mode][1])
        for s in range(samples):
            for mode, boto3, variant in jobs[s % len(jobs) :] + jobs[: s % len(jobs)]:
                results[(mode, boto3, variant)].append(sample(where[mode][0], variant, boto3, where[mode][1]))
        profiles = {
            mode: import_profile(*where[mode], runs=max(3, samples // 3)) for mode in ("SAM, source", "SAM, .pyc")
        }
        return {"results": results, "profiles": profiles}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _med(rows: list[dict[str, Any]], *keys: str) -> float:
    return median([sum(r[k] for k in keys) for r in rows])


def _ratio(rows: list[dict[str, Any]], raw: list[dict[str, Any]], *keys: str) -> float:
    return paired([sum(r[k] for k in keys) for r in rows], [sum(r[k] for k in keys) for r in raw])


def report(result: dict[str, Any]) -> tuple[str, dict[str, float]]:
    results = result["results"]
    rows = []
    figures: dict[str, float] = {}
    for mode, boto3 in CONFIGS:
        raw = results[(mode, boto3, "raw")]
        variants = list(IMPORTS) + ([INCREMENT] if not boto3 else [])
        for variant in variants:
            rs = results[(mode, boto3, variant)]
            loaded = [name for name in ("boto3", "powertools") if rs[0][name]]
            tag = f"{mode} {'boto3' if boto3 else 'no boto3'}"
            if variant == INCREMENT:
                estimate = (_med(raw, "import") + _med(rs, "import")) / _med(raw, "import")
                figures[f"lambdakit increment {tag}"] = estimate
                figures[f"lambdakit increment s {tag}"] = _med(rs, "import")
                figures[f"raw import s {tag}"] = _med(raw, "import")
                rows.append(
                    [
                        mode,
                        "no",
                        "lambdakit, its own share: imported after the raw handler's imports",
                        f"**{estimate:.3f}x** (raw + {ms(_med(rs, 'import'))})",
                        f"+{ms(_med(rs, 'import'))} {spread([r['import'] for r in rs])}",
                        "",
                        "",
                        "",
                        "",
                        "",
                        ", ".join(loaded) or "-",
                    ]
                )
                continue
            imp = _ratio(rs, raw, "import")
            figures[f"{variant} {tag}"] = imp
            rows.append(
                [
                    mode,
                    "yes" if boto3 else "no",
                    variant,
                    f"{imp:.2f}x",
                    f"{ms(_med(rs, 'import'))} {spread([r['import'] for r in rs])}",
                    f"{_ratio(rs, raw, 'import', 'first'):.2f}x",
                    ms(_med(rs, "first")),
                    f"{_ratio(rs, raw, 'import_wall'):.2f}x",
                    ms(_med(rs, "import_wall")),
                    f"{_ratio(rs, raw, 'process'):.2f}x",
                    ", ".join(loaded) or "-",
                ]
            )
    header = [
        "scenario",
        "app imports boto3",
        "variant",
        "import ratio (CPU)",
        "import CPU",
        "import + 1st call ratio (CPU)",
        "1st call CPU",
        "import ratio (wall)",
        "import wall",
        "whole process ratio (CPU)",
        "loaded by the end",
    ]
    text = table(header, rows)
    profiles = result["profiles"]
    modes = list(profiles)
    names = sorted({n for p in profiles.values() for n in p}, key=lambda n: -profiles[modes[0]].get(n, 0))
    prof_rows = [
        [
            f"`{n}`" + (" (incl. importing the app and building the plan)" if n == "lambdakit.entry" else ""),
            *(ms(profiles[mode].get(n, 0.0)) for mode in modes),
        ]
        for n in names
    ]
    prof_rows.append(["**total: lambdakit's own import cost**", *(ms(sum(profiles[m].values())) for m in modes)])
    for mode in modes:
        figures[f"lambdakit modules {mode}"] = sum(profiles[mode].values())
    figures["lambdakit module count"] = float(sum(n.startswith("lambdakit") for n in profiles[modes[0]]))
    text += (
        "\n\nProfile: self time of each lambdakit module on the HTTP path, with the artifact from source "
        "and compiled (`python -X importtime`, which inflates absolute times; median of several runs; the "
        "app's dependencies imported first):\n\n"
    )
    text += table(
        ["module", *(f"artifact {'from source' if m == 'SAM, source' else 'with .pyc'}" for m in modes)], prof_rows
    )
    return text, figures
