"""USAGE.md's test, as written there, against its example app (tests/fixtures/usage_shop): the `lk_aws` fixture."""

from __future__ import annotations

from tests.fixtures.usage_shop.orders import get_order, orders


def test_get_order(lk_aws):  # pytest fixture: moto with the declared resources
    orders.put({"order_id": "o-1", "sku": "a", "qty": 1})
    assert get_order("o-1").sku == "a"


def test_the_usage_app_through_the_test_client(lk_client):
    client = lk_client("tests.fixtures.usage_shop")
    assert client.post("/orders", json={"sku": "a", "qty": 1}).status == 401
    created = client.post("/orders", json={"sku": "a", "qty": 1}, token=client.token())
    assert created.status == 201
    assert client.get(f"/orders/{created.json['order_id']}").json == created.json
    stored = client.post("/orders/bulk", json={"sku": "b", "qty": 2})
    assert stored.status == 202
    drained = client.drain()
    assert drained.succeeded == {"import_order": 1, "record_click": 0, "log_audit": 1}
    assert client.denials == []
