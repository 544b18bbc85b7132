"""The local IAM check, operation by operation: every call it maps is allowed exactly when the function's derived
policy grants it, and anything it cannot map is refused (it fails closed).

Each case makes a real boto3 call against moto inside `iam_guard.acting_as(policy_for(fn, backend))`, for the
functions of this module's small app: `reader` (reads= of a table, a queue and a stream), `writer` (writes= of
them and a FIFO queue) and `nothing` (no declarations). A granted operation is allowed for the function whose
declaration grants it and refused, naming the declaration to add, for the others; an operation lambdakit never
grants is refused for all three, saying so.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

import lambdakit as lk
from lambdakit.declare.app import App
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive import iam
from lambdakit.derive.plan import Plan, plan_of
from lambdakit.local import iam_guard
from lambdakit.local.backend import Backend
from lambdakit.local.iam_guard import Call, Policy, Refusal
from lambdakit.local.policies import GRANTED, policy_for
from lambdakit.runtime import data
from lambdakit.testing.client import Client, app_of

ledger = lk.Table("guard_ledger", key="id", indexes={"by_owner": "owner"})
other = lk.Table("guard_other", key="id")
jobs = lk.Queue("guard_jobs")
orders = lk.Queue("guard_orders", fifo=True)
clicks = lk.Stream("guard_clicks")
tasks = lk.Queue("guard_tasks")


@lk.route("GET", "/guard/reader", reads=[ledger, jobs, clicks])
def reader() -> dict:
    return {}


@lk.route("POST", "/guard/writer", writes=[ledger, jobs, orders, clicks])
def writer(body: dict) -> dict:
    return {}


@lk.route("GET", "/guard/nothing")
def nothing() -> dict:
    return {}


@lk.authorizer(ttl=0, reads=[ledger])
def gate(token: str) -> lk.Identity | None:
    return None


@lk.route("GET", "/guard/gated", auth=gate)
def gated() -> dict:
    return {}


@lk.consume(tasks, writes=[ledger], idempotent=True)
def record_task(message: dict) -> None:
    if message.get("fail"):
        raise RuntimeError("failed on purpose")
    ledger.put({"id": message["id"], "owner": "task"})


@lk.consume(clicks)
def count_click(record: dict) -> None:
    pass


REGION, ACCOUNT = "us-east-1", "123456789012"
LEDGER = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/guard_ledger"
OTHER = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/guard_other"
JOBS = f"arn:aws:sqs:{REGION}:{ACCOUNT}:guard_jobs"
ORDERS = f"arn:aws:sqs:{REGION}:{ACCOUNT}:guard_orders.fifo"
CLICKS = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/guard_clicks"
JOBS_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/guard_jobs"
ORDERS_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/guard_orders.fifo"
BUCKET = "guard-bucket"
FUNCTIONS = ("reader", "writer", "nothing")
NOT_GRANTED = "to functions at all"


class Env:
    """The module's app on a running backend: its policies, boto3 clients, and helpers for the cases."""

    def __init__(self, backend: Backend, app: App) -> None:
        self.backend = backend
        self.app = app
        self.plan: Plan = plan_of(app)
        self.ddb = boto3.client("dynamodb")
        self.sqs = boto3.client("sqs")
        self.kinesis = boto3.client("kinesis")
        self.s3 = boto3.client("s3")
        self.logs = boto3.client("logs")
        self.xray = boto3.client("xray")
        self.sts = boto3.client("sts")
        for name in FUNCTIONS:
            self.logs.create_log_group(logGroupName=self.log_group(name))
            self.logs.create_log_stream(logGroupName=self.log_group(name), logStreamName="existing")

    def client(self, service: str) -> Any:
        return getattr(self, {"dynamodb": "ddb"}.get(service, service))

    def spec(self, name: str) -> FunctionSpec:
        return self.app.function(name)

    def policy(self, name: str) -> Policy:
        return policy_for(self.plan.of(self.spec(name)), self.backend)

    def log_group(self, name: str) -> str:
        return self.plan.of(self.spec(name)).log_group_name

    def url(self, queue: lk.Queue) -> str:
        return self.backend.queue_url(queue)

    def put(self, table: str = "guard_ledger", **extra: str) -> str:
        key = uuid.uuid4().hex
        item = {"id": {"S": key}, **{k: {"S": v} for k, v in extra.items()}}
        self.ddb.put_item(TableName=table, Item=item)
        return key

    def receipt(self, queue: lk.Queue = jobs) -> str:
        self.sqs.send_message(QueueUrl=self.url(queue), MessageBody="{}")
        got = self.sqs.receive_message(QueueUrl=self.url(queue), MaxNumberOfMessages=1, VisibilityTimeout=60)
        return str(got["Messages"][0]["ReceiptHandle"])

    def iterator(self) -> str:
        shard = self.kinesis.list_shards(StreamName="guard_clicks")["Shards"][0]["ShardId"]
        return str(
            self.kinesis.get_shard_iterator(StreamName="guard_clicks", ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
        )


@dataclass
class Outcome:
    result: Any
    error: ClientError | None
    denials: list[str]
    calls: list[Call]

    @property
    def message(self) -> str:
        assert self.error is not None, f"the call was allowed: {self.calls}"
        return str(self.error.response["Error"]["Message"])


def run(policy: Policy, call: Callable[[], Any]) -> Outcome:
    """`call()` as the function `policy` belongs to makes it."""
    denials: list[str] = []
    calls: list[Call] = []
    with iam_guard.acting_as(policy, denials, calls):
        try:
            return Outcome(call(), None, denials, calls)
        except ClientError as exc:
            return Outcome(None, exc, denials, calls)


def assert_refused(out: Outcome, action: str, resource: str | None) -> str:
    """Refused as AWS refuses it (403, AccessDenied[Exception]), recorded as a denial and as a refused call."""
    assert out.error is not None, f"{action} was allowed: {out.calls}"
    error = out.error.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")
    message = out.message
    assert f"is not authorized to perform: {action} on resource: " in message
    if resource is not None:
        assert f"on resource: {resource} " in message
    assert out.denials == [message]
    last = out.calls[-1]
    assert (last.action, last.resource, last.allowed, last.message) == (action, resource, False, message)
    return message


def assert_allowed(out: Outcome, action: str) -> None:
    assert out.error is None, out.message
    assert out.denials == []
    assert out.calls and all(c.allowed for c in out.calls)
    assert action in {c.action for c in out.calls}


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    backend = Backend().start()
    try:
        app = app_of(sys.modules[__name__])
        backend.provision(plan_of(app), prefer=True)
        yield Env(backend, app)
    finally:
        backend.stop()


# -- the cases: one per mapped operation (a few operations have two) ------------------------------------------

Params = dict[str, Any] | Callable[[Env, Any], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    operation: str  # "dynamodb:GetItem": botocore's service name (the IAM prefix, for these) and the operation
    grant: str  # "reads" / "writes" (of `label`), "reads or writes", "own log group", "tracing" or "never"
    resource: str | None  # the resource the call is checked on (the one a refusal names)
    params: Params = field(default_factory=dict)  # or (env, what `setup` made) -> the parameters
    setup: Callable[[Env], Any] = lambda env: None
    needs: str = ""  # the IAM action the call needs, when it is not the operation's own name
    label: str = "ledger"
    variant: str = ""

    @property
    def service(self) -> str:
        return self.operation.split(":", 1)[0]

    @property
    def op(self) -> str:
        return self.operation.split(":", 1)[1]

    @property
    def action(self) -> str:
        return self.needs or self.operation

    @property
    def id(self) -> str:
        return f"{self.operation}{'-' + self.variant if self.variant else ''}"

    def call(self, env: Env, made: Any) -> Any:
        params = self.params(env, made) if callable(self.params) else self.params
        return getattr(env.client(self.service), xform_name(self.op))(**params)


def _key(key: str) -> dict[str, Any]:
    return {"id": {"S": key}}


def _new() -> dict[str, Any]:
    return _key(uuid.uuid4().hex)


T = "guard_ledger"
INDEX = f"{LEDGER}/index/by_owner"
BY_OWNER = {
    "IndexName": "by_owner",
    "KeyConditionExpression": "#o = :o",
    "ExpressionAttributeNames": {"#o": "owner"},
    "ExpressionAttributeValues": {":o": {"S": "ann"}},
}
SET_V = {"UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "1"}}}
NEW_TABLE = {
    "TableName": f"{T}_new",
    "BillingMode": "PAY_PER_REQUEST",
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}


def _item(k: str) -> dict[str, Any]:
    return {"TableName": T, "Key": _key(k)}


def _by_key(e: Env, k: str) -> dict[str, Any]:
    return {"TableName": T, "KeyConditionExpression": "id = :k", "ExpressionAttributeValues": {":k": {"S": k}}}


def _transact_write(e: Env, k: str) -> dict[str, Any]:
    put = {"Put": {"TableName": T, "Item": _new()}}
    return {"TransactItems": [put, {"Update": {**_item(k), **SET_V}}]}


def _condition_check(e: Env, k: str) -> dict[str, Any]:
    return {"TransactItems": [{"ConditionCheck": {**_item(k), "ConditionExpression": "attribute_exists(id)"}}]}


DYNAMODB = [
    Case("dynamodb:GetItem", "reads", LEDGER, lambda e, k: _item(k), Env.put),
    Case("dynamodb:Query", "reads", LEDGER, _by_key, Env.put),
    Case("dynamodb:Query", "reads", INDEX, {"TableName": T, **BY_OWNER}, variant="index"),
    Case("dynamodb:Scan", "reads", LEDGER, {"TableName": T, "Limit": 1}),
    Case("dynamodb:Scan", "reads", INDEX, {"TableName": T, "IndexName": "by_owner"}, variant="index"),
    Case("dynamodb:BatchGetItem", "reads", LEDGER, lambda e, k: {"RequestItems": {T: {"Keys": [_key(k)]}}}, Env.put),
    Case(
        "dynamodb:TransactGetItems",
        "reads",
        LEDGER,
        lambda e, k: {"TransactItems": [{"Get": _item(k)}]},
        Env.put,
        "dynamodb:GetItem",
    ),
    Case("dynamodb:PutItem", "writes", LEDGER, lambda e, _: {"TableName": T, "Item": _new()}),
    Case("dynamodb:UpdateItem", "writes", LEDGER, lambda e, k: {**_item(k), **SET_V}, Env.put),
    Case("dynamodb:DeleteItem", "writes", LEDGER, lambda e, k: _item(k), Env.put),
    Case(
        "dynamodb:BatchWriteItem",
        "writes",
        LEDGER,
        lambda e, _: {"RequestItems": {T: [{"PutRequest": {"Item": _new()}}]}},
    ),
    Case("dynamodb:TransactWriteItems", "writes", LEDGER, _transact_write, Env.put, "dynamodb:PutItem"),
    # ConditionCheckItem is granted by reads= and by writes=: only `nothing` is refused
    Case(
        "dynamodb:TransactWriteItems",
        "reads or writes",
        LEDGER,
        _condition_check,
        Env.put,
        "dynamodb:ConditionCheckItem",
        variant="check",
    ),
    Case("dynamodb:DescribeTable", "never", LEDGER, {"TableName": T}),
    Case("dynamodb:DescribeTimeToLive", "never", LEDGER, {"TableName": T}),
    Case(
        "dynamodb:UpdateTimeToLive",
        "never",
        LEDGER,
        {"TableName": T, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "t"}},
    ),
    Case("dynamodb:UpdateTable", "never", LEDGER, {"TableName": T, "BillingMode": "PAY_PER_REQUEST"}),
    Case("dynamodb:DeleteTable", "never", LEDGER, {"TableName": T}),
    Case("dynamodb:CreateTable", "never", f"{LEDGER}_new", NEW_TABLE),
    Case("dynamodb:ListTables", "never", "*"),
]

Q = {"QueueUrl": JOBS_URL}


def _fifo(e: Env, _: Any) -> dict[str, Any]:
    return {
        "QueueUrl": ORDERS_URL,
        "MessageBody": "{}",
        "MessageGroupId": "g",
        "MessageDeduplicationId": _new()["id"]["S"],
    }


def _visibility(e: Env, receipt: str) -> dict[str, Any]:
    return {**Q, "Entries": [{"Id": "a", "ReceiptHandle": receipt, "VisibilityTimeout": 0}]}


TWO = [{"Id": "a", "MessageBody": "{}"}, {"Id": "b", "MessageBody": "[]"}]
SQS = [
    Case("sqs:SendMessage", "writes", JOBS, {**Q, "MessageBody": "{}"}, label="jobs"),
    Case("sqs:SendMessage", "writes", ORDERS, _fifo, label="orders", variant="fifo"),
    Case("sqs:SendMessageBatch", "writes", JOBS, {**Q, "Entries": TWO}, needs="sqs:SendMessage", label="jobs"),
    Case("sqs:ReceiveMessage", "reads", JOBS, {**Q, "VisibilityTimeout": 0}, label="jobs"),
    Case("sqs:DeleteMessage", "reads", JOBS, lambda e, r: {**Q, "ReceiptHandle": r}, Env.receipt, label="jobs"),
    Case(
        "sqs:DeleteMessageBatch",
        "reads",
        JOBS,
        lambda e, r: {**Q, "Entries": [{"Id": "a", "ReceiptHandle": r}]},
        Env.receipt,
        "sqs:DeleteMessage",
        label="jobs",
    ),
    Case(
        "sqs:ChangeMessageVisibility",
        "reads",
        JOBS,
        lambda e, r: {**Q, "ReceiptHandle": r, "VisibilityTimeout": 0},
        Env.receipt,
        label="jobs",
    ),
    Case(
        "sqs:ChangeMessageVisibilityBatch",
        "reads",
        JOBS,
        _visibility,
        Env.receipt,
        "sqs:ChangeMessageVisibility",
        label="jobs",
    ),
    Case("sqs:GetQueueAttributes", "reads", JOBS, {**Q, "AttributeNames": ["All"]}, label="jobs"),
    Case("sqs:GetQueueUrl", "never", JOBS, {"QueueName": "guard_jobs"}),
    Case("sqs:PurgeQueue", "never", JOBS, Q),
    Case("sqs:SetQueueAttributes", "never", JOBS, {**Q, "Attributes": {"DelaySeconds": "1"}}),
    Case("sqs:DeleteQueue", "never", JOBS, Q),
    Case("sqs:ListQueueTags", "never", JOBS, Q),
    Case("sqs:ListDeadLetterSourceQueues", "never", JOBS, Q),
    Case("sqs:CreateQueue", "never", f"{JOBS}_new", {"QueueName": "guard_jobs_new"}),
    Case("sqs:ListQueues", "never", "*"),
]

S = {"StreamName": "guard_clicks"}
SHARD = {"ShardId": "shardId-000000000000"}
CONSUMER = f"{CLICKS}/consumer/guard:1700000000"
RECORDS = [{"Data": b"1", "PartitionKey": "a"}, {"Data": b"2", "PartitionKey": "b"}]
KINESIS = [
    Case("kinesis:PutRecord", "writes", CLICKS, {**S, "Data": b"{}", "PartitionKey": "p"}, label="clicks"),
    Case(
        "kinesis:PutRecord",
        "writes",
        CLICKS,
        {"StreamARN": CLICKS, "Data": b"{}", "PartitionKey": "p"},
        label="clicks",
        variant="arn",
    ),
    Case("kinesis:PutRecords", "writes", CLICKS, {**S, "Records": RECORDS}, label="clicks"),
    Case("kinesis:GetShardIterator", "reads", CLICKS, {**S, **SHARD, "ShardIteratorType": "LATEST"}, label="clicks"),
    Case("kinesis:GetRecords", "reads", CLICKS, lambda e, it: {"ShardIterator": it}, Env.iterator, label="clicks"),
    Case(
        "kinesis:GetRecords",
        "reads",
        CLICKS,
        lambda e, it: {"ShardIterator": it, "StreamARN": CLICKS},
        Env.iterator,
        label="clicks",
        variant="arn",
    ),
    Case("kinesis:DescribeStream", "reads", CLICKS, S, label="clicks"),
    Case("kinesis:DescribeStreamSummary", "reads", CLICKS, S, label="clicks"),
    Case("kinesis:ListShards", "reads", CLICKS, S, label="clicks"),
    Case(
        "kinesis:SubscribeToShard",
        "never",
        CONSUMER,
        {"ConsumerARN": CONSUMER, **SHARD, "StartingPosition": {"Type": "LATEST"}},
    ),
    Case("kinesis:RegisterStreamConsumer", "never", CLICKS, {"StreamARN": CLICKS, "ConsumerName": "guard"}),
    Case("kinesis:DescribeStreamConsumer", "never", CONSUMER, {"ConsumerARN": CONSUMER}),
    Case("kinesis:ListStreamConsumers", "never", CLICKS, {"StreamARN": CLICKS}),
    Case("kinesis:CreateStream", "never", f"{CLICKS}_new", {"StreamName": "guard_clicks_new", "ShardCount": 1}),
    Case("kinesis:DeleteStream", "never", CLICKS, S),
    Case("kinesis:ListStreams", "never", "*"),
]

OBJ, BKT = f"arn:aws:s3:::{BUCKET}/k", f"arn:aws:s3:::{BUCKET}"
B, K = {"Bucket": BUCKET}, {"Bucket": BUCKET, "Key": "k"}
UP = {**K, "UploadId": "u"}
S3 = [
    Case("s3:GetObject", "never", OBJ, K),
    Case("s3:HeadObject", "never", OBJ, K, needs="s3:GetObject"),
    Case("s3:GetObjectAttributes", "never", OBJ, {**K, "ObjectAttributes": ["ETag"]}, needs="s3:GetObject"),
    Case("s3:PutObject", "never", OBJ, {**K, "Body": b"x"}),
    Case("s3:CopyObject", "never", OBJ, {**K, "CopySource": {"Bucket": BUCKET, "Key": "src"}}, needs="s3:PutObject"),
    Case("s3:CreateMultipartUpload", "never", OBJ, K, needs="s3:PutObject"),
    Case("s3:UploadPart", "never", OBJ, {**UP, "PartNumber": 1, "Body": b"x"}, needs="s3:PutObject"),
    Case(
        "s3:UploadPartCopy", "never", OBJ, {**UP, "PartNumber": 1, "CopySource": f"{BUCKET}/src"}, needs="s3:PutObject"
    ),
    Case("s3:CompleteMultipartUpload", "never", OBJ, UP, needs="s3:PutObject"),
    Case("s3:AbortMultipartUpload", "never", OBJ, UP),
    Case("s3:ListParts", "never", OBJ, UP, needs="s3:ListMultipartUploadParts"),
    Case("s3:DeleteObject", "never", OBJ, K),
    Case(
        "s3:DeleteObjects",
        "never",
        OBJ,
        {**B, "Delete": {"Objects": [{"Key": "k"}, {"Key": "j"}]}},
        needs="s3:DeleteObject",
    ),
    Case("s3:ListObjects", "never", BKT, B, needs="s3:ListBucket"),
    Case("s3:ListObjectsV2", "never", BKT, B, needs="s3:ListBucket"),
    Case("s3:HeadBucket", "never", BKT, B, needs="s3:ListBucket"),
    Case("s3:ListObjectVersions", "never", BKT, B, needs="s3:ListBucketVersions"),
    Case("s3:ListMultipartUploads", "never", BKT, B, needs="s3:ListBucketMultipartUploads"),
    Case("s3:ListBuckets", "never", "*", needs="s3:ListAllMyBuckets"),
]


def _group(function: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{function}"


def _events() -> list[dict[str, Any]]:
    return [{"timestamp": int(time.time() * 1000), "message": "hello"}]


def _g(**more: Any) -> Callable[[Env, str], dict[str, Any]]:
    return lambda e, group: {"logGroupName": group, **more}


# A logs case is called with a log group's name: the calling function's own, or another function's. Its
# resource says which ARN the call is checked on: the group's ("group") or one of its streams' ("stream").
LOGS = [
    Case(
        "logs:CreateLogStream",
        "own log group",
        "stream",
        lambda e, g: {"logGroupName": g, "logStreamName": _new()["id"]["S"]},
    ),
    Case(
        "logs:PutLogEvents",
        "own log group",
        "stream",
        lambda e, g: {"logGroupName": g, "logStreamName": "existing", "logEvents": _events()},
    ),
    Case("logs:CreateLogGroup", "never", "group", _g()),
    Case("logs:DeleteLogGroup", "never", "group", _g()),
    Case("logs:DeleteLogStream", "never", "stream", _g(logStreamName="existing")),
    Case("logs:PutRetentionPolicy", "never", "group", _g(retentionInDays=1)),
    Case("logs:DescribeLogStreams", "never", "group", _g()),
    Case("logs:GetLogEvents", "never", "stream", _g(logStreamName="existing")),
    Case("logs:FilterLogEvents", "never", "group", lambda e, g: {"logGroupIdentifier": g}),
    Case("logs:DescribeLogGroups", "never", "*"),
]

TRACE = "1-581cf771-a006649127e371903a2de979"
SEGMENT = {"name": "guard", "id": "70de5b6f19ff9a0a", "trace_id": TRACE, "start_time": 1.0, "end_time": 2.0}
XRAY = [
    Case("xray:PutTraceSegments", "tracing", "*", {"TraceSegmentDocuments": [json.dumps(SEGMENT)]}),
    Case(
        "xray:PutTelemetryRecords",
        "tracing",
        "*",
        lambda e, _: {"TelemetryRecords": [{"Timestamp": datetime.now(UTC)}]},
    ),
    Case("xray:GetSamplingRules", "never", "*"),
    Case("xray:GetSamplingTargets", "never", "*", {"SamplingStatisticsDocuments": []}),
    Case("xray:GetTraceSummaries", "never", "*", {"StartTime": datetime(2024, 1, 1), "EndTime": datetime(2024, 1, 2)}),
    Case("xray:BatchGetTraces", "never", "*", {"TraceIds": [TRACE]}),
]

CASES = DYNAMODB + SQS + KINESIS + S3 + LOGS + XRAY
DATA_CASES = DYNAMODB + SQS + KINESIS + S3 + XRAY


def test_every_mapped_operation_has_a_case_and_every_granted_action_is_reachable() -> None:
    assert {(c.service, c.op) for c in CASES} == set(iam_guard.OPERATIONS)
    assert len(iam_guard.OPERATIONS) == 82
    # every action derive/iam.py grants is one a mapped operation needs (else no call could use it) ...
    assert {c.action for c in CASES} >= GRANTED
    # ... and every case the tests call granted is granted by derive/iam.py, the rest by none of it
    for case in CASES:
        assert (case.action in GRANTED) == (case.grant != "never"), case.id


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda c: c.id)
def test_each_operation_is_allowed_exactly_as_derive_iam_grants_it(env: Env, case: Case) -> None:
    ctx = case.setup(env)
    if case.grant == "never":
        for function in FUNCTIONS:
            message = assert_refused(run(env.policy(function), lambda: case.call(env, ctx)), case.action, case.resource)
            refused = "s3 operations" if case.service == "s3" else case.action
            assert f"lambdakit does not grant {refused} {NOT_GRANTED}" in message
            assert f"lambdakit: {function} called {case.service}:{case.op}" in message
        return
    if case.grant == "tracing":  # every function is granted it; a policy without the Tracing statement is not
        for function in FUNCTIONS:
            assert_allowed(run(env.policy(function), lambda: case.call(env, ctx)), case.action)
        policy = env.policy("nothing")
        untraced = replace(policy, grants=tuple(g for g in policy.grants if not set(g.actions) & set(iam.TRACING)))
        message = assert_refused(run(untraced, lambda: case.call(env, ctx)), case.action, "*")
        assert "has no Tracing statement allowing" in message
        return
    allowed = {"reads": ["reader"], "writes": ["writer"], "reads or writes": ["reader", "writer"]}[case.grant]
    for function in FUNCTIONS:
        if function in allowed:
            continue
        message = assert_refused(run(env.policy(function), lambda: case.call(env, ctx)), case.action, case.resource)
        grant = "writes" if case.grant == "writes" else "reads"
        assert f"add {grant}=[{case.label}] to @lk.route on {function}" in message
        if case.needs:
            assert f"(which {case.service}:{case.op} needs)" in message
    out = run(env.policy(allowed[0]), lambda: case.call(env, ctx))
    assert_allowed(out, case.action)
    assert case.resource in {c.resource for c in out.calls}


@pytest.mark.parametrize("case", LOGS, ids=lambda c: c.id)
def test_each_logs_operation_is_allowed_on_the_functions_own_log_group_only(env: Env, case: Case) -> None:
    def as_(function: str, group_of: str) -> Outcome:
        return run(env.policy(function), lambda: case.call(env, env.log_group(group_of)))

    for function in FUNCTIONS:
        own = env.log_group(function)
        if case.grant == "own log group":
            assert_allowed(as_(function, function), case.action)
            theirs = "writer" if function != "writer" else "reader"
            out = as_(function, theirs)
            resource = out.calls[-1].resource if out.calls else None
            assert resource is not None and resource.startswith(_group(theirs) + ":")
            message = assert_refused(out, case.action, resource)
            assert f"may write only its own log group {own}, not {resource}" in message
            continue
        out = as_(function, function)
        resource = out.calls[-1].resource if out.calls else None
        message = assert_refused(out, case.action, resource)
        expected = {"stream": f"{_group(function)}:log-stream:", "group": f"{_group(function)}:*", "*": "*"}
        assert resource is not None and resource.startswith(expected[str(case.resource)])
        assert f"lambdakit does not grant {case.action} {NOT_GRANTED}" in message


# -- batches and transactions: every table must be allowed --------------------------------------------------


def test_a_batch_write_across_two_tables_is_refused_when_one_is_not_declared(env: Env) -> None:
    mine, theirs = uuid.uuid4().hex, uuid.uuid4().hex
    out = run(
        env.policy("writer"),
        lambda: env.ddb.batch_write_item(
            RequestItems={
                "guard_ledger": [{"PutRequest": {"Item": _key(mine)}}],
                "guard_other": [{"PutRequest": {"Item": _key(theirs)}}],
            }
        ),
    )
    message = assert_refused(out, "dynamodb:BatchWriteItem", OTHER)
    assert "add writes=[other] to @lk.route on writer" in message
    assert [(c.resource, c.allowed) for c in out.calls] == [(LEDGER, True), (OTHER, False)]
    # refused whole: neither table was written
    assert "Item" not in env.ddb.get_item(TableName="guard_ledger", Key=_key(mine))
    assert "Item" not in env.ddb.get_item(TableName="guard_other", Key=_key(theirs))


def test_a_batch_get_across_two_tables_is_refused_when_one_is_not_declared(env: Env) -> None:
    out = run(
        env.policy("reader"),
        lambda: env.ddb.batch_get_item(
            RequestItems={"guard_ledger": {"Keys": [_key("a")]}, "guard_other": {"Keys": [_key("b")]}}
        ),
    )
    assert "add reads=[other] to @lk.route on reader" in assert_refused(out, "dynamodb:BatchGetItem", OTHER)


def test_a_transaction_across_two_tables_is_refused_when_one_is_not_declared(env: Env) -> None:
    mine, theirs = uuid.uuid4().hex, uuid.uuid4().hex
    out = run(
        env.policy("writer"),
        lambda: env.ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "guard_ledger", "Item": _key(mine)}},
                {"Put": {"TableName": LEDGER, "Item": _key(uuid.uuid4().hex)}},  # by ARN: the same table, once
                {"Delete": {"TableName": "guard_other", "Key": _key(theirs)}},
            ]
        ),
    )
    message = assert_refused(out, "dynamodb:DeleteItem", OTHER)
    assert "add writes=[other] to @lk.route on writer" in message
    assert "(which dynamodb:TransactWriteItems needs)" in message
    assert [(c.action, c.resource, c.allowed) for c in out.calls] == [
        ("dynamodb:PutItem", LEDGER, True),
        ("dynamodb:DeleteItem", OTHER, False),
    ]
    assert "Item" not in env.ddb.get_item(TableName="guard_ledger", Key=_key(mine))


def test_a_transaction_needs_the_action_of_each_item(env: Env) -> None:
    # reads= grants ConditionCheckItem but not PutItem: the Put refuses the whole transaction
    key = env.put()
    out = run(
        env.policy("reader"),
        lambda: env.ddb.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": "guard_ledger",
                        "Key": _key(key),
                        "ConditionExpression": "attribute_exists(id)",
                    }
                },
                {"Put": {"TableName": "guard_ledger", "Item": _key(uuid.uuid4().hex)}},
            ]
        ),
    )
    assert "add writes=[ledger] to @lk.route on reader" in assert_refused(out, "dynamodb:PutItem", LEDGER)
    assert out.calls[0] == Call("dynamodb:TransactWriteItems", "dynamodb:ConditionCheckItem", LEDGER, True)


def test_paging_checks_every_page(env: Env) -> None:
    for _ in range(3):
        env.put(owner="pager")
    pages = run(
        env.policy("reader"),
        lambda: list(
            env.ddb.get_paginator("scan").paginate(TableName="guard_ledger", PaginationConfig={"PageSize": 1})
        ),
    )
    assert len(pages.result) >= 3 and pages.denials == []
    assert len(pages.calls) == len(pages.result) and {c.operation for c in pages.calls} == {"dynamodb:Scan"}
    refused = run(
        env.policy("writer"),
        lambda: list(
            env.ddb.get_paginator("query").paginate(
                TableName="guard_ledger",
                IndexName="by_owner",
                KeyConditionExpression="#o = :o",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":o": {"S": "pager"}},
            )
        ),
    )
    assert "add reads=[ledger]" in assert_refused(refused, "dynamodb:Query", f"{LEDGER}/index/by_owner")


# -- fail closed -----------------------------------------------------------------------------------------------


def _partiql(env: Env) -> Any:
    return env.ddb.execute_statement(Statement='SELECT * FROM "guard_ledger"')


def test_an_operation_the_check_cannot_map_is_refused_even_on_a_declared_table(env: Env) -> None:
    env.put()
    out = run(env.policy("reader"), lambda: _partiql(env))  # reader declares reads=[ledger]
    message = assert_refused(out, "dynamodb:ExecuteStatement", None)
    assert "lambdakit: reader called dynamodb:ExecuteStatement, which lambdakit's local IAM check cannot map" in message
    assert "the check fails closed" in message
    assert "lambdakit does not grant dynamodb:ExecuteStatement to functions at all" in message
    assert "reads= of an lk.Table grants BatchGetItem, ConditionCheckItem, GetItem, Query, Scan" in message
    assert ("dynamodb", "ExecuteStatement") not in iam_guard.OPERATIONS


def test_the_unmapped_case_above_would_catch_a_guard_that_allowed_unmapped_calls(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The mutation: the guard's branch for an unmapped operation lets the call through instead of refusing it.
    real = iam_guard._deny

    def allow_unmapped(policy: Policy, model: Any, context: Any, denials: Any, calls: Any, refusal: Any) -> None:
        if refusal.mapped:
            real(policy, model, context, denials, calls, refusal)

    monkeypatch.setattr(iam_guard, "_deny", allow_unmapped)
    env.put()
    out = run(env.policy("reader"), lambda: _partiql(env))
    assert out.error is None and out.result["Items"]  # the PartiQL read went through: the test above fails
    monkeypatch.undo()
    assert run(env.policy("reader"), lambda: _partiql(env)).error is not None


@pytest.mark.parametrize(
    ("service", "call", "operation"),
    [
        ("sns", lambda c: c.list_topics(), "sns:ListTopics"),
        ("lambda", lambda c: c.list_functions(), "lambda:ListFunctions"),
        ("sts", lambda c: c.get_session_token(), "sts:GetSessionToken"),
        ("dynamodbstreams", lambda c: c.list_streams(), "dynamodb:ListStreams"),
        (
            "kinesis",
            lambda c: c.increase_stream_retention_period(StreamName="guard_clicks", RetentionPeriodHours=48),
            "kinesis:IncreaseStreamRetentionPeriod",
        ),
        (
            "sqs",
            lambda c: c.tag_queue(
                QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/guard_jobs", Tags={"a": "b"}
            ),
            "sqs:TagQueue",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_calls_of_services_and_operations_lambdakit_does_not_map_are_refused(
    env: Env, service: str, call: Callable[[Any], Any], operation: str
) -> None:
    client = boto3.client(service)  # type: ignore[call-overload]
    for function in FUNCTIONS:
        out = run(env.policy(function), lambda: call(client))
        message = assert_refused(out, operation, None)
        assert f"called {operation}, which lambdakit's local IAM check cannot map" in message
        assert "does not grant" in message and NOT_GRANTED in message
    assert call(client)  # made outside a function, the same call is not checked (and moto answers it)


@pytest.mark.parametrize(
    ("call", "action", "named_by"),
    [
        (lambda e: e.kinesis.get_records(ShardIterator="b3BhcXVl"), "kinesis:GetRecords", "StreamARN or StreamName"),
        (lambda e: e.kinesis.list_shards(NextToken="opaque-token"), "kinesis:ListShards", "StreamARN or StreamName"),
        (lambda e: e.kinesis.describe_stream_summary(StreamId="guard"), "kinesis:DescribeStreamSummary", "StreamARN"),
    ],
    ids=["opaque-shard-iterator", "list-shards-page", "stream-id"],
)
def test_a_mapped_call_whose_resource_cannot_be_identified_is_refused(
    env: Env, call: Callable[[Env], Any], action: str, named_by: str
) -> None:
    out = run(env.policy("reader"), lambda: call(env))  # reader declares reads=[clicks]: still refused
    message = assert_refused(out, action, None)
    assert "on a stream lambdakit cannot identify from the call's parameters" in message
    assert "the check fails closed" in message and named_by in message
    assert "then declare the stream in reads= on @lk.route on reader" in message


def test_get_caller_identity_is_the_one_call_let_through_whatever_the_policy(env: Env) -> None:
    assert set(iam_guard.FREE) == {("sts", "GetCallerIdentity")}
    assert all(reason for reason in iam_guard.FREE.values())
    out = run(env.policy("nothing"), lambda: env.sts.get_caller_identity())
    assert out.error is None and out.calls == [Call("sts:GetCallerIdentity", None, None, True)]
    assert not iam_guard.Policy.allows(env.policy("reader"), "dynamodb:GetItem", None)


def test_operations_lambdakit_never_grants_leave_the_resource_alone(env: Env) -> None:
    for function in FUNCTIONS:
        for call in (
            lambda: env.ddb.delete_table(TableName="guard_ledger"),
            lambda: env.sqs.delete_queue(QueueUrl=env.url(jobs)),
            lambda: env.kinesis.delete_stream(StreamName="guard_clicks"),
        ):
            assert NOT_GRANTED in run(env.policy(function), call).message
    assert env.ddb.describe_table(TableName="guard_ledger")["Table"]["TableStatus"] == "ACTIVE"
    assert env.sqs.get_queue_url(QueueName="guard_jobs")["QueueUrl"] == env.url(jobs)
    assert env.kinesis.describe_stream_summary(StreamName="guard_clicks")["StreamDescriptionSummary"]


# -- what lambdakit's own runtime calls -------------------------------------------------------------------------


def _handles_as(env: Env, function: str, work: Callable[[], Any]) -> Outcome:
    """Run lambdakit's handles as `function` (the backend points their LK_<NAME> variables at its resources)."""
    return run(env.policy(function), work)


def test_the_handles_make_only_calls_their_declarations_grant(env: Env) -> None:
    key = uuid.uuid4().hex

    def writes() -> None:
        ledger.put({"id": key, "owner": "handles", "n": 1.5})
        ledger.update({"id": key}, set={"n": 2})
        ledger.put({"id": key + "-gone", "owner": "handles"})
        ledger.delete(id=key + "-gone")
        jobs.send({"n": 1})
        orders.send({"n": 1}, group="g")
        orders.send({"n": 2}, group="g", dedup_id="d-1")
        clicks.put({"n": 1}, partition_key="p")
        clicks.put({"n": 2})

    out = _handles_as(env, "writer", writes)
    assert out.error is None and out.denials == []
    assert [(c.operation, c.resource) for c in out.calls] == [
        ("dynamodb:PutItem", LEDGER),
        ("dynamodb:UpdateItem", LEDGER),
        ("dynamodb:PutItem", LEDGER),
        ("dynamodb:DeleteItem", LEDGER),
        ("sqs:SendMessage", JOBS),
        ("sqs:SendMessage", ORDERS),
        ("sqs:SendMessage", ORDERS),
        ("kinesis:PutRecord", CLICKS),
        ("kinesis:PutRecord", CLICKS),
    ]
    assert {c.action for c in out.calls} <= set(iam.TABLE_WRITE + iam.QUEUE_WRITE + iam.STREAM_WRITE)

    def reads() -> list[Any]:
        return [
            ledger.get(id=key),
            ledger.query(index="by_owner", owner="handles"),
            ledger.query(id=key),
            ledger.scan(limit=2),
        ]

    got = _handles_as(env, "reader", reads)
    assert got.error is None and got.denials == [] and got.result[0] == {"id": key, "owner": "handles", "n": 2}
    assert [(c.operation, c.resource) for c in got.calls] == [
        ("dynamodb:GetItem", LEDGER),
        ("dynamodb:Query", f"{LEDGER}/index/by_owner"),
        ("dynamodb:Query", LEDGER),
        ("dynamodb:Scan", LEDGER),
    ]
    # and the other way round: a write through a read-only declaration, any read through none
    assert (
        "add writes=[ledger] to @lk.route on reader"
        in _handles_as(env, "reader", lambda: ledger.put({"id": "x"})).message
    )
    assert (
        "add reads=[ledger] to @lk.route on nothing" in _handles_as(env, "nothing", lambda: ledger.get(id=key)).message
    )
    assert "add writes=[jobs] to @lk.route on reader" in _handles_as(env, "reader", lambda: jobs.send({})).message
    assert "add writes=[clicks] to @lk.route on nothing" in _handles_as(env, "nothing", lambda: clicks.put({})).message


def test_a_queue_handle_without_its_url_looks_it_up_which_no_function_is_granted(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deployed, a function gets LK_<QUEUE> only for the queues it declares; without it the handle asks SQS for
    # the URL (sqs:GetQueueUrl), which derive/iam.py grants no function: the refusal says to declare the queue.
    monkeypatch.delenv(jobs.env)
    data.forget_names()
    out = run(env.policy("nothing"), lambda: jobs.send({}))
    message = assert_refused(out, "sqs:GetQueueUrl", JOBS)
    assert "called sqs:GetQueueUrl on queue 'guard_jobs'" in message
    assert "declare the queue in writes= (or reads=) on @lk.route on nothing" in message
    assert f"given its URL in {jobs.env}" in message
    data.forget_names()


def test_a_consumer_is_granted_its_trigger_and_its_failure_queue(env: Env) -> None:
    work = env.policy("record_task")
    url = env.url(tasks)
    assert_allowed(run(work, lambda: env.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)), "sqs:ReceiveMessage")
    assert_allowed(run(work, lambda: env.sqs.get_queue_attributes(QueueUrl=url)), "sqs:GetQueueAttributes")
    receipt = env.receipt(tasks)
    assert_allowed(run(work, lambda: env.sqs.delete_message(QueueUrl=url, ReceiptHandle=receipt)), "sqs:DeleteMessage")
    # the trigger statement is not reads=: no ChangeMessageVisibility, and no sending to its own source
    receipt = env.receipt(tasks)
    out = run(work, lambda: env.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0))
    assert "add reads=[tasks] to @lk.consume on record_task" in out.message
    assert "add writes=[tasks]" in run(work, lambda: env.sqs.send_message(QueueUrl=url, MessageBody="{}")).message
    clicker = env.policy("count_click")
    it = env.iterator()
    assert_allowed(run(clicker, lambda: env.kinesis.get_records(ShardIterator=it)), "kinesis:GetRecords")
    assert (
        "add writes=[clicks]"
        in run(clicker, lambda: env.kinesis.put_record(StreamName="guard_clicks", Data=b"1", PartitionKey="p")).message
    )
    failures = env.plan.of(env.spec("count_click")).failure_queue
    assert failures is not None
    failure_url = env.backend.queue_url_named(failures.local_name)
    assert_allowed(
        run(clicker, lambda: env.sqs.send_message(QueueUrl=failure_url, MessageBody="{}")), "sqs:SendMessage"
    )


def test_an_idempotent_consumer_uses_its_idempotency_table_within_its_grant(env: Env) -> None:
    idempotency = env.plan.of(env.spec("record_task")).idempotency_table
    assert idempotency is not None
    table = env.backend.arn("dynamodb", idempotency.local_name)
    with Client(env.app, backend=env.backend) as client:
        client.send(tasks, {"id": "t-1"})
        client.send(tasks, {"id": "t-2", "fail": True})
        client.drain()
        runs = [i for i in client.invocations if i.function == "record_task"]
    assert runs and all(not i.denied for i in runs)
    calls = [c for i in runs for c in i.calls]
    assert all(c.allowed for c in calls)
    used = {c.action for c in calls if c.resource == table}
    # Powertools: PutItem (in progress), UpdateItem (done), DeleteItem (failed, so a retry runs again)
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= used <= set(iam.IDEMPOTENCY)
    assert ("dynamodb:PutItem", LEDGER) in {(c.action, c.resource) for c in calls}


def test_parameters_a_mapping_cannot_read_leave_the_resource_unidentified(env: Env) -> None:
    model = env.ddb.meta.service_model.operation_model
    assert iam_guard.requested(model("BatchWriteItem"), {}, REGION, ACCOUNT) == [("dynamodb:BatchWriteItem", None)]
    bad = {"TransactItems": ["not an item"]}
    assert iam_guard.requested(model("TransactWriteItems"), bad, REGION, ACCOUNT) == [
        ("dynamodb:TransactWriteItems", None)
    ]
    assert iam_guard.requested(model("ExecuteStatement"), {"Statement": "SELECT"}, REGION, ACCOUNT) is None
    out = run(env.policy("writer"), lambda: env.ddb.batch_write_item(RequestItems={}))
    message = assert_refused(out, "dynamodb:BatchWriteItem", None)
    assert "on a table lambdakit cannot identify from the call's parameters" in message


def test_a_table_no_declaration_names_and_an_authorizer_that_writes_are_told_apart(env: Env) -> None:
    ghost = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/guard_ghost"
    out = run(env.policy("writer"), lambda: env.ddb.get_item(TableName="guard_ghost", Key=_key("a")))
    message = assert_refused(out, "dynamodb:GetItem", ghost)
    assert f"touches {ghost}, which no lk.Table, lk.Queue or lk.Stream in this app declares" in message
    gate_policy = env.policy("gate")
    assert_allowed(run(gate_policy, lambda: env.ddb.get_item(TableName=T, Key=_key("a"))), "dynamodb:GetItem")
    out = run(gate_policy, lambda: env.ddb.put_item(TableName=T, Item=_new()))
    assert "gate may not write table 'guard_ledger': an authorizer only reads" in assert_refused(
        out, "dynamodb:PutItem", LEDGER
    )
    out = run(gate_policy, lambda: env.sqs.receive_message(QueueUrl=JOBS_URL))
    assert "may not use queue 'guard_jobs': an authorizer reads tables only" in assert_refused(
        out, "sqs:ReceiveMessage", JOBS
    )
    # a granted action on a resource of another kind (a hand-made ARN): no declaration of that kind grants it
    odd = env.policy("writer").explain(Refusal("kinesis:PutRecord", "kinesis:PutRecord", LEDGER, True))
    assert odd == "called kinesis:PutRecord on table 'guard_ledger'; no declaration of a table grants kinesis:PutRecord"


def test_queue_urls_and_shard_iterators_name_their_resource() -> None:
    assert iam_guard.queue_arn(JOBS_URL, "eu-west-1", "1") == JOBS
    assert (
        iam_guard.queue_arn("https://sqs.eu-west-1.amazonaws.com/999/q", REGION, ACCOUNT)
        == "arn:aws:sqs:eu-west-1:999:q"
    )
    assert iam_guard.queue_arn("https://localhost/q", REGION, ACCOUNT) == f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
    assert iam_guard._shard_iterator_stream("Z3VhcmRfY2xpY2tzOnNoYXJkSWQtMDAwMDAwMDAwMDAwOjA=\n") == "guard_clicks"
    for opaque in ("not base64!", "b3BhcXVl", "OmE6Yg=="):  # not base64, no ':', an empty stream name
        assert iam_guard._shard_iterator_stream(opaque) is None
