"""The endpoints as lambdakit functions; each is its own Lambda behind `lambdakit.entry.handler`."""

from __future__ import annotations

from typing import Any

import lambdakit as lk
from bench.apps import boto  # noqa: F401
from bench.apps.models import ITEMS, Item, NewItem

service = lk.Service("bench")  # as a real service declares it (in its package's __init__, usually)


@lk.route("POST", "/items", status=201)
def create(body: NewItem) -> Item:
    return Item(item_id="i-1", **body.model_dump())


@lk.route("GET", "/items/{item_id}")
def get_item(item_id: str) -> dict[str, Any]:
    item = ITEMS.get(item_id)
    if item is None:
        raise lk.NotFound("no such item")
    return item
