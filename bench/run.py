"""Run the benchmark suite, print the tables and write docs/performance.md.

    python -m bench                 # everything, ~3-5 minutes; writes docs/performance.md
    python -m bench --quick         # fewer rounds and samples: a smoke test, figures too noisy to publish
    python -m bench --only warm,consumers --no-write

Every figure is measured side by side in this one run, interleaved (each round
rotates the order of the variants), over several rounds, and reported as a
ratio to the raw hand-written handler: the median of the per-round ratios. On
a shared, noisy machine the ratios are what carries over; absolute times are
context only.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import buildscale, cold, consumers, packaged, site, size, warm

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("warm", "cold", "consumers", "build", "size", "site", "packaged")
COMMAND = "python -m bench"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for dist in ("pydantic", "pydantic-core", "chalice", "aws-lambda-powertools", "boto3", "PyYAML"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} (not installed)")
    import yaml

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores (shared), load average {load} at the start; "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}; "
        f"{'; '.join(versions)}; libyaml {'yes' if yaml.__with_libyaml__ else 'no'}"
    )


def verdicts(figures: dict[str, dict[str, float]]) -> list[list[str]]:
    rows = []

    def add(target: str, value: str, met: bool | None) -> None:
        rows.append([target, value, "n/a" if met is None else ("met" if met else "**not met**")])

    w = figures.get("warm")
    if w:
        add("warm POST <= 1.5x raw", f"{w['lambdakit POST']:.2f}x", w["lambdakit POST"] <= 1.5)
        add("warm GET <= 2x raw", f"{w['lambdakit GET']:.2f}x", w["lambdakit GET"] <= 2.0)
    c = figures.get("cold")
    if c:
        notes = {
            "SAM, source": "SAM, artifact from source: only if the building Python is not the runtime's",
            "SAM, .pyc": "SAM build, as `lambdakit build` ships it",
            "all .pyc": "everything precompiled",
        }
        for mode in cold.MODES:
            share, direct = c[f"lambdakit increment {mode} no boto3"], c[f"lambdakit {mode} no boto3"]
            add(
                f"cold import of an HTTP function <= 1.03x raw ({notes.get(mode, mode)})",
                f"{share:.3f}x from lambdakit's own share ({direct:.2f}x whole imports, noisier)",
                share <= 1.03,
            )
    k = figures.get("consumers")
    if k:
        for case in consumers.CASES:
            lk = k[f"lambdakit {case} vs Powertools"]
            target = "consumer per record <= Powertools BatchProcessor direct"
            if consumers.CASES[case]:
                target += f" ({case}: lambdakit also logs each failed record)"
            add(target, f"{lk:.2f}x Powertools", lk <= 1.0)
    b = figures.get("build")
    if b:
        add("build of 1000 functions <= 5 s", f"{b['cli 1000']:.2f} s", b["cli 1000"] <= 5.0)
        add(
            "build cost grows linearly (marginal cost 500->1000 within 1.5x of 100->500)",
            f"{b['linearity']:.2f}x",
            b["linearity"] <= 1.5,
        )
    s = figures.get("size")
    if s:
        add(
            "lambdakit's runtime in a function artifact <= 0.3 MB",
            f"{s['bytes'] / 1e6:.3f} MB ({s['zipped'] / 1e6:.3f} MB zipped)",
            s["bytes"] <= 300_000,
        )
    p = figures.get("packaged")
    if p:
        add(
            "cold import of an HTTP function as packaged (`lambdakit package`, bare interpreter) <= 1.03x raw",
            f"{p['packaged increment']:.3f}x from lambdakit's own share ({p['packaged import']:.2f}x whole imports)",
            p["packaged increment"] <= 1.03,
        )
        add(
            "`lambdakit package example_app.shop`: first (empty cache) / cached",
            f"{p['package first s']:.1f} s / {p['package cached s']:.1f} s",
            None,
        )
    t = figures.get("site")
    if t:
        added = t["site added p50 ms"]
        add("the local site adds <= 1 ms p50 to an API request", f"{added:.3f} ms", added <= 1.0)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke test")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write docs/performance.md")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    rounds = 5 if args.quick else 21
    context = machine()
    print(f"machine: {context}\n", flush=True)
    texts: dict[str, str] = {}
    figures: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    plan: dict[str, Any] = {
        "warm": lambda: warm.report(warm.run(rounds, target=0.02)),
        "consumers": lambda: consumers.report(consumers.run(rounds, target=0.02)),
        "cold": lambda: cold.report(cold.run(4 if args.quick else 15)),
        "build": lambda: buildscale.report(buildscale.run(1 if args.quick else 5)),
        "size": lambda: size.report(size.run()),
        "site": lambda: site.report(site.run(100 if args.quick else 500)),
        "packaged": lambda: packaged.report(packaged.run(4 if args.quick else 15)),
    }
    for section in SECTIONS:
        if section not in only:
            continue
        t0 = time.perf_counter()
        print(f"== {section} ...", flush=True)
        texts[section], figures[section] = plan[section]()
        print(texts[section] + f"\n({time.perf_counter() - t0:.0f} s)\n", flush=True)
    summary = verdicts(figures)
    from bench.common import table

    verdict = table(["target", "measured", ""], summary)
    print(verdict)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if not args.no_write:
        from bench.doc import render

        Path(args.out).write_text(
            render(
                texts, figures, verdict, context, quick=args.quick, command=COMMAND + (" --quick" if args.quick else "")
            )
        )
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
