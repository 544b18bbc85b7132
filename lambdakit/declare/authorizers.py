"""`@lk.authorizer`: a Lambda authorizer, declared.

A module of its own, loaded through `lk.authorizer` on first use: the many functions that are not
authorizers never load it at their cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, overload

from lambdakit.core import DeclarationError, where_of

from .functions import FunctionSpec, _deferring, _register, _resources

if TYPE_CHECKING:
    from .functions import F
    from .resources import Resource


if TYPE_CHECKING:  # the overloads only type `@lk.authorizer` with and without arguments (a block of their own for mypy)

    @overload
    def authorizer(
        func: F,
        *,
        ttl: int = 300,
        identity_sources: Iterable[str] = (),
        reads: Iterable[Resource] = (),
        name: str | None = None,
        memory: int | None = None,
        timeout: int | None = None,
    ) -> F: ...

    @overload
    def authorizer(
        func: None = None,
        *,
        ttl: int = 300,
        identity_sources: Iterable[str] = (),
        reads: Iterable[Resource] = (),
        name: str | None = None,
        memory: int | None = None,
        timeout: int | None = None,
    ) -> Callable[[F], F]: ...


def authorizer(
    func: F | None = None,
    *,
    ttl: int = 300,
    identity_sources: Iterable[str] = (),
    reads: Iterable[Resource] = (),
    name: str | None = None,
    memory: int | None = None,
    timeout: int | None = None,
) -> F | Callable[[F], F]:
    """Declare a Lambda authorizer: TOKEN `(token: str) -> Identity | None`, or REQUEST when
    `identity_sources=("header:X-Api-Key", "query:key")` names what API Gateway passes."""

    def decorate(f: F) -> F:
        where = where_of(f)
        if not 0 <= ttl <= 3600:
            raise DeclarationError(f"{where}: ttl={ttl} must be 0-3600 seconds")
        sources = tuple(identity_sources)
        for src in sources:
            if src.split(":", 1)[0] not in ("header", "query") or ":" not in src:
                raise DeclarationError(f'{where}: identity source {src!r}: use "header:NAME" or "query:NAME"')
        spec = FunctionSpec(
            name=name or f.__name__,
            func=f,
            kind="authorizer",
            reads=_resources(where, "reads", reads),
            authorizer_ttl=ttl,
            identity_sources=sources,
            memory=memory,
            timeout=timeout,
        )
        _register(f, spec)
        return f

    return _deferring(decorate)(func) if func is not None else _deferring(decorate)
