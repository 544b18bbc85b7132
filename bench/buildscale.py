"""(d) Build scale: `lambdakit build` of synthetic services of 10, 100 and 1000 functions.

Each service is a package of modules of ten functions each (GETs with a path
parameter, POSTs with a body, a PUT, a GET with query parameters, a queue
consumer), a table and a queue per module and a Cognito pool on the writes.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.common import median, ratio, table

SIZES = (10, 100, 500, 1000)  # 500: the slopes 100->500 and 500->1000 tell linear from quadratic

_MODELS = """\
from pydantic import BaseModel, Field


class NewThing(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    qty: int = Field(gt=0)
    tags: list[str] = []


class Thing(NewThing):
    thing_id: str
"""

_MODULE = """\
import lambdakit as lk

from . import users
from .models import NewThing, Thing

things = lk.Table("t{k}", key="thing_id", indexes={{"by_name": "name"}})
events = lk.Queue("q{k}")
"""

_FUNCTIONS = {
    0: """
@lk.route("GET", "/m{k}/f{i}/{{thing_id}}", reads=[things])
def m{k}_f{i}(thing_id: str) -> Thing:
    return Thing(**(things.get(thing_id=thing_id) or {{}}))
""",
    4: """
@lk.route("POST", "/m{k}/f{i}", writes=[things, events], auth=users, status=201)
def m{k}_f{i}(body: NewThing, identity: lk.Identity) -> Thing:
    thing = Thing(thing_id=lk.new_id(), **body.model_dump())
    things.put(thing.model_dump())
    return thing
""",
    7: """
@lk.route("PUT", "/m{k}/f{i}/{{thing_id}}", writes=[things], auth=users)
def m{k}_f{i}(thing_id: str, body: NewThing) -> Thing:
    return Thing(thing_id=thing_id, **body.model_dump())
""",
    8: """
@lk.route("GET", "/m{k}/f{i}", reads=[things])
def m{k}_f{i}(name: str, limit: int = 10) -> list[dict]:
    return things.query(index="by_name", limit=limit, name=name)
""",
    9: """
@lk.consume(events, writes=[things])
def m{k}_f{i}(message: dict) -> None:
    things.put(message)
""",
}


def _kind(i: int) -> int:
    return 0 if i < 4 else 4 if i < 7 else i


def generate(root: Path, size: int) -> str:
    """Write package `svc{size}` under root; returns its name."""
    name = f"lkbench_svc{size}"
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        f'import lambdakit as lk\n\nservice = lk.Service("svc{size}")\nusers = lk.Cognito("users{size}")\n'
    )
    (pkg / "models.py").write_text(_MODELS)
    for k in range((size + 9) // 10):
        count = min(10, size - 10 * k)
        text = _MODULE.format(k=k) + "".join(_FUNCTIONS[_kind(i)].format(k=k, i=i) for i in range(count))
        (pkg / f"mod{k:03d}.py").write_text(text)
    return name


PROBE = """\
import json, os, resource, sys, time
from pathlib import Path
sys.path.insert(0, os.getcwd())
import lambdakit.build as builder
from lambdakit.discovery import discover
phases = {{"template": 0.0, "yaml": 0.0, "compile": 0.0}}
def timed(name, fn):  # the phases as build() runs them, without running any twice
    def run(*args, **kwargs):
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] += time.process_time() - start
    return run
builder.render = timed("template", builder.render)
# The scale test measures build cost past CloudFormation's 500-resource stack limit, which build refuses.
builder.stack_problems = lambda app, template: []
builder.dump_yaml = timed("yaml", builder.dump_yaml)
builder.compile_code = timed("compile", builder.compile_code)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.process_time()
app = discover({package!r})
t1 = time.process_time()
builder.build(app, Path({out!r}))
t2 = time.process_time()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"functions": len(app.functions), "discover": t1 - t0, "build": t2 - t1, **phases,
                  "rss_base_kb": base, "rss_peak_kb": peak}}))
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "LAMBDAKIT"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def probe(root: Path, package: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(package=package, out=str(root / "out" / package))],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def cli(root: Path, package: str) -> dict[str, float]:
    """`lambdakit build PACKAGE` as a user runs it: wall time and peak memory of the process."""
    # The CLI as installed, except that it lets a service past CloudFormation's 500-resource stack limit
    # through (build refuses it): the scale test measures the build's cost, not a deployable stack.
    unlimited = (
        "import lambdakit.build as b; b.stack_problems = lambda app, t: []; from lambdakit.cli import main; main()"
    )
    cmd = [sys.executable, "-c", unlimited]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [*cmd, "build", package, "--out", str(root / "cli" / package)],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(out.stderr or out.stdout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # RUSAGE_CHILDREN's maxrss is the largest child so far; it is exact when this child is the largest
    return {"wall": wall, "maxrss_kb": float(max(after.ru_maxrss, before.ru_maxrss))}


def run(rounds: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="lk-bench-build-"))
    try:
        packages = {size: generate(root, size) for size in SIZES}
        probes: dict[int, list[dict[str, Any]]] = {size: [] for size in SIZES}
        clis: dict[int, list[dict[str, float]]] = {size: [] for size in SIZES}
        for r in range(rounds):
            for size in SIZES[r % len(SIZES) :] + SIZES[: r % len(SIZES)]:
                probes[size].append(probe(root, packages[size]))
                clis[size].append(cli(root, packages[size]))
                shutil.rmtree(root / "out", ignore_errors=True)
                shutil.rmtree(root / "cli", ignore_errors=True)
        for size in SIZES:
            assert all(p["functions"] == size for p in probes[size]), probes[size]
        return {"probes": probes, "clis": clis}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(result: dict[str, Any]) -> tuple[str, dict[str, float]]:
    probes, clis = result["probes"], result["clis"]
    rows = []
    figures: dict[str, float] = {}
    totals = {}
    for size in SIZES:
        ps = probes[size]
        phase = {k: median([p[k] for p in ps]) for k in ("discover", "template", "yaml", "compile", "build")}
        total = median([p["discover"] + p["build"] for p in ps])
        totals[size] = total
        wall = median([c["wall"] for c in clis[size]])
        peak = median([p["rss_peak_kb"] for p in ps]) / 1024
        grown = median([p["rss_peak_kb"] - p["rss_base_kb"] for p in ps]) / 1024
        figures[f"cli {size}"] = wall
        figures[f"total {size}"] = total
        figures[f"peak MB {size}"] = peak
        figures[f"growth MB {size}"] = grown
        for name, value in phase.items():
            figures[f"{name} {size}"] = value
        rows.append(
            [
                size,
                f"{wall:.2f} s",
                f"{total:.2f} s",
                f"{total / size * 1e3:.2f} ms",
                f"{phase['discover']:.2f} s",
                f"{phase['template']:.2f} s",
                f"{phase['yaml']:.2f} s",
                f"{phase['compile']:.2f} s",
                f"{phase['build']:.2f} s",
                f"{peak:.0f} MB",
                f"{grown:.1f} MB",
            ]
        )
    header = [
        "functions",
        "`lambdakit build` (wall)",
        "discover + build() (CPU)",
        "per function",
        "discover",
        "template",
        "YAML",
        "compile",
        "build(): template, YAML, compile, copy, write",
        "peak RSS",
        "RSS growth",
    ]
    text = table(header, rows)
    slopes = {(a, b): (totals[b] - totals[a]) / (b - a) for a, b in pairwise(SIZES)}
    figures["linearity"] = slopes[(500, 1000)] / slopes[(100, 500)]
    for (a, b), slope in slopes.items():
        figures[f"slope {a}-{b} ms"] = slope * 1e3
    text += (
        "\n\nMarginal cost per function (CPU): "
        + ", ".join(f"{slope * 1e3:.2f} ms from {a} to {b}" for (a, b), slope in slopes.items())
        + f"; from 500 to 1000 against from 100 to 500: {ratio(slopes[(500, 1000)], slopes[(100, 500)])}"
        " (1.00x is linear; a quadratic cost would give about 2.5x). From 10 to 100 the difference is"
        " within the fixed cost's noise."
    )
    return text, figures
