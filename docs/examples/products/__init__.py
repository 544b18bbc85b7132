"""docs/microservices.md: a service on a custom domain of its own (its stack holds the whole domain)."""

import lambdakit as lk

service = lk.Service("products", domain="products.example.com")


@lk.route("GET", "/products")
def list_products() -> list[str]:
    return ["A-1", "B-2"]
