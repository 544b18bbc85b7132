"""Partners: systems that call with a partner key (a Lambda TOKEN authorizer) and an API key (usage plan)."""

import hashlib

import lambdakit as lk

from .models import Order
from .resources import orders, partners


@lk.authorizer(ttl=300, reads=[partners])
def partner_key(token: str) -> lk.Identity | None:
    """The partner holding this key, or None (401). Keys are looked up by hash, so none is stored in clear."""
    item = partners.get(key_hash=hashlib.sha256(token.encode()).hexdigest())
    if item is None or item.get("suspended"):
        return None
    return lk.Identity(
        subject=item["partner_id"],
        username=item.get("name"),
        claims={"partner_id": item["partner_id"], "tier": item.get("tier", "standard")},
        scopes=tuple(sorted(item.get("scopes") or ())),
        context={"tier": item.get("tier", "standard")},
    )


@lk.route("GET", "/partner/orders/{order_id}", reads=[orders], auth=partner_key, api_key=True)
def partner_order(order_id: str, partner: lk.Identity) -> Order:
    if "orders:read" not in partner.scopes:
        raise lk.Forbidden(f"partner {partner.subject} may not read orders")
    item = orders.get(order_id=order_id)
    if item is None:
        raise lk.NotFound(f"no order {order_id}")
    return Order(**item)
