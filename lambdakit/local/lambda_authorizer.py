"""What API Gateway does around a Lambda authorizer, emulated for the local gateway and the test client.

It builds the TOKEN or REQUEST event, runs the authorizer's handler, and
judges the policy it returns as API Gateway does: Allow passes the context on,
an explicit Deny is a 403, anything malformed a 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambdakit.core.authorizer_binding import gateway_identity_source
from lambdakit.runtime.authorizer import ACTION, UNAUTHORIZED, Handler, lookup, make_handler, source_value

if TYPE_CHECKING:
    from lambdakit.declare.functions import FunctionSpec


def method_arn(
    method: str,
    path: str,
    *,
    api_id: str = "local",
    stage: str = "api",
    region: str = "us-east-1",
    account: str = "123456789012",
) -> str:
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
    keep = (
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
    )
    return {"type": "REQUEST", "methodArn": arn, **{k: proxy_event.get(k) for k in keep}}


@dataclass(frozen=True)
class Decision:
    """API Gateway's verdict on one request: 200 (pass on `authorizer`), 401, 403 or 500."""

    status: int
    authorizer: dict[str, Any] | None = None
    message: str = ""


def authorize(
    spec: FunctionSpec, proxy_event: Mapping[str, Any], arn: str, handler: Handler | None = None, context: Any = None
) -> Decision:
    """Run `spec`'s authorizer for a request the way API Gateway does (without its result cache).

    `proxy_event` is the REST proxy event the route would receive; `handler` defaults to
    `make_handler(spec)` (pass the one from `handler_for(spec)` to reuse it).
    """
    headers = proxy_event.get("headers")
    if not spec.identity_sources:  # TOKEN: API Gateway refuses a request without the header itself
        raw = lookup(headers, "Authorization", True)
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
