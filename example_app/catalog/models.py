"""The catalog's bodies; their JSON Schema also validates requests at the gateway."""

from pydantic import BaseModel, Field


class NewProduct(BaseModel):
    sku: str = Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9-]+$")
    name: str = Field(min_length=1, max_length=200)
    price_cents: int = Field(ge=0)


class Product(NewProduct):
    pass
