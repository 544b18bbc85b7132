"""Timing helpers and the table format every section shares."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    """The interquartile range as a share of the median: how noisy a figure was."""
    if len(values) < 4:
        return "-"
    q = statistics.quantiles(values, n=4)
    mid = statistics.median(values)
    return f"±{(q[2] - q[0]) / 2 / mid * 100:.0f}%" if mid else "-"


def per_call(fn: Callable[[Any, Any], Any], event: Any, context: Any, n: int) -> float:
    """CPU seconds per call over `n` back-to-back calls. CPU time, not wall time: on a shared machine
    the wall clock also counts the time other processes hold the CPU."""
    clock = time.process_time
    start = clock()
    for _ in range(n):
        fn(event, context)
    return (clock() - start) / n


def calibrate(fn: Callable[[Any, Any], Any], event: Any, context: Any, target: float) -> int:
    """How many calls take about `target` seconds."""
    n = 1
    while True:
        took = per_call(fn, event, context, n) * n
        if took >= target / 10 or n >= 1 << 20:
            return max(1, int(n * target / max(took, 1e-9)))
        n *= 4


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (also readable as plain text)."""
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    out = [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def paired(values: Sequence[float], bases: Sequence[float]) -> float:
    """The median of the per-round ratios: each round's variant against the same round's raw handler, so a
    slow spell of the machine, which hits both, cancels out."""
    return statistics.median(v / b for v, b in zip(values, bases, strict=True))


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x"
