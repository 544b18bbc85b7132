"""API Gateway's request validator for storage-first routes: the body against the route's draft-4 JSON schema.

The schema is the one the template gives API Gateway (`derive.jsonschema.body_schema`),
checked with jsonschema's `Draft4Validator` when jsonschema is installed (it is
a dev dependency of lambdakit, not a runtime one). Without it, the same model is
validated by pydantic in strict mode, which refuses what draft 4 refuses for JSON
input ("5" for an integer, 1.5 for an integer, ...) but words its errors differently.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

#: body bytes -> None when valid, else API Gateway's `validationErrorString` (a bracketed list).
Validator = Callable[[bytes], "str | None"]

INVALID_JSON = "Invalid request body"


def validator(body_type: Any, required: bool = True) -> Validator:
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - exercised only without the dev extras
        return _pydantic(body_type, required)
    from lambdakit.derive.jsonschema import body_schema

    checker = jsonschema.Draft4Validator(body_schema(body_type))

    def check(raw: bytes) -> str | None:
        if not raw.strip():
            return INVALID_JSON if required else None
        try:
            instance = json.loads(raw)
        except ValueError:
            return INVALID_JSON
        errors = sorted(checker.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
        if not errors:
            return None
        return "[" + ", ".join(_where(e.absolute_path) + e.message for e in errors) + "]"

    return check


def _where(path: Any) -> str:
    parts = [str(p) for p in path]
    return f"{'.'.join(parts)}: " if parts else ""


def _pydantic(body_type: Any, required: bool) -> Validator:
    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(body_type)

    def check(raw: bytes) -> str | None:
        if not raw.strip():
            return INVALID_JSON if required else None
        try:
            adapter.validate_json(raw, strict=True)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            if errors and errors[0]["type"] == "json_invalid":
                return INVALID_JSON
            return "[" + ", ".join(_where(e["loc"]) + e["msg"] for e in errors) + "]"
        return None

    return check
