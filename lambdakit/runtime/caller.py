"""Who calls, and what they sent: `lk.Identity` and `lk.Request` from an API Gateway proxy event.

Loaded by the routes that take one (and by REQUEST authorizers), not at every cold start.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdakit.runtime.http import Refused, raw_body

if TYPE_CHECKING:
    from lambdakit.core.binding import Param
    from lambdakit.identity import Identity, Request


def reader(param: Param) -> Callable[[dict[str, Any]], Any]:
    """How a route's `lk.Identity` or `lk.Request` parameter gets its value from the event."""
    if param.source == "request":
        return request_of
    required = param.required

    def read(event: dict[str, Any]) -> Identity | None:
        identity = identity_from(event)
        if identity is None and required:
            raise Refused(401, "unauthorized", "this route needs an authenticated caller")
        return identity

    return read


def identity_from(event: dict[str, Any]) -> Identity | None:
    """The caller, from the request context each authorizer kind leaves (Cognito, Lambda, IAM)."""
    from lambdakit.identity import Identity

    ctx = event.get("requestContext") or {}
    auth = ctx.get("authorizer") or {}
    claims = auth.get("claims")
    if claims:  # Cognito user pool authorizer
        # Access tokens carry `scope` (space-separated); ID tokens none, unless the gateway lists `scopes`.
        scopes = tuple(str(claims["scope"]).split()) if claims.get("scope") else tuple(auth.get("scopes") or ())
        return Identity(
            subject=str(claims.get("sub", "")),
            username=claims.get("cognito:username") or claims.get("username"),
            claims=dict(claims),
            scopes=scopes,
            kind="cognito",
        )
    if auth.get("principalId"):  # Lambda authorizer: its context travels as flat strings
        context = {k: v for k, v in auth.items() if k not in ("principalId", "integrationLatency")}
        packed = context.pop("lk_claims", None)
        packed_context = context.pop("lk_context", None)
        scopes = tuple(str(context.pop("lk_scopes", "")).split())
        username = context.pop("lk_username", None)
        return Identity(
            subject=str(auth["principalId"]),
            username=username,
            claims=json.loads(packed) if packed else dict(context),
            scopes=scopes,
            context=json.loads(packed_context) if packed_context else dict(context),
            kind="lambda",
        )
    who = ctx.get("identity") or {}
    if who.get("userArn"):  # IAM (SigV4)
        return Identity(
            subject=who["userArn"],
            username=who.get("user"),
            claims={k: v for k, v in who.items() if v is not None},
            kind="iam",
        )
    return None


def request_of(event: dict[str, Any]) -> Request:
    from lambdakit.identity import Request

    ctx = event.get("requestContext") or {}
    raw = raw_body(event)
    return Request(
        method=event.get("httpMethod", ""),
        path=event.get("path", ""),
        headers={k.lower(): v for k, v in (event.get("headers") or {}).items()},
        query=dict(event.get("multiValueQueryStringParameters") or {}),
        path_params=dict(event.get("pathParameters") or {}),
        body=raw.decode() if isinstance(raw, bytes) else raw,
        request_id=ctx.get("requestId", ""),
        source_ip=(ctx.get("identity") or {}).get("sourceIp"),
    )
