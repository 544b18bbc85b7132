"""docs/one-domain.md: the catalog service that `one_domain` mounts at /api/catalog; a stack of its own."""

import lambdakit as lk

service = lk.Service("catalog")


@lk.route("GET", "/products")
def list_products() -> list[str]:
    return ["A-1", "B-2"]
