"""Who is calling, and the raw request, as handlers receive them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Identity:
    """The caller, as established by the route's authorizer (Cognito, Lambda or IAM).

    `claims` holds every claim or context value the authorizer passed, intact.
    An `@lk.authorizer` function returns one; its `context` reaches the handler.
    """

    subject: str
    username: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    scopes: tuple[str, ...] = ()
    context: dict[str, Any] = field(default_factory=dict)
    kind: str = "lambda"


@dataclass(frozen=True)
class Request:
    """The raw request, for handlers that need headers or the body bytes (`req: lk.Request`)."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    path_params: dict[str, str]
    body: str | None
    request_id: str
    source_ip: str | None = None
