"""What an HTTP route answers when it fails: a refusal (4xx), the `lk.HTTPError` it raised, or a 500.

Loaded by a function's first failure, not at every cold start: a route that never fails never reads it.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, TypeGuard

from lambdakit.runtime.http import JSON_HEADERS, Refused, respond, to_json

if TYPE_CHECKING:
    from pydantic import ValidationError

    from lambdakit.declare.functions import FunctionSpec
    from lambdakit.errors import HTTPError

_encode_error = json.JSONEncoder(default=to_json).encode


def error_response(
    status: int, code: str, message: str, details: Any, request_id: str | None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    from lambdakit.errors import error_body

    body = _encode_error(error_body(code, message, details, request_id))
    return respond(status, body, {**JSON_HEADERS, **headers} if headers else JSON_HEADERS)


def failure_response(spec: FunctionSpec, exc: Exception, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A refused request as its 4xx, an `lk.HTTPError` as it says; anything else is logged and becomes a 500."""
    request_id = _request_id(event, context)
    if isinstance(exc, Refused):
        return error_response(exc.status, exc.code, exc.message, exc.details, request_id)
    if _is_http_error(exc):
        return error_response(exc.status, exc.code, exc.message, exc.details, request_id, exc.headers)
    from lambdakit.runtime.log import logger

    logger().exception("unhandled error in %s", spec.name, extra={"request_id": request_id, "function": spec.name})
    return error_response(
        500, "internal_error", "internal error; quote the request id when reporting it", None, request_id
    )


def invalid_body(exc: ValidationError) -> Refused:
    """pydantic's verdict on a body as the refusal: 400 if it is not JSON, else 422 naming each bad field."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    if errors and errors[0]["type"] == "json_invalid":
        return Refused(400, "bad_request", f"the body is not valid JSON: {errors[0]['msg']}")
    details = [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]
    fields = ", ".join([".".join([str(part) for part in e["loc"]]) or "body" for e in errors])
    return Refused(422, "validation_error", f"invalid body: {fields}", details)


def _is_http_error(exc: Exception) -> TypeGuard[HTTPError]:
    """Whether `exc` is an `lk.HTTPError`: only once `lambdakit.errors` is loaded can one be raised, so a
    function that raises none never loads it (as `render` does with `lk.Response`)."""
    errors = sys.modules.get("lambdakit.errors")
    return errors is not None and isinstance(exc, errors.HTTPError)


def _request_id(event: dict[str, Any], context: Any) -> str | None:
    rid = (event.get("requestContext") or {}).get("requestId")
    return rid or getattr(context, "aws_request_id", None)
