"""docs/api-backend.md: API Gateway -> Lambda -> DynamoDB, one function per route."""

from datetime import UTC, datetime

from pydantic import BaseModel, Field

import lambdakit as lk

service = lk.Service("shop", throttle=(100, 200))  # stage-wide rate limit: 100 req/s, burst 200

products = lk.Table("products", key="sku")
orders = lk.Table("orders", key="order_id", indexes={"by_customer": ("customer_id", "created_at")})


class NewOrder(BaseModel):
    sku: str = Field(min_length=1)
    qty: int = Field(gt=0, le=1000)
    customer_id: str


class Order(NewOrder):
    order_id: str
    created_at: str


@lk.route("GET", "/products/{sku}", reads=[products], cache=60)  # cached 60 s at the gateway
def get_product(sku: str) -> dict:
    item = products.get(sku=sku)
    if item is None:
        raise lk.NotFound(f"no product {sku}")
    return item


@lk.route("GET", "/customers/{customer_id}/orders", reads=[orders])
def customer_orders(customer_id: str, limit: int = 20) -> list[Order]:
    return [Order(**i) for i in orders.query(index="by_customer", customer_id=customer_id, limit=limit)]


@lk.route("POST", "/orders", reads=[products], writes=[orders], status=201, throttle=(10, 20))
def create_order(body: NewOrder) -> Order:
    if products.get(sku=body.sku) is None:
        raise lk.UnprocessableEntity(f"unknown sku {body.sku}")
    order = Order(order_id=lk.new_id(), created_at=datetime.now(UTC).isoformat(), **body.model_dump())
    orders.put(order.model_dump())
    return order
