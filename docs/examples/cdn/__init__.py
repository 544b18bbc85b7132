"""docs/cdn.md: a Regional REST API behind CloudFront (cdn=True) on its own domain, with no site."""

import lambdakit as lk

service = lk.Service("partners", cdn=True, domain="partners.example.com")


@lk.route("GET", "/orders/{order_id}")
def partner_order(order_id: str) -> dict:
    return {"order_id": order_id}
