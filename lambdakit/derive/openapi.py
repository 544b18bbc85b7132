"""The REST API's body in the template: the dialect API Gateway imports (OpenAPI 3.0, draft-4 models).

It renders the operations of `derive.operations` with their integrations,
auth and gateway responses. API Gateway reads the `x-amazon-apigateway-*`
extensions and validates bodies with draft-4 models; the document for people
and client generators is `derive.public_openapi`, from the same operations.
"""

from __future__ import annotations

from typing import Any

from lambdakit.core.names import camel
from lambdakit.declare.app import App
from lambdakit.declare.auth import IAM, Cognito
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive import authorizers
from lambdakit.derive.operations import Operation, operations
from lambdakit.derive.plan import Plan
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
    "REQUEST_TOO_LARGE": ("payload_too_large", "$context.error.messageString"),
    "DEFAULT_4XX": ("bad_request", "$context.error.messageString"),
    "DEFAULT_5XX": ("internal_error", "$context.error.messageString"),
}


def preflight_id(path: str) -> str:
    """A unique operation id for a path's CORS preflight."""
    from lambdakit.core.paths import segments

    words = [segment.name or segment.text for segment in segments(path)] or ["root"]
    return camel("-".join(w for w in "-".join(words).replace(".", "-").split("-") if w)) + "Preflight"


def _gateway_response(code: str, message: str, app: App) -> dict[str, Any]:
    import json

    body = error_body(code, "MESSAGE", request_id="REQUEST_ID")
    # `messageString` arrives quoted; the other variables are bare and need quotes.
    value = message if message.endswith("messageString") else f'"{message}"'
    template = json.dumps(body).replace('"MESSAGE"', value).replace('"REQUEST_ID"', '"$context.requestId"')
    parameters = {"gatewayresponse.header.Content-Type": "'application/json'"}
    if app.service.cors is not None:
        from lambdakit.derive.cors import gateway_response_parameters

        parameters.update(gateway_response_parameters(app.service.cors))
    return {"responseTemplates": {"application/json": template}, "responseParameters": parameters}


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


def _parameters(op: Operation) -> list[dict[str, Any]]:
    """Path and query parameters as API Gateway imports them: it keeps only the name, place and `required`."""
    return [
        {"name": p.name, "in": p.source, "required": p.required or p.source == "path", "schema": {"type": "string"}}
        for p in op.parameters
    ]


def lambda_integration(spec: FunctionSpec, cache_keys: list[str], timeout: int | None = None) -> dict[str, Any]:
    integration: dict[str, Any] = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "passthroughBehavior": "when_no_match",
        "uri": {
            "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            f"${{{spec.logical_id}.Arn}}/invocations"
        },
    }
    if timeout is not None:  # `integration_timeout=`: seconds declared, milliseconds in the extension
        integration["timeoutInMillis"] = timeout * 1000
    if cache_keys:
        integration["cacheKeyParameters"] = cache_keys
        integration["cacheNamespace"] = operation_id(spec)
    return integration


def operation(app: App, op: Operation) -> dict[str, Any]:
    from lambdakit.derive.storage import method_responses, storage_integration

    fn, spec = op.fn, op.spec
    assert spec.route is not None
    params = _parameters(op)
    out: dict[str, Any] = {"operationId": op.operation_id, "parameters": params}
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body.required,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model_name(spec)}"}}},
        }
    out["security"] = security(app, spec)
    responses: dict[str, Any] = {answer.status: {"description": answer.description} for answer in op.answers}
    cors = app.service.cors
    if spec.storage_first:
        out["x-amazon-apigateway-request-validator"] = "body"
        integration = storage_integration(fn)
        responses.update(method_responses())  # every status the integration maps to needs its method response
        if cors is not None:
            from lambdakit.derive.cors import method_response_headers, with_origin

            integration = with_origin(cors, integration)
            responses = {k: {**v, "headers": method_response_headers(cors)} for k, v in responses.items()}
        out["x-amazon-apigateway-integration"] = integration
    else:
        cache_keys = []
        if spec.route.cache:
            from lambdakit.derive.authorizers import cache_key_parameters

            params += cache_key_parameters(app, spec)  # the caller's credentials keep cached answers per caller
            where = {"path": "path", "query": "querystring", "header": "header"}
            cache_keys = [f"method.request.{where[p['in']]}.{p['name']}" for p in params]
        from lambdakit.derive.plan import integration_timeout_of

        out["x-amazon-apigateway-integration"] = lambda_integration(spec, cache_keys, integration_timeout_of(app, spec))
    out["responses"] = dict(sorted(responses.items()))
    return out


def document(plan: Plan) -> dict[str, Any]:
    """The API Gateway body (OpenAPI 3.0 with API Gateway's extensions) of a plan's routes."""
    from lambdakit.derive.jsonschema import body_schema

    app = plan.app
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for op in operations(plan):
        paths.setdefault(op.path, {})[op.method.lower()] = operation(app, op)
        if op.body is not None:
            schemas[model_name(op.spec)] = body_schema(op.body.model)
    cors = app.service.cors
    if cors is not None:
        from lambdakit.derive.cors import preflight

        taken: set[str] = set()
        for path, ops in paths.items():
            methods = tuple(method.upper() for method in ops)
            name = preflight_id(path)
            while name in taken:  # `/a-b` and `/a/b` spell the same words
                name += "X"
            taken.add(name)
            ops["options"] = preflight(cors, methods, name)
    doc: dict[str, Any] = {
        "openapi": "3.0.1",
        "info": {"title": app.service.name, "version": "1.0"},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": authorizers.security_schemes(app)},
        "x-amazon-apigateway-request-validators": {
            "body": {"validateRequestBody": True, "validateRequestParameters": False}
        },
        "x-amazon-apigateway-gateway-responses": {
            kind: _gateway_response(code, message, app) for kind, (code, message) in GATEWAY_RESPONSES.items()
        },
    }
    if not doc["components"]["securitySchemes"]:
        del doc["components"]["securitySchemes"]
    return doc
