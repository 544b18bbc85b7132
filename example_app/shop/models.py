"""Request and response bodies; their JSON Schema also validates storage-first requests at the gateway.

The products are the catalog service's (example_app/catalog).
"""

from pydantic import BaseModel, Field


class NewOrder(BaseModel):
    sku: str = Field(min_length=1, max_length=40)
    qty: int = Field(gt=0, le=1000)
    customer_id: str = Field(default="anonymous", min_length=1, max_length=64)


class Order(NewOrder):
    order_id: str
    created_at: str


class Click(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64)
    page: str = Field(min_length=1, max_length=500)
