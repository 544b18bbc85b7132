"""lambdakit: one plain Python function per AWS Lambda, with least-privilege IAM derived from its declarations.

Only `route` loads here; `authorizer`, `consume` and the other declarations (`Service`, `Table`,
`Queue`, `Stream`, `sqs`, `Cognito`, `PUBLIC`, `CORS`, ...), the HTTP errors,
`Identity`, `Request` and `Response` load on first use (a cold start pays for
what the function uses), and the template builder, the local emulator and the
test client load when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdakit.core import DeclarationError
from lambdakit.declare.functions import route

if TYPE_CHECKING:
    from lambdakit.declare.auth import IAM, PUBLIC, Cognito
    from lambdakit.declare.authorizers import authorizer
    from lambdakit.declare.cors import CORS
    from lambdakit.declare.edge import edge
    from lambdakit.declare.edge_routing import ABTest, Failover, Rollout
    from lambdakit.declare.resources import Queue, Stream, Table
    from lambdakit.declare.service import Service, UsagePlan
    from lambdakit.declare.site import Frontend, SecurityHeaders
    from lambdakit.declare.triggers import consume, kinesis, sqs
    from lambdakit.errors import (
        BadRequest,
        Conflict,
        Forbidden,
        Gone,
        HTTPError,
        MethodNotAllowed,
        NotFound,
        PayloadTooLarge,
        PreconditionFailed,
        ServiceUnavailable,
        TooManyRequests,
        Unauthorized,
        UnprocessableEntity,
        UnsupportedMediaType,
    )
    from lambdakit.identity import Identity, Request
    from lambdakit.response import Response

__version__ = "0.1.0"

_LAZY = {
    "IAM": "lambdakit.declare.auth",
    "PUBLIC": "lambdakit.declare.auth",
    "Cognito": "lambdakit.declare.auth",
    "authorizer": "lambdakit.declare.authorizers",
    "Queue": "lambdakit.declare.resources",
    "consume": "lambdakit.declare.triggers",
    "kinesis": "lambdakit.declare.triggers",
    "sqs": "lambdakit.declare.triggers",
    "Stream": "lambdakit.declare.resources",
    "Table": "lambdakit.declare.resources",
    "ABTest": "lambdakit.declare.edge_routing",
    "CORS": "lambdakit.declare.cors",
    "Failover": "lambdakit.declare.edge_routing",
    "Rollout": "lambdakit.declare.edge_routing",
    "edge": "lambdakit.declare.edge",  # also the `lambdakit.edge` package, which is callable as the same decorator
    "Frontend": "lambdakit.declare.site",
    "SecurityHeaders": "lambdakit.declare.site",
    "Service": "lambdakit.declare",
    "UsagePlan": "lambdakit.declare.service",
    "Identity": "lambdakit.identity",
    "Request": "lambdakit.identity",
    "Response": "lambdakit.response",
    # the HTTP errors: loaded when a function first raises one (or names one at import)
    **dict.fromkeys(
        (
            "BadRequest",
            "Conflict",
            "Forbidden",
            "Gone",
            "HTTPError",
            "MethodNotAllowed",
            "NotFound",
            "PayloadTooLarge",
            "PreconditionFailed",
            "ServiceUnavailable",
            "TooManyRequests",
            "Unauthorized",
            "UnprocessableEntity",
            "UnsupportedMediaType",
        ),
        "lambdakit.errors",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lambdakit' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def new_id() -> str:
    """A new random identifier (UUID4, 32 hex digits) for items you create."""
    import uuid

    return uuid.uuid4().hex


__all__ = [
    "CORS",
    "IAM",
    "PUBLIC",
    "ABTest",
    "BadRequest",
    "Cognito",
    "Conflict",
    "DeclarationError",
    "Failover",
    "Forbidden",
    "Frontend",
    "Gone",
    "HTTPError",
    "Identity",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "Queue",
    "Request",
    "Response",
    "Rollout",
    "SecurityHeaders",
    "Service",
    "ServiceUnavailable",
    "Stream",
    "Table",
    "TooManyRequests",
    "Unauthorized",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "UsagePlan",
    "authorizer",
    "consume",
    "edge",
    "kinesis",
    "new_id",
    "route",
    "sqs",
]
