"""The event builders of `lambdakit.testing.events`: the shapes AWS delivers, accepted by lambdakit's handlers."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import KinesisDataStreamModel, SqsModel
from pydantic import BaseModel

from lambdakit.declare.app import App
from lambdakit.runtime.loader import handler_for
from lambdakit.testing.events import (
    LambdaContext,
    cloudfront_event,
    cloudfront_function_event,
    kinesis_event,
    sqs_event,
)
from tests.apps import make_app

APP = """
import lambdakit as lk
from pydantic import BaseModel

service = lk.Service("{name}")
jobs = lk.Queue("{name}-jobs")
ordered = lk.Queue("{name}-ordered", fifo=True)
ticks = lk.Stream("{name}-ticks")

class Job(BaseModel):
    n: int
    fail: bool = False

SEEN: list = []

@lk.consume(jobs)
def on_job(message: Job) -> None:
    if message.fail:
        raise RuntimeError("refused job")
    SEEN.append(("job", message.n))

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
"""


class Job(BaseModel):
    n: int
    fail: bool = False


@pytest.fixture(autouse=True)
def _quiet(quiet: None) -> None:
    """Failing records log warnings with tracebacks; these tests fail records on purpose."""


@pytest.fixture
def app(tmp_path: Path, request: pytest.FixtureRequest) -> App:
    name = f"ev{abs(hash(request.node.name)) % 10**6}"
    return make_app(tmp_path, {"app.py": APP.format(name=name)})


def seen(app: App) -> list[Any]:
    return list(importlib.import_module(app.package + ".app").SEEN)


def ids(response: dict[str, Any]) -> list[str]:
    assert set(response) == {"batchItemFailures"}
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


# --- SQS ---------------------------------------------------------------------------------------------------


def test_an_sqs_record_has_exactly_the_fields_lambda_delivers() -> None:
    event = sqs_event("test", queue="orders", region="eu-west-1", account="111122223333")
    assert list(event) == ["Records"] and len(event["Records"]) == 1
    record = event["Records"][0]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["body"] == "test"
    assert record["md5OfBody"] == "098f6bcd4621d373cade4e832627b4f6"  # AWS's sample: md5("test")
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:111122223333:orders"
    assert record["awsRegion"] == "eu-west-1"
    assert record["messageAttributes"] == {}
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", record["messageId"])
    assert record["receiptHandle"].startswith("AQEB") and len(record["receiptHandle"]) > 100
    attributes = record["attributes"]
    assert set(attributes) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert attributes["ApproximateReceiveCount"] == "1"
    assert attributes["SentTimestamp"].isdigit() and len(attributes["SentTimestamp"]) == 13  # epoch milliseconds
    assert int(attributes["ApproximateFirstReceiveTimestamp"]) >= int(attributes["SentTimestamp"])
    assert json.loads(json.dumps(event)) == event  # plain JSON, as Lambda delivers it
    SqsModel.model_validate(event)  # and the shape Powertools' parser models of the SQS event accept


def test_sqs_bodies_follow_the_payload_rules_and_carry_their_real_md5() -> None:
    event = sqs_event("plain text", b"caf\xc3\xa9", Job(n=3), {"a": [1, 2]}, 7, None)
    bodies = [r["body"] for r in event["Records"]]
    assert bodies == ["plain text", "café", '{"n":3,"fail":false}', '{"a": [1, 2]}', "7", "null"]
    for record in event["Records"]:
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()


def test_sqs_message_ids_are_deterministic_and_distinct_per_message() -> None:
    first = sqs_event("a", "b", "a")["Records"]
    message_ids = [r["messageId"] for r in first]
    assert len(set(message_ids)) == 3  # an equal body twice in a batch is two messages
    assert [r["messageId"] for r in sqs_event("a", "b", "a")["Records"]] == message_ids  # built again: the same
    assert sqs_event("b")["Records"][0]["messageId"] == message_ids[1]  # the same message, wherever it sits
    assert sqs_event("a", queue="other")["Records"][0]["messageId"] != message_ids[0]
    assert len({r["receiptHandle"] for r in first}) == 3


def test_sqs_message_attributes_are_rendered_as_string_attributes() -> None:
    record = sqs_event("x", attributes={"lk-id": "abc", "kind": "note"})["Records"][0]
    assert record["messageAttributes"] == {
        "lk-id": {"stringValue": "abc", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "kind": {"stringValue": "note", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
    }


def test_a_fifo_queue_adds_its_attributes_and_suffix() -> None:
    event = sqs_event({"n": 1}, {"n": 2}, queue="jobs", fifo=True, group_id="g1")
    records = event["Records"]
    assert {r["eventSourceARN"] for r in records} == {"arn:aws:sqs:us-east-1:123456789012:jobs.fifo"}
    for record in records:
        attributes = record["attributes"]
        assert attributes["MessageGroupId"] == "g1"
        assert attributes["MessageDeduplicationId"] == hashlib.sha256(record["body"].encode()).hexdigest()
        assert attributes["SequenceNumber"].isdigit() and len(attributes["SequenceNumber"]) == 20
    first, second = (int(r["attributes"]["SequenceNumber"]) for r in records)
    assert second > first
    SqsModel.model_validate(event)
    named = sqs_event("x", queue="jobs.fifo", fifo=True)["Records"][0]
    assert named["eventSourceARN"].endswith(":jobs.fifo")  # not doubled
    assert named["attributes"]["MessageGroupId"] == "default"  # what lambdakit's queue.send uses
    standard = sqs_event("x", group_id="tenant-1")["Records"][0]["attributes"]  # a fair queue's message
    assert standard["MessageGroupId"] == "tenant-1"
    assert "SequenceNumber" not in standard and "MessageDeduplicationId" not in standard
    assert "MessageGroupId" not in sqs_event("x")["Records"][0]["attributes"]


def test_a_queue_consumer_reports_the_failing_message_by_its_message_id(app: App) -> None:
    handler = handler_for(app.function("on_job"))
    event = sqs_event(Job(n=1), Job(n=2, fail=True), {"n": 3}, "{not json", queue=f"{app.package}-jobs")
    records = event["Records"]
    assert handler(event, LambdaContext()) == {
        "batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}, {"itemIdentifier": records[3]["messageId"]}]
    }
    assert seen(app) == [("job", 1), ("job", 3)]
    assert ids(handler(sqs_event(Job(n=4)), LambdaContext())) == []
    assert seen(app)[-1] == ("job", 4)


def test_a_fifo_consumer_stops_the_failing_group_and_reports_the_rest_of_it(app: App) -> None:
    handler = handler_for(app.function("on_ordered"))
    event = sqs_event({"n": 1}, {"fail": True}, {"n": 3}, fifo=True, group_id="g")
    records = event["Records"]
    assert ids(handler(event, LambdaContext())) == [records[1]["messageId"], records[2]["messageId"]]
    assert seen(app) == [("ordered", 1)]


# --- Kinesis -----------------------------------------------------------------------------------------------


def test_a_kinesis_record_has_exactly_the_fields_lambda_delivers() -> None:
    event = kinesis_event({"n": 1}, "text", b"\x00\xffraw", Job(n=2), stream="ticks", region="eu-west-1")
    records = event["Records"]
    assert len(records) == 4
    for record in records:
        assert set(record) == {
            "kinesis",
            "eventSource",
            "eventVersion",
            "eventID",
            "eventName",
            "invokeIdentityArn",
            "awsRegion",
            "eventSourceARN",
        }
        data = record["kinesis"]
        assert set(data) == {
            "kinesisSchemaVersion",
            "partitionKey",
            "sequenceNumber",
            "data",
            "approximateArrivalTimestamp",
        }
        assert data["kinesisSchemaVersion"] == "1.0"
        assert data["sequenceNumber"].isdigit() and len(data["sequenceNumber"]) == 56
        assert isinstance(data["approximateArrivalTimestamp"], float)
        assert record["eventSource"] == "aws:kinesis"
        assert record["eventVersion"] == "1.0"
        assert record["eventName"] == "aws:kinesis:record"
        assert record["eventID"] == f"shardId-000000000000:{data['sequenceNumber']}"
        assert record["awsRegion"] == "eu-west-1"
        assert record["eventSourceARN"] == "arn:aws:kinesis:eu-west-1:123456789012:stream/ticks"
        assert record["invokeIdentityArn"].startswith("arn:aws:iam::123456789012:role/")
    decoded = [base64.b64decode(r["kinesis"]["data"]) for r in records]
    assert decoded == [b'{"n": 1}', b"text", b"\x00\xffraw", b'{"n":2,"fail":false}']
    sequences = [int(r["kinesis"]["sequenceNumber"]) for r in records]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4
    stamps = [r["kinesis"]["approximateArrivalTimestamp"] for r in records]
    assert stamps == sorted(stamps) and 1.5e9 < stamps[0] < 2e9  # seconds, not milliseconds
    assert len({r["kinesis"]["partitionKey"] for r in records}) == 4
    assert json.loads(json.dumps(event)) == event
    KinesisDataStreamModel.model_validate(event)


def test_kinesis_partition_keys_are_the_given_one_or_a_deterministic_default() -> None:
    given = kinesis_event(1, 2, partition_key="user-7")["Records"]
    assert [r["kinesis"]["partitionKey"] for r in given] == ["user-7", "user-7"]
    assert kinesis_event(1, 2) == kinesis_event(1, 2)


def test_a_stream_consumer_reports_the_failing_record_by_its_sequence_number(app: App) -> None:
    handler = handler_for(app.function("on_tick"))
    event = kinesis_event({"n": 1}, {"fail": True}, {"n": 3}, b"{", stream=f"{app.package}-ticks")
    records = event["Records"]
    # Lambda checkpoints a Kinesis batch by sequence number, so that is the itemIdentifier (not the eventID).
    assert handler(event, LambdaContext()) == {
        "batchItemFailures": [
            {"itemIdentifier": records[1]["kinesis"]["sequenceNumber"]},
            {"itemIdentifier": records[3]["kinesis"]["sequenceNumber"]},
        ]
    }
    assert seen(app) == [("tick", 1), ("tick", 3)]


# --- Lambda@Edge -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "has_origin", "has_response"),
    [
        ("viewer-request", False, False),
        ("origin-request", True, False),
        ("origin-response", True, True),
        ("viewer-response", False, True),
    ],
)
def test_each_lambda_edge_trigger_carries_its_parts(event_type: str, has_origin: bool, has_response: bool) -> None:
    event = cloudfront_event(event_type, uri="/img/a.png", querystring="size=large")
    assert list(event) == ["Records"] and len(event["Records"]) == 1
    assert list(event["Records"][0]) == ["cf"]
    cf = event["Records"][0]["cf"]
    assert set(cf) == ({"config", "request", "response"} if has_response else {"config", "request"})
    assert cf["config"] == {
        "distributionDomainName": "d111111abcdef8.cloudfront.net",
        "distributionId": "EDFDVBD6EXAMPLE",
        "eventType": event_type,
        "requestId": cf["config"]["requestId"],
    }
    assert cf["config"]["requestId"]
    request = cf["request"]
    expected = {"clientIp", "headers", "method", "querystring", "uri"} | ({"origin"} if has_origin else set())
    assert set(request) == expected
    assert (request["clientIp"], request["method"], request["querystring"], request["uri"]) == (
        "203.0.113.178",
        "GET",
        "size=large",
        "/img/a.png",
    )
    for name, values in request["headers"].items():
        assert name == name.lower() and values
        assert all(set(v) == {"key", "value"} and v["key"].lower() == name for v in values)
    if has_origin:
        assert request["origin"] == {
            "s3": {
                "authMethod": "origin-access-identity",
                "customHeaders": {},
                "domainName": "my-bucket.s3.amazonaws.com",
                "path": "",
                "region": "us-east-1",
            }
        }
        # What CloudFront forwards to the origin: Host names the origin, and CloudFront adds Via.
        assert request["headers"]["host"] == [{"key": "Host", "value": "my-bucket.s3.amazonaws.com"}]
        assert request["headers"]["via"][0]["key"] == "Via"
        assert request["headers"]["x-forwarded-for"] == [{"key": "X-Forwarded-For", "value": "203.0.113.178"}]
    else:
        assert request["headers"]["host"] == [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}]
        assert request["headers"]["user-agent"][0]["key"] == "User-Agent"
    if has_response:
        response = cf["response"]
        assert set(response) == {"status", "statusDescription", "headers"}
        assert (response["status"], response["statusDescription"]) == ("200", "OK")
        for name, values in response["headers"].items():
            assert name == name.lower() and all(v["key"].lower() == name for v in values)
    assert json.loads(json.dumps(event)) == event


def test_lambda_edge_headers_merge_by_lower_case_name_and_repeat_as_lists() -> None:
    request = cloudfront_event(headers={"HOST": "example.com", "X-Trace": "t1", "Accept": ["a/b", "c/d"]})
    headers = request["Records"][0]["cf"]["request"]["headers"]
    assert headers["host"] == [{"key": "HOST", "value": "example.com"}]  # replaces the default, keeps its case
    assert headers["x-trace"] == [{"key": "X-Trace", "value": "t1"}]
    assert headers["accept"] == [{"key": "Accept", "value": "a/b"}, {"key": "Accept", "value": "c/d"}]
    assert headers["user-agent"][0]["value"]  # the defaults stay


def test_lambda_edge_response_origin_and_body() -> None:
    response = cloudfront_event(
        "viewer-response", response={"status": 404, "headers": {"Set-Cookie": ["a=1", "b=2"], "Server": "mine"}}
    )["Records"][0]["cf"]["response"]
    assert (response["status"], response["statusDescription"]) == ("404", "Not Found")
    assert response["headers"]["set-cookie"] == [
        {"key": "Set-Cookie", "value": "a=1"},
        {"key": "Set-Cookie", "value": "b=2"},
    ]
    assert response["headers"]["server"] == [{"key": "Server", "value": "mine"}]
    custom = {
        "custom": {"domainName": "api.example.com", "port": 443, "protocol": "https", "path": "", "customHeaders": {}}
    }
    request = cloudfront_event("origin-request", origin=custom)["Records"][0]["cf"]["request"]
    assert request["origin"] == custom and request["origin"] is not custom
    assert request["headers"]["host"] == [{"key": "Host", "value": "api.example.com"}]
    posted = cloudfront_event(method="POST", body='{"a": 1}')["Records"][0]["cf"]["request"]
    assert posted["method"] == "POST"
    assert posted["body"] == {
        "inputTruncated": False,
        "action": "read-only",
        "encoding": "base64",
        "data": base64.b64encode(b'{"a": 1}').decode(),
    }


def test_lambda_edge_refuses_what_the_trigger_cannot_carry() -> None:
    with pytest.raises(ValueError) as bad:
        cloudfront_event("viewer")
    for name in ("viewer-request", "viewer-response", "origin-request", "origin-response"):
        assert name in str(bad.value)
    with pytest.raises(ValueError, match="response="):
        cloudfront_event("origin-request", response={"status": 200})
    with pytest.raises(ValueError, match="origin="):
        cloudfront_event("viewer-request", origin={"s3": {}})
    with pytest.raises(ValueError, match="body="):
        cloudfront_event("origin-response", body="x")


# --- CloudFront Functions ----------------------------------------------------------------------------------


def test_a_cloudfront_function_request_event_has_the_documented_shape() -> None:
    event = cloudfront_function_event(
        uri="/media/index.mpd",
        querystring={"ID": "42", "NoValue": "", "querymv": ["val1", "val2,val3"]},
        headers={"Accept": ["application/json", "text/html"], "X-Custom": "v"},
        cookies={"Cookie1": "value1"},
    )
    assert list(event) == ["version", "context", "viewer", "request"]
    assert event["version"] == "1.0"
    assert set(event["context"]) == {"distributionDomainName", "distributionId", "eventType", "requestId"}
    assert event["context"]["eventType"] == "viewer-request"
    assert set(event["viewer"]) == {"ip"}
    request = event["request"]
    assert set(request) == {"method", "uri", "querystring", "headers", "cookies"}
    assert (request["method"], request["uri"]) == ("GET", "/media/index.mpd")
    assert request["querystring"] == {
        "ID": {"value": "42"},
        "NoValue": {"value": ""},
        "querymv": {"value": "val1", "multiValue": [{"value": "val1"}, {"value": "val2,val3"}]},
    }
    headers = request["headers"]
    assert headers["host"] == {"value": "d111111abcdef8.cloudfront.net"}
    assert headers["x-custom"] == {"value": "v"}
    assert headers["accept"] == {
        "value": "application/json",
        "multiValue": [{"value": "application/json"}, {"value": "text/html"}],
    }
    assert all(name == name.lower() for name in headers)
    assert request["cookies"] == {"Cookie1": {"value": "value1"}}
    assert json.loads(json.dumps(event)) == event


def test_a_cloudfront_function_event_keeps_cookies_out_of_headers_and_parses_a_query_string() -> None:
    request = cloudfront_function_event(querystring="?a=1&a=2&b=", headers={"Cookie": "s=1; t=2"})["request"]
    assert "cookie" not in request["headers"]
    assert request["cookies"] == {"s": {"value": "1"}, "t": {"value": "2"}}
    assert request["querystring"] == {
        "a": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]},
        "b": {"value": ""},
    }
    assert cloudfront_function_event()["request"]["querystring"] == {}
    assert cloudfront_function_event()["request"]["cookies"] == {}


def test_a_cloudfront_function_response_event_has_the_documented_shape() -> None:
    event = cloudfront_function_event(
        event_type="viewer-response",
        response={
            "statusCode": 302,
            "headers": {"Location": "/x", "Set-Cookie": "ID=id1234; Expires=Wed, 05 Apr 2021 07:28:00 GMT"},
            "cookies": {"Plain": "v"},
        },
    )
    assert list(event) == ["version", "context", "viewer", "request", "response"]
    assert event["context"]["eventType"] == "viewer-response"
    response = event["response"]
    assert set(response) == {"statusCode", "statusDescription", "headers", "cookies"}
    assert response["statusCode"] == 302 and isinstance(response["statusCode"], int)
    assert response["statusDescription"] == "Found"
    assert response["headers"]["location"] == {"value": "/x"}
    assert "set-cookie" not in response["headers"]
    assert response["cookies"] == {
        "ID": {"value": "id1234", "attributes": "Expires=Wed, 05 Apr 2021 07:28:00 GMT"},
        "Plain": {"value": "v"},
    }
    default = cloudfront_function_event(event_type="viewer-response")["response"]
    assert (default["statusCode"], default["statusDescription"], default["cookies"]) == (200, "OK", {})


def test_a_cloudfront_function_event_refuses_other_event_types() -> None:
    for wrong in ("origin-request", "origin-response", "request"):
        with pytest.raises(ValueError) as bad:
            cloudfront_function_event(event_type=wrong)
        assert "viewer-request" in str(bad.value) and "viewer-response" in str(bad.value)
    with pytest.raises(ValueError, match="response="):
        cloudfront_function_event(response={"statusCode": 200})
