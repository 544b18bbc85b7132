"""docs/microservices.md: the shop's site, mounting two services of the repo, each on its own domain."""

import lambdakit as lk

service = lk.Service("shop")
site = lk.Frontend("web/dist", domain="www.example.com")  # this API at /api
site.mount("/api/products", "products")  # its own domain, another account: docs/examples/products
site.mount("/api/orders", "orders")  # a base path of a shared domain: docs/examples/orders


@lk.route("GET", "/cart")
def cart() -> dict:
    return {"items": []}
