"""API Gateway's request validator for storage-first routes: the body against the route's draft-4 JSON schema.

The schema is the one the template gives API Gateway (`derive.jsonschema.body_schema`),
checked with jsonschema's `Draft4Validator`. Before the schema, the raw body is held
to what the consumer's parser (pydantic's `validate_json`) takes as JSON, so that
no body the consumer would refuse as invalid JSON is stored, and no body makes
this validator raise (a 500 where API Gateway answers 400):

- UTF-8 only: invalid UTF-8 (encoded surrogates included), a byte order mark, or
  UTF-16/32 (which `json.loads` would detect and take from bytes) is refused;
- no lone surrogate escape (`"\\ud800"`) anywhere, in keys and in fields the model
  ignores too: pydantic refuses the whole document;
- no value nested inside more than `MAX_DEPTH` (200) arrays/objects: pydantic's
  limit, checked by a scan before `json.loads` (which would recurse);
- no `NaN`/`Infinity` (not JSON; API Gateway's parser refuses them), no number
  whose integer part, sign included, is longer than 4,300 characters (pydantic's
  limit; Python's is 4,300 digits for an int).

Each of these answers "Invalid request body", as API Gateway does for a body that
is not JSON. Numbers are read as the doubles pydantic reads them as (for a Decimal
field too); `multipleOf` is then checked exactly on the double's shortest decimal,
not with jsonschema's float division, which refuses 0.07 for `multipleOf: 0.01`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

from lambdakit.derive.jsonschema import MAX_DEPTH

#: body bytes -> None when valid, else API Gateway's `validationErrorString` (a bracketed list).
Validator = Callable[[bytes], "str | None"]

INVALID_JSON = "Invalid request body"

#: The longest integer part of a number (sign included) pydantic's JSON parser reads; Python's int: 4,300 digits.
MAX_INT_CHARS = 4300

#: One JSON token: a string, a bracket, or a run of anything else (numbers, literals, separators, junk).
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[{]|[\]}]|[^\s"\[\]{},:]+')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def validator(body_type: Any, required: bool = True) -> Validator:
    import jsonschema

    from lambdakit.derive.jsonschema import body_schema

    draft4 = jsonschema.validators.extend(jsonschema.Draft4Validator, {"multipleOf": _multiple_of})
    checker = draft4(body_schema(body_type))

    def check(raw: bytes) -> str | None:
        if not raw.strip():
            return INVALID_JSON if required else None
        instance = parse(raw)
        if instance is _INVALID:
            return INVALID_JSON
        try:
            errors = sorted(checker.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
        except RecursionError:  # pragma: no cover - schemas are finite and bodies at most MAX_DEPTH deep
            return INVALID_JSON
        if not errors:
            return None
        return "[" + ", ".join(_where(e.absolute_path) + e.message for e in errors) + "]"

    return check


_INVALID: Any = object()


def parse(raw: bytes) -> Any:
    """The JSON value of a body, or `_INVALID` where pydantic's `validate_json` would refuse it as invalid JSON."""
    try:
        text = raw.decode("utf-8")  # strict: invalid UTF-8 and encoded surrogates raise
    except UnicodeDecodeError:
        return _INVALID
    if text.startswith("\ufeff") or too_deep(text):
        return _INVALID
    try:
        value = json.loads(text, parse_constant=_not_json, parse_int=_integer, parse_float=_float)
    except (ValueError, RecursionError):
        return _INVALID
    if _SURROGATE_ESCAPE.search(text) and any(_SURROGATE.search(s) for s in _strings(value)):
        return _INVALID  # json.loads joins a pair into one code point: what is left is a lone surrogate
    return value


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether a value of the JSON text sits inside more than `limit` arrays/objects (pydantic refuses it)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == "]" or token == "}":
            depth -= 1
            continue
        if depth > limit:  # a value (scalar or container) inside more than `limit` containers
            return True
        if token == "[" or token == "{":
            depth += 1
    return False


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from item.keys()
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _integer(literal: str) -> int:
    if len(literal) > MAX_INT_CHARS:
        raise ValueError("number out of range")
    return int(literal)


def _float(literal: str) -> float:
    """A float literal, its integer part held to the same length as an integer's (pydantic's parser)."""
    if len(literal) > MAX_INT_CHARS and len(re.split("[.eE]", literal, maxsplit=1)[0]) > MAX_INT_CHARS:
        raise ValueError("number out of range")
    return float(literal)


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """`multipleOf`, exactly, on the shortest decimal of the double a number reads as: what API Gateway's Java
    validator computes with BigDecimal (for numbers of up to 17 digits), and what pydantic's Decimal sees of a
    JSON number (`decimal_places`)."""
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "number") or not math.isfinite(instance):
        return  # 1e400 reads as inf: a float to pydantic, which takes it; bounds and types still apply
    quotient = Fraction(_decimal(instance)) / Fraction(_decimal(divisor))
    if quotient.denominator != 1:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


def _decimal(number: int | float) -> Decimal:
    return Decimal(number) if isinstance(number, int) else Decimal(repr(number))


def _where(path: Any) -> str:
    parts = [str(p) for p in path]
    return f"{'.'.join(parts)}: " if parts else ""
