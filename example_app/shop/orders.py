"""Orders: placed one at a time, or imported in bulk through a queue (storage first)."""

from datetime import UTC, datetime

import lambdakit as lk

from .models import NewOrder, Order
from .resources import audit, orders, users


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@lk.route("GET", "/orders/{order_id}", reads=[orders])
def get_order(order_id: str) -> Order:
    item = orders.get(order_id=order_id)
    if item is None:
        raise lk.NotFound(f"no order {order_id}")
    return Order(**item)


@lk.route("GET", "/customers/{customer_id}/orders", reads=[orders])
def customer_orders(customer_id: str, limit: int = 20) -> list[Order]:
    return [Order(**item) for item in orders.query(index="by_customer", customer_id=customer_id, limit=limit)]


# The products are the catalog's, in another account: an order names its sku, the catalog prices it.
@lk.route("POST", "/orders", writes=[orders, audit], auth=users, status=201, throttle=(20, 40))
def create_order(body: NewOrder, identity: lk.Identity) -> Order:
    order = Order(order_id=lk.new_id(), created_at=_now(), **body.model_dump())
    orders.put(order.model_dump())
    audit.send(
        {"event": "order_created", "order": order.order_id, "customer": order.customer_id, "by": identity.subject}
    )
    return order


@lk.route("DELETE", "/orders/{order_id}", writes=[orders, audit], auth=users)
def cancel_order(order_id: str, identity: lk.Identity) -> None:
    orders.delete(order_id=order_id)
    audit.send({"event": "order_cancelled", "order": order_id, "by": identity.subject})


# Storage first: API Gateway puts the validated body in a queue and answers 202.
@lk.route("POST", "/orders/import", trigger=lk.sqs(batch_size=10, max_receive=3), writes=[orders], auth=users)
def import_order(body: NewOrder) -> None:
    orders.put(Order(order_id=lk.new_id(), created_at=_now(), **body.model_dump()).model_dump())
