"""API Gateway authorizers: Cognito user pools, Lambda TOKEN/REQUEST authorizers, IAM, API keys.

Everything here is a pure function of the App: the OpenAPI security schemes,
the parameters that keep cached answers per caller, and the auth mistakes a
build reports before anything is deployed.
"""

from __future__ import annotations

from typing import Any

from lambdakit.core.names import DeclarationError, camel
from lambdakit.declare.app import App
from lambdakit.declare.auth import IAM, Cognito, Public
from lambdakit.declare.functions import FunctionSpec

SIGV4 = "sigv4"
API_KEY = "api_key"


def authorizer_id(spec: FunctionSpec) -> str:
    return camel(spec.name) + "Authorizer"


def used_auth(app: App) -> list[Any]:
    """Each distinct authorizer a route uses (a pool counts once, whatever scopes its routes ask)."""
    seen: list[Any] = []
    for spec in app.functions:
        if spec.kind == "http" and spec.route is not None:
            auth = app.effective_auth(spec)
            if auth is None or isinstance(auth, Public):
                continue
            if not any(auth is s or (isinstance(s, Cognito) and s.same_pool(auth)) for s in seen):
                seen.append(auth)
    return seen


def pool_arn(pool: Cognito) -> Any:
    return pool.arn if pool.arn else {"Fn::GetAtt": [pool.logical_id, "Arn"]}


def lambda_uri(spec: FunctionSpec) -> dict[str, str]:
    return {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
        f"${{{spec.logical_id}.Arn}}/invocations"
    }


def lambda_authorizer(spec: FunctionSpec) -> dict[str, Any]:
    """A TOKEN or REQUEST authorizer's scheme. REQUEST identity sources are listed only when cached:
    then they are the cache key and API Gateway answers 401 itself when one is missing; uncached,
    the function sees every request and decides (optional sources can be absent)."""
    from lambdakit.core.authorizer_binding import gateway_identity_source

    if not spec.identity_sources:
        return {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {
                "type": "token",
                "authorizerUri": lambda_uri(spec),
                "identitySource": "method.request.header.Authorization",
                "authorizerResultTtlInSeconds": spec.authorizer_ttl,
            },
        }
    authorizer: dict[str, Any] = {
        "type": "request",
        "authorizerUri": lambda_uri(spec),
        "authorizerResultTtlInSeconds": spec.authorizer_ttl,
    }
    sources = gateway_identity_source(spec)
    if sources:
        authorizer["identitySource"] = ", ".join(s.expression for s in sources)
    first = spec.identity_sources[0].split(":", 1)
    return {
        "type": "apiKey",
        "name": first[1],
        "in": "header" if first[0] == "header" else "query",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": authorizer,
    }


def security_schemes(app: App) -> dict[str, Any]:
    schemes: dict[str, Any] = {}
    for auth in used_auth(app):
        if isinstance(auth, Cognito):
            schemes[auth.authorizer_id] = {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "cognito_user_pools",
                "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [pool_arn(auth)]},
            }
        elif isinstance(auth, FunctionSpec):
            schemes[authorizer_id(auth)] = lambda_authorizer(auth)
        elif auth == IAM:
            schemes[SIGV4] = {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "awsSigv4",
            }
    if any(s.route is not None and s.route.api_key for s in app.functions):
        schemes[API_KEY] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
    return schemes


def cache_key_parameters(app: App, spec: FunctionSpec) -> list[dict[str, Any]]:
    """Request parameters that identify the caller, for a cached route with auth.

    API Gateway authorizes before it looks in the cache, but the cache key is only the
    path and the parameters named here: without the caller's credentials in it, one
    caller's cached answer would be served to the next.
    """
    auth = app.effective_auth(spec)
    if auth is None or isinstance(auth, Public):
        return []
    if isinstance(auth, FunctionSpec) and auth.identity_sources:
        from lambdakit.core.authorizer_binding import sources_of

        return [
            {
                "name": s.name,
                "in": "header" if s.kind == "header" else "query",
                "required": False,
                "schema": {"type": "string"},
            }
            for s in sources_of(auth)
        ]
    return [{"name": "Authorization", "in": "header", "required": False, "schema": {"type": "string"}}]


def problems(app: App) -> list[str]:
    """Auth and API-protection mistakes, each naming where and the fix; [] when the app is sound."""
    from lambdakit.core.authorizer_binding import plan
    from lambdakit.derive.cognito import scopes_used

    out: list[str] = []
    for spec in app.functions:
        if spec.kind == "authorizer":
            try:
                plan(spec)
            except DeclarationError as exc:
                out.append(str(exc))
        route = spec.route
        if route is not None and route.throttle is not None:
            rate_burst = route.throttle
            if (
                not isinstance(rate_burst, tuple)
                or len(rate_burst) != 2
                or not rate_burst[0] > 0
                or not isinstance(rate_burst[1], int)
                or rate_burst[1] <= 0
            ):
                out.append(
                    f"{spec.where}: throttle={rate_burst!r}; use (requests_per_second, burst), both positive, "
                    "burst a whole number"
                )
    for pool in app.pools:
        if pool.arn is None and not pool.domain and scopes_used(app, pool):
            base = pool.name.lower()
            if any(word in base for word in ("aws", "amazon", "cognito")):
                out.append(
                    f"lk.Cognito({pool.name!r}): its scopes need a Cognito domain, and a domain prefix may "
                    "not contain 'aws', 'amazon' or 'cognito'; give domain='your-prefix'"
                )
    names = [plan_.name for plan_ in app.service.usage_plans]
    if len(set(names)) != len(names):
        out.append(f"lk.Service({app.service.name!r}): usage plan names must differ: {', '.join(names)}")
    return out
