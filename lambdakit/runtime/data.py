"""What the resource handles do: DynamoDB items, SQS messages and Kinesis records with plain Python values.

Physical names come from the environment the template sets (`LK_ORDERS`),
falling back to the declared name (unit tests and the local emulator create
resources under their declared names).
"""

from __future__ import annotations

import os
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lambdakit.core.names import queue_name
from lambdakit.runtime.aws import client, resource

if TYPE_CHECKING:
    from boto3.dynamodb.conditions import ConditionBase

_queue_urls: dict[str, str] = {}


def forget_names() -> None:
    _queue_urls.clear()


def physical_name(res: Any) -> str:
    return os.environ.get(res.env) or res.name


def _plain(value: Any) -> Any:
    """DynamoDB gives numbers as Decimal; hand back int or float like the JSON they came from."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    if hasattr(value, "value") and type(value).__name__ == "Binary":
        return bytes(value.value)
    return value


def _dynamo(value: Any) -> Any:
    """Floats become Decimal (DynamoDB refuses floats); models become dicts."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dynamo(v) for v in value]
    return value


def table(tbl: Any) -> Any:
    return resource("dynamodb").Table(physical_name(tbl))


def _check_key(tbl: Any, key: dict[str, Any]) -> dict[str, Any]:
    if set(key) != set(tbl.key_names):
        raise TypeError(f"{tbl.name} is keyed by {', '.join(tbl.key_names)}; got {', '.join(key) or 'nothing'}")
    checked: dict[str, Any] = _dynamo(key)
    return checked


def _unkeyable(values: Any) -> bool:
    """DynamoDB holds no item whose key is empty (it refuses to look one up): such a lookup finds nothing."""
    return any(v == "" or v == b"" for v in values)


def get_item(tbl: Any, key: dict[str, Any]) -> dict[str, Any] | None:
    checked = _check_key(tbl, key)
    if _unkeyable(checked.values()):
        return None
    item = table(tbl).get_item(Key=checked).get("Item")
    return None if item is None else _plain(item)


def put_item(tbl: Any, item: Any) -> None:
    table(tbl).put_item(Item=_dynamo(item))


def delete_item(tbl: Any, key: dict[str, Any]) -> None:
    checked = _check_key(tbl, key)
    if not _unkeyable(checked.values()):
        table(tbl).delete_item(Key=checked)


def update_item(tbl: Any, key: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if not values:
        raise ValueError("update(set=...) needs at least one attribute")
    names = {f"#a{i}": name for i, name in enumerate(values)}
    vals = {f":v{i}": _dynamo(v) for i, v in enumerate(values.values())}
    expression = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values)))
    out = table(tbl).update_item(
        Key=_check_key(tbl, key),
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=vals,
        ReturnValues="ALL_NEW",
    )
    return dict(_plain(out.get("Attributes", {})))


def query(tbl: Any, index: str | None, limit: int | None, key_equals: dict[str, Any]) -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key

    if index is not None and index not in tbl.indexes:
        raise ValueError(f"table {tbl.name} has no index {index!r}; it has {', '.join(tbl.indexes) or 'none'}")
    partition, sort = tbl.indexes[index] if index else (tbl.key, tbl.sort_key)
    if partition[0] not in key_equals:
        raise TypeError(f"query on {tbl.name}{f' index {index}' if index else ''} needs {partition[0]}=...")
    condition: ConditionBase = Key(partition[0]).eq(_dynamo(key_equals[partition[0]]))
    extra = set(key_equals) - {partition[0]}
    if extra:
        if not sort or extra != {sort[0]}:
            raise TypeError(f"query on {tbl.name} can match only its keys, not {', '.join(sorted(extra))}")
        condition = condition & Key(sort[0]).eq(_dynamo(key_equals[sort[0]]))
    if _unkeyable(key_equals.values()):
        return []
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
    if index:
        kwargs["IndexName"] = index
    return _paged(table(tbl).query, kwargs, limit)


def scan(tbl: Any, limit: int | None) -> list[dict[str, Any]]:
    return _paged(table(tbl).scan, {}, limit)


def _paged(call: Any, kwargs: dict[str, Any], limit: int | None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if limit is not None and limit <= 0:  # "at most none": DynamoDB itself refuses Limit < 1
        return items
    while True:
        if limit is not None:
            kwargs["Limit"] = limit - len(items)
        page = call(**kwargs)
        items += [_plain(i) for i in page.get("Items", [])]
        start = page.get("LastEvaluatedKey")
        if not start or (limit is not None and len(items) >= limit):
            return items
        kwargs["ExclusiveStartKey"] = start


def _json(value: Any) -> str:
    from lambdakit.runtime.http import dumps

    return dumps(value)


def queue_url(queue: Any) -> str:
    env = os.environ.get(queue.env)
    if env:
        return env
    url = _queue_urls.get(queue.name)
    if url is None:
        name = queue_name(queue.name, queue.fifo)
        url = _queue_urls[queue.name] = client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    return url


def send_message(queue: Any, message: Any, group: str | None, dedup_id: str | None = None) -> str:
    # `lk-id` names the message across DLQ redrives (which give it a new messageId): the idempotency key.
    lk_id = uuid.uuid4().hex
    kwargs: dict[str, Any] = {
        "QueueUrl": queue_url(queue),
        "MessageBody": _json(message),
        "MessageAttributes": {"lk-id": {"DataType": "String", "StringValue": lk_id}},
    }
    if queue.fifo:
        kwargs["MessageGroupId"] = group or "default"
        # Each send is its own message: two equal bodies are not one (content-based deduplication would drop
        # the second). A caller that retries a send passes the same dedup_id to have SQS drop the repeat.
        kwargs["MessageDeduplicationId"] = dedup_id or lk_id
    return str(client("sqs").send_message(**kwargs)["MessageId"])


def put_record(stream: Any, record: Any, partition_key: str | None) -> str:
    out = client("kinesis").put_record(
        StreamName=physical_name(stream), Data=_json(record).encode(), PartitionKey=partition_key or uuid.uuid4().hex
    )
    return str(out["SequenceNumber"])
