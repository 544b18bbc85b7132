"""The acceptance rule of a storage-first route: what the consumer would refuse, the gateway refuses; what the
consumer accepts, the gateway accepts.

Hypothesis draws request bodies for several models: valid ones built from the fields' types, and mutations
(out-of-range and fractional numbers, `1.0` for an int, wrong types, missing and extra fields, lone
surrogates, deep nesting, huge numbers, Unicode strings, other encodings). Each body, as raw bytes, goes to
the local gateway's validator (`lambdakit.local.validation.validator`: API Gateway's validator with the
template's draft-4 schema) and to the consumer's parser (`lambdakit.runtime.batch.parser`, the very function
a stored record goes through). The property is an equivalence, except for the cases listed in `EXCEPTIONS`,
where JSON Schema cannot say what pydantic does: there the gateway may only be stricter (a 400 for a body
the consumer would take), never laxer (a stored body the consumer refuses, retried into the DLQ).

Also here: every keyword of the schemas lambdakit emits is one API Gateway's validator applies.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import IntEnum, StrEnum
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, cast
from uuid import UUID

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import UUID4, AnyUrl, BaseModel, ConfigDict, Field, IPvAnyAddress, Json, SecretStr, StrictInt, conlist
from typing_extensions import TypedDict

from lambdakit.derive.jsonschema import INT_FLOAT_LIMIT, MAX_DEPTH, NO_LONE_SURROGATE, body_schema
from lambdakit.local.validation import INVALID_JSON, validator
from lambdakit.runtime.batch import parser

#: Where the gateway may refuse what the consumer accepts (never the reverse), and why.
EXCEPTIONS = {
    "coercion": "pydantic's lax mode turns other JSON types into the field's: numeric strings into numbers, "
    "bools into numbers and int literals, 0/1 into bools, numbers into datetimes/dates/times. The schema "
    "states the field's JSON type, as the API's contract (OpenAPI) does; a union of encodings would blur it.",
    "non-json": "NaN and Infinity are not JSON (RFC 8259): API Gateway's parser refuses them; pydantic takes "
    "them for a float.",
    "decimal-string": 'a Decimal sent as a string: no pattern can hold a string to a numeric bound ("-5" would '
    "pass `gt=0`), so a bounded Decimal is a JSON number only; one with digit limits is plain ASCII decimal "
    "notation (pydantic also takes exponents, Unicode digits, spaces and underscores).",
    "float-multiple-of": "pydantic checks a float's `multiple_of` within 1e-9 (0.30000000000000004 is a multiple "
    "of 0.1 to it, so is 5e-324 of 0.25); `multipleOf` is exact, as API Gateway evaluates it. And past the bound "
    "where pydantic starts refusing exact multiples (2**21 for 0.01), the schema refuses them all, 1e300 too.",
}

#: What the models below leave out, because no draft-4 schema can say it (the consumer fails such a record
#: into the DLQ, as `lambdakit.derive.jsonschema` documents) or because only the deployed gateway differs.
NOT_DRAWN = {
    "custom validators": "`field_validator`, `AfterValidator`...: code, not schema.",
    "transformations": "`strip_whitespace`, `to_lower`: pydantic checks lengths after transforming.",
    "deep recursion": "a recursive model is unrolled RECURSION_DEPTH times, then any object is accepted.",
    "dropped formats": "base64, networks and interfaces, `Json[...]` contents: any string passes the schema.",
    "non-string keys": "`dict[int, V]`: pydantic parses the keys, the schema cannot constrain them.",
    "open values on AWS": "a lone surrogate or 200+ nesting in an ignored field or `Any`: the local gateway "
    "refuses them (drawn here), the deployed schema cannot.",
    "Java regex classes": "on AWS `\\d`/`\\w` may be ASCII-only (stricter there); locally Python's are Unicode, "
    "as pydantic's are.",
    "17+ digit numbers on AWS": "a BigDecimal validator compares the digits as written, pydantic the nearest "
    "double: only stricter, inside the 1e-16 gap next to a bound (see the module's docstring).",
}

# -- the models --------------------------------------------------------------------------------------------


class Counts(BaseModel):
    positive: int = Field(gt=0)
    small: int = Field(ge=-5, lt=10)
    capped: int = Field(default=0, le=100)
    any_int: int = 0
    triple: int = Field(default=0, multiple_of=3)


class Measures(BaseModel):
    ratio: float = Field(gt=0.5, lt=2.5)
    unit: float = Field(ge=-1.0, le=1.0)
    free: float = 0.0
    quarter: float = Field(default=0.0, multiple_of=0.25)
    cents: float = Field(default=0.0, multiple_of=0.01)


class Texts(BaseModel):
    name: str = Field(min_length=2, max_length=5)
    code: str = Field(pattern=r"^[A-Z]{2}-[0-9]+$")
    digits: str = Field(default="000", pattern=r"^\d{3}$")
    free: str = ""


class Kind(StrEnum):
    retail = "retail"
    wholesale = "wholesale"


class Level(IntEnum):
    low = 1
    high = 2


class Choices(BaseModel):
    mode: Literal["fast", "slow"]
    kind: Kind
    level: Level = Level.low
    size: Literal[1, 2, 3] = 1
    flag: bool = False


class Inner(BaseModel):
    sku: str = Field(min_length=1)
    qty: int = Field(ge=1, le=99)


class Nested(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inner: Inner
    lines: list[Inner] = Field(min_length=1, max_length=3)
    spare: Inner | None = None
    note: str | None = Field(default=None, max_length=10)
    stock: dict[str, int] = Field(default_factory=dict, max_length=3)
    tags: list[str] = Field(default_factory=list, max_length=2)


class Times(BaseModel):
    at: datetime
    day: date
    id: UUID
    when: time | None = None


class Money(BaseModel):
    price: Decimal = Field(gt=0, max_digits=6, decimal_places=2)
    discount: Decimal = Field(default=Decimal(0), max_digits=4, decimal_places=2)


class StrictCounts(BaseModel):
    model_config = ConfigDict(strict=True)

    n: int = Field(ge=0)
    x: float = 0.0


# -- drawing bodies ----------------------------------------------------------------------------------------

#: A value drawn with the names of the exceptions it falls under (empty: the equivalence must hold).
Tagged = tuple[frozenset[str], Any]
#: The (valid, odd) values of a field, or bodies of a model.
Spec = tuple[st.SearchStrategy[Tagged], st.SearchStrategy[Tagged]]


@dataclass(frozen=True)
class Raw:
    """JSON text put into a body as is (`1e400`, `NaN`, `220580.0`, a thousand brackets)."""

    text: str


def ok(strategy: st.SearchStrategy[Any], *tags: str) -> st.SearchStrategy[Tagged]:
    return strategy.map(lambda v: (frozenset(tags), v))


def ints(low: int | None, high: int | None) -> Spec:
    """(valid, odd) values of an int field within the inclusive [low, high]."""
    inside = st.integers(low, high)
    valid = st.one_of(ok(inside), ok(inside.map(lambda i: Raw(f"{i}.0"))), ok(inside.map(lambda i: Raw(f"{i}e0"))))
    edges = [
        b
        for b in (
            None if low is None else low - 1,
            None if high is None else high + 1,
            10**19,
            -(10**19),
            2**63,
            10**40,
        )
        if b is not None and not (low is not None and high is not None and low <= b <= high)
    ]
    odd = st.one_of(
        ok(st.sampled_from(edges)),
        ok(st.sampled_from(edges).map(lambda i: Raw(f"{i}.0"))),
        ok(st.floats(allow_nan=False, allow_infinity=False)),  # fractional, huge, or 1.0-like
        ok(st.sampled_from([Raw("1e400"), Raw("-1e400"), Raw("9.223372036854775e18"), Raw("-9.223372036854776e18")])),
        ok(st.sampled_from([Raw("-0"), Raw("-0.0"), Raw("1E2"), Raw("1" * 4301), Raw("-" + "1" * 4300)])),
        ok(st.sampled_from([Raw("1" * 4300 + ".0"), Raw("1" * 4301 + ".0"), Raw("-" + "1" * 4300 + "e0")])),
        ok(st.sampled_from([None, [], {}, "x", ""])),
        ok(st.sampled_from(["5", " 5 ", "5.0", True, False]), "coercion"),
        ok(st.sampled_from([Raw("NaN"), Raw("Infinity"), Raw("-Infinity")]), "non-json"),
    )
    return valid, odd


def floats(low: float, high: float, *, exclusive: bool = False) -> Spec:
    inside = st.floats(low, high, exclude_min=exclusive, exclude_max=exclusive)
    valid = st.one_of(ok(inside), ok(st.integers(math.ceil(low), math.floor(high)).filter(lambda i: low < i < high)))
    near = [low, high, math.nextafter(low, -math.inf), math.nextafter(high, math.inf)]
    if exclusive:
        near += [math.nextafter(low, math.inf), math.nextafter(high, -math.inf)]
    odd = st.one_of(
        ok(st.sampled_from(near)),
        ok(st.floats(allow_nan=False, allow_infinity=False)),
        ok(st.sampled_from([Raw("1e400"), Raw("-1e400"), Raw("5e-324"), Raw("1e-400"), Raw(f"{low}0000000000000001")])),
        ok(st.sampled_from([Raw("1" * 4301 + ".5"), Raw("0." + "1" * 5000), Raw("1e99999999999")])),
        ok(st.sampled_from([None, [], "x"])),
        ok(st.sampled_from([str(high), True]), "coercion"),
        ok(st.sampled_from([Raw("NaN"), Raw("Infinity")]), "non-json"),
    )
    return valid, odd


def multiples(step: float) -> Spec:
    """A float field with `multiple_of=step`: exact multiples agree; arbitrary floats meet pydantic's tolerance."""
    exact = st.integers(-(10**6), 10**6).map(lambda k: float(Decimal(k) * Decimal(repr(step))))
    valid = ok(exact)
    odd = st.one_of(
        ok(exact.map(lambda v: v + step / 2)),
        ok(st.sampled_from([Raw("8.98846567431158e307"), Raw("1e308"), Raw("-1e308")])),
        ok(st.floats(allow_nan=False, allow_infinity=False), "float-multiple-of"),
        ok(st.sampled_from([Raw("1e300"), Raw("1e400"), Raw("-1e400")]), "float-multiple-of"),  # past the cap
        ok(st.integers(-(10**6), 10**6).map(lambda k: k * step), "float-multiple-of"),  # float drift: 3 * 0.1
    )
    return valid, odd


LONE = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "a\ud800b", "\udc00\ud800", "x\ud83d"])
UNICODE = st.text(st.characters(codec="utf-8"), max_size=8)  # no surrogates: every code point, astral ones too


def strings(valid: st.SearchStrategy[str], *, more: st.SearchStrategy[str] | None = None, time: bool = False) -> Spec:
    """(valid, odd) values of a string field; `time`: a datetime/date/time, which pydantic also takes as a number."""
    odd = st.one_of(
        ok(UNICODE),
        ok(valid.map(lambda s: s + "\n")),
        ok(st.tuples(valid, LONE).map(lambda p: p[0] + p[1])),
        ok(st.sampled_from([None, True, [], {}])),
        ok(st.sampled_from([5, 1.5, 1700000000]), *(["coercion"] if time else [])),
        *([ok(more)] if more is not None else []),
    )
    return ok(valid), odd


def choices(values: list[Any], others: list[Any], coerced: list[Any] | None = None) -> Spec:
    odd = [ok(st.sampled_from(others))] + ([ok(st.sampled_from(coerced), "coercion")] if coerced else [])
    return ok(st.sampled_from(values)), st.one_of(*odd)


def inner_model() -> Spec:
    return body_of({"sku": strings(st.text(min_size=1, max_size=4)), "qty": ints(1, 99)}, {"sku", "qty"})


def body_of(fields: dict[str, Spec], required: set[str]) -> Spec:
    """(valid, odd) bodies of a model: all fields valid, or one mutated, dropped, or an extra one added."""

    @st.composite
    def valid(draw: st.DrawFn) -> Tagged:
        tags: set[str] = set()
        body = {}
        for name, (good, _) in fields.items():
            if name in required or draw(st.booleans()):
                more, body[name] = draw(good)
                tags |= more
        return frozenset(tags), body

    @st.composite
    def odd(draw: st.DrawFn) -> Tagged:
        drawn, body = draw(valid())
        tags = set(drawn)
        how = draw(st.sampled_from(["field", "field", "field", "two", "missing", "extra", "not-an-object"]))
        if how in ("field", "two"):
            for name in draw(st.lists(st.sampled_from(list(fields)), min_size=1, max_size=2 if how == "two" else 1)):
                more, body[name] = draw(fields[name][1])
                tags |= more
        elif how == "missing" and required:
            body.pop(draw(st.sampled_from(sorted(required))), None)
        elif how == "extra":
            key = draw(st.one_of(st.just("extra"), UNICODE, LONE))
            body[key] = draw(EXTRA)
        elif how == "not-an-object":
            return frozenset(), draw(st.sampled_from([[], [body], "text", 3, None]))
        return frozenset(tags), body

    return valid(), odd()


#: Any JSON value for an extra field: scalars, containers, lone surrogates, nesting around pydantic's limit.
EXTRA = st.one_of(
    st.none(),
    st.integers(),
    UNICODE,
    LONE,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(UNICODE, st.integers(), max_size=2),
    st.sampled_from([MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1000]).flatmap(
        lambda d: st.sampled_from(
            [Raw("[" * d + "]" * d), Raw("[" * d + "1" + "]" * d), Raw('{"a":' * d + "{}" + "}" * d)]
        )
    ),
)

ISO_DATES = st.dates(min_value=date(1, 1, 1)).map(date.isoformat)
ISO_DATETIMES = st.datetimes(min_value=datetime(1, 1, 1)).flatmap(
    lambda d: st.sampled_from(
        [
            d.isoformat(),
            d.isoformat(sep=" "),
            d.isoformat(timespec="seconds") + "Z",
            d.isoformat(timespec="minutes") + "+01:00",
            d.isoformat(timespec="milliseconds") + "-0530",
        ]
    )
)
UUIDS = st.uuids().flatmap(lambda u: st.sampled_from([str(u), u.hex, str(u).upper(), f"{{{u}}}", f"urn:uuid:{u}"]))
DATEISH = st.sampled_from(
    ["2024-02-30", "2023-02-29", "2024-02-29", "2024-13-01", "2024-1-2", "02/01/2024", "2024-01-02T24:00:00", "x", ""]
)
TIMEISH = st.sampled_from(["25:00", "23:60", "03:04:05.123456789", "3:04", "03:04Z", "03:04+25:00", "noon"])

SPECS: dict[type[BaseModel], Any] = {
    Counts: body_of(
        {
            "positive": ints(1, None),
            "small": ints(-5, 9),
            "capped": ints(None, 100),
            "any_int": ints(None, None),
            "triple": (
                ok(st.integers(-(10**6), 10**6).map(lambda k: 3 * k)),
                st.one_of(ok(st.integers().filter(lambda i: i % 3)), ok(st.sampled_from([Raw("6.0"), Raw("7.0")]))),
            ),
        },
        {"positive", "small"},
    ),
    Measures: body_of(
        {
            "ratio": floats(0.5, 2.5, exclusive=True),
            "unit": floats(-1.0, 1.0),
            "free": (
                ok(st.floats(allow_nan=False, allow_infinity=False)),
                st.one_of(
                    ok(st.sampled_from([Raw("1e400"), Raw("-1e400"), None, "x"])),
                    ok(st.sampled_from([Raw("NaN"), Raw("Infinity")]), "non-json"),
                    ok(st.sampled_from(["1.5", True]), "coercion"),
                ),
            ),
            "quarter": multiples(0.25),
            "cents": multiples(0.01),
        },
        {"ratio", "unit"},
    ),
    Texts: body_of(
        {
            "name": strings(UNICODE.filter(lambda s: 2 <= len(s) <= 5), more=UNICODE.map(lambda s: s * 3)),
            "code": strings(st.from_regex(r"\A[A-Z]{2}-[0-9]+\Z"), more=st.sampled_from(["ab-1", "AB-\u0661", "AB-"])),
            "digits": strings(
                st.from_regex(r"\A\d{3}\Z"), more=st.sampled_from(["12", "1234", "\u0661\u0662\u0663", "12a"])
            ),
            "free": strings(UNICODE),
        },
        {"name", "code"},
    ),
    Choices: body_of(
        {
            "mode": choices(["fast", "slow"], ["Fast", "medium", "", 1, None]),
            "kind": choices(["retail", "wholesale"], ["Retail", "other", 0, None]),
            "level": choices([1, 2, Raw("1.0"), Raw("2e0")], [0, 3, 1.5, "low", None], ["1", True]),
            "size": choices([1, 2, 3, Raw("3.0")], [0, 4, 2.5, None, "x"], [True]),
            "flag": choices([True, False], [None, "x", 2, []], [1, 0, "true", "yes", Raw("1.0")]),
        },
        {"mode", "kind"},
    ),
    Nested: body_of(
        {
            "inner": inner_model(),
            "lines": (
                ok(st.lists(inner_model()[0].map(lambda t: t[1]), min_size=1, max_size=3)),
                st.one_of(
                    ok(st.lists(inner_model()[0].map(lambda t: t[1]), min_size=4, max_size=5)),
                    ok(st.just([])),
                    ok(st.lists(inner_model()[1].map(lambda t: t[1]), min_size=1, max_size=2)),
                ),
            ),
            "spare": (ok(st.one_of(st.none(), inner_model()[0].map(lambda t: t[1]))), inner_model()[1]),
            "note": strings(st.text(max_size=10)),
            "stock": (
                ok(st.dictionaries(UNICODE, st.integers(0, 9), max_size=3)),
                st.one_of(
                    ok(st.dictionaries(UNICODE, st.integers(0, 9), min_size=4, max_size=5)),
                    ok(st.dictionaries(LONE, st.integers(0, 9), min_size=1, max_size=1)),
                    ok(st.dictionaries(UNICODE, st.sampled_from(["x", 1.5, None, Raw("2.0")]), min_size=1, max_size=2)),
                ),
            ),
            "tags": (ok(st.lists(UNICODE, max_size=2)), ok(st.lists(st.one_of(UNICODE, LONE), min_size=1, max_size=3))),
        },
        {"inner", "lines"},
    ),
    Times: body_of(
        {
            "at": strings(ISO_DATETIMES, more=st.one_of(DATEISH, ISO_DATES), time=True),
            "day": strings(ISO_DATES, more=DATEISH, time=True),
            "id": strings(UUIDS, more=UUIDS.map(lambda u: u[:-1])),
            "when": (
                ok(st.one_of(st.none(), st.times().map(time.isoformat))),
                st.one_of(ok(TIMEISH), ok(st.integers(0, 86399), "coercion")),
            ),
        },
        {"at", "day", "id"},
    ),
    Money: body_of(
        {
            "price": (
                ok(st.integers(1, 999_999).map(lambda c: Raw(str(Decimal(c) / 100)))),
                st.one_of(
                    ok(st.sampled_from([Raw(s) for s in ["0", "-0.01", "1.234", "10000", "9999.995", "1e-3", "1e4"]])),
                    ok(st.decimals(allow_nan=False, allow_infinity=False, places=3).map(lambda d: Raw(str(d)))),
                    ok(st.sampled_from([Raw("1.0000000000000000001"), Raw("9999.990000000000000001"), Raw("1e-400")])),
                    ok(st.sampled_from(["1.5", "-5", "0", "9999.99"]), "decimal-string"),
                    ok(st.sampled_from([None, True, []])),
                ),
            ),
            "discount": (
                ok(st.integers(-9999, 9999).flatmap(lambda c: st.sampled_from([Raw(str(Decimal(c) / 100)), str(c)]))),
                st.one_of(
                    ok(st.sampled_from([Raw("100"), Raw("0.001"), "100", "0.001", "x", "", "-", "1e-3", " 1e5"])),
                    ok(st.sampled_from(["1e2", "\u0661", " 1.5", "1_0"]), "decimal-string"),
                    ok(st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: Raw(str(d)))),
                ),
            ),
        },
        {"price"},
    ),
    StrictCounts: body_of(
        {
            "n": (ok(st.integers(0, 10**6)), ok(st.sampled_from([-1, Raw("1.0"), Raw("2e0"), "1", True]))),
            "x": (ok(st.floats(allow_nan=False, allow_infinity=False)), ok(st.sampled_from(["1.5", None]))),
        },
        {"n"},
    ),
}


def encode(value: Any, *, ensure_ascii: bool = True) -> str:
    """The JSON text of a drawn value, `Raw` parts put in as they are."""
    raws: list[str] = []

    def placeholders(obj: Any) -> Any:
        if isinstance(obj, Raw):
            raws.append(obj.text)
            return f"@@raw{len(raws) - 1}@@"
        if isinstance(obj, dict):
            return {k: placeholders(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [placeholders(v) for v in obj]
        return obj

    text = json.dumps(placeholders(value), ensure_ascii=ensure_ascii)
    for i, raw in enumerate(raws):
        text = text.replace(f'"@@raw{i}@@"', raw)
    return text


@st.composite
def requests(draw: st.DrawFn, model: type[BaseModel]) -> tuple[frozenset[str], bytes]:
    """A raw request body for `model`: a drawn body, as JSON text in one of the ways clients send it."""
    valid, odd = SPECS[model]
    tags, body = draw(st.one_of(valid, odd, odd))
    text = encode(body)
    how = draw(st.sampled_from(["plain"] * 6 + ["unescaped", "spaced", "bom", "utf-16", "trailing", "empty"]))
    if how == "unescaped":  # non-ASCII as UTF-8, lone surrogates as the bytes of their (invalid) encoding
        raw = _unescaped(text).encode("utf-8", "surrogatepass")
    elif how == "spaced":
        raw = f" \n\t{text}\r\n ".encode()
    elif how == "bom":
        raw = b"\xef\xbb\xbf" + text.encode()
    elif how == "utf-16":
        raw = text.encode("utf-16")
    elif how == "trailing":
        raw = text.encode() + draw(st.sampled_from([b"x", b",", b"{}", b"\x00"]))
    elif how == "empty":
        raw = draw(st.sampled_from([b"", b"  ", b"\n"]))
    else:
        raw = text.encode()
    return tags, raw


def _unescaped(text: str) -> str:
    """The JSON text with its strings written out, not escaped; its numbers as they were (the text itself when
    Python's json cannot read it: a thousand brackets deep, or an integer of 4,301 digits)."""
    try:
        return encode(json.loads(text, parse_float=Raw, parse_int=Raw, parse_constant=Raw), ensure_ascii=False)
    except (ValueError, RecursionError):
        return text


# -- the property --------------------------------------------------------------------------------------------


def consumer_accepts(model: type[BaseModel], raw: bytes) -> bool:
    """What the consumer does with the stored record: SQS hands it the body as text, Kinesis as bytes."""
    parse = parser(model)
    try:
        parse(raw)
    except ValueError:  # pydantic's ValidationError
        return False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return True  # API Gateway would not have taken it: its body is text
    cast(Any, parse)(text)  # the same answer from an SQS record, whose body is text
    return True


PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("model", list(SPECS), ids=lambda m: m.__name__)
def test_the_gateway_accepts_exactly_what_the_consumer_accepts(model: type[BaseModel]) -> None:
    check = validator(model)

    @PROPERTY
    @given(requests(model))
    def agree(case: tuple[frozenset[str], bytes]) -> None:
        tags, raw = case
        gateway = check(raw) is None
        consumer = consumer_accepts(model, raw)
        if gateway:  # never store what the consumer refuses
            assert consumer, f"the gateway would store a body the consumer refuses: {raw[:300]!r}"
        elif not tags & set(EXCEPTIONS):
            assert not consumer, f"the gateway refuses a body the consumer accepts: {raw[:300]!r} ({check(raw)})"

    agree()


# -- the decisions, one by one -------------------------------------------------------------------------------


def test_lone_surrogates_are_refused_anywhere_and_pairs_pass() -> None:
    check = validator(Texts)
    good = {"name": "ab", "code": "AB-1"}
    assert check(json.dumps(good).encode()) is None
    assert check(json.dumps({**good, "free": "\U0001f600"}).encode()) is None  # a pair, escaped
    for bad in ({**good, "free": "\ud800"}, {**good, "ignored": "\udc00"}, {**good, "\ud800": 1}):
        assert check(json.dumps(bad).encode()) == INVALID_JSON
        assert not consumer_accepts(Texts, json.dumps(bad).encode())
    assert check(b'{"name": "ab", "code": "AB-1", "free": "\xed\xa0\x80"}') == INVALID_JSON  # encoded surrogate
    # In the deployed schema, every string that could hold one says no, whatever the regex engine's unit.
    schema = body_schema(Texts)
    assert schema["properties"]["free"]["pattern"] == NO_LONE_SURROGATE
    assert "allOf" not in schema["properties"]["code"]  # `^[A-Z]{2}-[0-9]+$` admits no surrogate itself
    for text, lone in (("a\ud800", True), ("\udc00b", True), ("\ud800\ud800\udc00", True), ("\U0001f600é", False)):
        assert (re.search(NO_LONE_SURROGATE, text) is None) is lone  # code points (Python, Java)
        assert (re.search(NO_LONE_SURROGATE, utf16_units(text)) is None) is lone  # code units (JavaScript)


def utf16_units(text: str) -> str:
    """`text` as a JavaScript string sees it: one character per UTF-16 code unit, a pair as two surrogates."""
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(data[i : i + 2], "little")) for i in range(0, len(data), 2))


def test_deep_nesting_is_a_400_not_an_exception() -> None:
    check = validator(Counts)
    for depth in (MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1000, 100_000):
        for nest in ("[" * depth + "1" + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
            raw = f'{{"positive": 1, "small": 0, "deep": {nest}}}'.encode()
            accepted = check(raw) is None
            assert accepted == consumer_accepts(Counts, raw) == (depth < MAX_DEPTH), depth
            if not accepted:
                assert check(raw) == INVALID_JSON
    assert check(b"[" * 100_000) == INVALID_JSON


def test_bounds_are_inclusive_and_integers_accept_whole_floats() -> None:
    counts = body_schema(Counts)["properties"]
    assert counts["positive"] == {
        "type": "number",
        "minimum": 1,
        "multipleOf": 1,
        "anyOf": [{"type": "integer"}, {"minimum": -INT_FLOAT_LIMIT, "maximum": INT_FLOAT_LIMIT}],
    }
    assert counts["small"] == {"type": "number", "minimum": -5, "maximum": 9, "multipleOf": 1}
    assert counts["triple"]["multipleOf"] == 3
    measures = body_schema(Measures)["properties"]
    assert measures["ratio"] == {"type": "number", "minimum": 0.5000000000000001, "maximum": 2.4999999999999996}
    assert measures["unit"] == {"type": "number", "minimum": -1.0, "maximum": 1.0}
    strict = body_schema(StrictCounts)["properties"]["n"]
    assert strict == {"type": "integer", "minimum": 0}  # strict mode refuses 1.0: so does the gateway
    check = validator(Counts)
    assert check(b'{"positive": 220580.0, "small": 0}') is None
    assert Counts.model_validate_json(b'{"positive": 220580.0, "small": 0}').positive == 220580
    assert check(b'{"positive": 0, "small": 0}') is not None
    assert check(b'{"positive": 0.5, "small": 0}') is not None
    assert check(b'{"positive": 1e19, "small": 0}') is not None  # pydantic: int_parsing_size
    assert check(b'{"positive": 10000000000000000000, "small": 0}') is None  # a JSON integer of any size
    assert validator(Measures)(b'{"ratio": 1, "unit": 0, "cents": 0.07}') is None  # exact, not 7.000000000000001


def test_decimals_and_float_steps_store_nothing_pydantic_refuses() -> None:
    money = validator(Money)
    for body in (b'{"price": "-5"}', b'{"price": 1, "discount": "100"}', b'{"price": 1.234}', b'{"price": 10000}'):
        assert not consumer_accepts(Money, body) and money(body) is not None, body
    assert money(b'{"price": 9999.99, "discount": "-0.50"}') is None
    measures = validator(Measures)
    big = b'{"ratio": 1, "unit": 0, "cents": 64504801550383410}'  # a multiple of 0.01 that pydantic refuses
    assert not consumer_accepts(Measures, big) and measures(big) is not None
    assert measures(b'{"ratio": 1, "unit": 0, "cents": 2097151.99}') is None


def test_pattern_end_anchors_do_not_match_before_a_final_newline() -> None:
    check = validator(Texts)
    raw = json.dumps({"name": "ab", "code": "AB-1\n"}).encode()
    assert not consumer_accepts(Texts, raw)
    assert check(raw) is not None


# -- keywords --------------------------------------------------------------------------------------------------

#: Draft-4 keywords API Gateway's validator applies, plus the two annotations lambdakit keeps. Left out on
#: purpose: exclusiveMinimum/exclusiveMaximum (ignored by API Gateway), format (not enforced), $ref/definitions/id
#: (API Gateway resolves references to other models only), and every 2019+ keyword.
API_GATEWAY_KEYWORDS = {
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


class Pair(NamedTuple):
    a: int
    b: str = "x"


class Shape(TypedDict):
    width: Annotated[float, Field(gt=0)]
    label: str


class Cat(BaseModel):
    pet: Literal["cat"]
    lives: int = Field(ge=0, le=9)


class Dog(BaseModel):
    pet: Literal["dog"]
    good: bool


class Node(BaseModel):
    name: str = Field(min_length=1, description="the node's name")
    children: list[Node] = []


@dataclass
class Point:
    x: int
    y: float = 0.0


class Everything(BaseModel):
    """Every kind of field lambdakit may meet in a body model."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(gt=0, lt=10**6, multiple_of=2)
    strict_count: StrictInt = 0
    ratio: float = Field(default=0.5, gt=0, le=1)
    price: Decimal = Field(default=Decimal(1), gt=0, max_digits=6, decimal_places=2)
    name: str = Field(default="n", min_length=1, max_length=9, pattern=r"^[a-z]+$")
    free: str = Field(default="", json_schema_extra={"examples": ["x"], "x-internal": True, "nullable": True})
    kind: Kind = Kind.retail
    level: Level = Level.low
    mode: Literal["a", "b"] = "a"
    mixed: Literal[1, "one", None] = None
    flag: Literal[True] = True
    maybe: int | None = None
    either: int | str = 0
    animal: Cat | Dog = Field(default_factory=lambda: Cat(pet="cat", lives=1), discriminator="pet")
    tree: Node | None = None
    lines: list[Inner] = Field(default_factory=list, min_length=0, max_length=5)
    bounded: conlist(int, min_length=1, max_length=3) = [1]  # type: ignore[valid-type]
    unique: Annotated[set[int], Field(min_length=2)] = {1, 2}
    frozen: frozenset[str] = frozenset()
    pair: Pair = Pair(1)
    rest: tuple[int, ...] = ()
    fixed: tuple[int, str, bool] = (1, "a", True)
    shape: Shape | None = None
    point: Point | None = None
    stock: dict[str, int] = Field(default_factory=dict, max_length=4)
    by_kind: dict[Literal["x", "y"], int] = {}
    by_code: dict[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], float] = {}
    loose: dict[str, Any] = {}
    anything: Any = None
    at: datetime = datetime(2024, 1, 1)
    day: date = date(2024, 1, 1)
    clock: time = time(0)
    span: timedelta = timedelta(0)
    id: UUID = UUID(int=0)
    id4: UUID4 | None = None
    ip4: IPv4Address | None = None
    ip6: IPv6Address | None = None
    ip: IPvAnyAddress | None = None
    url: AnyUrl | None = None
    path: Path | None = None
    secret: SecretStr | None = None
    data: bytes = b""
    embedded: Json[int] | None = None
    old: int = Field(default=0, deprecated=True, title="Old", examples=[1])


def schemas_of(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object inside a schema, by the keywords that hold schemas (not `enum`'s data)."""
    if not isinstance(node, dict):
        return
    yield node
    for key in ("properties", "patternProperties"):
        for sub in node.get(key, {}).values():
            yield from schemas_of(sub)
    for key in ("items", "additionalItems", "additionalProperties", "not"):
        sub = node.get(key)
        for one in sub if isinstance(sub, list) else [sub]:
            yield from schemas_of(one)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key, []):
            yield from schemas_of(sub)
    for sub in node.get("dependencies", {}).values():
        yield from schemas_of(sub)


KEYWORD_MODELS: list[Any] = [
    Everything,
    Money,
    Counts,
    Measures,
    Texts,
    Choices,
    Nested,
    Times,
    StrictCounts,
    Node,
    list[Inner],
    dict[str, Everything],
    Annotated[list[int], Field(min_length=1)],
]


@pytest.mark.parametrize("model", KEYWORD_MODELS, ids=str)
def test_every_keyword_is_one_api_gateway_applies(model: Any) -> None:
    schema = body_schema(model)
    jsonschema.Draft4Validator.check_schema(schema)
    for node in schemas_of(schema):
        unsupported = set(node) - API_GATEWAY_KEYWORDS
        assert not unsupported, f"{sorted(unsupported)} in {json.dumps(node)[:200]}"
        assert not ({"exclusiveMinimum", "exclusiveMaximum", "format", "$ref", "const"} & set(node))
        for pattern in [node.get("pattern"), *node.get("patternProperties", {})]:
            if pattern is not None:
                re.compile(pattern)
                assert pattern.isascii()  # the template stays ASCII: surrogates are written as escapes
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
