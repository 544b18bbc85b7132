"""(c) Consumers: a batch of 10 SQS records through lambdakit, a raw loop and Powertools' BatchProcessor."""

from __future__ import annotations

import contextlib
import gc
import os
from typing import Any

from bench import events
from bench.common import calibrate, median, paired, per_call, spread, table, us

BATCH = 10
CASES = {"10 valid": (), "10, 2 invalid": (3, 7)}


def variants() -> dict[str, Any]:
    from bench.apps import consumers
    from lambdakit.runtime.loader import load

    handlers = {"raw loop": consumers.raw_handler, "Powertools BatchProcessor": consumers.powertools_handler,
                "lambdakit": load("bench.apps.consumers:lk_consumer")}
    try:  # the change proposed for lambdakit/runtime/batch.py, while it is not made
        from bench.apps.batch_proposal import make_handler
    except ImportError:
        return handlers
    handlers[PROPOSED] = make_handler(consumers.lk_consumer.__lambdakit__)  # type: ignore[attr-defined]
    return handlers


PROPOSED = "lambdakit, batch.py change proposed (bench/apps/batch_proposal.py)"


def run(rounds: int, target: float) -> dict[str, Any]:
    # lambdakit logs each failed record (structured, through the Powertools logger, to stdout): timed, but
    # written to /dev/null here
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return _run(rounds, target)


def _run(rounds: int, target: float) -> dict[str, Any]:
    handlers = variants()
    ctx = events.Context()
    evs = {case: events.sqs_event(BATCH, fail) for case, fail in CASES.items()}
    for case, fail in CASES.items():
        expected = sorted(f"059f36b4-87a3-44ab-83d2-{i:012d}" for i in fail)
        for name, fn in handlers.items():
            got = sorted(f["itemIdentifier"] for f in fn(evs[case], ctx)["batchItemFailures"])
            assert got == expected, (name, case, got)
    jobs = [(case, name, fn, calibrate(fn, evs[case], ctx, target)) for case in CASES
            for name, fn in handlers.items()]
    samples: dict[tuple[str, str], list[float]] = {(c, n): [] for c, n, *_ in jobs}
    for r in range(rounds):
        for case, name, fn, n in jobs[r % len(jobs):] + jobs[: r % len(jobs)]:
            gc.collect()
            samples[(case, name)].append(per_call(fn, evs[case], ctx, n) / BATCH)
    return {"samples": samples, "variants": list(handlers)}


def report(result: dict[str, Any]) -> tuple[str, dict[str, float]]:
    samples = result["samples"]
    rows = []
    figures: dict[str, float] = {}
    for case in CASES:
        raw, pt = samples[(case, "raw loop")], samples[(case, "Powertools BatchProcessor")]
        for name in result["variants"]:
            values = samples[(case, name)]
            value = median(values)
            figures[f"{name} {case}"] = paired(values, raw)
            figures[f"{name} {case} vs Powertools"] = paired(values, pt)
            figures[f"{name} {case} s"] = value
            rows.append([case, name, f"{us(value)} {spread(values)}", f"{paired(values, raw):.2f}x",
                         f"{(value - median(raw)) * 1e6:+.2f} µs", f"{paired(values, pt):.2f}x"])
    header = ["batch", "variant", "per record", "ratio to raw", "overhead per record vs raw",
              "ratio to Powertools direct"]
    return table(header, rows), figures
