"""The public OpenAPI 3.1 document of a service: for people, client generators and fuzzers.

It renders the same operations as the API Gateway body (`derive.operations`),
with pydantic's own JSON Schema (2020-12, which OpenAPI 3.1 uses as is): typed
and constrained parameters, request bodies, response bodies from the return
annotations, every status a route answers with the one error shape, the
security schemes of the declared auth, and a tag per module. What API Gateway
needs (draft-4 models, integrations) stays in the template's body.
"""

from __future__ import annotations

import sys
from typing import Any

from lambdakit.core.binding import Param
from lambdakit.core.params import value_type
from lambdakit.declare.auth import IAM, Cognito
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive.openapi import ERROR_SCHEMA
from lambdakit.derive.operations import Operation, operations
from lambdakit.derive.plan import Plan

VERSION = "3.1.0"
REF = "#/components/schemas/{model}"

#: The one error shape, as the gateway's model has it, named for people.
ERROR = {
    "title": "Error",
    "description": "Every error lambdakit, API Gateway or a handler answers, in one shape; for validation "
    "errors `error.details` has one entry per bad field or parameter.",
    **ERROR_SCHEMA,
}


def document(plan: Plan, version: str = "1.0") -> dict[str, Any]:
    """The service's API as an OpenAPI 3.1 document (valid per openapi-spec-validator)."""
    from pydantic import TypeAdapter

    ops = operations(plan)
    inputs: list[tuple[Any, Any, TypeAdapter[Any]]] = []
    for op in ops:
        for param in op.parameters:
            inputs.append(((op.operation_id, "param", param.name), "validation", TypeAdapter(value_type(param))))
        if op.body is not None:
            inputs.append(((op.operation_id, "body"), "validation", TypeAdapter(op.body.model)))
        for answer in op.answers:
            if answer.schema is not None and answer.schema != "error" and answer.schema is not Any:
                inputs.append(((op.operation_id, answer.status), "serialization", TypeAdapter(answer.schema)))
    schemas, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF) if inputs else ({}, {})
    components: dict[str, Any] = {"Error": ERROR, **dict(sorted(definitions.get("$defs", {}).items()))}
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    doc: dict[str, Any] = {
        "openapi": VERSION,
        "info": {"title": plan.app.service.name, "version": version},
        "tags": _tags(ops),
        "paths": paths,
        "components": {"schemas": components},
    }
    schemes = security_schemes(plan, ops)
    if schemes:
        doc["components"]["securitySchemes"] = schemes
    return doc


def _operation(op: Operation, schemas: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "tags": [op.tag]}
    if op.summary:
        out["summary"] = op.summary
    if op.description:
        out["description"] = op.description
    if op.parameters:
        out["parameters"] = [_parameter(op, p, schemas) for p in op.parameters]
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body.required,
            "content": {"application/json": {"schema": schemas[((op.operation_id, "body"), "validation")]}},
        }
    responses: dict[str, Any] = {}
    for answer in op.answers:
        entry: dict[str, Any] = {"description": answer.description}
        if answer.schema == "error":
            entry["content"] = {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}
        elif answer.schema is Any:
            entry["content"] = {"*/*": {}}  # lk.Response: the function picks the media type
        elif answer.schema is not None:
            schema = schemas[((op.operation_id, answer.status), "serialization")]
            entry["content"] = {"application/json": {"schema": schema}}
        responses[answer.status] = entry
    out["responses"] = responses
    out["security"] = [{name: list(scopes) for name, scopes in op.security}] if op.security else []
    return out


def _parameter(op: Operation, param: Param, schemas: dict[Any, Any]) -> dict[str, Any]:
    schema = dict(schemas[((op.operation_id, "param", param.name), "validation")])
    if not param.required and param.default is not None:
        from contextlib import suppress

        from pydantic_core import to_jsonable_python

        with suppress(Exception):  # a default JSON cannot show is left undocumented
            schema["default"] = to_jsonable_python(param.default)
    out = {"name": param.name, "in": param.source, "required": param.required or param.source == "path"}
    if param.many:
        out.update(style="form", explode=True)
    return {**out, "schema": schema}


def _tags(ops: list[Operation]) -> list[dict[str, str]]:
    """A tag per module, described by the first line of the module's docstring."""
    tags: dict[str, str] = {}
    for op in ops:
        module = sys.modules.get(op.spec.module)
        doc = ((module.__doc__ if module else None) or "").strip().split("\n", 1)[0]
        tags.setdefault(op.tag, doc)
    return [{"name": name, **({"description": doc} if doc else {})} for name, doc in sorted(tags.items())]


def security_schemes(plan: Plan, ops: list[Operation]) -> dict[str, Any]:
    """The scheme of each auth the routes use, under the names the operations require."""
    from lambdakit.derive import authorizers

    used = {name for op in ops for name, _ in op.security}
    schemes: dict[str, Any] = {}
    for auth in authorizers.used_auth(plan.app):
        if isinstance(auth, Cognito):
            schemes[auth.authorizer_id] = {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": f"an ID or access token of the Cognito user pool {auth.name!r}",
            }
        elif isinstance(auth, FunctionSpec):
            scheme = authorizers.lambda_authorizer(auth)
            schemes[authorizers.authorizer_id(auth)] = {
                "type": "apiKey",
                "name": scheme.get("name", "Authorization"),
                "in": scheme.get("in", "header"),
                "description": f"checked by the Lambda authorizer {auth.name!r}",
            }
        elif auth == IAM:
            schemes[authorizers.SIGV4] = {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "an AWS Signature Version 4 signed request",
            }
    if authorizers.API_KEY in used:
        schemes[authorizers.API_KEY] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
    return {name: scheme for name, scheme in schemes.items() if name in used}
