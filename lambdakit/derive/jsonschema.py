"""Pydantic's JSON Schema (2020-12) rewritten as the draft-4 schema API Gateway validates with.

API Gateway models are draft 4 and cannot follow `#/$defs/...` references, so
definitions are inlined and the 2020-12 keywords are mapped to draft-4 ones.
For a storage-first route this schema is the only check before the body is
stored: it must refuse whatever the consumer's pydantic model refuses
(`model_validate_json`, lax mode), and should accept what it accepts
(`tests/test_acceptance_rule.py` checks both, with hypothesis). The rules:

Keywords. Only `SUPPORTED` ones are emitted: draft-4 keywords API Gateway
applies, plus `$schema` and `description`. API Gateway ignores
`exclusiveMinimum`/`exclusiveMaximum` (its known issues), so neither the
draft-4 flags nor the 2020-12 numbers are emitted; `format` is not enforced
by every draft-4 validator, so it becomes a `pattern` accepting what
pydantic parses (`FORMAT_PATTERNS`); `propertyNames`, `prefixItems`, `const`
and `$ref` are rewritten into draft-4 keywords; annotations and whatever a
`json_schema_extra` adds (`examples`, `x-...`) are dropped, as pydantic does
not enforce them either. `uniqueItems` is kept only for a set with
`min_length` above 1 (pydantic counts a set after merging duplicates).

Bounds are inclusive. For an integer `gt=0` is `minimum: 1` and `lt=10`
`maximum: 9`. For a float `gt=0.5` is `minimum: math.nextafter(0.5, inf)`,
the smallest double above 0.5, written as its shortest round-trip decimal
(`0.5000000000000001`). Pydantic compares doubles, so a validator reading
numbers as doubles answers the same; one reading them as BigDecimal (as the
fge json-schema-validator does, whose messages API Gateway's
`validationErrorString` carries) can only be stricter, for numbers written
with 17+ significant digits inside the 1e-16 gap: every decimal at or above
the written bound rounds to that double or above. A float with a
`multiple_of` is also bounded where pydantic's check (`round(x / step) *
step` within 1e-9 of x) still takes every exact multiple: 2**21 for 0.01,
where the quotient overflows for 0.25 (`_multiple_of_cap`).

Decimals. Pydantic's schema puts a Decimal's bounds on its number form only
and its digit limits on its string form only (and lets "100" through
`max_digits=4, decimal_places=2`): here `decimal_places` is an exact
`multipleOf` and `max_digits` a bound on the number, the string gets a
pattern of its own, and a bounded Decimal is a number only ("-5" would pass
any pattern for `gt=0`).

Integers accept `1.0`. Pydantic's lax mode takes `220580.0`, `1e3` and
`-0.0` for an `int`, and serializers that write every number as a double
send them; draft 4's `integer` excludes numbers with a fraction or exponent
part, so it would answer 400 to bodies the consumer takes. A lax `int` is
`type: number` with `multipleOf: 1` (exact, so 220580.5 is refused; API
Gateway's validator applies `multipleOf`). Pydantic makes an int of a float
only below 2**63 in magnitude, of a JSON integer of any size: unless the
bounds keep inside, an `anyOf` takes a JSON integer or a number within
+-(2**63 - 513) (what rounds to a double below 2**63). Int literals and
IntEnums, which pydantic also takes as 1.0, become `type: number` enums. A
strict int (`Field(strict=True)`, `StrictInt`, `strict=True` in the config)
refuses 1.0 and stays `type: integer`.

Lone surrogates. Pydantic refuses a document holding a lone surrogate escape
(`"\\ud800"`, or a low one alone) anywhere, even in a field it ignores, as
invalid JSON, and invalid UTF-8 (encoded surrogates included) the same way.
API Gateway's validator is Java, whose strings are UTF-16: the escape decodes
into a lone surrogate that only a `pattern` can refuse. Which engine runs
`pattern` is not documented (draft 4 prescribes ECMA 262: the fge validator
evaluates it with a JavaScript engine, on UTF-16 code units; java.util.regex
and Python's `re` work on code points), so `NO_LONE_SURROGATE` means the same
under both: a lookahead refusing a high surrogate not followed by a low one,
or a low one not preceded by a high one, written with `\\uXXXX` escapes that
ECMA 262, Java and Python all read (and the template stays ASCII). A pair is
one code point, or two matching code units: neither matches. It is not
written `^(a|b)*$`: java.util.regex recurses on every repetition of a group
and overflows its stack on long strings. Every string schema gets it, except
enums, the ASCII-only formats and anchored patterns of plain character
classes (`^[A-Z0-9-]+$`); a dict's keys get it through `patternProperties`.
Not verifiable offline: an engine matching UTF-8 bytes would see the Java
encoder's `?` instead. What the schema leaves open (a field the model
ignores, `Any`, the tail of a recursive model) can still carry one to the
queue; the local gateway (`lambdakit.local.validation`) refuses it anywhere,
before the schema, as the consumer does.

Depth. Pydantic's parser refuses a value inside more than `MAX_DEPTH` (200)
arrays/objects. For a model without open values the schema bounds the depth
already: every level must be one of the model's properties or items, so
nothing deeper than the model's own nesting (far under 200) passes. Open
values cannot be bounded in draft 4 without `$ref`: a depth-bounded "any
value" needs a copy of the level below under both `items` and
`additionalProperties`, doubling with every level. There the deployed
gateway can store a body the consumer fails into the DLQ (`extra="forbid"`
closes the gap for ignored fields); the local gateway answers 400.

Pattern anchors. Pydantic runs `pattern` with Rust's regex, whose `$` is the
end of the text; Python's and Java's `$` also match before a final newline,
which would let `"12345\\n"` through `^[0-9]{5}$`. Every `$` outside a
character class is written `(?![\\s\\S])`, the end of the input everywhere.

What JSON Schema cannot say (custom validators, whitespace stripping, lax
coercions such as "5" for an int or 1 for a bool, numeric datetimes,
pydantic's float `multiple_of` tolerance) is checked by the consumer, which
fails that record into the DLQ; `tests/test_acceptance_rule.py` lists these
exceptions, where the gateway may only be the stricter side.
"""

from __future__ import annotations

import functools
import math
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeGuard

#: The keywords this module emits, all of which API Gateway's draft-4 validator applies (or, for `$schema`
#: and `description`, reads as annotations). Not here: `exclusiveMinimum`/`exclusiveMaximum` (ignored by API
#: Gateway), `format` (not enforced), `$ref`/`definitions`/`id` (not followed inside a model).
SUPPORTED = frozenset(
    {
        "$schema",
        "description",
        "type",
        "enum",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "minimum",
        "maximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "items",
        "additionalItems",
        "minItems",
        "maxItems",
        "uniqueItems",
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "minProperties",
        "maxProperties",
        "dependencies",
    }
)

#: The marker `body_schema` puts on integer schemas pydantic validates in lax mode (consumed by `to_draft4`).
LAX_INT = "x-lambdakit-lax-int"

#: How many times a recursive model is unrolled before the schema accepts any object below.
RECURSION_DEPTH = 4

#: How deep pydantic's JSON parser nests: a value inside more arrays/objects than this is invalid JSON to it.
MAX_DEPTH = 200

#: Pydantic turns a float into an int only when its magnitude is below 2**63. The largest double below is
#: 2**63 - 1024; every decimal up to 2**63 - 513 rounds to it or lower, so this bound means the same to a
#: validator reading numbers as doubles and to one reading them as BigDecimal.
INT_FLOAT_LIMIT = 2**63 - 513

_HIGH, _LOW = "[\\ud800-\\udbff]", "[\\udc00-\\udfff]"
#: A string without a lone surrogate, under code-unit (ECMA 262) and code-point (Java, Python) semantics alike.
NO_LONE_SURROGATE = f"^(?![\\s\\S]*({_HIGH}(?!{_LOW})|(^|[^\\ud800-\\udbff]){_LOW}))"

_H = "[0-9a-fA-F]"
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


def _uuid(version: str = _H, variant: str = _H) -> str:
    """A UUID in every spelling pydantic parses; `version` is the class of its 13th hex digit, `variant` of its
    17th (pydantic's `UUID4` and the like take the RFC 4122 variant only)."""
    one = f"{_H}{{8}}-{_H}{{4}}-{version}{_H}{{3}}-{variant}{_H}{{3}}-{_H}{{12}}"
    return f"^({one}|\\{{{one}\\}}|urn:uuid:{one}|{_H}{{12}}{version}{_H}{{3}}{variant}{_H}{{15}})$"


#: `format` -> a pattern accepting what pydantic parses from a JSON string (ASCII classes: `\d` would be Unicode).
FORMAT_PATTERNS = {
    # datetime: ISO 8601 with a space or T, optional seconds, fraction and offset; or a Unix timestamp in
    # seconds or milliseconds (13 digits at most: pydantic refuses some longer ones).
    "date-time": f"^({_DATE}([Tt ]{_TIME}{_TZ}?)?|-?[0-9]{{1,13}}([.][0-9]+)?)$",
    # date: a date or a midnight date-time. Not a timestamp: pydantic takes midnight ones only, which no
    # pattern can tell apart, so the gateway refuses them all rather than store the others.
    "date": f"^{_DATE}([Tt ]00:00(:00([.,]0+)?)?{_TZ}?)?$",
    "time": f"^{_TIME}{_TZ}?$",
    "uuid": _uuid(),
    **{f"uuid{v}": _uuid(str(v), "[89abAB]") for v in range(1, 9)},  # UUID1 ... UUID8: the version is checked
    "ipv4": f"^{_IPV4}$",
    "ipv6": f"^({_IPV6})(%[^%]+)?$",  # a scope id: Python's ipaddress refuses one holding a `%`
    "ipvanyaddress": f"^({_IPV4}|({_IPV6})(%[^%]+)?)$",
    "uri": "^\\s*[A-Za-z][A-Za-z0-9+.-]*:.*[^\\s].*$",
    "email": "^[^\\s@]+@[^\\s@]+[.][^\\s@]+$",
    # timedelta (approximate: pydantic's duration grammar is loose): an ISO 8601 duration with a number, or
    # the `[-]D day[s], HH:MM:SS` family.
    "duration": "^[-+]?(P(?=[^0-9]*[0-9])[0-9YMWDTHS.,]+|[0-9][0-9a-zA-Z :.,]*)$",
}

#: Formats whose pattern admits ASCII only, so no lone surrogate either.
_ASCII_FORMATS = frozenset(FORMAT_PATTERNS) - {"ipv6", "ipvanyaddress", "uri", "email"}


def body_schema(body_type: Any) -> dict[str, Any]:
    """The draft-4 schema of a body parameter type (a model, dict or list)."""
    from pydantic import TypeAdapter

    schema = TypeAdapter(body_type).json_schema(mode="validation", schema_generator=_generator())
    return to_draft4(schema)


@functools.cache
def _generator() -> Any:
    """Pydantic's JSON Schema generator, marking the integer schemas that pydantic validates in lax mode."""
    from pydantic.json_schema import GenerateJsonSchema

    class Generator(GenerateJsonSchema):
        def _lax(self, schema: Any) -> bool:
            strict = schema.get("strict")
            return not (strict if strict is not None else self._config.strict)

        def _mark(self, schema: Any, json_schema: dict[str, Any]) -> dict[str, Any]:
            if json_schema.get("type") == "integer" and self._lax(schema):
                json_schema[LAX_INT] = True
            return json_schema

        def int_schema(self, schema: Any) -> Any:
            return self._mark(schema, super().int_schema(schema))

        def literal_schema(self, schema: Any) -> Any:
            return self._mark(schema, super().literal_schema(schema))

        def enum_schema(self, schema: Any) -> Any:
            # An enum is defined once in $defs: strictness is that of where it is first met.
            return self._mark(schema, super().enum_schema(schema))

        def decimal_schema(self, schema: Any) -> Any:
            json_schema = super().decimal_schema(schema)
            if self.mode != "validation" or len(json_schema.get("anyOf", ())) != 2:
                return json_schema
            return _decimal(schema, *json_schema["anyOf"])

    return Generator


def _decimal(schema: Any, number: dict[str, Any], text: dict[str, Any]) -> dict[str, Any]:
    """A Decimal is a JSON number or a string. Pydantic puts the bounds on the number only and the digits on the
    string only: give the number its digits (`decimal_places` is `multipleOf`, `max_digits` a bound), and drop
    the string where it has bounds (which no pattern can say: "-5" would pass `gt=0`)."""
    places, digits = schema.get("decimal_places"), schema.get("max_digits")
    more: list[dict[str, Any]] = []
    if "multipleOf" in number:  # checked exactly on a Decimal: not the float's tolerance (see _multiple_of_cap)
        number = dict(number)
        more.append({"multipleOf": number.pop("multipleOf")})
    if places is not None:
        more.append({"multipleOf": float(Decimal(10) ** -places)})
    if digits is not None:
        if places is None:  # digits in all, wherever the point: only whole numbers can be bounded
            more.append({"multipleOf": 1, "minimum": 1 - 10**digits, "maximum": 10**digits - 1})
        else:
            limit = float(Decimal(10) ** (digits - places) - Decimal(10) ** -places)
            more.append({"minimum": -limit, "maximum": limit})
    if more:
        number = {**number, "allOf": more}
        # pydantic's own string pattern lets "100" through `max_digits=4, decimal_places=2`: written here instead,
        # for plain decimal notation (an exponent or Unicode digits are refused, though pydantic takes them)
        text = {**text, "pattern": _decimal_pattern(digits, places)}
    if any(schema.get(k) is not None for k in ("gt", "ge", "lt", "le", "multiple_of")):
        return number
    return {"anyOf": [number, text]}


def _decimal_pattern(digits: int | None, places: int | None) -> str:
    """Decimal strings with at most `digits` digits in all, `places` after the point (zeros at either end free)."""
    after = "0*" if places == 0 else f"[0-9]{{0,{places}}}0*"  # the digits after a point
    bare = "[.]0+" if places == 0 else f"[.][0-9]{{1,{places}}}0*"  # a point with no digit before it
    if digits is None:
        forms = [f"[0-9]+([.]{after})?", bare]
    elif places is None:
        forms = [f"0*[0-9]{{1,{digits}}}"]  # whole numbers only: digits around a point are not counted here
    elif digits > places:
        forms = [f"0*[0-9]{{1,{digits - places}}}([.]{after})?", f"0*{bare}"]
    else:  # no whole digits: 0.12 and .5, not 0
        forms = [f"0*{bare}"]
    return f"^[+-]?({'|'.join(forms)})$"


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
        if key == "const":
            out["enum"] = [value]
        elif key == "prefixItems":  # a tuple: draft 4 says `items: [...]`, and `additionalItems` for the rest
            out["items"] = _convert(value, defs, seen)
            if "items" in node:
                out["additionalItems"] = _convert(node["items"], defs, seen)
        elif key in ("minimum", "maximum", "multipleOf", "pattern", "uniqueItems", "$schema") or key not in SUPPORTED:
            continue  # below, with what they depend on; or not something API Gateway applies
        elif key == "items" and "prefixItems" in node:
            continue
        elif key in ("properties", "patternProperties", "dependencies"):  # names -> schemas
            out[key] = {k: _convert(v, defs, seen) for k, v in value.items()}
        elif key in ("enum", "required", "type", "description"):  # data, not schemas
            out[key] = value
        else:
            out[key] = _convert(value, defs, seen)
    _numbers(node, out)
    if isinstance(node.get("pattern"), str):
        _add_pattern(out, node["pattern"])
    if node.get("format") in FORMAT_PATTERNS and out.get("type") == "string":
        _add_pattern(out, FORMAT_PATTERNS[node["format"]])
    if (
        out.get("type") == "string"
        and "enum" not in out
        and node.get("format") not in _ASCII_FORMATS
        and not _no_surrogate_matches(node.get("pattern"))
    ):
        _add_pattern(out, NO_LONE_SURROGATE)
    if node.get("uniqueItems") is True and node.get("minItems", 0) > 1:
        # A set: pydantic merges duplicates, then counts. Refusing duplicates refuses some bodies it takes,
        # but without it ["a", "a"] would pass `minItems: 2` and fail the consumer.
        out["uniqueItems"] = True
    if "propertyNames" in node:
        _property_names(_convert(node["propertyNames"], defs, seen), out)
    elif out.get("type") == "object" and "properties" not in out and "additionalProperties" in out:
        _property_names({"pattern": NO_LONE_SURROGATE}, out)  # a dict: its keys are strings too
    return out


def _numbers(node: dict[str, Any], out: dict[str, Any]) -> None:
    """Inclusive bounds only, integers that accept 1.0 (see the module's docstring)."""
    integral = node.get("type") == "integer"
    low = _bound(node, "minimum", "exclusiveMinimum", integral, up=True)
    high = _bound(node, "maximum", "exclusiveMaximum", integral, up=False)
    multiple = node.get("multipleOf")
    if _is_number(multiple):
        out["multipleOf"] = multiple
        cap = _multiple_of_cap(multiple) if node.get("type") == "number" else None
        if cap is not None:
            low = -cap if low is None else max(low, -cap)
            high = cap if high is None else min(high, cap)
    if low is not None:
        out["minimum"] = low
    if high is not None:
        out["maximum"] = high
    if not (integral and node.get(LAX_INT)):
        return
    out["type"] = "number"
    if "enum" in out:  # 1.0 equals 1 for `enum`
        return
    if not isinstance(multiple, int):
        if "multipleOf" in out:
            out.setdefault("allOf", []).append({"multipleOf": 1})
        else:
            out["multipleOf"] = 1
    if not (low is not None and high is not None and low >= -INT_FLOAT_LIMIT and high <= INT_FLOAT_LIMIT):
        # a JSON integer of any size, or a float pydantic can make an int of
        out["anyOf"] = [{"type": "integer"}, {"minimum": -INT_FLOAT_LIMIT, "maximum": INT_FLOAT_LIMIT}]


def _bound(node: dict[str, Any], inclusive: str, exclusive: str, integral: bool, up: bool) -> Any:
    """The stricter of a node's inclusive and exclusive bound on one side, as an inclusive bound."""
    candidates: list[Any] = []
    given = node.get(inclusive)
    strict = node.get(exclusive)
    if isinstance(strict, bool):  # draft-4 style: the flag makes `minimum`/`maximum` exclusive
        strict, given = (given, None) if strict else (None, given)
    if _is_number(given):
        candidates.append((math.ceil(given) if up else math.floor(given)) if integral else given)
    if _is_number(strict):
        if integral:
            candidates.append(math.floor(strict) + 1 if up else math.ceil(strict) - 1)
        else:  # pydantic compares doubles: the next double past the bound is the first one it accepts
            candidates.append(math.nextafter(float(strict), math.inf if up else -math.inf))
    if not candidates:
        return None
    return max(candidates) if up else min(candidates)


def _multiple_of_cap(step: float) -> float | None:
    """How large a float can be for pydantic's `multiple_of` to take every exact multiple of `step`.

    Pydantic (float) takes `x` when `abs(round(x / step) * step - x) < 1e-9` (measured: it refuses some exact
    multiples of 0.01 from about 1e6 up). For a power of two that holds until `x / step` overflows; for
    another step exact in binary (3.0, 0.75: an odd number times a power of two) while the multiples are exact
    doubles (odd factor times quotient below 2**53). For a step no double equals (0.01), the product drifts
    by up to about `abs(x) * 3.4e-16`, within 1e-9 up to 2**21 (and the quotient keeps its unit below 2**50).
    Past the cap the gateway refuses, rather than store a multiple pydantic may refuse."""
    if not 0 < step < math.inf:
        return None
    numerator, denominator = step.as_integer_ratio()
    if Decimal(step) != Decimal(repr(step)):  # not the decimal it is written as
        return float(min(2**21, 2**50 * step))
    odd = numerator
    while odd % 2 == 0:
        odd //= 2
    if odd == 1:  # a power of two: exact until the quotient overflows
        return _largest_divisible(step) if step < 1 else None
    return float(2**53 * (Fraction(numerator, odd) / denominator))


def _largest_divisible(step: float) -> float:
    """The largest double `x` for which `x / step` is finite (for a step below 1)."""
    cap = sys.float_info.max * step
    while math.isinf(cap / step):
        cap = math.nextafter(cap, 0)
    while not math.isinf(math.nextafter(cap, math.inf) / step):
        cap = math.nextafter(cap, math.inf)
    return cap


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _no_surrogate_matches(pattern: Any) -> bool:
    """Whether a pattern matches whole strings of listed characters only, none a surrogate: anchored at both
    ends, no alternation, no `.`, negated class or escape that could stand for a surrogate."""
    if not isinstance(pattern, str) or not pattern.isascii() or "|" in pattern:
        return False
    if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
        return False
    return not any(token in pattern for token in (".", "[^", "\\S", "\\W", "\\D", "\\p", "\\P", "\\u", "\\x"))


def _add_pattern(out: dict[str, Any], pattern: str) -> None:
    pattern = end_anchors(pattern)
    if "pattern" not in out:
        out["pattern"] = pattern
    else:  # both must hold
        out.setdefault("allOf", []).append({"pattern": pattern})


def end_anchors(pattern: str) -> str:
    """`$` as the end of the text, as pydantic's (Rust) regex reads it, for engines where it also matches
    before a final newline (Python's `re`, java.util.regex)."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":  # a `]` first in a class is a literal one
                out.append("]")
                i += 1
            continue
        elif char == "$":
            out.append("(?![\\s\\S])")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


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
