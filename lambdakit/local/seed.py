"""Seed data for `lambdakit local --seed FILE` and `lk_aws.seed(...)`: items, messages, records and users."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
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
    "users": [{"username", "password", "pool"?}]}`; returns how many of each were loaded. Anything the seed
    gets wrong, or AWS refuses, is one `SeedError` naming the section, the name and the index."""
    if not isinstance(data, dict):
        raise SeedError("the seed is a JSON object with any of: tables, queues, streams, users")
    unknown = set(data) - {"tables", "queues", "streams", "users"}
    if unknown:
        raise SeedError(f"unknown seed section(s) {', '.join(sorted(unknown))}; use tables, queues, streams, users")
    counts = {"items": 0, "messages": 0, "records": 0, "users": 0}
    for name, items in _section(data, "tables").items():
        table = _target(backend, name, Table)
        ddb = backend.client("dynamodb")
        from boto3.dynamodb.types import TypeSerializer

        serializer = TypeSerializer()
        for index, item in enumerate(_as_list(name, items)):
            where = f"table {name!r}, item {index}"
            if not isinstance(item, dict):
                raise SeedError(f"{where}: an item is a JSON object, not {type(item).__name__}")
            missing = [key for key in table.key_names if key not in item]
            if missing:
                raise SeedError(
                    f"{where}: no {missing[0]!r}, the table's {'key' if missing[0] == table.key[0] else 'sort key'} "
                    f"(every item needs {' and '.join(repr(k) for k in table.key_names)})"
                )
            with _refusal(where, "DynamoDB refused the item"):
                plain = json.loads(json.dumps(item), parse_float=Decimal)
                ddb.put_item(TableName=table.name, Item={k: serializer.serialize(v) for k, v in plain.items()})
            counts["items"] += 1
    for name, bodies in _section(data, "queues").items():
        queue = _target(backend, name, Queue)
        for index, body in enumerate(_as_list(name, bodies)):
            kwargs: dict[str, Any] = {"QueueUrl": backend.queue_url(queue), "MessageBody": _text(body)}
            if queue.fifo:
                kwargs["MessageGroupId"] = "seed"
            with _refusal(f"queue {name!r}, message {index}", "SQS refused the message"):
                backend.client("sqs").send_message(**kwargs)
            counts["messages"] += 1
    for name, records in _section(data, "streams").items():
        stream = _target(backend, name, Stream)
        for i, record in enumerate(_as_list(name, records)):
            key = str(record.get("partition_key", i)) if isinstance(record, dict) and "data" in record else str(i)
            value = record["data"] if isinstance(record, dict) and "data" in record else record
            with _refusal(f"stream {name!r}, record {i}", "Kinesis refused the record"):
                backend.client("kinesis").put_record(
                    StreamName=stream.name, Data=_text(value).encode(), PartitionKey=key
                )
            counts["records"] += 1
    users = data.get("users") or []
    if not isinstance(users, list):
        raise SeedError(f'users: expected a list of {{"username": ..., "password": ...}}, got {type(users).__name__}')
    for index, user in enumerate(users):
        if not isinstance(user, dict) or not isinstance(user.get("username"), str):
            raise SeedError(
                f'user {index}: a seed user is {{"username": ..., "password": ..., "pool": ...}}, not {user!r}'
            )
        with _refusal(f"user {index} ({user['username']!r})", "Cognito refused the user"):
            backend.add_user(
                user["username"], user.get("password", DEMO_PASSWORD), user.get("pool"), user.get("attributes")
            )
        counts["users"] += 1
    return counts


def load_file(backend: Backend, path: str | Path) -> dict[str, int]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise SeedError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SeedError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise SeedError(f"{path}: nested too deeply to parse") from None
    try:
        return load(backend, data)
    except SeedError as exc:
        raise SeedError(f"{path}: {exc}") from None


@contextmanager
def _refusal(where: str, what: str) -> Iterator[None]:
    """AWS refusing a seeded value (a key of the wrong type, a message too large) is the seed's mistake."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        raise SeedError(f"{where}: {what}: {exc.response.get('Error', {}).get('Message') or exc}") from None
    except (BotoCoreError, TypeError, ValueError, KeyError, RecursionError) as exc:
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        message = " ".join(text.split())  # botocore's validation errors span lines
        raise SeedError(f"{where}: {what}: {message or type(exc).__name__}") from None


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    found = data.get(name) or {}
    if not isinstance(found, dict):
        raise SeedError(f"{name}: expected an object {{name: [...]}}, got {type(found).__name__}")
    return found


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
