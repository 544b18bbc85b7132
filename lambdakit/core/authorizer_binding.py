"""An `@lk.authorizer` function's binding plan: which parameter gets the token or which identity source.

Computed once per function: at build time to report mistakes and render the
API's authorizer, at cold start to serve, and by the local gateway to decide
what API Gateway checks before it calls the function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lambdakit.core.names import DeclarationError
from lambdakit.identity import Request

if TYPE_CHECKING:
    from lambdakit.declare.functions import FunctionSpec


@dataclass(frozen=True)
class Source:
    """One identity source: where API Gateway reads it, and the parameter that receives it."""

    kind: str  # "header" | "query"
    name: str  # as declared: "X-Api-Key"
    param: str  # "x_api_key"

    @property
    def expression(self) -> str:
        """The mapping expression API Gateway's `identitySource` takes."""
        return f"method.request.{'header' if self.kind == 'header' else 'querystring'}.{self.name}"


@dataclass(frozen=True)
class AuthorizerPlan:
    """TOKEN: one parameter, the token. REQUEST: parameters bound to identity sources, or `lk.Request`."""

    token: bool
    bound: tuple[tuple[str, Source | None, bool], ...]  # (parameter, source or None for lk.Request, required)
    sources: tuple[Source, ...]


def parameter_name(name: str) -> str:
    """The Python parameter an identity source binds to: `X-Api-Key` -> `x_api_key`."""
    return re.sub(r"[^0-9a-zA-Z_]", "_", name).lower()


def sources_of(spec: FunctionSpec) -> tuple[Source, ...]:
    out = []
    for raw in spec.identity_sources:
        kind, _, name = raw.partition(":")
        out.append(Source(kind, name, parameter_name(name)))
    return tuple(out)


def plan(spec: FunctionSpec) -> AuthorizerPlan:
    """Check the function's signature against its kind; raises DeclarationError naming the fix."""
    import inspect

    from lambdakit.core.binding import _unwrap_optional, hints

    where = spec.where
    params = list(inspect.signature(spec.func).parameters.values())
    types_ = hints(spec.func)
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise DeclarationError(f"{where}: an authorizer names each parameter; *args / **kwargs cannot be bound")
    sources = sources_of(spec)
    if not sources:
        if len(params) != 1 or types_.get(params[0].name, str) is not str:
            raise DeclarationError(
                f"{where}: a TOKEN authorizer takes exactly one parameter, the token (`token: str`); for headers "
                'or query parameters declare identity_sources=("header:NAME", "query:NAME") (a REQUEST authorizer)'
            )
        return AuthorizerPlan(True, ((params[0].name, None, True),), ())
    by_param = {s.param: s for s in sources}
    if len(by_param) != len(sources):
        raise DeclarationError(f"{where}: two identity sources bind to the same parameter name; rename one")
    bound: list[tuple[str, Source | None, bool]] = []
    for p in params:
        tp, optional = _unwrap_optional(types_.get(p.name, str))
        if tp is Request:
            bound.append((p.name, None, False))
        elif p.name in by_param and tp is str:
            bound.append((p.name, by_param[p.name], not (optional or p.default is not inspect.Parameter.empty)))
        else:
            names = ", ".join(f"{s.param} (from {s.kind} {s.name})" for s in sources)
            raise DeclarationError(
                f"{where}: parameter {p.name!r} is not an identity source; a REQUEST authorizer's parameters "
                f"are str values named after its sources: {names}, or an lk.Request for the whole request"
            )
    return AuthorizerPlan(False, tuple(bound), sources)


def gateway_identity_source(spec: FunctionSpec) -> tuple[Source, ...]:
    """The identity sources API Gateway checks before invoking: all of them when cached, none when not.

    With caching they are the cache key and API Gateway answers 401 when one is missing or empty,
    without calling the function; with ttl=0 lambdakit omits them and the function sees every request.
    """
    return sources_of(spec) if spec.authorizer_ttl > 0 else ()
