"""The consumer runtime: one record per call, each failure reported alone, effects applied at most once."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambdakit.core.names import idempotency_table_name as local_table_name
from lambdakit.declare.app import App
from lambdakit.local.lambda_context import LocalContext
from lambdakit.local.sqs_poller import SqsPoller
from lambdakit.runtime import aws
from lambdakit.runtime.idempotency import table_name
from lambdakit.runtime.loader import handler_for
from tests.apps import make_app

APP = """
import lambdakit as lk
from pydantic import BaseModel, Field

service = lk.Service("{name}")
notes = lk.Queue("{name}-notes")
ordered = lk.Queue("{name}-ordered", fifo=True)
ticks = lk.Stream("{name}-ticks")

class Note(BaseModel):
    text: str = Field(min_length=1)
    fail: bool = False

SEEN: list = []

@lk.consume(notes, idempotent=True)
def on_note(message: Note) -> None:
    if message.fail:
        raise RuntimeError("refused " + message.text)
    SEEN.append(("note", message.text))

@lk.consume(ordered)
def on_ordered(message: dict) -> None:
    if message.get("fail"):
        raise RuntimeError("refused")
    SEEN.append(("ordered", message["n"]))

@lk.consume(ticks)
def on_tick(message: dict) -> None:
    if message.get("fail"):
        raise ValueError("bad tick")
    SEEN.append(("tick", message["n"]))

@lk.route("POST", "/raw", trigger="sqs", idempotent=False)
def take_raw(body: dict) -> None:
    SEEN.append(("raw", body))
"""

MORE = """
import lambdakit as lk

texts = lk.Queue("{name}-texts")
blobs = lk.Queue("{name}-blobs")
anything = lk.Queue("{name}-anything")
GOT: list = []

@lk.consume(texts)
def on_text(message: str) -> None:
    GOT.append(message)

@lk.consume(blobs)
def on_blob(message: bytes) -> None:
    GOT.append(message)

@lk.consume(anything)
def on_anything(message) -> None:
    GOT.append(message)
"""


@pytest.fixture(autouse=True)
def _quiet(quiet: None) -> None:
    """Failures log warnings with tracebacks; these tests cause them on purpose."""


@pytest.fixture
def app(tmp_path: Path, request: pytest.FixtureRequest) -> App:
    name = f"rt{abs(hash(request.node.name)) % 10**6}"
    return make_app(tmp_path, {"app.py": APP.format(name=name)})


def seen(app: App) -> list[Any]:
    import importlib

    return importlib.import_module(app.package + ".app").SEEN


def sqs_record(message_id: str, body: str, group: str | None = None) -> dict[str, Any]:
    attributes = {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1700000000000",
        "SenderId": "AIDA",
        "ApproximateFirstReceiveTimestamp": "1700000000001",
    }
    if group:
        attributes.update(MessageGroupId=group, MessageDeduplicationId=message_id, SequenceNumber="1")
    return {
        "messageId": message_id,
        "receiptHandle": "rh-" + message_id,
        "body": body,
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


def kinesis_record(seq: str, data: bytes) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "k",
            "sequenceNumber": seq,
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": 1700000000.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/r",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
    }


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def ctx() -> LocalContext:
    return LocalContext("test", 30)


def test_a_bad_record_fails_alone_and_the_rest_take_effect(app: App, provision: Callable[[App], Any]) -> None:
    provision(app)
    handler = handler_for(app.function("on_note"))
    event = {
        "Records": [
            sqs_record("m1", json.dumps({"text": "a"})),
            sqs_record("m2", "{not json"),
            sqs_record("m3", json.dumps({"text": ""})),
            sqs_record("m4", json.dumps({"text": "b", "fail": True})),
            sqs_record("m5", json.dumps({"text": "c"})),
        ]
    }
    assert failures(handler(event, ctx())) == ["m2", "m3", "m4"]
    assert seen(app) == [("note", "a"), ("note", "c")]


def test_a_batch_where_every_record_fails_reports_every_record(app: App, provision: Callable[[App], Any]) -> None:
    provision(app)
    notes = handler_for(app.function("on_note"))
    event = {"Records": [sqs_record("m1", "nope"), sqs_record("m2", json.dumps({"text": "x", "fail": True}))]}
    assert failures(notes(event, ctx())) == ["m1", "m2"]
    ordered = handler_for(app.function("on_ordered"))  # the FIFO processor raises when all fail
    event = {"Records": [sqs_record("f1", json.dumps({"fail": 1}), "g1"), sqs_record("f2", "[", "g2")]}
    assert failures(ordered(event, ctx())) == ["f1", "f2"]
    ticks = handler_for(app.function("on_tick"))
    event = {"Records": [kinesis_record("101", b"{"), kinesis_record("102", b'{"fail": true}')]}
    assert failures(ticks(event, ctx())) == ["101", "102"]


def test_fifo_stops_a_group_at_its_first_failure_and_other_groups_go_on(app: App) -> None:
    handler = handler_for(app.function("on_ordered"))
    event = {
        "Records": [
            sqs_record("a1", json.dumps({"n": 1}), "a"),
            sqs_record("a2", json.dumps({"fail": 1}), "a"),
            sqs_record("b1", json.dumps({"n": 10}), "b"),
            sqs_record("a3", json.dumps({"n": 3}), "a"),
            sqs_record("b2", json.dumps({"n": 11}), "b"),
        ]
    }
    assert failures(handler(event, ctx())) == ["a2", "a3"]
    assert seen(app) == [("ordered", 1), ("ordered", 10), ("ordered", 11)]


def test_kinesis_failures_are_reported_by_sequence_number(app: App) -> None:
    handler = handler_for(app.function("on_tick"))
    event = {
        "Records": [
            kinesis_record("1", b'{"n": 1}'),
            kinesis_record("2", b'{"fail": true}'),
            kinesis_record("3", b'{"n": 3}'),
        ]
    }
    assert failures(handler(event, ctx())) == ["2"]
    assert seen(app) == [("tick", 1), ("tick", 3)]


def test_an_idempotent_consumer_runs_a_redelivered_message_once_and_a_failed_one_again(
    app: App, provision: Callable[[App], Any]
) -> None:
    provision(app)
    handler = handler_for(app.function("on_note"))
    first = {"Records": [sqs_record("m1", json.dumps({"text": "once"}))]}
    assert failures(handler(first, ctx())) == []
    assert failures(handler(first, ctx())) == []  # SQS delivered it again: the effect is not repeated
    assert seen(app) == [("note", "once")]
    same_body = {"Records": [sqs_record("m2", json.dumps({"text": "once"}))]}  # another message, same body
    assert failures(handler(same_body, ctx())) == []
    assert seen(app) == [("note", "once"), ("note", "once")]
    items = aws.client("dynamodb").scan(TableName=local_table_name("on_note"))["Items"]
    assert sorted(i["status"]["S"] for i in items) == ["COMPLETED", "COMPLETED"]
    failing = {"Records": [sqs_record("m3", json.dumps({"text": "later", "fail": True}))]}
    assert failures(handler(failing, ctx())) == ["m3"]
    # A failure leaves no record behind, so the retry runs (and fails) again rather than being skipped.
    assert failures(handler(failing, ctx())) == ["m3"]
    assert len(aws.client("dynamodb").scan(TableName=local_table_name("on_note"))["Items"]) == 2


def test_the_idempotency_table_is_the_templates_or_the_local_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LK_IDEMPOTENCY_TABLE", raising=False)
    assert table_name("import_order") == "import_order-idempotency"
    monkeypatch.setenv("LK_IDEMPOTENCY_TABLE", "stack-ImportOrderIdempotencyTable-1X2Y")
    assert table_name("import_order") == "stack-ImportOrderIdempotencyTable-1X2Y"


def test_storage_first_routes_consume_their_body_type_and_can_turn_idempotency_off(app: App) -> None:
    spec = app.function("take_raw")
    assert spec.storage_first and not spec.idempotent  # no table needed: runs without AWS
    handler = handler_for(spec)
    event = {"Records": [sqs_record("r1", json.dumps({"k": [1, 2]})), sqs_record("r2", json.dumps([1]))]}
    assert failures(handler(event, ctx())) == ["r2"]  # a list is not the dict the route takes
    assert seen(app) == [("raw", {"k": [1, 2]})]


def test_message_types_str_bytes_and_unannotated(tmp_path: Path) -> None:
    import importlib

    app = make_app(tmp_path, {"app.py": MORE.format(name="types")})
    got = importlib.import_module(app.package + ".app").GOT
    event = {"Records": [sqs_record("1", json.dumps("hello")), sqs_record("2", "plain text")]}
    assert failures(handler_for(app.function("on_text"))(event, ctx())) == []
    event = {"Records": [sqs_record("3", "raw bytes")]}
    assert failures(handler_for(app.function("on_blob"))(event, ctx())) == []
    event = {"Records": [sqs_record("4", json.dumps({"a": 1})), sqs_record("5", "not json")]}
    assert failures(handler_for(app.function("on_anything"))(event, ctx())) == ["5"]
    assert got == ["hello", "plain text", b"raw bytes", {"a": 1}]


def test_the_sqs_poller_fails_the_whole_batch_on_an_invalid_partial_response(moto_env: None) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="strict", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    # Lambda counts an unknown or empty itemIdentifier as a failed batch: nothing may be deleted.
    poller = SqsPoller(lambda event, context: {"batchItemFailures": [{"itemIdentifier": "nope"}]}, sqs, url)
    assert poller.poll() == 3
    assert poller.stats.errors == 1 and poller.stats.succeeded == 0
    left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert left["ApproximateNumberOfMessages"] == "3"
    ok = SqsPoller(lambda event, context: {"batchItemFailures": []}, sqs, url)
    assert ok.drain().succeeded == 3
    assert ok.poll() == 0
