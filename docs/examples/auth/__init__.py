"""docs/auth.md: a Cognito pool, a scoped route, a Lambda TOKEN authorizer with an API key, a public route."""

import hashlib
from datetime import UTC, datetime

from pydantic import BaseModel, Field

import lambdakit as lk

service = lk.Service(
    "shop",
    throttle=(100, 200),
    usage_plans=(lk.UsagePlan("partners", quota=100_000, period="MONTH", rate=10, burst=20, keys=("acme",)),),
)
users = lk.Cognito("shop-users", password_auth=True)

products = lk.Table("products", key="sku")
orders = lk.Table("orders", key="order_id")
partners = lk.Table("partners", key="key_hash")  # partner keys, stored as SHA-256 hashes
audit = lk.Queue("audit")


class NewProduct(BaseModel):
    sku: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    price_cents: int = Field(ge=0)


class Product(NewProduct):
    pass


class NewOrder(BaseModel):
    sku: str = Field(min_length=1, max_length=40)
    qty: int = Field(gt=0, le=1000)


class Order(NewOrder):
    order_id: str
    customer_id: str
    created_at: str


@lk.route("GET", "/products/{sku}", reads=[products], auth=lk.PUBLIC, cache=60)
def get_product(sku: str) -> Product:
    item = products.get(sku=sku)
    if item is None:
        raise lk.NotFound(f"no product {sku}")
    return Product(**item)


@lk.route("PUT", "/products/{sku}", writes=[products], auth=users.scopes("shop/catalog.write"))
def put_product(sku: str, body: NewProduct) -> Product:
    if body.sku != sku:
        raise lk.BadRequest(f"the body is for {body.sku}, the path for {sku}")
    products.put(body.model_dump())
    return Product(**body.model_dump())


@lk.route("POST", "/orders", reads=[products], writes=[orders, audit], auth=users, status=201, throttle=(20, 40))
def create_order(body: NewOrder, identity: lk.Identity) -> Order:
    if products.get(sku=body.sku) is None:
        raise lk.UnprocessableEntity(f"unknown sku {body.sku}")
    order = Order(
        order_id=lk.new_id(),
        customer_id=identity.subject,
        created_at=datetime.now(UTC).isoformat(),
        **body.model_dump(),
    )
    orders.put(order.model_dump())
    audit.send({"event": "order_created", "order": order.order_id, "by": identity.subject})
    return order


@lk.authorizer(ttl=300, reads=[partners])
def partner_key(token: str) -> lk.Identity | None:
    item = partners.get(key_hash=hashlib.sha256(token.encode()).hexdigest())
    if item is None:
        return None
    return lk.Identity(
        subject=item["partner_id"],
        username=item.get("name"),
        claims={"tier": item["tier"]},
        scopes=("orders:read",),
        context={"tier": item["tier"]},
    )


@lk.route("GET", "/partner/orders/{order_id}", reads=[orders], auth=partner_key, api_key=True)
def partner_order(order_id: str, partner: lk.Identity) -> Order:
    if "orders:read" not in partner.scopes:
        raise lk.Forbidden(f"partner {partner.subject} may not read orders")
    item = orders.get(order_id=order_id)
    if item is None:
        raise lk.NotFound(f"no order {order_id}")
    return Order(**item)
