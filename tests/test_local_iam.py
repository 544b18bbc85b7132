"""IAM enforced locally: a function's AWS calls, through any boto3 client or resource, are held to its derived policy.

The functions below are a tiny app of their own (this module); they reach AWS
with raw boto3 on purpose, not through lambdakit's handles.
"""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.exceptions import ClientError

import lambdakit as lk
from lambdakit.testing import Client

notes = lk.Table("iam_notes", key="note_id", indexes={"by_owner": "owner"})
vault = lk.Table("iam_vault", key="secret_id")
outbox = lk.Queue("iam_outbox", max_receive=2)


def _get_secret(secret_id: str) -> dict:
    """A raw boto3 read of the vault; the AWS error (if any) becomes the response, so tests can read it."""
    try:
        item = boto3.client("dynamodb").get_item(TableName="iam_vault", Key={"secret_id": {"S": secret_id}})
    except ClientError as exc:
        return {
            "error": exc.response["Error"],
            "http": exc.response["ResponseMetadata"]["HTTPStatusCode"],
            "class": type(exc).__name__,
        }
    return {"item": item.get("Item")}


@lk.route("GET", "/undeclared/{secret_id}", reads=[notes])
def read_undeclared(secret_id: str) -> dict:
    return _get_secret(secret_id)


@lk.route("GET", "/declared/{secret_id}", reads=[notes, vault])
def read_declared(secret_id: str) -> dict:
    return _get_secret(secret_id)


@lk.route("POST", "/vault", reads=[vault])
def write_with_read_only(body: dict) -> dict:
    # boto3's resource API, uncaught: the route fails with a 500 and the refusal is recorded.
    boto3.resource("dynamodb").Table("iam_vault").put_item(Item=body)
    return body


@lk.route("POST", "/outbox/unsent")
def send_undeclared(body: dict) -> dict:
    try:
        boto3.client("sqs").send_message(QueueUrl=os.environ[outbox.env], MessageBody="{}")
    except ClientError as exc:
        return {"code": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}
    return {"sent": True}


@lk.route("POST", "/outbox/sent", writes=[outbox])
def send_declared(body: dict) -> dict:
    sent = boto3.client("sqs").send_message(QueueUrl=os.environ[outbox.env], MessageBody="{}")
    return {"sent": bool(sent["MessageId"])}


@lk.route("GET", "/owners/{owner}", reads=[notes])
def by_owner(owner: str) -> list:
    # A query on an index: allowed by the read grant on table/iam_notes/index/*.
    out = boto3.client("dynamodb").query(
        TableName="iam_notes",
        IndexName="by_owner",
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": owner}},
    )
    return [i["note_id"]["S"] for i in out["Items"]]


@lk.consume(outbox)
def copy_to_vault(message: dict) -> None:
    # Writes a table this consumer does not declare: every delivery fails, then the message is dead-lettered.
    boto3.client("dynamodb").put_item(TableName="iam_vault", Item={"secret_id": {"S": "copied"}})


@pytest.fixture
def client(lk_aws):
    with Client(__name__) as c:
        yield c


def test_an_undeclared_table_is_refused_as_aws_refuses_it(client):
    body = client.get("/undeclared/s-1").json
    assert body["http"] == 403
    assert body["error"]["Code"] == "AccessDeniedException"
    message = body["error"]["Message"]
    assert "dynamodb:GetItem" in message
    assert "arn:aws:dynamodb:us-east-1:123456789012:table/iam_vault" in message
    assert "read_undeclared" in message
    assert "add reads=[vault] to @lk.route on read_undeclared" in message


def test_the_same_call_passes_once_declared(client):
    boto3.client("dynamodb").put_item(TableName="iam_vault", Item={"secret_id": {"S": "s-1"}, "v": {"S": "42"}})
    body = client.get("/declared/s-1").json
    assert body == {"item": {"secret_id": {"S": "s-1"}, "v": {"S": "42"}}}
    assert client.denials == []


def test_a_write_needs_writes_even_with_reads_and_through_boto3_resources(client):
    answer = client.post("/vault", json={"secret_id": "s-2"})
    assert answer.status == 500
    assert answer.json["error"]["code"] == "internal_error"
    assert len(client.denials) == 1
    assert "dynamodb:PutItem" in client.denials[0]
    assert "add writes=[vault] to @lk.route on write_with_read_only" in client.denials[0]
    assert client.invocations[-1].denied == tuple(client.denials)
    assert boto3.client("dynamodb").get_item(TableName="iam_vault", Key={"secret_id": {"S": "s-2"}}).get("Item") is None


def test_queues_are_checked_by_their_url(client):
    refused = client.post("/outbox/unsent", json={}).json
    assert refused["code"] == "AccessDenied"
    assert "sqs:SendMessage" in refused["message"]
    assert "arn:aws:sqs:us-east-1:123456789012:iam_outbox" in refused["message"]
    assert "add writes=[outbox] to @lk.route on send_undeclared" in refused["message"]
    assert client.post("/outbox/sent", json={}).json == {"sent": True}


def test_index_queries_are_allowed_by_the_table_read_grant(client):
    boto3.client("dynamodb").put_item(TableName="iam_notes", Item={"note_id": {"S": "n1"}, "owner": {"S": "ann"}})
    assert client.get("/owners/ann").json == ["n1"]


def test_a_consumer_is_held_to_its_policy_and_its_message_dead_letters(client):
    client.send(outbox, {"n": 1})
    drained = client.drain()
    assert drained.failed["copy_to_vault"] == 2  # max_receive=2: two deliveries, both refused
    assert drained.succeeded["copy_to_vault"] == 0
    assert client.dead_letters(outbox) == [{"n": 1}]
    assert any("add writes=[vault] to @lk.consume on copy_to_vault" in d for d in client.denials)


def test_a_direct_call_of_the_plain_function_is_not_checked(lk_aws):
    boto3.client("dynamodb").put_item(TableName="iam_vault", Item={"secret_id": {"S": "s-3"}})
    assert read_undeclared("s-3") == {"item": {"secret_id": {"S": "s-3"}}}


def test_calls_lambdakit_makes_outside_functions_are_not_checked(client):
    # Sending to the queue (as the test, or the gateway, does) is not any function's call.
    client.send(outbox, {"n": 2})
    assert client.denials == []
