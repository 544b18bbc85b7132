"""Path templates (`/orders/{order_id}`, `/files/{path+}`): the one parser every layer uses.

A template is split into segments once; declarations check it, derivations render it for API
Gateway (execute-api ARNs in `derive/template.py`, route clashes in `derive/checks.py`), the runtime
binds its parameters, and the local gateway and test events match requests with it
(`core/matcher.py`, which also normalises request paths). `re` is imported only by the functions
that need a pattern, and `Segment` is a `Record`, not a `NamedTuple` (which `exec`s its methods when
created), so the runtime's cold start pays for neither.
"""

from __future__ import annotations

from lambdakit.core import Record


class Segment(Record):
    """One `/`-separated part: a literal, a `{name}` parameter or a greedy `{name+}` one."""

    __match_args__ = ("text", "name", "greedy")
    __slots__ = __match_args__
    text: str
    name: str | None  # the parameter's name; None for a literal
    greedy: bool

    def __init__(self, text: str, name: str | None = None, greedy: bool = False) -> None:
        self._set("text", text)
        self._set("name", name)
        self._set("greedy", greedy)


def segments(path: str) -> tuple[Segment, ...]:
    """The template's segments, without the slashes; `/` alone has none."""
    out = []
    for part in path.strip("/").split("/"):
        if not part:
            continue
        if len(part) > 2 and part[0] == "{" and part[-1] == "}":
            inner = part[1:-1]
            greedy = inner.endswith("+")
            out.append(Segment(part, inner.removesuffix("+"), greedy))
        else:
            out.append(Segment(part))
    return tuple(out)


def param_names(path: str) -> tuple[str, ...]:
    """The names of the template's parameters, in order (a greedy one without its `+`)."""
    names = []
    for segment in segments(path):
        if segment.name is not None:
            names.append(segment.name)
    return tuple(names)


def problems(path: str) -> list[str]:
    """What makes the template unusable as a route: each a sentence with its fix (one pass: every route's
    declaration runs this at cold start)."""
    found: list[str] = []
    parts = segments(path)
    malformed = False
    seen: set[str] = set()
    twice: set[str] = set()
    for index, seg in enumerate(parts):
        if seg.name is None:
            # `/a{b}` or `/{}` is neither a literal API Gateway accepts nor a parameter
            malformed = malformed or "{" in seg.text or "}" in seg.text
            continue
        if not seg.name.isidentifier():
            import re

            fixed = re.sub(r"\W", "_", seg.name) or "id"
            found.append(
                f"path parameter {seg.text} must be a Python identifier (it binds to a function "
                f"parameter): use letters, digits and '_', e.g. {{{fixed}}}"
            )
        if seg.greedy and index != len(parts) - 1:
            found.append(f"greedy path parameter {seg.text} must be the last segment of the path")
        if seg.name in seen:
            twice.add(seg.name)
        seen.add(seg.name)
    if twice:
        found.append(f"path parameter {{{min(twice)}}} appears twice in {path!r}; name each once")
    if malformed:
        found.insert(0, f"path {path!r}: a parameter is a whole, named segment, as in /orders/{{order_id}}")
    return found
