"""An HTTP route as a Lambda handler for API Gateway REST proxy events.

The hot path is kept to what a hand-written handler does: look up the values,
validate the body with pydantic, call, serialise. Everything that depends only
on the function is prepared once in `make_handler`.
"""

from __future__ import annotations

import binascii  # base64 in C; the `base64` module costs ~1 ms to import at cold start
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdakit.core.binding import Param, http_plan, is_model

if TYPE_CHECKING:
    from lambdakit.declare.functions import FunctionSpec

JSON_HEADERS = {"Content-Type": "application/json"}


class Refused(Exception):
    """A request the handler must refuse before calling the function: its status, code and message."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        self.status, self.code, self.message, self.details = status, code, message, details


def to_json(value: Any) -> Any:
    """JSON for what `json` does not know: models, Decimals from DynamoDB, dates, sets, bytes."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return binascii.b2a_base64(value, newline=False).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Built once: json.dumps(..., default=, separators=) would build a new encoder on every call.
_encode = json.JSONEncoder(default=to_json, separators=(",", ":")).encode


def dumps(value: Any) -> str:
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json())
    return _encode(value)


def respond(
    status: int, body: str | None, headers: dict[str, str] = JSON_HEADERS, base64_encoded: bool = False
) -> dict[str, Any]:
    return {"statusCode": status, "headers": headers, "body": body or "", "isBase64Encoded": base64_encoded}


def header(event: dict[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        value = headers.get(lower)  # HTTP/2 clients send every name in lower case
        if value is not None:
            return str(value)
        for key, val in headers.items():
            if key.lower() == lower:
                return str(val)
    return value


def raw_body(event: dict[str, Any]) -> str | bytes | None:
    """The body as sent: bytes when API Gateway base64-encoded it (a 400 if that encoding is broken)."""
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        try:
            return binascii.a2b_base64(body)
        except (binascii.Error, ValueError):
            raise Refused(400, "bad_request", "the body is marked base64 but is not valid base64") from None
    return body


def _body_reader(param: Param) -> Callable[[dict[str, Any]], Any]:
    model = param.model
    validate_json: Callable[[Any], Any]
    if is_model(model):
        validate_json = model.model_validate_json
    else:
        from pydantic import TypeAdapter

        validate_json = TypeAdapter(model).validate_json

    from pydantic import ValidationError

    def read(event: dict[str, Any]) -> Any:
        raw = event.get("body")  # the common case inline (this runs on every request); base64 via raw_body
        if raw is not None and event.get("isBase64Encoded"):
            raw = raw_body(event)
        if raw is None or raw == "" or raw == b"":
            if not param.required:
                return param.default
            raise Refused(
                422,
                "validation_error",
                "the request body is required",
                [{"loc": ["body"], "msg": "Field required", "type": "missing"}],
            )
        headers = event.get("headers")
        ctype = headers.get("Content-Type") if headers else None
        if ctype is None:
            ctype = header(event, "Content-Type")
        if ctype is not None and ctype != "application/json":
            media = ctype.split(";", 1)[0].strip().lower()
            if media != "application/json" and not media.endswith("+json"):
                raise Refused(
                    415, "unsupported_media_type", f"send the body as application/json, not {media or 'nothing'}"
                )
        try:
            return validate_json(raw)
        except ValidationError as exc:
            from lambdakit.runtime.http_errors import invalid_body

            raise invalid_body(exc) from None

    return read


def _path_reader(param: Param) -> Callable[[dict[str, Any]], Any]:
    """An unconstrained `str` path parameter: API Gateway only routes here with a value."""
    name = param.name

    def read(event: dict[str, Any]) -> Any:
        value = (event.get("pathParameters") or {}).get(name)
        if value is None:
            raise Refused(404, "not_found", f"no value for path parameter {name}")
        return value

    return read


def _reader(param: Param) -> Callable[[dict[str, Any]], Any]:
    if param.source == "body":
        return _body_reader(param)
    if param.source == "path":
        return _path_reader(param)
    from lambdakit.runtime.caller import reader  # lk.Identity and lk.Request: loaded by the routes that take one

    return reader(param)


def render(result: Any, status: int) -> dict[str, Any]:
    if hasattr(result, "model_dump_json"):  # a model: the common case first
        return {
            "statusCode": status,
            "headers": JSON_HEADERS,
            "body": str(result.model_dump_json()),
            "isBase64Encoded": False,
        }
    if result is None:
        return respond(status if status != 200 else 204, None)
    cls = type(result)
    if cls is dict or cls is list:
        return {"statusCode": status, "headers": JSON_HEADERS, "body": _encode(result), "isBase64Encoded": False}
    response = sys.modules.get("lambdakit.response")  # only loaded if some code uses lk.Response
    if response is not None and isinstance(result, response.Response):
        headers = {**JSON_HEADERS, **result.headers}
        if result.content_type:
            headers["Content-Type"] = result.content_type
        body = result.body
        if body is None:
            return respond(result.status, None, headers)
        if isinstance(body, bytes):
            return respond(result.status, binascii.b2a_base64(body, newline=False).decode(), headers, True)
        if isinstance(body, str) and result.content_type:
            return respond(result.status, body, headers)
        return respond(result.status, dumps(body), headers)
    return respond(status, dumps(result))


def _caller(
    func: Callable[..., Any],
    readers: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...],
    values: Callable[[dict[str, Any]], dict[str, Any]] | None,
) -> Callable[[dict[str, Any]], Any]:
    """The function called with its bound arguments; a route of one parameter (most) without a loop."""
    if values is None and len(readers) == 1:
        ((name, read),) = readers
        return lambda event: func(**{name: read(event)})

    def call(event: dict[str, Any]) -> Any:
        arguments = {} if values is None else values(event)  # a new dict each time
        for name, read in readers:
            arguments[name] = read(event)
        return func(**arguments)

    return call


def make_handler(spec: FunctionSpec) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    route = spec.route
    assert route is not None, f"{spec.where}: not an HTTP route"
    plan = http_plan(spec.func, route.path_params, spec.where)
    func = spec.func
    status = route.status or 200
    # a route whose values are all plain str path parameters (or that has none) never imports core.params
    validated: list[Param] = []
    readers: list[tuple[str, Callable[[dict[str, Any]], Any]]] = []
    for param in plan.params:
        if param.validated:
            validated.append(param)
        else:
            readers.append((param.name, _reader(param)))
    values = None
    if validated:  # loads `core.params` and the model it builds
        from lambdakit.runtime.http_values import values_reader

        values = values_reader(tuple(validated))
    call = _caller(func, tuple(readers), values)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return render(call(event), status)
        except Exception as exc:  # the one place a failure becomes an answer: loaded by the first one
            from lambdakit.runtime.http_errors import failure_response

            return failure_response(spec, exc, event, context)

    handler.__wrapped__ = func  # type: ignore[attr-defined]
    import os

    cors = os.environ.get("LAMBDAKIT_CORS")
    if not cors:
        return handler
    from lambdakit.runtime.cors import with_cors  # only a service that sets cors= answers with its headers

    return with_cors(handler, cors)
