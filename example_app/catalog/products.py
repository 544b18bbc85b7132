"""The products: public (cached) reads, writes for back-office systems holding the write scope."""

from typing import Annotated

from pydantic import Field

import lambdakit as lk

from .models import NewProduct, Product
from .resources import clients, products


@lk.route("GET", "/products/{sku}", reads=[products], auth=lk.PUBLIC, cache=60)
def get_product(sku: str) -> Product:
    item = products.get(sku=sku)
    if item is None:
        raise lk.NotFound(f"no product {sku}")
    return Product(**item)


@lk.route("GET", "/products", reads=[products], auth=lk.PUBLIC)
def list_products(limit: Annotated[int, Field(ge=1, le=100)] = 50) -> list[Product]:
    """The catalog, up to `limit` products."""
    return [Product(**item) for item in products.scan(limit=limit)]


# An access token with the custom scope: from the pool's machine client (client credentials).
@lk.route("PUT", "/products/{sku}", writes=[products], auth=clients.scopes("catalog/products.write"))
def put_product(sku: str, body: NewProduct) -> Product:
    if body.sku != sku:
        raise lk.BadRequest(f"the body is for {body.sku}, the path for {sku}")
    products.put(body.model_dump())
    return Product(**body.model_dump())
