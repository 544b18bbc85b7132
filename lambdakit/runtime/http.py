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
from typing import TYPE_CHECKING, Any, TypeGuard

from lambdakit.core.binding import Param, http_plan, is_model

if TYPE_CHECKING:
    from lambdakit.declare.functions import FunctionSpec
    from lambdakit.errors import HTTPError  # loaded when a function raises one, as lk.Response when one is returned

JSON_HEADERS = {"Content-Type": "application/json"}


class _Invalid(Exception):
    """A request the handler must refuse before calling the function."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        self.status, self.code, self.message, self.details = status, code, message, details


def _default(value: Any) -> Any:
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
_encode = json.JSONEncoder(default=_default, separators=(",", ":")).encode
_encode_error = json.JSONEncoder(default=_default).encode


def dumps(value: Any) -> str:
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json())
    return _encode(value)


def _respond(
    status: int, body: str | None, headers: dict[str, str] = JSON_HEADERS, base64_encoded: bool = False
) -> dict[str, Any]:
    return {"statusCode": status, "headers": headers, "body": body or "", "isBase64Encoded": base64_encoded}


def error_response(
    status: int, code: str, message: str, details: Any, request_id: str | None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    from lambdakit.errors import error_body  # loaded by the first error, not at every cold start

    body = _encode_error(error_body(code, message, details, request_id))
    return _respond(status, body, {**JSON_HEADERS, **headers} if headers else JSON_HEADERS)


def _header(event: dict[str, Any], name: str) -> str | None:
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
            raise _Invalid(400, "bad_request", "the body is marked base64 but is not valid base64") from None
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
            raise _Invalid(
                422,
                "validation_error",
                "the request body is required",
                [{"loc": ["body"], "msg": "Field required", "type": "missing"}],
            )
        headers = event.get("headers")
        ctype = headers.get("Content-Type") if headers else None
        if ctype is None:
            ctype = _header(event, "Content-Type")
        if ctype is not None and ctype != "application/json":
            media = ctype.split(";", 1)[0].strip().lower()
            if media != "application/json" and not media.endswith("+json"):
                raise _Invalid(
                    415, "unsupported_media_type", f"send the body as application/json, not {media or 'nothing'}"
                )
        try:
            return validate_json(raw)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False, include_input=False)
            if errors and errors[0]["type"] == "json_invalid":
                raise _Invalid(400, "bad_request", f"the body is not valid JSON: {errors[0]['msg']}") from None
            details = [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]
            fields = ", ".join([".".join([str(part) for part in e["loc"]]) or "body" for e in errors])
            raise _Invalid(422, "validation_error", f"invalid body: {fields}", details) from None

    return read


def _values_reader(params: tuple[Param, ...]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The path and query values of a route, validated together (every bad one in one 422)."""
    from lambdakit.core.params import InvalidParameters, Raw, validator

    check = validator(params)
    path_names = tuple(p.name for p in params if p.source == "path")
    single = tuple(p.name for p in params if p.source == "query" and not p.many)
    many = tuple(p.name for p in params if p.source == "query" and p.many)

    def read(event: dict[str, Any]) -> dict[str, Any]:
        raw: dict[str, Raw] = {}
        if path_names:
            given = event.get("pathParameters") or {}
            raw.update((name, given[name]) for name in path_names if name in given)
        if single:
            given = event.get("queryStringParameters") or {}
            raw.update((name, given[name]) for name in single if name in given)
        if many:
            given = event.get("multiValueQueryStringParameters") or {}
            raw.update((name, given[name]) for name in many if given.get(name))
        try:
            return check(raw)
        except InvalidParameters as bad:
            raise _Invalid(422, "validation_error", bad.message, bad.errors) from None

    return read


def _path_reader(param: Param) -> Callable[[dict[str, Any]], Any]:
    """An unconstrained `str` path parameter: API Gateway only routes here with a value."""
    name = param.name

    def read(event: dict[str, Any]) -> Any:
        value = (event.get("pathParameters") or {}).get(name)
        if value is None:
            raise _Invalid(404, "not_found", f"no value for path parameter {name}")
        return value

    return read


def _identity_reader(param: Param) -> Callable[[dict[str, Any]], Any]:
    from lambdakit.runtime.caller import identity_from

    def read(event: dict[str, Any]) -> Any:
        identity = identity_from(event)
        if identity is None and param.required:
            raise _Invalid(401, "unauthorized", "this route needs an authenticated caller")
        return identity

    return read


def _request_reader(param: Param) -> Callable[[dict[str, Any]], Any]:
    from lambdakit.runtime.caller import request_of

    return request_of


_READERS: dict[str, Callable[[Param], Callable[[dict[str, Any]], Any]]] = {
    "body": _body_reader,
    "path": _path_reader,
    "identity": _identity_reader,
    "request": _request_reader,
}


def render(result: Any, status: int) -> dict[str, Any]:
    if hasattr(result, "model_dump_json"):  # a model: the common case first
        return {
            "statusCode": status,
            "headers": JSON_HEADERS,
            "body": str(result.model_dump_json()),
            "isBase64Encoded": False,
        }
    if result is None:
        return _respond(status if status != 200 else 204, None)
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
            return _respond(result.status, None, headers)
        if isinstance(body, bytes):
            return _respond(result.status, binascii.b2a_base64(body, newline=False).decode(), headers, True)
        if isinstance(body, str) and result.content_type:
            return _respond(result.status, body, headers)
        return _respond(result.status, dumps(body), headers)
    return _respond(status, dumps(result))


def _caller(
    func: Callable[..., Any],
    readers: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...],
    values: Callable[[dict[str, Any]], dict[str, Any]] | None,
) -> Callable[[dict[str, Any]], Any]:
    """The function called with its bound arguments; most routes take one or two parameters."""
    if values is not None:
        return lambda event: func(**values(event), **{name: read(event) for name, read in readers})
    if not readers:
        return lambda event: func()
    if len(readers) == 1:
        ((name, read),) = readers
        return lambda event: func(**{name: read(event)})
    if len(readers) == 2:
        ((name1, read1), (name2, read2)) = readers
        return lambda event: func(**{name1: read1(event), name2: read2(event)})
    return lambda event: func(**{name: read(event) for name, read in readers})


def make_handler(spec: FunctionSpec) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    route = spec.route
    assert route is not None, f"{spec.where}: not an HTTP route"
    plan = http_plan(spec.func, route.path_params, spec.where)
    func = spec.func
    status = route.status or 200
    # a route whose values are all plain str path parameters (or that has none) never imports core.params
    validated = tuple(p for p in plan.values if p.validated)
    direct = tuple(p for p in plan.params if p not in validated)
    call = _caller(
        func,
        tuple((p.name, _READERS[p.source](p)) for p in direct),
        _values_reader(validated) if validated else None,
    )

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return render(call(event), status)
        except _Invalid as bad:
            return error_response(bad.status, bad.code, bad.message, bad.details, _request_id(event, context))
        except Exception as exc:  # an lk.HTTPError answers as it says; the one place anything else becomes a 500
            request_id = _request_id(event, context)
            if _is_http_error(exc):
                return error_response(exc.status, exc.code, exc.message, exc.details, request_id, exc.headers)
            _log_exception(spec, exc, request_id)
            return error_response(
                500, "internal_error", "internal error; quote the request id when reporting it", None, request_id
            )

    handler.__wrapped__ = func  # type: ignore[attr-defined]
    import os

    cors = os.environ.get("LAMBDAKIT_CORS")
    return _with_cors(handler, cors) if cors else handler


def _with_cors(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]], config: str
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Every answer of a CORS service names the allowed origin (API Gateway adds nothing to proxy answers)."""
    from lambdakit.declare.cors import CORS

    cors = CORS(**json.loads(config))

    def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = handler(event, context)
        headers = {**(response.get("headers") or {})}
        for name, value in cors.response_headers(_header(event, "Origin")).items():
            given = headers.get(name)
            headers[name] = f"{given}, {value}" if name == "Vary" and given and value not in given else value
        response["headers"] = headers
        return response

    answer.__wrapped__ = handler.__wrapped__  # type: ignore[attr-defined]
    return answer


def _is_http_error(exc: Exception) -> TypeGuard[HTTPError]:
    """Whether `exc` is an `lk.HTTPError`: only once `lambdakit.errors` is loaded can one be raised, so a
    function that raises none never loads it (as `render` does with `lk.Response`)."""
    errors = sys.modules.get("lambdakit.errors")
    return errors is not None and isinstance(exc, errors.HTTPError)


def _request_id(event: dict[str, Any], context: Any) -> str | None:
    rid = (event.get("requestContext") or {}).get("requestId")
    return rid or getattr(context, "aws_request_id", None)


def _log_exception(spec: FunctionSpec, exc: BaseException, request_id: str | None) -> None:
    from lambdakit.runtime.log import logger

    logger().exception("unhandled error in %s", spec.name, extra={"request_id": request_id, "function": spec.name})
