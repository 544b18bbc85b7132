"""Pydantic's JSON Schema (2020-12) rewritten as the draft-4 schema API Gateway validates with.

API Gateway models are draft 4 and cannot follow `#/$defs/...` references, so
definitions are inlined and the 2020-12 keywords are mapped to draft-4 ones.
For a storage-first route this schema is the only check before the body is
stored, so it must refuse whatever the consumer's pydantic model refuses:
`format` (which draft-4 validators may ignore) becomes a `pattern` that
accepts what pydantic parses, and keywords draft 4 lacks (`propertyNames`,
`prefixItems` with `items`) are rewritten into ones it has. What JSON Schema
cannot say (custom validators, calendar validity such as Feb 30, whitespace
stripping) is checked by the consumer, which fails that record into the DLQ.
"""

from __future__ import annotations

from typing import Any

_DROP = (
    "title",
    "examples",
    "$schema",
    "discriminator",
    "readOnly",
    "writeOnly",
    "deprecated",
    "format",
    # pydantic accepts duplicates for a set (it merges them): refusing them would refuse valid bodies
    "uniqueItems",
    "default",
    "$defs",
)

#: How many times a recursive model is unrolled before the schema accepts any object below.
RECURSION_DEPTH = 4

_H = "[0-9a-fA-F]"
_UUID = f"{_H}{{8}}-{_H}{{4}}-{_H}{{4}}-{_H}{{4}}-{_H}{{12}}"
_YEAR = "(?!0000)[0-9]{4}"
_LEAP = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
_DATE = (
    f"({_YEAR}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    f"|02-(0[1-9]|1[0-9]|2[0-8]))|{_LEAP}-02-29)"
)  # the calendar: 30-day months, Feb 29 in leap years
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.,][0-9]+)?)?"
_TZ = "([Zz]|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])"
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = f"({_OCTET}[.]){{3}}{_OCTET}"
_G = f"{_H}{{1,4}}"  # one IPv6 group
_IPV6 = "|".join(
    (  # the compressed forms, then those ending in an IPv4 address
        f"({_G}:){{7}}{_G}",
        f"({_G}:){{1,7}}:",
        f"({_G}:){{1,6}}:{_G}",
        f"({_G}:){{1,5}}(:{_G}){{1,2}}",
        f"({_G}:){{1,4}}(:{_G}){{1,3}}",
        f"({_G}:){{1,3}}(:{_G}){{1,4}}",
        f"({_G}:){{1,2}}(:{_G}){{1,5}}",
        f"{_G}:(:{_G}){{1,6}}",
        f":((:{_G}){{1,7}}|:)",
        f"({_G}:){{6}}{_IPV4}",
        f"::({_G}:){{0,5}}{_IPV4}",
        f"({_G}:){{1,5}}:({_G}:){{0,4}}{_IPV4}",
    )
)

#: `format` -> a pattern accepting what pydantic parses from a JSON string (ASCII classes: `\d` would be Unicode).
FORMAT_PATTERNS = {
    # datetime: ISO 8601 with a space or T, optional seconds, fraction and offset; or a Unix timestamp in
    # seconds or milliseconds (13 digits at most: pydantic refuses some longer ones).
    "date-time": f"^({_DATE}([Tt ]{_TIME}{_TZ}?)?|-?[0-9]{{1,13}}([.][0-9]+)?)$",
    # date: a date or a midnight date-time. Not a timestamp: pydantic takes midnight ones only, which no
    # pattern can tell apart, so the gateway refuses them all rather than store the others.
    "date": f"^{_DATE}([Tt ]00:00(:00([.,]0+)?)?{_TZ}?)?$",
    "time": f"^{_TIME}{_TZ}?$",
    "uuid": f"^({_UUID}|\\{{{_UUID}\\}}|urn:uuid:{_UUID}|{_H}{{32}})$",
    "ipv4": f"^{_IPV4}$",
    "ipv6": f"^({_IPV6})(%.+)?$",
    "uri": "^\\s*[A-Za-z][A-Za-z0-9+.-]*:.*[^\\s].*$",
    "email": "^[^\\s@]+@[^\\s@]+[.][^\\s@]+$",
    # timedelta (approximate: pydantic's duration grammar is loose): an ISO 8601 duration with a number, or
    # the `[-]D day[s], HH:MM:SS` family.
    "duration": "^[-+]?(P(?=[^0-9]*[0-9])[0-9YMWDTHS.,]+|[0-9][0-9a-zA-Z :.,]*)$",
}


def body_schema(body_type: Any) -> dict[str, Any]:
    """The draft-4 schema of a body parameter type (a model, dict or list)."""
    from pydantic import TypeAdapter

    schema = TypeAdapter(body_type).json_schema(mode="validation")
    return to_draft4(schema)


def to_draft4(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.get("$defs", {})
    out = _convert(schema, defs, ())
    out["$schema"] = "http://json-schema.org/draft-04/schema#"
    return dict(out)


def _convert(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_convert(n, defs, seen) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if seen.count(name) >= RECURSION_DEPTH:  # deep recursion: any value of the model's type below here
            kind = defs[name].get("type")
            return {"type": kind} if isinstance(kind, str) else {}
        merged = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
        return _convert(merged, defs, (*seen, name))
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP:
            continue
        if key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum", "minimum", "maximum", "propertyNames"):
            continue  # below, with what they depend on
        elif key == "prefixItems":  # a tuple: draft 4 says `items: [...]`, and `additionalItems` for the rest
            out["items"] = _convert(value, defs, seen)
            if "items" in node:
                out["additionalItems"] = _convert(node["items"], defs, seen)
        elif key == "items" and "prefixItems" in node:
            continue
        elif key in ("properties", "patternProperties"):
            out[key] = {k: _convert(v, defs, seen) for k, v in value.items()}
        else:
            out[key] = _convert(value, defs, seen)
    _bounds(node, out)
    if "format" in node and node["format"] in FORMAT_PATTERNS and out.get("type") == "string":
        _add_pattern(out, FORMAT_PATTERNS[node["format"]])
    if "propertyNames" in node:
        _property_names(_convert(node["propertyNames"], defs, seen), out)
    return out


def _bounds(node: dict[str, Any], out: dict[str, Any]) -> None:
    """2020-12 exclusive bounds are numbers; draft 4's are flags on minimum/maximum. Keep the stricter bound."""
    for low, exclusive, stricter in (("minimum", "exclusiveMinimum", max), ("maximum", "exclusiveMaximum", min)):
        inclusive = node.get(low)
        strict = node.get(exclusive)
        if isinstance(strict, bool):  # already draft-4 style
            strict = node.get(low) if strict else None
            inclusive = None if strict is not None else inclusive
        if strict is not None and (inclusive is None or stricter(strict, inclusive) == strict):
            out[low], out[exclusive] = strict, True
        elif inclusive is not None:
            out[low] = inclusive


def _add_pattern(out: dict[str, Any], pattern: str) -> None:
    if "pattern" not in out:
        out["pattern"] = pattern
    else:  # both must hold
        out.setdefault("allOf", []).append({"pattern": pattern})


def _property_names(names: dict[str, Any], out: dict[str, Any]) -> None:
    """Draft 4 has no `propertyNames`: list the allowed keys, or match them with `patternProperties`."""
    values = out.get("additionalProperties", {})
    if values is True:
        values = {}
    if isinstance(names.get("enum"), list) and all(isinstance(n, str) for n in names["enum"]):
        out["properties"] = {**{n: values for n in names["enum"]}, **out.get("properties", {})}
        out["additionalProperties"] = False
    elif isinstance(names.get("pattern"), str):
        out["patternProperties"] = {names["pattern"]: values}
        out["additionalProperties"] = False
