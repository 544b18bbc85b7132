"""An `@lk.authorizer` function as an API Gateway Lambda authorizer (TOKEN or REQUEST).

The user's function only says who the caller is: `(token) -> lk.Identity | None`.
This module turns that answer into what API Gateway expects:

- an `Identity` -> an Allow policy (principalId = subject) with the identity
  packed into the context (`lk_claims`, `lk_context`, `lk_scopes`,
  `lk_username`), which `runtime.caller.identity_from` unpacks for the handler;
- `None`, a missing token, or an unexpected error -> `Exception("Unauthorized")`,
  API Gateway's 401 (no policy, so nothing for its cache to replay after a passing fault);
- `raise lk.Forbidden(...)` -> an explicit Deny (403): a known caller who may not pass.

With caching on (`ttl > 0`) API Gateway reuses a decision for every route that
shares the authorizer, so the Allow names the whole API (`API/STAGE/*/*`), not
the one method that happened to ask first.

REQUEST authorizers receive each identity source as the parameter of the same
name (`header:X-Api-Key` -> `x_api_key`, `query:key` -> `key`), and the whole
request as an `lk.Request` parameter if they declare one.

How API Gateway judges the answer, for the local gateway, is in
`lambdakit.local.lambda_authorizer`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lambdakit.core.authorizer_binding import AuthorizerPlan, Source, plan
from lambdakit.errors import HTTPError
from lambdakit.identity import Identity

if TYPE_CHECKING:
    from lambdakit.declare.functions import FunctionSpec

UNAUTHORIZED = "Unauthorized"  # the exact error message API Gateway turns into a 401
ACTION = "execute-api:Invoke"
CONTEXT_KEYS = ("lk_claims", "lk_context", "lk_scopes", "lk_username")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


# -- reading the event ---------------------------------------------------------------------------------


def strip_bearer(value: str | None) -> str:
    """The token without its `Bearer ` prefix (any case), and without surrounding blanks."""
    text = (value or "").strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    elif text.lower() == "bearer":
        text = ""
    return text


def lookup(mapping: Mapping[str, Any] | None, name: str, case_insensitive: bool) -> str | None:
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
        value = lookup(event.get("headers"), source.name, True)
        if value is not None and source.name.lower() == "authorization":
            value = strip_bearer(value)
    else:
        value = lookup(event.get("queryStringParameters"), source.name, False)
    return value or None


class _Refuse(Exception):
    """The request is unauthenticated: answer API Gateway's 401."""


def _arguments(p: AuthorizerPlan, event: Mapping[str, Any]) -> dict[str, Any]:
    if p.token:
        token = event.get("authorizationToken")
        if token is None:  # a REQUEST-shaped event for a TOKEN authorizer: read the header it would have sent
            token = lookup(event.get("headers"), "Authorization", True)
        token = strip_bearer(token)
        if not token:
            raise _Refuse("no token")
        return {p.bound[0][0]: token}
    kwargs: dict[str, Any] = {}
    for name, source, required in p.bound:
        if source is None:
            from lambdakit.runtime.caller import request_of

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
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": ACTION, "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        out["context"] = dict(context)
    return out


def pack(identity: Identity) -> dict[str, str]:
    """The identity as authorizer context: values must be strings, numbers or booleans, so JSON strings."""
    from lambdakit.runtime.http import dumps

    context = {
        "lk_claims": dumps(dict(identity.claims)),
        "lk_context": dumps(dict(identity.context)),
        "lk_scopes": " ".join(identity.scopes),
    }
    if identity.username is not None:
        context["lk_username"] = str(identity.username)
    return context


def make_handler(spec: FunctionSpec) -> Handler:
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


def _log(spec: FunctionSpec, exc: BaseException, event: Mapping[str, Any]) -> None:
    from lambdakit.runtime.log import logger

    ctx = event.get("requestContext") or {}
    logger().exception(
        "authorizer %s failed; answering Unauthorized",
        spec.name,
        extra={"function": spec.name, "request_id": ctx.get("requestId"), "method_arn": event.get("methodArn")},
    )
