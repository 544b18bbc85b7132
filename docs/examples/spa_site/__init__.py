"""docs/site.md: a single-page app in a private S3 bucket behind CloudFront, with the service's API at /api."""

import lambdakit as lk

service = lk.Service("shop")
site = lk.Frontend("web/dist", domain="www.example.com")


@lk.route("GET", "/orders/{order_id}")  # answers at /api/orders/{order_id} on the site
def get_order(order_id: str) -> dict:
    return {"order_id": order_id}
