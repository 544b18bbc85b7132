"""docs/microservices.md: a service under a base path of a domain several share (its stack holds the mapping)."""

import lambdakit as lk

service = lk.Service("orders", domain="api.example.com", base_path="orders")


@lk.route("GET", "/{order_id}")  # https://api.example.com/orders/o-1
def get_order(order_id: str) -> dict:
    return {"order_id": order_id}
