"""Storage first in the template: the gateway's integrations, their roles, the validator, the queues, the
event sources and the consumers' roles, checked on the SAM transform's output, and clean under cfn-lint
and checkov."""

from __future__ import annotations

from typing import Any

import pytest

from lambdakit.core.binding import http_plan
from lambdakit.declare.app import App
from lambdakit.derive.jsonschema import body_schema
from lambdakit.derive.template import build_template
from tests.apps import make_app
from tests.validate import cfn_lint, checkov, transform

APP = """
import lambdakit as lk
from pydantic import BaseModel, Field

service = lk.Service("ingest")
orders = lk.Table("orders", key="order_id")
audit = lk.Queue("audit", max_receive=7)
clicks = lk.Stream("clicks")

class NewOrder(BaseModel):
    sku: str = Field(min_length=1, max_length=40)
    qty: int = Field(gt=0, le=1000)

class Event(BaseModel):
    customer: str = Field(min_length=1, max_length=64)
    page: str

@lk.route("POST", "/orders", trigger="sqs", writes=[orders])
def import_order(body: NewOrder) -> None: ...

@lk.route("POST", "/bulk", trigger=lk.sqs(batch_size=100, window=20, max_concurrency=5, max_receive=3),
          writes=[orders], timeout=20)
def bulk_order(body: NewOrder) -> None: ...

@lk.route("POST", "/events", trigger=lk.sqs(fifo=True, group_by="customer"))
def ordered_event(body: Event) -> None: ...

@lk.route("POST", "/clicks", trigger=lk.kinesis(partition_key="customer", retries=4, max_age=600))
def record_click(body: Event) -> None: ...

@lk.route("POST", "/views", trigger="kinesis", idempotent=False)
def record_view(body: dict) -> None: ...

@lk.consume(audit, writes=[orders], batch_size=5)
def log_audit(message: dict) -> None: ...

@lk.consume(clicks, reads=[orders], idempotent=True)
def count_click(message: Event) -> None: ...
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[App, dict[str, Any]]:
    app = make_app(tmp_path_factory.mktemp("storage"), {"app.py": APP})
    return app, build_template(app)


@pytest.fixture(scope="module")
def out(built: tuple[App, dict[str, Any]]) -> dict[str, Any]:
    return transform(built[1])["Resources"]


@pytest.fixture(scope="module")
def checkov_failures(built: tuple[App, dict[str, Any]]) -> list[str]:
    return checkov(built[1])  # ~10 s: once for the module


def body(out: dict[str, Any]) -> dict[str, Any]:
    apis = [r for r in out.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert len(apis) == 1
    return apis[0]["Properties"]["Body"]


def esm(out: dict[str, Any], function: str) -> dict[str, Any]:
    found = [
        r["Properties"]
        for r in out.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping" and r["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert len(found) == 1, f"{function} needs exactly one event source mapping"
    return found[0]


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_sqs_route_is_an_aws_integration_with_its_own_role_and_validated_body(
    built: tuple[App, dict[str, Any]], out: dict[str, Any]
) -> None:
    api = body(out)
    op = api["paths"]["/orders"]["post"]
    integration = op["x-amazon-apigateway-integration"]
    assert integration["type"] == "aws" and integration["httpMethod"] == "POST"
    assert integration["uri"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:sqs:path/"
        "${AWS::AccountId}/${ImportOrderQueue.QueueName}"
    }
    assert integration["credentials"] == {"Fn::Sub": "${ImportOrderIngestRole.Arn}"}
    assert integration["passthroughBehavior"] == "never"  # no template for other media types: 415, not stored
    assert (
        integration["requestParameters"]["integration.request.header.Content-Type"]
        == "'application/x-www-form-urlencoded'"
    )
    assert integration["requestTemplates"] == {
        "application/json": (
            "Action=SendMessage&MessageBody=$util.urlEncode($input.body)&MessageAttribute.1.Name=lk-id"
            "&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=$context.requestId"
        )
    }
    assert "MessageId" in integration["responses"]["default"]["responseTemplates"]["application/json"]
    # Every status an integration response maps to has a method response (else API Gateway fails at runtime).
    mapped = {r["statusCode"] for r in integration["responses"].values()}
    assert mapped == {"202", "500", "503"} and mapped <= set(op["responses"])
    assert "400" in op["responses"]
    # No Lambda on the ingest path: no invoke permission, and the function is not the integration target.
    assert "ImportOrderPermission" not in out
    # The gateway validates the body with the model's draft-4 schema before anything is stored.
    assert op["x-amazon-apigateway-request-validator"] == "body"
    assert api["x-amazon-apigateway-request-validators"]["body"] == {
        "validateRequestBody": True,
        "validateRequestParameters": False,
    }
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    app, _ = built
    spec = app.function("import_order")
    model = http_plan(spec.func, (), spec.where).body.model  # type: ignore[union-attr]
    assert api["components"]["schemas"][ref.rsplit("/", 1)[1]] == body_schema(model)
    assert op["requestBody"]["required"] is True


def test_the_ingest_role_may_only_send_to_its_own_queue_or_put_to_its_own_stream(out: dict[str, Any]) -> None:
    role = out["ImportOrderIngestRole"]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert [(actions(s), s["Resource"]) for s in statements(role)] == [
        (["sqs:SendMessage"], {"Fn::Sub": "${ImportOrderQueue.Arn}"})
    ]
    assert [(actions(s), s["Resource"]) for s in statements(out["RecordClickIngestRole"])] == [
        (["kinesis:PutRecord"], {"Fn::Sub": "${RecordClickStream.Arn}"})
    ]


def test_queues_have_a_dlq_encryption_and_a_visibility_timeout_of_six_function_timeouts(out: dict[str, Any]) -> None:
    for queue, function, max_receive in (
        ("ImportOrderQueue", "ImportOrderFunction", 5),
        ("BulkOrderQueue", "BulkOrderFunction", 3),
        ("AuditQueue", "LogAuditFunction", 7),
    ):
        props = out[queue]["Properties"]
        dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert props["RedrivePolicy"]["maxReceiveCount"] == max_receive
        assert out[dlq]["Type"] == "AWS::SQS::Queue" and out[dlq]["Properties"]["SqsManagedSseEnabled"] is True
        # The DLQ keeps messages longer than the queue does (retention counts from the first enqueue).
        assert out[dlq]["Properties"]["MessageRetentionPeriod"] > props["MessageRetentionPeriod"]
        assert props["SqsManagedSseEnabled"] is True
        timeout = out[function]["Properties"]["Timeout"]
        window = esm(out, function).get("MaximumBatchingWindowInSeconds", 0)
        assert props["VisibilityTimeout"] >= 6 * timeout + window
    assert out["BulkOrderQueue"]["Properties"]["VisibilityTimeout"] == 6 * 20 + 20


def test_sqs_event_sources_report_item_failures_with_the_declared_batching(out: dict[str, Any]) -> None:
    plain = esm(out, "ImportOrderFunction")
    assert plain["EventSourceArn"] == {"Fn::GetAtt": ["ImportOrderQueue", "Arn"]}
    assert plain["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert plain["BatchSize"] == 10 and "MaximumBatchingWindowInSeconds" not in plain
    bulk = esm(out, "BulkOrderFunction")
    assert (bulk["BatchSize"], bulk["MaximumBatchingWindowInSeconds"], bulk["ScalingConfig"]) == (
        100,
        20,
        {"MaximumConcurrency": 5},
    )
    assert bulk["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    audit = esm(out, "LogAuditFunction")
    assert audit["EventSourceArn"] == {"Fn::GetAtt": ["AuditQueue", "Arn"]} and audit["BatchSize"] == 5
    assert audit["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_fifo_route_groups_by_the_named_field(out: dict[str, Any]) -> None:
    queue = out["OrderedEventQueue"]["Properties"]
    dlq = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert queue["FifoQueue"] is True and out[dlq]["Properties"]["FifoQueue"] is True
    template = body(out)["paths"]["/events"]["post"]["x-amazon-apigateway-integration"]["requestTemplates"]
    assert "&MessageGroupId=$util.urlEncode($input.path('$.customer'))" in template["application/json"]
    assert "&MessageDeduplicationId=$context.requestId" in template["application/json"]
    assert esm(out, "OrderedEventFunction")["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_kinesis_route_puts_records_keyed_by_the_field_or_the_request_id(out: dict[str, Any]) -> None:
    paths = body(out)["paths"]
    click = paths["/clicks"]["post"]["x-amazon-apigateway-integration"]
    assert click["uri"] == {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:kinesis:action/PutRecord"}
    assert click["credentials"] == {"Fn::Sub": "${RecordClickIngestRole.Arn}"}
    assert click["requestParameters"]["integration.request.header.Content-Type"] == "'application/x-amz-json-1.1'"
    request = click["requestTemplates"]["application/json"]["Fn::Sub"]
    assert '"StreamName": "${RecordClickStream}"' in request
    assert '"Data": "$util.base64Encode($input.body)"' in request
    assert "$input.path('$.customer')" in request
    view = paths["/views"]["post"]["x-amazon-apigateway-integration"]["requestTemplates"]["application/json"]
    assert '"PartitionKey": "$context.requestId"' in view["Fn::Sub"]
    assert {r["statusCode"] for r in click["responses"].values()} <= set(paths["/clicks"]["post"]["responses"])


def test_kinesis_consumers_bisect_retry_age_out_and_keep_failures(out: dict[str, Any]) -> None:
    click = esm(out, "RecordClickFunction")
    assert click["EventSourceArn"] == {"Fn::GetAtt": ["RecordClickStream", "Arn"]}
    assert click["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert click["BisectBatchOnFunctionError"] is True
    assert (click["MaximumRetryAttempts"], click["MaximumRecordAgeInSeconds"]) == (4, 600)
    assert click["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["RecordClickFailureQueue", "Arn"]}
    assert click["StartingPosition"] == "TRIM_HORIZON"  # a storage-first stream: read what arrived before
    assert out["RecordClickFailureQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    assert out["RecordClickStream"]["Properties"]["StreamEncryption"]["EncryptionType"] == "KMS"
    consumer = esm(out, "CountClickFunction")
    assert consumer["EventSourceArn"] == {"Fn::GetAtt": ["ClicksStream", "Arn"]}
    assert consumer["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["CountClickFailureQueue", "Arn"]
    }


def test_a_kinesis_consumers_role_reads_its_stream_sends_its_failures_and_nothing_else(out: dict[str, Any]) -> None:
    granted = {sid["Sid"]: (actions(sid), sid["Resource"]) for sid in statements(out["CountClickRole"])}
    reads, stream = granted.pop("ConsumeTriggerStream")
    assert stream == {"Fn::Sub": "${ClicksStream.Arn}"}
    assert {
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:ListShards",
    } <= set(reads)
    assert all(a.startswith("kinesis:") for a in reads)
    assert granted.pop("SendFailedRecords") == (["sqs:SendMessage"], {"Fn::Sub": "${CountClickFailureQueue.Arn}"})
    idem_actions, idem_table = granted.pop("Idempotency")
    assert "${CountClickIdempotencyTable}" in idem_table["Fn::Sub"]
    assert set(idem_actions) <= {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    read_orders, table = granted.pop("ReadOrdersTable")
    assert "${OrdersTable}" in table["Fn::Sub"] and all(a.startswith("dynamodb:") for a in read_orders)
    logs, tracing = granted.pop("WriteOwnLogs"), granted.pop("Tracing")
    assert logs[1] == {"Fn::Sub": "${CountClickLogGroup.Arn}"} and tracing[1] == "*"
    assert all(a.startswith("xray:") for a in tracing[0])
    assert granted == {}, f"unexpected grants: {granted}"
    # SAM adds no managed execution role (with Resource "*") since lambdakit gives each function its own.
    assert "ManagedPolicyArns" not in out["CountClickRole"]["Properties"]


def test_idempotent_consumers_get_their_table_and_its_name(out: dict[str, Any]) -> None:
    for function, idempotent in (
        ("ImportOrder", True),
        ("RecordClick", True),
        ("CountClick", True),
        ("RecordView", False),
        ("LogAudit", False),
    ):
        env = out[function + "Function"]["Properties"]["Environment"]["Variables"]
        assert (function + "IdempotencyTable" in out) is idempotent
        assert (env.get("LK_IDEMPOTENCY_TABLE") == {"Ref": function + "IdempotencyTable"}) is idempotent
    table = out["ImportOrderIdempotencyTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_cfn_lint_is_clean_on_sam_and_transformed(built: tuple[App, dict[str, Any]]) -> None:
    assert cfn_lint(built[1], "sam") == []
    assert cfn_lint(transform(built[1]), "transformed") == []


def test_checkov_finds_nothing_on_the_sam_template(checkov_failures: list[str]) -> None:
    assert checkov_failures == []


def test_the_example_apps_storage_routes_pass_the_same_checks() -> None:
    from lambdakit.discovery import discover

    app = discover("example_app.shop")
    resources = transform(build_template(app))["Resources"]
    assert esm(resources, "ImportOrderFunction")["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert resources["ImportOrderQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3
    assert esm(resources, "RecordClickFunction")["BisectBatchOnFunctionError"] is True
