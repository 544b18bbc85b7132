"""An `@lk.authorizer` function as an API Gateway Lambda authorizer (TOKEN or REQUEST).

The user's function only says who the caller is: `(token) -> lk.Identity | None`.
This module turns that answer into what API Gateway expects:

- an `Identity` -> an Allow policy (principalId = subject) with the identity
  packed into the context (`lk_claims`, `lk_context`, `lk_scopes`,
  `lk_username`), which `runtime.http.identity_from` unpacks for the handler;
- `None`, a missing token, or an unexpected error -> `Exception("Unauthorized")`,
  API Gateway's 401 (no policy, so nothing for its cache to replay after a passing fault);
- `raise lk.Forbidden(...)` -> an explicit Deny (403): a known caller who may not pass.

With caching on (`ttl > 0`) API Gateway reuses a decision for every route that
shares the authorizer, so the Allow names the whole API (`API/STAGE/*/*`), not
the one method that happened to ask first.

REQUEST authorizers receive each identity source as the parameter of the same
name (`header:X-Api-Key` -> `x_api_key`, `query:key` -> `key`), and the whole
request as an `lk.Request` parameter if they declare one.

The helpers at the end (`authorize`, `authorizer_context`, `evaluate`, ...) let
the local gateway run an authorizer exactly as API Gateway would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lambdakit.declare.names import DeclarationError
from lambdakit.errors import HTTPError
from lambdakit.identity import Identity, Request

UNAUTHORIZED = "Unauthorized"  # the exact error message API Gateway turns into a 401
ACTION = "execute-api:Invoke"
CONTEXT_KEYS = ("lk_claims", "lk_context", "lk_scopes", "lk_username")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


# -- the binding plan (computed once, at cold start or build) ---------------------------------------------

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
class Plan:
    """TOKEN: one parameter, the token. REQUEST: parameters bound to identity sources, or `lk.Request`."""

    token: bool
    bound: tuple[tuple[str, Source | None, bool], ...]  # (parameter, source or None for lk.Request, required)
    sources: tuple[Source, ...]


def parameter_name(name: str) -> str:
    """The Python parameter an identity source binds to: `X-Api-Key` -> `x_api_key`."""
    return re.sub(r"[^0-9a-zA-Z_]", "_", name).lower()


def sources_of(spec: Any) -> tuple[Source, ...]:
    out = []
    for raw in spec.identity_sources:
        kind, _, name = raw.partition(":")
        out.append(Source(kind, name, parameter_name(name)))
    return tuple(out)


def plan(spec: Any) -> Plan:
    """Check the function's signature against its kind; raises DeclarationError naming the fix."""
    import inspect

    from lambdakit.runtime.binding import _unwrap_optional, hints

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
        return Plan(True, ((params[0].name, None, True),), ())
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
    return Plan(False, tuple(bound), sources)


# -- reading the event ---------------------------------------------------------------------------------

def strip_bearer(value: str | None) -> str:
    """The token without its `Bearer ` prefix (any case), and without surrounding blanks."""
    text = (value or "").strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    elif text.lower() == "bearer":
        text = ""
    return text


def _lookup(mapping: Mapping[str, Any] | None, name: str, case_insensitive: bool) -> str | None:
    if not mapping:
        return None
    value = mapping.get(name)
    if value is None and case_insensitive:
        lower = name.lower()
        value = next((v for k, v in mapping.items() if k.lower() == lower), None)
    return None if value is None else str(value)


def source_value(event: Mapping[str, Any], source: Source) -> str | None:
    """An identity source's value in a REQUEST event (or a proxy event); None when missing or empty."""
    if source.kind == "header":
        value = _lookup(event.get("headers"), source.name, True)
        if value is not None and source.name.lower() == "authorization":
            value = strip_bearer(value)
    else:
        value = _lookup(event.get("queryStringParameters"), source.name, False)
    return value or None


class _Refuse(Exception):
    """The request is unauthenticated: answer API Gateway's 401."""


def _arguments(p: Plan, event: Mapping[str, Any]) -> dict[str, Any]:
    if p.token:
        token = event.get("authorizationToken")
        if token is None:  # a REQUEST-shaped event for a TOKEN authorizer: read the header it would have sent
            token = _lookup(event.get("headers"), "Authorization", True)
        token = strip_bearer(token)
        if not token:
            raise _Refuse("no token")
        return {p.bound[0][0]: token}
    kwargs: dict[str, Any] = {}
    for name, source, required in p.bound:
        if source is None:
            from lambdakit.runtime.http import request_of

            shaped = dict(event)
            if not shaped.get("multiValueQueryStringParameters") and shaped.get("queryStringParameters"):
                shaped["multiValueQueryStringParameters"] = {k: [v] for k, v in shaped["queryStringParameters"].items()}
            kwargs[name] = request_of(shaped)
            continue
        value = source_value(event, source)
        if value is None and required:
            raise _Refuse(f"no {source.kind} {source.name}")
        kwargs[name] = value
    return kwargs


# -- the policy API Gateway expects ------------------------------------------------------------------------

def api_wildcard(method_arn: str) -> str:
    """`arn:...:API/STAGE/GET/orders/1` -> `arn:...:API/STAGE/*/*`: every method and path of the stage."""
    prefix, _, rest = method_arn.rpartition(":")
    api, stage = [*rest.split("/"), "", ""][:2]
    return f"{prefix}:{api}/{stage or '*'}/*/*"


def policy(principal: str, effect: str, resource: str, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An authorizer response: one statement for `resource`, and the context the integration receives."""
    out: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17",
                           "Statement": [{"Action": ACTION, "Effect": effect, "Resource": resource}]},
    }
    if context:
        out["context"] = dict(context)
    return out


def pack(identity: Identity) -> dict[str, str]:
    """The identity as authorizer context: values must be strings, numbers or booleans, so JSON strings."""
    from lambdakit.runtime.http import dumps

    context = {"lk_claims": dumps(dict(identity.claims)), "lk_context": dumps(dict(identity.context)),
               "lk_scopes": " ".join(identity.scopes)}
    if identity.username is not None:
        context["lk_username"] = str(identity.username)
    return context


def make_handler(spec: Any) -> Handler:
    """The Lambda handler for an `@lk.authorizer` function; the plan is made once, here."""
    p = plan(spec)
    func = spec.func
    cached = spec.authorizer_ttl > 0

    def resource_for(event: Mapping[str, Any]) -> str:
        arn = str(event.get("methodArn", ""))
        return api_wildcard(arn) if cached else arn

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            kwargs = _arguments(p, event)
        except _Refuse:
            raise Exception(UNAUTHORIZED) from None
        try:
            result = func(**kwargs)
            if result is not None and (not isinstance(result, Identity) or not result.subject):
                raise TypeError(f"{spec.name} returned {result!r}; return an lk.Identity with a subject, or None")
            packed = pack(result) if result is not None else None
        except HTTPError as exc:
            if exc.status == 403:
                return policy("forbidden", "Deny", resource_for(event))
            if exc.status != 401:
                _log(spec, exc, event)
            raise Exception(UNAUTHORIZED) from None
        except Exception as exc:  # fail closed, without a policy the cache would replay for `ttl` seconds
            _log(spec, exc, event)
            raise Exception(UNAUTHORIZED) from None
        if result is None or packed is None:
            raise Exception(UNAUTHORIZED)
        return policy(result.subject, "Allow", resource_for(event), packed)

    handler.__wrapped__ = func  # type: ignore[attr-defined]
    return handler


def _log(spec: Any, exc: BaseException, event: Mapping[str, Any]) -> None:
    from lambdakit.runtime.log import logger

    ctx = event.get("requestContext") or {}
    logger().exception("authorizer %s failed; answering Unauthorized", spec.name,
                       extra={"function": spec.name, "request_id": ctx.get("requestId"),
                              "method_arn": event.get("methodArn")})


# -- what API Gateway does with the answer: for the local gateway -------------------------------------

def method_arn(method: str, path: str, *, api_id: str = "local", stage: str = "api", region: str = "us-east-1",
               account: str = "123456789012") -> str:
    """The methodArn API Gateway sends for a request: `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/GET/a/b`."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method.upper()}/{path.lstrip('/')}"


def _glob(pattern: str, value: str) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def evaluate(response: Mapping[str, Any], arn: str) -> str:
    """How API Gateway judges a policy for `arn`: "Allow", "Deny" (explicit) or "ImplicitDeny"."""
    statements = (response.get("policyDocument") or {}).get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for st in statements:
        actions = st.get("Action", [])
        resources = st.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(_glob(a, ACTION) for a in actions) or not any(_glob(r, arn) for r in resources):
            continue
        if st.get("Effect") == "Deny":
            return "Deny"
        if st.get("Effect") == "Allow":
            allowed = True
    return "Allow" if allowed else "ImplicitDeny"


def authorizer_context(response: Mapping[str, Any], latency_ms: int = 0) -> dict[str, Any]:
    """`requestContext.authorizer` as API Gateway passes it to a proxy integration after an Allow:
    principalId, the context values, and integrationLatency."""
    context = {k: v for k, v in (response.get("context") or {}).items() if isinstance(v, (str, int, float, bool))}
    return {**context, "principalId": str(response.get("principalId", "")), "integrationLatency": latency_ms}


def token_event(authorization: str | None, arn: str) -> dict[str, Any]:
    """The event a TOKEN authorizer receives: the Authorization header as sent (prefix and all)."""
    return {"type": "TOKEN", "authorizationToken": authorization or "", "methodArn": arn}


def request_event(proxy_event: Mapping[str, Any], arn: str) -> dict[str, Any]:
    """The event a REQUEST authorizer receives: the request as the proxy integration would see it, no body."""
    keep = ("resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
            "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext")
    return {"type": "REQUEST", "methodArn": arn, **{k: proxy_event.get(k) for k in keep}}


def gateway_identity_source(spec: Any) -> tuple[Source, ...]:
    """The identity sources API Gateway checks before invoking: all of them when cached, none when not.

    With caching they are the cache key and API Gateway answers 401 when one is missing or empty,
    without calling the function; with ttl=0 lambdakit omits them and the function sees every request.
    """
    return sources_of(spec) if spec.authorizer_ttl > 0 else ()


@dataclass(frozen=True)
class Decision:
    """API Gateway's verdict on one request: 200 (pass on `authorizer`), 401, 403 or 500."""

    status: int
    authorizer: dict[str, Any] | None = None
    message: str = ""


def authorize(spec: Any, proxy_event: Mapping[str, Any], arn: str, handler: Handler | None = None,
              context: Any = None) -> Decision:
    """Run `spec`'s authorizer for a request the way API Gateway does (without its result cache).

    `proxy_event` is the REST proxy event the route would receive; `handler` defaults to
    `make_handler(spec)` (pass the one from `handler_for(spec)` to reuse it).
    """
    headers = proxy_event.get("headers")
    if not spec.identity_sources:  # TOKEN: API Gateway refuses a request without the header itself
        raw = _lookup(headers, "Authorization", True)
        if not raw:
            return Decision(401, message=UNAUTHORIZED)
        event = token_event(raw, arn)
    else:
        if any(source_value(proxy_event, s) is None for s in gateway_identity_source(spec)):
            return Decision(401, message=UNAUTHORIZED)
        event = request_event(proxy_event, arn)
    run = handler or make_handler(spec)
    try:
        response = run(event, context)
    except Exception as exc:
        if str(exc) == UNAUTHORIZED:
            return Decision(401, message=UNAUTHORIZED)
        return Decision(500, message="AuthorizerConfigurationException")
    if not isinstance(response, Mapping) or "policyDocument" not in response or "principalId" not in response:
        return Decision(500, message="AuthorizerConfigurationException")
    verdict = evaluate(response, arn)
    if verdict == "Allow":
        return Decision(200, authorizer_context(response))
    if verdict == "Deny":
        return Decision(403, message="User is not authorized to access this resource with an explicit deny")
    return Decision(403, message="User is not authorized to access this resource")

