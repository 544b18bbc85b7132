"""docs/one-domain.md: the SPA, this service's API and two other APIs behind one CloudFront domain."""

import lambdakit as lk

service = lk.Service("shop")
site = lk.Frontend("web/dist", domain="www.example.com")  # this API at /api
site.mount("/api/catalog", "catalog")  # another service of this repo: docs/examples/catalog
site.mount("/api/partners", origin="https://partners.example.net")  # any HTTPS origin


@lk.route("GET", "/orders/{order_id}")
def get_order(order_id: str) -> dict:
    return {"order_id": order_id}
