"""Bad bodies are refused before storage: the draft-4 schema the gateway validates with rejects what the
consumer's pydantic model rejects (the schema accepting such a body would store poison).

Each sample is validated by `jsonschema.Draft4Validator` and by pydantic. Where pydantic refuses, the
schema must refuse; valid samples must pass both (a schema refusing everything would be useless).
The schema may be stricter than pydantic's lax coercions (`"5"` for an int), which only refuses requests
a client should not send.
"""

from __future__ import annotations

import copy
import json
import random
from datetime import date, datetime, time
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Literal
from uuid import UUID

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from example_app.catalog.models import NewProduct
from example_app.shop.models import Click, NewOrder
from lambdakit.derive.jsonschema import body_schema


class Kind(StrEnum):
    retail = "retail"
    wholesale = "wholesale"


class Address(BaseModel):
    street: str = Field(min_length=1)
    zip: str = Field(pattern=r"^[0-9]{5}$")


class Line(BaseModel):
    sku: str
    qty: int = Field(ge=1, le=99)
    price: float = Field(gt=0, multiple_of=0.5)


class Rich(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UUID
    at: datetime
    day: date
    kind: Kind
    mode: Literal["fast", "slow"] = "fast"
    lines: list[Line] = Field(min_length=1, max_length=3)
    address: Address | None = None
    tags: set[str] = set()
    scores: dict[Literal["x", "y"], int] = {}
    pair: tuple[int, str] | None = None
    ip: IPv4Address | None = None
    note: str | None = Field(default=None, max_length=10)
    level: int = Field(default=0, gt=-1, ge=0)


class Cat(BaseModel):
    pet: Literal["cat"]
    lives: int = Field(ge=0, le=9)


class Dog(BaseModel):
    pet: Literal["dog"]
    good: bool


class Owner(BaseModel):
    animal: Cat | Dog = Field(discriminator="pet")
    since: time | None = None
    home: IPv6Address | None = None


class Node(BaseModel):
    name: str = Field(min_length=1)
    children: list[Node] = []


class Row(BaseModel):
    row: tuple[int, str, bool]
    rest: tuple[int, ...] = ()
    codes: dict[str, int] = Field(default={}, max_length=2)


RICH_OK: dict[str, Any] = {
    "id": "12345678-1234-1234-1234-123456789012",
    "at": "2024-01-02T03:04:05Z",
    "day": "2024-01-02",
    "kind": "retail",
    "lines": [{"sku": "a", "qty": 2, "price": 1.5}],
    "address": {"street": "Main", "zip": "12345"},
    "tags": ["a", "a"],
    "scores": {"x": 1},
    "pair": [1, "b"],
    "ip": "10.0.0.1",
    "note": "hi",
    "level": 0,
}

CASES: list[tuple[Any, list[Any], list[Any]]] = [
    (
        NewOrder,
        [{"sku": "a", "qty": 1}, {"sku": "x" * 40, "qty": 1000, "customer_id": "c"}],
        [
            {"sku": "", "qty": 1},
            {"sku": "a", "qty": 0},
            {"sku": "a", "qty": 1001},
            {"qty": 1},
            {"sku": "a"},
            {"sku": 5, "qty": 1},
            {"sku": "a", "qty": 1.5},
            {"sku": "a", "qty": 1, "customer_id": ""},
            {"sku": "a", "qty": None},
            [],
            "text",
            None,
            3,
        ],
    ),
    (
        Click,
        [{"customer_id": "c", "page": "/"}],
        [{"customer_id": "", "page": "/"}, {"customer_id": "c"}, {"customer_id": "c", "page": "x" * 501}],
    ),
    (
        NewProduct,
        [{"sku": "AB-1", "name": "n", "price_cents": 0}],
        [{"sku": "ab", "name": "n", "price_cents": 0}, {"sku": "AB", "name": "n", "price_cents": -1}],
    ),
    (
        Rich,
        [
            RICH_OK,
            {k: v for k, v in RICH_OK.items() if k in ("id", "at", "day", "kind", "lines")},
            {
                **RICH_OK,
                "at": "2024-01-02 03:04",
                "day": "2024-01-02T00:00:00",
                "id": "12345678123412341234123456789012",
            },
            {**RICH_OK, "at": "1700000000", "pair": None, "address": None},
        ],
        [
            {**RICH_OK, "id": "not-a-uuid"},
            {**RICH_OK, "id": "12345678-1234-1234-1234-12345678901"},
            {**RICH_OK, "at": "yesterday"},
            {**RICH_OK, "at": "2024-13-02T00:00:00"},
            {**RICH_OK, "at": "2024-01-02T25:00"},
            {**RICH_OK, "day": "2024-1-2"},
            {**RICH_OK, "day": "02/01/2024"},
            {**RICH_OK, "kind": "other"},
            {**RICH_OK, "mode": "medium"},
            {**RICH_OK, "lines": []},
            {**RICH_OK, "lines": RICH_OK["lines"] * 4},
            {**RICH_OK, "lines": [{"sku": "a", "qty": 0, "price": 1.5}]},
            {**RICH_OK, "lines": [{"sku": "a", "qty": 1, "price": 0}]},
            {**RICH_OK, "lines": [{"sku": "a", "qty": 1, "price": 0.7}]},
            {**RICH_OK, "address": {"street": "Main", "zip": "1234"}},
            {**RICH_OK, "address": {"zip": "12345"}},
            {**RICH_OK, "scores": {"z": 1}},
            {**RICH_OK, "scores": {"x": "one"}},
            {**RICH_OK, "pair": [1]},
            {**RICH_OK, "pair": [1, "b", 3]},
            {**RICH_OK, "pair": ["b", 1]},
            {**RICH_OK, "ip": "256.0.0.1"},
            {**RICH_OK, "ip": "1.2.3"},
            {**RICH_OK, "note": "x" * 11},
            {**RICH_OK, "level": -1},
            {**RICH_OK, "surprise": 1},
            {**RICH_OK, "tags": [1]},
        ],
    ),
    (
        Owner,
        [
            {"animal": {"pet": "cat", "lives": 9}},
            {"animal": {"pet": "dog", "good": True}, "since": "03:04", "home": "fe80::1"},
        ],
        [
            {"animal": {"pet": "cat", "lives": 10}},
            {"animal": {"pet": "dog", "lives": 1}},
            {"animal": {"pet": "cow"}},
            {"animal": {"pet": "cat", "lives": 1}, "since": "25:00"},
            {"animal": {"pet": "dog", "good": True}, "home": "1:2:3:4:5:6:7:8:9"},
        ],
    ),
    (
        Node,
        [{"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}],
        [
            {"name": ""},
            {"name": "a", "children": [{"name": ""}]},
            {"name": "a", "children": [{"name": "b", "children": [{"name": "c", "children": [{"name": ""}]}]}]},
            {"name": "a", "children": [{"children": []}]},
        ],
    ),
    (
        Row,
        [{"row": [1, "a", True]}, {"row": [1, "a", False], "rest": [1, 2], "codes": {"a": 1, "b": 2}}],
        [
            {"row": []},
            {"row": [1, "a"]},
            {"row": [1, "a", True, 4]},
            {"row": ["a", "a", True]},
            {"row": [1, "a", True], "rest": ["x"]},
            {"row": [1, "a", True], "codes": {"a": 1, "b": 2, "c": 3}},
        ],
    ),
]


def pydantic_accepts(tp: Any, sample: Any) -> bool:
    try:
        TypeAdapter(tp).validate_json(json.dumps(sample))
    except ValidationError:
        return False
    return True


def mutations(sample: Any, rng: random.Random, depth: int = 0) -> list[Any]:
    """Wrong types, missing and extra keys, emptied and overfilled lists, at every level of a valid sample."""
    odd: list[Any] = [
        None,
        "",
        "x",
        "2024-02-30",
        0,
        -1,
        1.5,
        10**9,
        True,
        [],
        {},
        ["x"],
        "00000000-0000-0000-0000-000000000000",
    ]
    out: list[Any] = []
    if isinstance(sample, dict):
        out.append({**sample, "unexpected": 1})
        for key, value in sample.items():
            out.append({k: v for k, v in sample.items() if k != key})
            out += [{**sample, key: v} for v in odd]
            out += [{**sample, key: m} for m in mutations(value, rng, depth + 1)]
    elif isinstance(sample, list):
        out += [[], sample * 4, [*sample, None]]
        for i, value in enumerate(sample):
            for m in mutations(value, rng, depth + 1):
                changed = copy.copy(sample)
                changed[i] = m
                out.append(changed)
    elif isinstance(sample, str):
        out += [sample + " ", sample[:-1], sample.upper(), sample * 3]
    return out if depth < 3 else rng.sample(out, min(len(out), 12))


@pytest.mark.parametrize(("model", "valid", "invalid"), CASES, ids=[c[0].__name__ for c in CASES])
def test_the_gateway_schema_refuses_what_pydantic_refuses(model: Any, valid: list[Any], invalid: list[Any]) -> None:
    validator = jsonschema.Draft4Validator(body_schema(model))
    jsonschema.Draft4Validator.check_schema(validator.schema)
    for sample in valid:
        assert pydantic_accepts(model, sample), sample
        assert validator.is_valid(sample), f"the gateway would refuse a valid body: {sample}"
    for sample in invalid:
        assert not pydantic_accepts(model, sample), sample
        assert not validator.is_valid(sample), f"the gateway would store a body the consumer refuses: {sample}"


@pytest.mark.parametrize(("model", "valid", "invalid"), CASES, ids=[c[0].__name__ for c in CASES])
def test_mutated_bodies_never_pass_the_gateway_when_pydantic_refuses_them(
    model: Any, valid: list[Any], invalid: list[Any]
) -> None:
    validator = jsonschema.Draft4Validator(body_schema(model))
    rng = random.Random(7)
    samples = [m for v in valid for m in mutations(v, rng)]
    poison = [s for s in samples if not pydantic_accepts(model, s) and validator.is_valid(s)]
    stricter = [s for s in samples if pydantic_accepts(model, s) and not validator.is_valid(s)]
    print(
        f"\n[{model.__name__}] samples={len(samples)} schema_would_store_poison={len(poison)} "
        f"schema_stricter_than_pydantic={len(stricter)}"
    )
    assert poison == []


FORMATS: list[tuple[Any, list[str]]] = [
    (
        datetime,
        [
            "2024-01-02T03:04:05",
            "2024-01-02 03:04:05.123+01:00",
            "2024-01-02",
            "1700000000",
            "1900-02-28",
            "2024-01-02T03:04Z",
            "2024-01-02t03:04:05,5-0130",
        ],
    ),
    (date, ["2024-01-02", "2024-02-29", "2000-02-29", "2023-04-30", "2024-01-02T00:00:00Z", "2024-01-02 00:00"]),
    (time, ["03:04:05", "03:04", "03:04:05.123+01:00", "23:59:59Z"]),
    (
        UUID,
        [
            "12345678-1234-1234-1234-123456789012",
            "12345678123412341234123456789012",
            "{12345678-1234-1234-1234-123456789012}",
            "urn:uuid:12345678-1234-1234-1234-123456789012",
        ],
    ),
    (IPv4Address, ["1.2.3.4", "255.255.255.0", "10.0.0.1"]),
    (IPv6Address, ["::1", "1:2:3:4:5:6:7:8", "fe80::1%eth0", "::ffff:1.2.3.4", "1::2:3", "1:2:3:4:5:6:1.2.3.4"]),
]


def edits(text: str, rng: random.Random, count: int) -> set[str]:
    chars = "01234567899-:T Zz+.,{}urnid abcdefg%x"
    out = set()
    for _ in range(count):
        s = list(text)
        for _ in range(rng.choice((1, 1, 2))):
            i = rng.randrange(len(s) + 1)
            roll = rng.random()
            if roll < 0.4 and s:
                s[min(i, len(s) - 1)] = rng.choice(chars)
            elif roll < 0.7:
                s.insert(i, rng.choice(chars))
            elif s:
                del s[min(i, len(s) - 1)]
        out.add("".join(s))
    return out


@pytest.mark.parametrize(("tp", "valid"), FORMATS, ids=[f[0].__name__ for f in FORMATS])
def test_format_patterns_refuse_what_pydantic_cannot_parse(tp: Any, valid: list[str]) -> None:
    """`format` is not something every draft-4 validator enforces: lambdakit writes it as a pattern."""
    schema = body_schema(tp)
    assert "pattern" in schema and "format" not in schema
    validator = jsonschema.Draft4Validator(schema)
    rng = random.Random(13)
    samples = set(valid) | {e for v in valid for e in edits(v, rng, 120)}
    for sample in valid:
        assert validator.is_valid(sample), sample
    poison = sorted(s for s in samples if not pydantic_accepts(tp, s) and validator.is_valid(s))
    assert poison == []


def test_json_schema_keywords_draft_4_lacks_are_rewritten() -> None:
    schema = json.dumps(body_schema(Rich)) + json.dumps(body_schema(Row))
    for keyword in ("propertyNames", "prefixItems", "$defs", "$ref", '"const"', '"format"', "uniqueItems"):
        assert keyword not in schema
