"""The bodies every variant uses, and the constant the GET endpoint looks up (no AWS calls anywhere)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class NewItem(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price_cents: int = Field(ge=0)
    tags: list[str] = []


class Item(NewItem):
    item_id: str


class Message(BaseModel):
    """An SQS message body for the consumer benchmark."""

    order_id: str
    qty: int = Field(gt=0)


ITEMS = {"i-1": {"item_id": "i-1", "name": "lamp", "price_cents": 1299, "tags": ["home"]}}
