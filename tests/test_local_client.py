"""The test client and the `lk_aws` fixture: the shared gateway emulation, consumers, auth, seeding.

This module is a small app of its own (the `cl_*` resources); the example shop covers the rest.
"""

from __future__ import annotations

import json
import os
import time

import pytest

import lambdakit as lk
from lambdakit.local.seed import SeedError
from lambdakit.testing import Client

UNSIGNED = ", or the route needs a SigV4-signed request"  # API Gateway's MISSING_AUTHENTICATION_TOKEN

jobs = lk.Queue("cl_jobs", max_receive=2)
events = lk.Stream("cl_events")
done = lk.Table("cl_done", key="job_id")
staff = lk.Cognito("cl-staff")


@lk.route("GET", "/echo/{thing}")
def echo(thing: str, tag: list[str] | None = None, request: lk.Request = None) -> dict:  # type: ignore[assignment]
    return {"thing": thing, "tag": tag, "agent": request.headers.get("user-agent")}


@lk.route("GET", "/whoami", auth=lk.IAM)
def whoami(identity: lk.Identity) -> dict:
    return {"subject": identity.subject, "kind": identity.kind}


@lk.route("GET", "/staff", auth=staff)
def staff_only(identity: lk.Identity) -> dict:
    return {"username": identity.username, "kind": identity.kind}


@lk.authorizer(ttl=300)
def gatekeeper(token: str) -> lk.Identity | None:
    if token == "banned":
        raise lk.Forbidden("banned")
    return lk.Identity(subject=token, context={"gate": "1"}) if token.startswith("ok-") else None


@lk.route("GET", "/gated", auth=gatekeeper)
def gated(identity: lk.Identity) -> dict:
    return {"subject": identity.subject, "context": identity.context}


@lk.route("GET", "/gated/other", auth=gatekeeper)
def gated_other(identity: lk.Identity) -> dict:
    return {"subject": identity.subject}


@lk.authorizer(ttl=60, identity_sources=("header:X-Tenant-Key", "query:tenant"))
def tenant_gate(x_tenant_key: str, tenant: str) -> lk.Identity | None:
    return lk.Identity(subject=f"{tenant}:{x_tenant_key}") if x_tenant_key == "k-" + tenant else None


@lk.route("GET", "/tenant", auth=tenant_gate)
def tenant_home(identity: lk.Identity) -> dict:
    return {"subject": identity.subject}


@lk.consume(jobs, writes=[done])
def work(message: dict) -> None:
    if message.get("fail"):
        raise ValueError("asked to fail")
    done.put({"job_id": message["id"]})


@lk.consume(events, writes=[done])
def on_event(message: dict) -> None:
    done.put({"job_id": "ev-" + message["id"]})


@pytest.fixture
def client(lk_client):
    return lk_client(__name__)


def _invocations(client: Client, name: str) -> int:
    return sum(1 for i in client.invocations if i.function == name)


def test_requests_answer_status_headers_and_json(client):
    answer = client.get("/echo/box", query={"tag": ["a", "b"]})
    assert answer.status == 200
    assert answer.header("content-type") == "application/json"
    assert answer.header("x-amzn-RequestId")
    assert answer.json == {"thing": "box", "tag": ["a", "b"], "agent": "lambdakit-testclient"}
    assert client.get("/echo/box?tag=c").json["tag"] == ["c"]
    missing = client.get("/nothing/here")
    assert missing.status == 403
    assert missing.json["error"] == {"code": "not_found", "message": "no route for GET /nothing/here" + UNSIGNED}


def test_iam_routes_verify_sigv4_signatures(client):
    signed = client.get("/whoami", sign=True)
    assert signed.status == 200
    assert signed.json == {"subject": "arn:aws:iam::123456789012:user/local", "kind": "iam"}
    unsigned = client.get("/whoami")  # API Gateway's MISSING_AUTHENTICATION_TOKEN, as the template words it
    assert unsigned.status == 403
    assert unsigned.json["error"] == {"code": "not_found", "message": "no route for GET /whoami" + UNSIGNED}
    now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    forged = client.get(
        "/whoami",
        headers={
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/{now[:8]}/us-east-1/execute-api/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            "X-Amz-Date": now,
        },
    )
    assert forged.status == 403 and forged.json["error"]["code"] == "bad_request"
    assert "signature we calculated does not match" in forged.json["error"]["message"]
    stranger = client.get(
        "/whoami",
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDSTRANGER/20240101/us-east-1/execute-api/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64
        },
    )
    assert (
        stranger.status == 403
        and "security token included in the request is invalid" in stranger.json["error"]["message"]
    )


def test_cognito_tokens_are_verified_and_expire(client):
    token = client.token("ann@example.com", pool="cl-staff")
    answer = client.get("/staff", token=token)
    assert answer.status == 200 and answer.json["kind"] == "cognito"
    client.emulator.gateway.cognito.clock = lambda: time.time() + 7200
    expired = client.get("/staff", token=token)
    assert expired.status == 401
    assert expired.json["error"] == {"code": "unauthorized", "message": "The incoming token has expired"}


def test_lambda_authorizer_decisions_and_its_cache(client):
    first = client.get("/gated", token="Bearer ok-7")
    assert first.status == 200
    assert first.json == {"subject": "ok-7", "context": {"gate": "1"}}
    assert client.get("/gated/other", token="Bearer ok-7").status == 200
    assert _invocations(client, "gatekeeper") == 1  # cached for ttl=300, for every route sharing it

    denied = client.get("/gated", token="banned")
    assert denied.status == 403
    assert denied.json["error"] == {
        "code": "forbidden",
        "message": "User is not authorized to access this resource with an explicit deny",
    }
    assert client.get("/gated", token="who-knows").status == 401
    before = _invocations(client, "gatekeeper")
    assert client.get("/gated").status == 401  # no token: refused before the authorizer runs
    assert _invocations(client, "gatekeeper") == before


def test_request_authorizers_get_their_identity_sources(client):
    ok = client.get("/tenant?tenant=t1", headers={"X-Tenant-Key": "k-t1"})
    assert ok.status == 200 and ok.json == {"subject": "t1:k-t1"}
    assert client.get("/tenant?tenant=t1", headers={"X-Tenant-Key": "k-t2"}).status == 401
    before = _invocations(client, "tenant_gate")
    missing = client.get("/tenant", headers={"X-Tenant-Key": "k-t1"})  # a cached authorizer's source is absent
    assert missing.status == 401 and _invocations(client, "tenant_gate") == before


def test_partial_batches_retry_only_the_failures_then_dead_letter(client):
    for body in ({"id": "a"}, {"id": "b", "fail": True}, {"id": "c"}):
        client.send(jobs, body)
    drained = client.drain()
    assert drained.succeeded["work"] == 2
    assert drained.failed["work"] == 2  # b, delivered max_receive=2 times
    assert done.get(job_id="a") == {"job_id": "a"} and done.get(job_id="c") == {"job_id": "c"}
    assert done.get(job_id="b") is None
    assert client.dead_letters(jobs) == [{"id": "b", "fail": True}]


def test_stream_consumers_get_kinesis_events(client):
    client.send(events, {"id": "e1"}, partition_key="p")
    assert client.drain().succeeded["on_event"] == 1
    assert done.get(job_id="ev-e1") == {"job_id": "ev-e1"}


def test_lk_aws_creates_declared_resources_and_points_the_handles(lk_aws):
    done.put({"job_id": "direct"})
    assert done.get(job_id="direct") == {"job_id": "direct"}
    assert os.environ[done.env] == "cl_done"
    assert os.environ[jobs.env].endswith("/123456789012/cl_jobs")
    assert jobs.send({"x": 1})
    assert events.put({"x": 1})


def test_seed_loads_items_and_names_what_is_unknown(lk_aws):
    counts = lk_aws.seed({"tables": {"cl_done": [{"job_id": "s", "n": 1.5, "k": [1, 2]}]}})
    assert counts["items"] == 1
    assert done.get(job_id="s") == {"job_id": "s", "n": 1.5, "k": [1, 2]}
    with pytest.raises(SeedError, match=r"no table named 'nope'; the app declares: .*cl_done"):
        lk_aws.seed({"tables": {"nope": []}})
    with pytest.raises(SeedError, match="unknown seed section"):
        lk_aws.seed({"table": {}})


def test_the_example_shop_through_the_client(lk_aws):
    from example_app.catalog.resources import products
    from example_app.shop import service
    from example_app.shop.resources import customers

    with Client(service) as shop:
        products.put({"sku": "K-1", "name": "Kettle", "price_cents": 100})  # the mounted catalog's table
        assert shop.get("/api/catalog/products/K-1").json["name"] == "Kettle"
        token = shop.token()
        created = shop.post("/api/orders", json={"sku": "K-1", "qty": 2, "customer_id": "c-9"}, token=token)
        assert created.status == 201, created
        assert shop.drain().succeeded["log_audit"] == 1  # the audit queue's consumer, fed by create_order
        assert customers.get(customer_id="c-9", since=0)["last_event"] == "order_created"

        stored = shop.post("/api/orders/import", json={"sku": "K-1", "qty": 1, "customer_id": "c-10"}, token=token)
        assert stored.status == 202 and stored.json["message_id"]
        assert shop.get("/api/customers/c-10/orders").json == []
        shop.drain()
        assert [o["qty"] for o in shop.get("/api/customers/c-10/orders").json] == [1]
        assert shop.denials == []  # the derived policies cover everything the shop does, idempotency included


def test_storage_first_stores_what_the_deployed_integration_stores(lk_aws):
    """The request templates of derive.storage are evaluated: the lk-id attribute, the partition key field."""
    import boto3

    with Client("example_app.shop") as shop:
        stored = shop.post("/api/orders/import", json={"sku": "K-1", "qty": 1}, token=shop.token())
        assert stored.status == 202
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName="import_order")["QueueUrl"]
        message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], VisibilityTimeout=0)["Messages"][0]
        assert message["MessageId"] == stored.json["message_id"]
        assert message["Body"] == '{"sku": "K-1", "qty": 1}'
        assert message["MessageAttributes"]["lk-id"]["StringValue"] == stored.json["request_id"]

        clicked = shop.post("/api/clicks", json={"customer_id": 'o\'brien "jr"', "page": "/"})
        assert clicked.status == 202
        kinesis = boto3.client("kinesis")
        iterator = kinesis.get_shard_iterator(
            StreamName="record_click", ShardId=clicked.json["shard_id"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        record = kinesis.get_records(ShardIterator=iterator)["Records"][-1]
        assert record["SequenceNumber"] == clicked.json["sequence_number"]
        assert record["PartitionKey"] == 'o\'brien "jr"'
        assert json.loads(record["Data"]) == {"customer_id": 'o\'brien "jr"', "page": "/"}


def test_an_integration_template_the_emulator_cannot_evaluate_is_an_error():
    from lambdakit.local.integration import TemplateError, _Evaluator

    evaluator = _Evaluator('{"a": {"b": 2}}', "rid")
    assert (
        evaluator.render("$input.path('$.a.b')-$context.requestId-$util.urlEncode($input.body)")
        == "2-rid-%7B%22a%22%3A+%7B%22b%22%3A+2%7D%7D"
    )
    with pytest.raises(TemplateError, match="cannot evaluate"):
        evaluator.render("$stageVariables.x")
