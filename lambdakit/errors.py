"""HTTP errors a handler raises; each maps to its status with the framework's one JSON error shape."""

from __future__ import annotations

from typing import Any


class HTTPError(Exception):
    """Raise to answer with `status` and `{"error": {"code", "message", "details"?}}`."""

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str = "",
        *,
        details: Any = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message or self.code.replace("_", " ")
        self.details = details
        self.headers = headers or {}
        if status is not None:
            self.status = status
            if type(self) is HTTPError:  # `lk.HTTPError("...", status=418)`: the code says what the status is
                from http import HTTPStatus

                try:
                    self.code = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("'", "").replace("-", "_")
                except ValueError:
                    self.code = f"http_{status}"
                if message == "":
                    self.message = self.code.replace("_", " ")

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


# Real classes (not built with `type()`), so type checkers see them and users subclass them:
# `class OrderMissing(lk.NotFound): ...`


class BadRequest(HTTPError):
    """HTTP 400."""

    status = 400
    code = "bad_request"


class Unauthorized(HTTPError):
    """HTTP 401."""

    status = 401
    code = "unauthorized"


class Forbidden(HTTPError):
    """HTTP 403."""

    status = 403
    code = "forbidden"


class NotFound(HTTPError):
    """HTTP 404."""

    status = 404
    code = "not_found"


class MethodNotAllowed(HTTPError):
    """HTTP 405."""

    status = 405
    code = "method_not_allowed"


class Conflict(HTTPError):
    """HTTP 409."""

    status = 409
    code = "conflict"


class Gone(HTTPError):
    """HTTP 410."""

    status = 410
    code = "gone"


class PreconditionFailed(HTTPError):
    """HTTP 412."""

    status = 412
    code = "precondition_failed"


class PayloadTooLarge(HTTPError):
    """HTTP 413."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(HTTPError):
    """HTTP 415."""

    status = 415
    code = "unsupported_media_type"


class UnprocessableEntity(HTTPError):
    """HTTP 422."""

    status = 422
    code = "validation_error"


class TooManyRequests(HTTPError):
    """HTTP 429."""

    status = 429
    code = "too_many_requests"


class ServiceUnavailable(HTTPError):
    """HTTP 503."""

    status = 503
    code = "service_unavailable"
