"""The endpoints on Powertools' APIGatewayRestResolver with validation on (pydantic binding, 422 on error)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from bench.apps import boto  # noqa: F401
from bench.apps.models import ITEMS, Item, NewItem

app = APIGatewayRestResolver(enable_validation=True)


@app.post("/items", status_code=201)
def create(body: NewItem) -> Item:
    return Item(item_id="i-1", **body.model_dump())


@app.get("/items/<item_id>")
def get_item(item_id: str) -> dict[str, Any]:
    item = ITEMS.get(item_id)
    if item is None:
        raise NotFoundError("no such item")
    return item


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
