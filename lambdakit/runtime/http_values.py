"""A route's path and query values, validated together: loaded by the routes that take one that can fail.

A route whose values are all unconstrained `str` path parameters (or that has none) never loads this,
nor `core.params` and the pydantic models it builds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdakit.core.params import InvalidParameters, validator
from lambdakit.runtime.http import Refused

if TYPE_CHECKING:
    from lambdakit.core.binding import Param
    from lambdakit.core.params import Raw


def values_reader(params: tuple[Param, ...]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Every bad value in one 422, as FastAPI does."""
    check = validator(params)
    path_names = tuple(p.name for p in params if p.source == "path")
    single = tuple(p.name for p in params if p.source == "query" and not p.many)
    many = tuple(p.name for p in params if p.source == "query" and p.many)

    def read(event: dict[str, Any]) -> dict[str, Any]:
        raw: dict[str, Raw] = {}
        if path_names:
            given = event.get("pathParameters") or {}
            raw.update((name, given[name]) for name in path_names if name in given)
        if single:
            given = event.get("queryStringParameters") or {}
            raw.update((name, given[name]) for name in single if name in given)
        if many:
            given = event.get("multiValueQueryStringParameters") or {}
            raw.update((name, given[name]) for name in many if given.get(name))
        try:
            return check(raw)
        except InvalidParameters as bad:
            raise Refused(422, "validation_error", bad.message, bad.errors) from None

    return read
