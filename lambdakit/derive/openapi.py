"""The REST API's OpenAPI body: one operation per route, with its integration and its auth.

API Gateway reads the `x-amazon-apigateway-*` extensions; everything else is
plain OpenAPI 3, so the same document serves as the API's documentation.
"""

from __future__ import annotations

from typing import Any

from lambdakit.core.names import camel
from lambdakit.declare.app import App
from lambdakit.declare.auth import IAM, Cognito
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive import authorizers
from lambdakit.derive.plan import FunctionPlan, Plan
from lambdakit.errors import error_body

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        },
        "request_id": {"type": "string"},
    },
}

# API Gateway's own refusals, answered in the framework's one error shape.
GATEWAY_RESPONSES = {
    # `validationErrorString` would say which field, but gateway response templates get no escaping and its
    # text holds double quotes: the body could stop being JSON. `messageString` comes quoted by API Gateway.
    "BAD_REQUEST_BODY": ("validation_error", "$context.error.messageString"),
    "BAD_REQUEST_PARAMETERS": ("bad_request", "$context.error.messageString"),
    "UNAUTHORIZED": ("unauthorized", "$context.error.messageString"),
    "ACCESS_DENIED": ("forbidden", "$context.error.messageString"),
    # API Gateway gives this one answer both for an unknown route and for an unsigned call of an IAM route.
    "MISSING_AUTHENTICATION_TOKEN": (
        "not_found",
        "no route for $context.httpMethod $context.path, or the route needs a SigV4-signed request",
    ),
    "INVALID_API_KEY": ("forbidden", "$context.error.messageString"),
    "THROTTLED": ("too_many_requests", "$context.error.messageString"),
    "QUOTA_EXCEEDED": ("too_many_requests", "$context.error.messageString"),
    "UNSUPPORTED_MEDIA_TYPE": ("unsupported_media_type", "$context.error.messageString"),
    "DEFAULT_4XX": ("bad_request", "$context.error.messageString"),
    "DEFAULT_5XX": ("internal_error", "$context.error.messageString"),
}


def _gateway_response(code: str, message: str) -> dict[str, Any]:
    import json

    body = error_body(code, "MESSAGE", request_id="REQUEST_ID")
    # `messageString` arrives quoted; the other variables are bare and need quotes.
    value = message if message.endswith("messageString") else f'"{message}"'
    template = json.dumps(body).replace('"MESSAGE"', value).replace('"REQUEST_ID"', '"$context.requestId"')
    return {
        "responseTemplates": {"application/json": template},
        "responseParameters": {"gatewayresponse.header.Content-Type": "'application/json'"},
    }


def operation_id(spec: FunctionSpec) -> str:
    return camel(spec.name)


def model_name(spec: FunctionSpec) -> str:
    return camel(spec.name) + "Body"


def security(app: App, spec: FunctionSpec) -> list[dict[str, list[str]]]:
    """The OpenAPI security requirement of a route ([] = public)."""
    auth = app.effective_auth(spec)
    requirement: dict[str, list[str]] = {}
    if isinstance(auth, Cognito):
        requirement[auth.authorizer_id] = list(auth.required_scopes)
    elif isinstance(auth, FunctionSpec):
        requirement[camel(auth.name) + "Authorizer"] = []
    elif auth == IAM:
        requirement["sigv4"] = []
    if spec.route is not None and spec.route.api_key:
        requirement["api_key"] = []
    return [requirement] if requirement else []


def _parameters(spec: FunctionSpec) -> list[dict[str, Any]]:
    from lambdakit.core.binding import http_plan

    assert spec.route is not None
    plan = http_plan(spec.func, spec.route.path_params, spec.where)
    out = []
    for p in plan.params:
        if p.source == "path":
            out.append({"name": p.name, "in": "path", "required": True, "schema": {"type": "string"}})
        elif p.source == "query":
            out.append({"name": p.name, "in": "query", "required": p.required, "schema": {"type": "string"}})
    return out


def lambda_integration(spec: FunctionSpec, cache_keys: list[str]) -> dict[str, Any]:
    integration: dict[str, Any] = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "passthroughBehavior": "when_no_match",
        "uri": {
            "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            f"${{{spec.logical_id}.Arn}}/invocations"
        },
    }
    if cache_keys:
        integration["cacheKeyParameters"] = cache_keys
        integration["cacheNamespace"] = operation_id(spec)
    return integration


def operation(app: App, fn: FunctionPlan) -> dict[str, Any]:
    from lambdakit.core.binding import http_plan
    from lambdakit.derive.storage import method_responses, storage_integration

    spec = fn.spec
    assert spec.route is not None
    params = _parameters(spec)
    op: dict[str, Any] = {"operationId": operation_id(spec), "parameters": params}
    plan = http_plan(spec.func, spec.route.path_params, spec.where)
    if plan.body is not None:
        op["requestBody"] = {
            "required": plan.body.required,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model_name(spec)}"}}},
        }
    op["security"] = security(app, spec)
    if spec.storage_first:
        op["x-amazon-apigateway-request-validator"] = "body"
        op["x-amazon-apigateway-integration"] = storage_integration(fn)
        op["responses"] = method_responses()  # every status the integration maps to needs its method response
    else:
        cache_keys = []
        if spec.route.cache:
            from lambdakit.derive.authorizers import cache_key_parameters

            params += cache_key_parameters(app, spec)  # the caller's credentials keep cached answers per caller
            where = {"path": "path", "query": "querystring", "header": "header"}
            cache_keys = [f"method.request.{where[p['in']]}.{p['name']}" for p in params]
        op["x-amazon-apigateway-integration"] = lambda_integration(spec, cache_keys)
        status = str(spec.route.status or (204 if _returns_none(spec) else 200))
        op["responses"] = {status: {"description": "success"}, "4XX": {"description": "client error"}}
    return op


def _returns_none(spec: FunctionSpec) -> bool:
    from lambdakit.core.binding import hints

    return hints(spec.func).get("return", object) is type(None)


def document(plan: Plan) -> dict[str, Any]:
    """The API Gateway body (OpenAPI 3.0 with API Gateway's extensions) of a plan's routes."""
    from lambdakit.core.binding import http_plan
    from lambdakit.derive.jsonschema import body_schema

    app = plan.app
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for fn in plan.functions:
        spec = fn.spec
        if spec.kind != "http" or spec.route is None:
            continue
        paths.setdefault(spec.route.path, {})[spec.route.method.lower()] = operation(app, fn)
        body = http_plan(spec.func, spec.route.path_params, spec.where).body
        if body is not None:
            schemas[model_name(spec)] = body_schema(body.model)
    doc: dict[str, Any] = {
        "openapi": "3.0.1",
        "info": {"title": app.service.name, "version": "1.0"},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": authorizers.security_schemes(app)},
        "x-amazon-apigateway-request-validators": {
            "body": {"validateRequestBody": True, "validateRequestParameters": False}
        },
        "x-amazon-apigateway-gateway-responses": {
            kind: _gateway_response(code, message) for kind, (code, message) in GATEWAY_RESPONSES.items()
        },
    }
    if not doc["components"]["securitySchemes"]:
        del doc["components"]["securitySchemes"]
    return doc
