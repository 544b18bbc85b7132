"""How API Gateway matches a request path against a template: for the local gateway and test events.

Apart from `core/paths.py` (which parses templates at every cold start): a function never matches paths.
"""

from __future__ import annotations

import re

from lambdakit.core import Record
from lambdakit.core.paths import segments


class Matcher(Record):
    """A compiled template: `match(path)` gives the parameters, `rank` orders literals before parameters."""

    __match_args__ = ("pattern", "rank")
    __slots__ = __match_args__
    pattern: re.Pattern[str]
    rank: tuple[int, ...]

    def __init__(self, pattern: re.Pattern[str], rank: tuple[int, ...]) -> None:
        self._set("pattern", pattern)
        self._set("rank", rank)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(normal(path))
        return None if found is None else dict(found.groupdict())


def matcher(path: str) -> Matcher:
    """How API Gateway matches the template: a parameter takes one segment, a greedy one the rest."""
    regex, rank = "", []
    for seg in segments(path):
        if seg.name is None:
            regex += "/" + re.escape(seg.text)
            rank.append(0)
        elif seg.greedy:
            regex += f"/(?P<{seg.name}>.+)"
            rank.append(2)
        else:
            regex += f"/(?P<{seg.name}>[^/]+)"
            rank.append(1)
    return Matcher(re.compile(regex or "/"), tuple(rank))


def normal(path: str) -> str:
    """A request or template path without a trailing slash (`/` stays `/`)."""
    return path.rstrip("/") or "/"
