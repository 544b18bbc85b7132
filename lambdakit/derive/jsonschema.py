"""Pydantic's JSON Schema (2020-12) rewritten as the draft-4 schema API Gateway validates with.

API Gateway models are draft 4 and cannot follow `#/$defs/...` references, so
definitions are inlined and the 2020-12 keywords are mapped to draft-4 ones.
"""

from __future__ import annotations

from typing import Any

_DROP = ("title", "examples", "$schema", "discriminator", "readOnly", "writeOnly", "deprecated", "format")


def body_schema(body_type: Any) -> dict[str, Any]:
    """The draft-4 schema of a body parameter type (a model, dict or list)."""
    from pydantic import TypeAdapter

    schema = TypeAdapter(body_type).json_schema(mode="validation")
    return to_draft4(schema)


def to_draft4(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.get("$defs", {})
    out = _convert(schema, defs, ())
    out["$schema"] = "http://json-schema.org/draft-04/schema#"
    return out


def _convert(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_convert(n, defs, seen) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:  # recursive model: accept any object below this depth
            return {"type": "object"}
        merged = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
        return _convert(merged, defs, seen + (name,))
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key == "$defs" or key == "default":
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "exclusiveMinimum" and not isinstance(value, bool):
            out["minimum"] = value
            out["exclusiveMinimum"] = True
        elif key == "exclusiveMaximum" and not isinstance(value, bool):
            out["maximum"] = value
            out["exclusiveMaximum"] = True
        elif key == "prefixItems":
            out["items"] = _convert(value, defs, seen)
        elif key in ("properties", "patternProperties"):
            out[key] = {k: _convert(v, defs, seen) for k, v in value.items()}
        else:
            out[key] = _convert(value, defs, seen)
    return out
