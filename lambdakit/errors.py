"""HTTP errors a handler raises; each maps to its status with the framework's one JSON error shape."""

from __future__ import annotations

from typing import Any


class HTTPError(Exception):
    """Raise to answer with `status` and `{"error": {"code", "message", "details"?}}`."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str = "", *, details: Any = None, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message or self.code.replace("_", " ")
        self.details = details
        self.headers = headers or {}
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: Any = None, request_id: str | None = None) -> dict[str, Any]:
    """The one error shape, shared by handlers, the runtime, gateway responses and the local server."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    body: dict[str, Any] = {"error": error}
    if request_id is not None:
        body["request_id"] = request_id
    return body


def _http_error(name: str, status: int, code: str) -> type[HTTPError]:
    return type(name, (HTTPError,), {"status": status, "code": code, "__doc__": f"HTTP {status}."})


BadRequest = _http_error("BadRequest", 400, "bad_request")
Unauthorized = _http_error("Unauthorized", 401, "unauthorized")
Forbidden = _http_error("Forbidden", 403, "forbidden")
NotFound = _http_error("NotFound", 404, "not_found")
MethodNotAllowed = _http_error("MethodNotAllowed", 405, "method_not_allowed")
Conflict = _http_error("Conflict", 409, "conflict")
Gone = _http_error("Gone", 410, "gone")
PreconditionFailed = _http_error("PreconditionFailed", 412, "precondition_failed")
PayloadTooLarge = _http_error("PayloadTooLarge", 413, "payload_too_large")
UnsupportedMediaType = _http_error("UnsupportedMediaType", 415, "unsupported_media_type")
UnprocessableEntity = _http_error("UnprocessableEntity", 422, "validation_error")
TooManyRequests = _http_error("TooManyRequests", 429, "too_many_requests")
ServiceUnavailable = _http_error("ServiceUnavailable", 503, "service_unavailable")
