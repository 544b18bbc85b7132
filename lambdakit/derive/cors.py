"""CORS in the API Gateway body: preflights answered by a mock integration, origins on every answer.

No Lambda runs for a preflight: each path gets an `OPTIONS` operation with a
mock integration and no auth (browsers send preflights without credentials).
The allowed origin is chosen in a response template, since a header mapping
cannot test the caller's `Origin`: `$context.responseOverride` sets it only
for an allowed origin. The same snippet heads the storage-first integrations'
response templates; the functions add theirs in the runtime; the gateway's
own errors carry it through their response parameters.
"""

from __future__ import annotations

from typing import Any

from lambdakit.declare.cors import CORS


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "") + "'"


def origin_override(cors: CORS) -> str:
    """VTL that sets `Access-Control-Allow-Origin` (and its companions) for an allowed origin only."""
    if cors.any_origin:
        return ""
    test = " || ".join(f'$lkOrigin == "{origin}"' for origin in cors.origins)
    sets = "#set($context.responseOverride.header.Access-Control-Allow-Origin = $lkOrigin)"
    if cors.credentials:
        sets += '#set($context.responseOverride.header.Access-Control-Allow-Credentials = "true")'
    return (
        '#set($lkOrigin = $input.params().header.get("Origin"))'
        '#if("$!lkOrigin" == "")#set($lkOrigin = $input.params().header.get("origin"))#end'
        f"#if({test}){sets}#end"
    )


def static_headers(cors: CORS) -> dict[str, str]:
    """The headers every answer carries whatever the origin (the rest come from `origin_override`)."""
    headers = {"Vary": "Origin"} if not cors.any_origin else {"Access-Control-Allow-Origin": "*"}
    if cors.expose:
        headers["Access-Control-Expose-Headers"] = ",".join(cors.expose)
    return headers


def method_response_headers(cors: CORS, preflight: bool = False) -> dict[str, Any]:
    """The headers a method response declares, so integration responses may set them."""
    names = ["Access-Control-Allow-Origin", *static_headers(cors)]
    if cors.credentials:
        names.append("Access-Control-Allow-Credentials")
    if preflight:
        names += ["Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"]
    return {name: {"schema": {"type": "string"}} for name in dict.fromkeys(names)}


def preflight(cors: CORS, methods: tuple[str, ...], operation_id: str) -> dict[str, Any]:
    """The `OPTIONS` operation of a path: a mock integration answering 204 with the CORS headers."""
    allowed = ",".join(sorted({*methods, "OPTIONS"}))
    parameters = {f"method.response.header.{name}": _quoted(value) for name, value in static_headers(cors).items()}
    parameters.update(
        {
            "method.response.header.Access-Control-Allow-Methods": _quoted(allowed),
            "method.response.header.Access-Control-Allow-Headers": _quoted(cors.allow_headers),
            "method.response.header.Access-Control-Max-Age": _quoted(str(cors.max_age)),
        }
    )
    return {
        "operationId": operation_id,
        "security": [],
        "responses": {
            "204": {"description": "CORS preflight", "headers": method_response_headers(cors, preflight=True)}
        },
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "passthroughBehavior": "when_no_match",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {
                "default": {
                    "statusCode": "204",
                    "responseParameters": parameters,
                    "responseTemplates": {"application/json": origin_override(cors)},
                }
            },
        },
    }


def with_origin(cors: CORS, integration: dict[str, Any]) -> dict[str, Any]:
    """A storage-first integration whose every response names the allowed origin."""
    responses = {}
    for key, response in integration["responses"].items():
        templates = {k: origin_override(cors) + v for k, v in response.get("responseTemplates", {}).items()}
        parameters = {
            **response.get("responseParameters", {}),
            **{f"method.response.header.{name}": _quoted(value) for name, value in static_headers(cors).items()},
        }
        responses[key] = {**response, "responseTemplates": templates, "responseParameters": parameters}
    return {**integration, "responses": responses}


def gateway_response_parameters(cors: CORS) -> dict[str, str]:
    """Headers on API Gateway's own errors (see `CORS.gateway_headers`: these cannot test the origin)."""
    single = cors.any_origin or len(cors.origins) == 1
    origin = _quoted(cors.origins[0]) if single else "method.request.header.Origin"
    parameters = {"gatewayresponse.header.Access-Control-Allow-Origin": origin}
    if cors.credentials and single:
        parameters["gatewayresponse.header.Access-Control-Allow-Credentials"] = "'true'"
    if not cors.any_origin:
        parameters["gatewayresponse.header.Vary"] = "'Origin'"
    return parameters
