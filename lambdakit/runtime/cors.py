"""A CORS service's answers name the allowed origin: API Gateway adds nothing to a proxy integration's answers.

Loaded only by the functions of a service that sets `cors=` (the template passes it as LAMBDAKIT_CORS).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lambdakit.declare.cors import CORS
from lambdakit.runtime.http import header

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def with_cors(handler: Handler, config: str) -> Handler:
    """`handler`, its every answer carrying the headers `config` (the service's lk.CORS, as JSON) allows."""
    cors = CORS(**json.loads(config))

    def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = handler(event, context)
        headers = {**(response.get("headers") or {})}
        for name, value in cors.response_headers(header(event, "Origin")).items():
            given = headers.get(name)
            headers[name] = f"{given}, {value}" if name == "Vary" and given and value not in given else value
        response["headers"] = headers
        return response

    answer.__wrapped__ = handler.__wrapped__  # type: ignore[attr-defined]
    return answer
