"""Path and query parameters as FastAPI users expect: constraints, Literal, Enum, dates, UUIDs, lists; every bad
one reported at once; and each return annotation held to its body by the local gateway and the test client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdakit.discovery import BuildError, discover
from lambdakit.testing.client import Client
from lambdakit.testing.events import LambdaContext, rest_event
from tests.apps import write_package

APP = '''
"""Typed parameters."""
import datetime
import enum
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

import lambdakit as lk

service = lk.Service("typed")


class Color(enum.Enum):
    red = "red"
    blue = "blue"


class Level(enum.IntEnum):
    low = 1
    high = 2


class Item(BaseModel):
    n: int
    label: str = ""


@lk.route("GET", "/items/{item_id}")
def get_item(
    item_id: Annotated[int, Field(ge=1)],
    color: Color = Color.red,
    level: Level | None = None,
    kind: Literal["a", "b"] = "a",
    size: Literal[1, 2, 3] = 1,
    on: datetime.date | None = None,
    at: datetime.datetime | None = None,
    ref: uuid.UUID | None = None,
    q: Annotated[str, Field(min_length=2, max_length=5)] | None = None,
    tags: list[int] | None = None,
    ratio: float = 0.5,
    flag: bool = False,
) -> dict[str, Any]:
    return {
        "item_id": item_id, "color": color.value, "level": level, "kind": kind, "size": size,
        "on": on, "at": at, "ref": str(ref) if ref else None, "q": q, "tags": tags, "ratio": ratio, "flag": flag,
    }


@lk.route("GET", "/need")
def need(n: int, name: str) -> dict[str, Any]:
    return {"n": n, "name": name}


@lk.route("GET", "/wrong/{k}")
def wrong(k: str) -> Item:
    if k == "type":
        return {"n": "not an int"}  # type: ignore[return-value]
    if k == "missing":
        return {"label": "x"}  # type: ignore[return-value]
    if k == "none":
        return None  # type: ignore[return-value]
    return Item(n=1)


@lk.route("GET", "/many")
def many() -> list[Item]:
    return [{"n": 1}, {"n": "two"}]  # type: ignore[list-item]


@lk.route("DELETE", "/gone")
def gone() -> None:
    return {"surprise": True}  # type: ignore[return-value]


@lk.route("GET", "/free")
def free() -> lk.Response:
    return lk.Response({"anything": "goes"})
'''


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_package(tmp_path_factory.mktemp("typed"), {"__init__.py": APP})


@pytest.fixture(scope="module")
def client(package: str) -> Iterator[Client]:
    with Client(package) as c:
        yield c


def details(body: Any) -> list[tuple[str, ...]]:
    return [tuple(str(part) for part in d["loc"]) for d in body["error"]["details"]]


def test_good_values_arrive_typed(client: Client) -> None:
    r = client.get(
        "/items/7?color=blue&level=2&kind=b&size=3&on=2026-02-28&at=2026-12-01T10:00:00Z"
        "&ref=12345678-1234-5678-1234-567812345678&q=abc&tags=1&tags=2&ratio=1.5&flag=true"
    )
    assert r.status == 200, r
    assert r.json == {
        "item_id": 7,
        "color": "blue",
        "level": 2,
        "kind": "b",
        "size": 3,
        "on": "2026-02-28",
        "at": "2026-12-01T10:00:00+00:00",
        "ref": "12345678-1234-5678-1234-567812345678",
        "q": "abc",
        "tags": [1, 2],
        "ratio": 1.5,
        "flag": True,
    }


def test_defaults_apply_when_absent(client: Client) -> None:
    r = client.get("/items/1")
    assert r.status == 200 and r.json["color"] == "red" and r.json["level"] is None and r.json["size"] == 1


def test_every_bad_parameter_is_reported_at_once(client: Client) -> None:
    r = client.get("/items/0?color=green&level=5&kind=c&size=4&on=2026-02-30&q=a&tags=1&tags=x&flag=maybe")
    assert r.status == 422 and r.json["error"]["code"] == "validation_error"
    assert set(details(r.json)) == {
        ("path", "item_id"),
        ("query", "color"),
        ("query", "level"),
        ("query", "kind"),
        ("query", "size"),
        ("query", "on"),
        ("query", "q"),
        ("query", "tags", "1"),
        ("query", "flag"),
    }
    assert "path parameter item_id" in r.json["error"]["message"]
    assert "query parameter color" in r.json["error"]["message"]
    assert r.json["request_id"]


@pytest.mark.parametrize(
    "query",
    [
        "ratio=nan",
        "ratio=inf",
        "q=toolong",
        "on=0",  # pydantic alone reads a number as a Unix timestamp; the document says ISO 8601
        "at=1700000000",
        "ref=not-a-uuid",
        "size=1.5",
    ],
)
def test_values_the_document_refuses_are_refused(client: Client, query: str) -> None:
    r = client.get(f"/items/1?{query}")
    assert r.status == 422, r
    assert details(r.json)[0][:2] == ("query", query.split("=")[0])


@pytest.mark.parametrize("digit", ["%D9%A3", "%EF%BC%93", "%E0%A5%A9"])  # Arabic-indic, fullwidth, Devanagari 3
def test_only_ascii_digits_are_numbers(client: Client, digit: str) -> None:
    r = client.get(f"/items/{digit}")
    assert r.status == 422 and details(r.json) == [("path", "item_id")]
    r = client.get(f"/need?n={digit}&name=x")
    assert r.status == 422 and details(r.json) == [("query", "n")]


def test_huge_integers_are_refused_before_they_reach_aws(client: Client) -> None:
    r = client.get("/need?n=" + "9" * 39 + "&name=x")
    assert r.status == 422 and details(r.json) == [("query", "n")]
    assert client.get("/need?n=" + "9" * 38 + "&name=x").status == 200


def test_missing_required_parameters_are_all_named(client: Client) -> None:
    r = client.get("/need")
    assert r.status == 422 and set(details(r.json)) == {("query", "n"), ("query", "name")}
    assert {d["type"] for d in r.json["error"]["details"]} == {"missing"}


def test_the_lambda_handler_validates_the_same_way(package: str) -> None:
    """What ships (the runtime alone, no local gateway) refuses the same values."""
    from lambdakit.runtime.loader import handler_for

    app = discover(package)
    handler = handler_for(app.function("get_item"))
    event = rest_event("GET", "/items/0", resource="/items/{item_id}", query={"color": "green"})
    out = handler(event, LambdaContext())
    body = json.loads(out["body"])
    assert out["statusCode"] == 422 and set(details(body)) == {("path", "item_id"), ("query", "color")}
    ok = handler(rest_event("GET", "/items/3", resource="/items/{item_id}", query={"tags": ["4", "5"]}), None)
    assert ok["statusCode"] == 200 and json.loads(ok["body"])["tags"] == [4, 5]


# -- responses against their annotations ---------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [("/wrong/type", "n"), ("/wrong/missing", "n"), ("/wrong/none", "the body"), ("/many", "1.n"), ("/gone", "")],
)
def test_a_body_that_breaks_its_annotation_fails_locally_naming_the_field(
    client: Client, path: str, field: str
) -> None:
    method = "DELETE" if path == "/gone" else "GET"
    r = client.request(method, path)
    assert r.status == 500 and r.json["error"]["code"] == "response_validation_error", r
    assert f": {field}" in r.json["error"]["message"] or field == ""
    assert r.json["error"]["details"]


def test_matching_bodies_and_free_responses_pass(client: Client) -> None:
    assert client.get("/wrong/fine").json == {"n": 1, "label": ""}
    assert client.get("/free").json == {"anything": "goes"}


def test_on_lambda_the_result_is_not_rechecked(package: str) -> None:
    from lambdakit.runtime.loader import handler_for

    handler = handler_for(discover(package).function("wrong"))
    out = handler(rest_event("GET", "/wrong/type", resource="/wrong/{k}"), LambdaContext())
    assert out["statusCode"] == 200 and json.loads(out["body"]) == {"n": "not an int"}


# -- what cannot be bound is a build error ----------------------------------------------


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("item_id: int | None", "path parameter 'item_id'"),
        ("item_id: list[int]", "path parameter 'item_id'"),
        ("item_id: str, when: complex = 1j", "parameter 'when'"),
        ("item_id: str, tags: list[dict[str, int]] | None = None, body: dict | None = None", "both take the body"),
        ("item_id: Annotated[str, Field(gt=1)]", "cannot be validated"),
    ],
)
def test_parameter_types_that_cannot_be_bound(tmp_path: Path, signature: str, expected: str) -> None:
    source = f"""
from typing import Annotated
from pydantic import Field
import lambdakit as lk

@lk.route("GET", "/items/{{item_id}}")
def get_item({signature}) -> dict:
    return {{}}
"""
    with pytest.raises(BuildError) as info:
        discover(write_package(tmp_path, {"__init__.py": source}))
    assert any(expected in problem and "get_item" in problem for problem in info.value.problems), info.value.problems


def test_a_return_annotation_that_describes_no_json_is_a_build_error(tmp_path: Path) -> None:
    source = """
import lambdakit as lk

class Opaque:
    pass

@lk.route("GET", "/x")
def x() -> Opaque:
    return Opaque()
"""
    with pytest.raises(BuildError) as info:
        discover(write_package(tmp_path, {"__init__.py": source}))
    assert any("return annotation" in p and "(x)" in p for p in info.value.problems), info.value.problems


def test_a_public_route_that_needs_a_caller_is_a_build_error(tmp_path: Path) -> None:
    source = """
import lambdakit as lk

@lk.route("GET", "/me")
def me(who: lk.Identity) -> dict:
    return {}
"""
    with pytest.raises(BuildError) as info:
        discover(write_package(tmp_path, {"__init__.py": source}))
    assert any("who: lk.Identity needs a caller" in p and "auth=" in p for p in info.value.problems)


def test_constrained_ints_and_decimals_stay_within_what_dynamodb_holds(tmp_path: Path) -> None:
    source = """
from decimal import Decimal
from typing import Annotated
from pydantic import Field
import lambdakit as lk

@lk.route("GET", "/n")
def n(count: Annotated[int, Field(ge=1)], price: Decimal = Decimal(0)) -> dict:
    return {"count": count, "price": str(price)}
"""
    with Client(write_package(tmp_path, {"__init__.py": source})) as client:
        assert client.get("/n?count=" + "9" * 40).status == 422
        assert client.get("/n?count=1&price=1e999999").status == 422
        assert client.get("/n?count=1&price=nan").status == 422
        assert client.get("/n?count=2&price=9.95").json == {"count": 2, "price": "9.95"}


def test_an_http_error_with_any_status_names_it() -> None:
    import lambdakit as lk

    teapot = lk.HTTPError("short and stout", status=418)
    assert (teapot.status, teapot.code, teapot.message) == (418, "im_a_teapot", "short and stout")
    assert lk.HTTPError(status=599).code == "http_599"
    assert lk.NotFound("x", status=404).code == "not_found"


def test_a_functions_plan_is_computed_once_and_kept_on_the_function_only() -> None:
    """Discovery, OpenAPI, the template and the handler all ask; a method's plan (no `self`) is not the function's."""
    import functools

    from lambdakit.core import DeclarationError
    from lambdakit.core.binding import PLANS_ATTRIBUTE, http_plan

    def item(item_id: str, limit: int = 10) -> dict[str, Any]:
        return {}

    first = http_plan(item, ("item_id",), "here")
    assert http_plan(item, ("item_id",), "here") is first
    assert [p.source for p in first.params] == ["path", "query"]
    assert http_plan(item, (), "here").params[0].source == "query"  # another path: its own plan

    class Items:
        def get(self, item_id: str) -> dict[str, Any]:
            return {}

    bound = http_plan(Items().get, ("item_id",), "here")
    assert [p.name for p in bound.params] == ["item_id"]
    assert PLANS_ATTRIBUTE not in vars(Items.get)
    with pytest.raises(DeclarationError, match=r"cannot read the type hints of functools\.partial"):
        http_plan(functools.partial(item, limit=5), ("item_id",), "here")  # a message, not an AttributeError
