"""The floor: hand-written handlers, one per Lambda, no framework.

`create` / `get_item` are what an expert writes (pydantic parses and dumps the
JSON itself); `create_loads` is the literal json.loads + validate + json.dumps.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from bench.apps import boto  # noqa: F401
from bench.apps.models import ITEMS, Item, NewItem

HEADERS = {"Content-Type": "application/json"}


def _invalid(exc: ValidationError) -> dict[str, Any]:
    details = exc.errors(include_url=False, include_context=False, include_input=False)
    body = {"error": {"code": "validation_error", "message": "invalid body", "details": details}}
    return {"statusCode": 422, "headers": HEADERS, "body": json.dumps(body), "isBase64Encoded": False}


def create(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        body = NewItem.model_validate_json(event["body"])
    except ValidationError as exc:
        return _invalid(exc)
    item = Item(item_id="i-1", **body.model_dump())
    return {"statusCode": 201, "headers": HEADERS, "body": item.model_dump_json(), "isBase64Encoded": False}


def create_loads(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        body = NewItem.model_validate(json.loads(event["body"]))
    except ValidationError as exc:
        return _invalid(exc)
    item = Item(item_id="i-1", **body.model_dump())
    return {"statusCode": 201, "headers": HEADERS, "body": json.dumps(item.model_dump()), "isBase64Encoded": False}


def get_item(event: dict[str, Any], context: Any) -> dict[str, Any]:
    item = ITEMS.get(event["pathParameters"]["item_id"])
    if item is None:
        body = {"error": {"code": "not_found", "message": "no such item"}}
        return {"statusCode": 404, "headers": HEADERS, "body": json.dumps(body), "isBase64Encoded": False}
    return {"statusCode": 200, "headers": HEADERS, "body": json.dumps(item), "isBase64Encoded": False}
