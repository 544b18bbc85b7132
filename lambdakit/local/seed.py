"""Seed data for `lambdakit local --seed FILE` and `lk_aws.seed(...)`: items, messages, records and users."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdakit.declare.resources import Queue, Resource, Stream, Table
from lambdakit.local.pools import DEMO_PASSWORD

if TYPE_CHECKING:
    from lambdakit.local.backend import Backend


class SeedError(ValueError):
    """The seed file names something the app does not declare, or holds the wrong shape."""


def load(backend: Backend, data: dict[str, Any]) -> dict[str, int]:
    """Load `{"tables": {name: [items]}, "queues": {name: [bodies]}, "streams": {name: [records]},
    "users": [{"username", "password", "pool"?}]}`; returns how many of each were loaded."""
    if not isinstance(data, dict):
        raise SeedError("the seed is a JSON object with any of: tables, queues, streams, users")
    unknown = set(data) - {"tables", "queues", "streams", "users"}
    if unknown:
        raise SeedError(f"unknown seed section(s) {', '.join(sorted(unknown))}; use tables, queues, streams, users")
    counts = {"items": 0, "messages": 0, "records": 0, "users": 0}
    for name, items in (data.get("tables") or {}).items():
        table = _target(backend, name, Table)
        ddb = backend.client("dynamodb")
        from boto3.dynamodb.types import TypeSerializer

        serializer = TypeSerializer()
        for item in _as_list(name, items):
            plain = json.loads(json.dumps(item), parse_float=Decimal)
            ddb.put_item(TableName=table.name, Item={k: serializer.serialize(v) for k, v in plain.items()})
            counts["items"] += 1
    for name, bodies in (data.get("queues") or {}).items():
        queue = _target(backend, name, Queue)
        for body in _as_list(name, bodies):
            kwargs: dict[str, Any] = {"QueueUrl": backend.queue_url(queue), "MessageBody": _text(body)}
            if queue.fifo:
                kwargs["MessageGroupId"] = "seed"
            backend.client("sqs").send_message(**kwargs)
            counts["messages"] += 1
    for name, records in (data.get("streams") or {}).items():
        stream = _target(backend, name, Stream)
        for i, record in enumerate(_as_list(name, records)):
            key = str(record.get("partition_key", i)) if isinstance(record, dict) and "data" in record else str(i)
            value = record["data"] if isinstance(record, dict) and "data" in record else record
            backend.client("kinesis").put_record(StreamName=stream.name, Data=_text(value).encode(), PartitionKey=key)
            counts["records"] += 1
    for user in data.get("users") or []:
        if not isinstance(user, dict) or "username" not in user:
            raise SeedError(f'a seed user is {{"username": ..., "password": ..., "pool": ...}}, not {user!r}')
        backend.add_user(
            user["username"], user.get("password", DEMO_PASSWORD), user.get("pool"), user.get("attributes")
        )
        counts["users"] += 1
    return counts


def load_file(backend: Backend, path: str | Path) -> dict[str, int]:
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise SeedError(f"{path}: not valid JSON: {exc}") from None
    try:
        return load(backend, data)
    except SeedError as exc:
        raise SeedError(f"{path}: {exc}") from None


def _target(backend: Backend, name: str, kind: type[Resource]) -> Any:
    for res in backend.owners.values():
        if res.name == name and isinstance(res, kind):
            return res
    known = sorted(r.name for r in backend.owners.values() if isinstance(r, kind))
    raise SeedError(f"no {kind.kind} named {name!r}; the app declares: {', '.join(known) or 'none'}")


def _as_list(name: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise SeedError(f"{name}: expected a list, got {type(value).__name__}")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
