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

    return {
        "raw loop": consumers.raw_handler,
        "Powertools BatchProcessor": consumers.powertools_handler,
        "lambdakit": load("bench.apps.consumers:lk_consumer"),
    }


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
    jobs = [(case, name, fn, calibrate(fn, evs[case], ctx, target)) for case in CASES for name, fn in handlers.items()]
    samples: dict[tuple[str, str], list[float]] = {(c, n): [] for c, n, *_ in jobs}
    for r in range(rounds):
        for case, name, fn, n in jobs[r % len(jobs) :] + jobs[: r % len(jobs)]:
            gc.collect()
            samples[(case, name)].append(per_call(fn, evs[case], ctx, n) / BATCH)
    return {
        "samples": samples,
        "variants": list(handlers),
        "profile": profile(handlers["lambdakit"], handlers["Powertools BatchProcessor"], evs["10 valid"], ctx),
    }


def profile(lk: Any, pt: Any, event: Any, ctx: Any, batches: int = 2000) -> list[tuple[str, float, float]]:
    """Where lambdakit's consumer spends what Powertools used directly does not: cProfile's own time per
    function, per batch, for both handlers; the functions where lambdakit spends more, largest first."""
    import cProfile
    import pstats

    def own(fn: Any) -> dict[str, float]:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(batches):
            fn(event, ctx)
        prof.disable()
        stats: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
        out: dict[str, float] = {}
        for (path, line, name), (_, _, tottime, _, _) in stats.items():
            where = "/".join(path.split("/")[-2:]) if path != "~" else ""
            key = f"{where}:{line}({name})" if where else name
            out[key] = out.get(key, 0.0) + tottime / batches
        return out

    a, b = own(lk), own(pt)
    rows = [(key, a.get(key, 0.0), b.get(key, 0.0)) for key in a]
    rows.sort(key=lambda r: r[2] - r[1])
    return [r for r in rows if r[1] - r[2] > 0][:8]


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
            rows.append(
                [
                    case,
                    name,
                    f"{us(value)} {spread(values)}",
                    f"{paired(values, raw):.2f}x",
                    f"{(value - median(raw)) * 1e6:+.2f} µs",
                    f"{paired(values, pt):.2f}x",
                ]
            )
    header = [
        "batch",
        "variant",
        "per record",
        "ratio to raw",
        "overhead per record vs raw",
        "ratio to Powertools direct",
    ]
    text = table(header, rows)
    text += (
        "\n\nProfile (cProfile, 2,000 batches of 10 valid records; own time per batch, which cProfile "
        "inflates): the functions where lambdakit's consumer spends more than Powertools used directly.\n\n"
    )
    text += table(
        ["function", "lambdakit", "Powertools direct", "difference"],
        [[f"`{key}`", us(a), us(b), us(a - b)] for key, a, b in result["profile"]],
    )
    return text, figures
