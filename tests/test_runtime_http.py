"""HTTP functions invoked through the handler the template names, with real API Gateway proxy events."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdakit.declare.app import App
from lambdakit.runtime.loader import handler_for
from lambdakit.testing.events import LambdaContext, rest_event
from tests.apps import make_app

SOURCE = """
import lambdakit as lk
from pydantic import BaseModel, Field

orders = lk.Table("rt-orders", key="order_id")

class NewOrder(BaseModel):
    sku: str = Field(min_length=1)
    qty: int = Field(gt=0)

class Order(NewOrder):
    order_id: str

@lk.route("GET", "/orders/{order_id}", reads=[orders])
def get_order(order_id: str) -> Order:
    item = orders.get(order_id=order_id)
    if item is None:
        raise lk.NotFound(f"no order {order_id}")
    return Order(**item)

@lk.route("POST", "/orders", writes=[orders], status=201)
def create_order(body: NewOrder) -> Order:
    order = Order(order_id=lk.new_id(), **body.model_dump())
    orders.put(order.model_dump())
    return order

@lk.route("DELETE", "/orders/{order_id}", writes=[orders])
def delete_order(order_id: str) -> None:
    orders.delete(order_id=order_id)

@lk.route("GET", "/search")
def search(q: str, page: int = 1, tags: list[str] | None = None, exact: bool = False) -> dict:
    return {"q": q, "page": page, "tags": tags, "exact": exact}

@lk.route("GET", "/items/{n}")
def item(n: int) -> dict:
    return {"n": n}

@lk.route("POST", "/raw")
def raw(body: dict, req: lk.Request) -> lk.Response:
    return lk.Response({"got": body, "agent": req.headers.get("user-agent")}, status=202,
                       headers={"X-Seen": "yes"})

@lk.route("GET", "/boom")
def boom() -> dict:
    raise RuntimeError("database on fire")

@lk.route("GET", "/me", auth="iam")  # an event without the caller still gets 401
def me(identity: lk.Identity) -> dict:
    return {"sub": identity.subject}

@lk.route("GET", "/teapot")
def teapot() -> dict:
    raise lk.HTTPError("short and stout", status=418, details={"spout": True})
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return make_app(tmp_path_factory.mktemp("rt"), {"app.py": SOURCE})


@pytest.fixture
def table(moto_env: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LK_RTORDERS", "physical-orders-table")
    return boto3.resource("dynamodb").create_table(
        TableName="physical-orders-table",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
    )


def call(app: App, name: str, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    out = handler_for(app.function(name))(event, LambdaContext())
    assert set(out) == {"statusCode", "headers", "body", "isBase64Encoded"}
    body = json.loads(out["body"]) if out["body"] else None
    return out["statusCode"], out["headers"], body


def test_post_then_get_against_the_table_the_environment_names(app: App, table: Any) -> None:
    status, headers, created = call(app, "create_order", rest_event("POST", "/orders", body={"sku": "a", "qty": 2}))
    assert status == 201 and headers["Content-Type"] == "application/json"
    assert table.get_item(Key={"order_id": created["order_id"]})["Item"]["qty"] == 2
    status, _, got = call(
        app, "get_order", rest_event("GET", f"/orders/{created['order_id']}", resource="/orders/{order_id}")
    )
    assert status == 200 and got == created


def test_missing_item_is_404_in_the_error_shape(app: App, table: Any) -> None:
    status, _, body = call(app, "get_order", rest_event("GET", "/orders/nope", resource="/orders/{order_id}"))
    assert status == 404
    assert body == {
        "error": {"code": "not_found", "message": "no order nope"},
        "request_id": "e0a6b2a0-7b61-11e6-9a41-93e8deadbeef",
    }


def test_none_is_204(app: App, table: Any) -> None:
    status, _, body = call(app, "delete_order", rest_event("DELETE", "/orders/x", resource="/orders/{order_id}"))
    assert status == 204 and body is None


def test_validation_error_is_422_naming_the_fields(app: App, table: Any) -> None:
    status, _, body = call(app, "create_order", rest_event("POST", "/orders", body={"sku": "", "qty": 0}))
    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert [d["loc"] for d in body["error"]["details"]] == [["body", "sku"], ["body", "qty"]]
    assert "sku" in body["error"]["message"] and "qty" in body["error"]["message"]
    assert table.scan()["Count"] == 0


def test_malformed_json_is_400(app: App, table: Any) -> None:
    status, _, body = call(app, "create_order", rest_event("POST", "/orders", body='{"sku": "a", '))
    assert status == 400 and body["error"]["code"] == "bad_request" and "not valid JSON" in body["error"]["message"]


def test_missing_body_is_422(app: App, table: Any) -> None:
    status, _, body = call(app, "create_order", rest_event("POST", "/orders"))
    assert status == 422 and body["error"]["details"][0]["loc"] == ["body"]


def test_wrong_content_type_is_415(app: App, table: Any) -> None:
    event = rest_event(
        "POST", "/orders", body="sku=a&qty=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    status, _, body = call(app, "create_order", event)
    assert status == 415 and "application/json" in body["error"]["message"]


def test_base64_body(app: App, table: Any) -> None:
    status, _, _ = call(
        app, "create_order", rest_event("POST", "/orders", body={"sku": "b", "qty": 1}, base64_body=True)
    )
    assert status == 201


def test_query_parameters_bind_by_name_and_type(app: App) -> None:
    status, _, body = call(
        app,
        "search",
        rest_event("GET", "/search", query={"q": "tea", "page": "3", "tags": ["a", "b"], "exact": "true"}),
    )
    assert status == 200 and body == {"q": "tea", "page": 3, "tags": ["a", "b"], "exact": True}
    status, _, body = call(app, "search", rest_event("GET", "/search", query={"q": "tea"}))
    assert body == {"q": "tea", "page": 1, "tags": None, "exact": False}


def test_bad_query_parameters_are_422(app: App) -> None:
    status, _, body = call(app, "search", rest_event("GET", "/search", query={"page": "x"}))
    assert status == 422 and body["error"]["details"][0]["loc"] == ["query", "q"]
    status, _, body = call(app, "search", rest_event("GET", "/search", query={"q": "a", "page": "two"}))
    assert status == 422 and body["error"]["details"][0]["loc"] == ["query", "page"]


def test_typed_path_parameter(app: App) -> None:
    assert call(app, "item", rest_event("GET", "/items/7", resource="/items/{n}"))[2] == {"n": 7}
    status, _, body = call(app, "item", rest_event("GET", "/items/seven", resource="/items/{n}"))
    assert status == 422 and body["error"]["code"] == "validation_error"
    assert body["error"]["details"][0]["loc"] == ["path", "n"] and "path parameter n" in body["error"]["message"]


def test_response_gives_full_control(app: App) -> None:
    status, headers, body = call(app, "raw", rest_event("POST", "/raw", body={"a": 1}))
    assert status == 202 and headers["X-Seen"] == "yes" and body == {"got": {"a": 1}, "agent": "curl/8.5.0"}


def test_unexpected_error_is_500_with_request_id_and_a_structured_log(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, body = call(app, "boom", rest_event("GET", "/boom"))
    assert status == 500
    assert body["error"]["code"] == "internal_error" and "database on fire" not in json.dumps(body)
    assert body["request_id"] == "e0a6b2a0-7b61-11e6-9a41-93e8deadbeef"
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert logged and logged[-1]["level"] == "ERROR" and "database on fire" in logged[-1]["exception"]
    assert logged[-1]["request_id"] == body["request_id"]


def test_identity_parameter_without_an_authorizer_is_401(app: App) -> None:
    status, _, body = call(app, "me", rest_event("GET", "/me"))
    assert status == 401 and body["error"]["code"] == "unauthorized"


def test_custom_http_error(app: App) -> None:
    status, _, body = call(app, "teapot", rest_event("GET", "/teapot"))
    assert status == 418 and body["error"]["details"] == {"spout": True}


def test_entry_point_loads_the_function_named_in_the_environment(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    monkeypatch.setenv("LAMBDAKIT_FUNCTION", app.function("item").target)
    sys.modules.pop("lambdakit.entry", None)
    entry = importlib.import_module("lambdakit.entry")
    out = entry.handler(rest_event("GET", "/items/3", resource="/items/{n}"), LambdaContext())
    assert json.loads(out["body"]) == {"n": 3}
    sys.modules.pop("lambdakit.entry", None)
    assert os.environ["LAMBDAKIT_FUNCTION"].endswith(":item")


def test_entry_point_without_a_function_fails_at_init_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda reports an init failure with this message, instead of every invocation failing."""
    import importlib
    import sys

    monkeypatch.delenv("LAMBDAKIT_FUNCTION", raising=False)
    sys.modules.pop("lambdakit.entry", None)
    with pytest.raises(RuntimeError, match="LAMBDAKIT_FUNCTION is not set"):
        importlib.import_module("lambdakit.entry")
    sys.modules.pop("lambdakit.entry", None)


def test_plain_function_is_still_callable(app: App, table: Any) -> None:
    import importlib

    module = importlib.import_module(app.function("get_order").module)
    table.put_item(Item={"order_id": "o-1", "sku": "a", "qty": 1})
    assert module.get_order("o-1").sku == "a"


def test_handlers_survive_unusual_events(app: App, tmp_path: Path) -> None:
    event = rest_event("GET", "/search")
    event["queryStringParameters"] = None
    event["headers"] = None
    event["requestContext"] = {}
    status, _, _ = call(app, "search", event)
    assert status == 422


def test_bad_input_never_reaches_aws_as_a_500(app: App) -> None:
    status, _, body = call(app, "search", rest_event("GET", "/search", query={"q": "a", "page": "9" * 60}))
    assert status == 422 and body["error"]["details"][0]["type"] == "less_than"
    status, _, body = call(app, "search", rest_event("GET", "/search", query={"q": "a", "page": "abc"}))
    assert status == 422 and body["error"]["details"][0]["type"] == "int_parsing"
    event = rest_event("POST", "/raw", body={"a": 1})
    event["isBase64Encoded"] = True
    event["body"] = "%%% not base64 %%%"
    status, _, body = call(app, "raw", event)
    assert status == 400 and "base64" in body["error"]["message"]
