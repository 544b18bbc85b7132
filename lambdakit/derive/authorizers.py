"""API Gateway authorizers: Cognito user pools, Lambda TOKEN/REQUEST authorizers, IAM, API keys."""

from __future__ import annotations

from typing import Any

from lambdakit.declare.auth import IAM, Cognito
from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.names import camel
from lambdakit.declare.service import App


def authorizer_id(spec: FunctionSpec) -> str:
    return camel(spec.name) + "Authorizer"


def used_auth(app: App) -> list[Any]:
    seen: list[Any] = []
    for spec in app.functions:
        if spec.kind == "http" and spec.route is not None:
            auth = app.effective_auth(spec)
            if auth is not None and not any(auth is s or (isinstance(s, Cognito) and s.same_pool(auth)) for s in seen):
                seen.append(auth)
    return seen


def pool_arn(pool: Cognito) -> Any:
    return pool.arn if pool.arn else {"Fn::GetAtt": [pool.logical_id, "Arn"]}


def security_schemes(app: App) -> dict[str, Any]:
    schemes: dict[str, Any] = {}
    for auth in used_auth(app):
        if isinstance(auth, Cognito):
            schemes[auth.authorizer_id] = {
                "type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authtype": "cognito_user_pools",
                "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [pool_arn(auth)]},
            }
        elif isinstance(auth, FunctionSpec):
            uri = {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                              f"${{{auth.logical_id}.Arn}}/invocations"}
            if auth.identity_sources:
                source = ", ".join(
                    f"method.request.{'header' if kind == 'header' else 'querystring'}.{name}"
                    for kind, name in (s.split(":", 1) for s in auth.identity_sources))
                schemes[authorizer_id(auth)] = {
                    "type": "apiKey", "name": "Unused", "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {"type": "request", "identitySource": source,
                                                       "authorizerUri": uri,
                                                       "authorizerResultTtlInSeconds": auth.authorizer_ttl}}
            else:
                schemes[authorizer_id(auth)] = {
                    "type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": uri,
                                                       "identitySource": "method.request.header.Authorization",
                                                       "authorizerResultTtlInSeconds": auth.authorizer_ttl}}
        elif auth == IAM:
            schemes["sigv4"] = {"type": "apiKey", "name": "Authorization", "in": "header",
                                "x-amazon-apigateway-authtype": "awsSigv4"}
    if any(s.route is not None and s.route.api_key for s in app.functions):
        schemes["api_key"] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
    return schemes
