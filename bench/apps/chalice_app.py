"""The endpoints as one Chalice app (`app(event, context)`); Chalice has no pydantic binding, so by hand."""

from __future__ import annotations

import json
from typing import Any

from chalice import Chalice, NotFoundError, Response
from pydantic import ValidationError

from bench.apps import boto  # noqa: F401
from bench.apps.models import ITEMS, Item, NewItem

app = Chalice(app_name="bench")
HEADERS: dict[str, str | list[str]] = {"Content-Type": "application/json"}


@app.route("/items", methods=["POST"])
def create() -> Response:
    request = app.current_request
    assert request is not None
    try:
        body = NewItem.model_validate_json(request.raw_body)
    except ValidationError as exc:
        details = exc.errors(include_url=False, include_context=False, include_input=False)
        error = {"error": {"code": "validation_error", "message": "invalid body", "details": details}}
        return Response(body=json.dumps(error), status_code=422, headers=HEADERS)
    item = Item(item_id="i-1", **body.model_dump())
    return Response(body=item.model_dump_json(), status_code=201, headers=HEADERS)


@app.route("/items/{item_id}", methods=["GET"])
def get_item(item_id: str) -> dict[str, Any]:
    item = ITEMS.get(item_id)
    if item is None:
        raise NotFoundError("no such item")
    return item
