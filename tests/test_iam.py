"""Each function's policy is exactly the minimal set its declarations call for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdakit.cli import main
from lambdakit.declare.app import App
from lambdakit.derive import iam
from lambdakit.derive.plan import plan_of
from lambdakit.discovery import discover
from tests.apps import make_app, write_package

SOURCE = """
import lambdakit as lk

orders = lk.Table("orders", key="order_id")
customers = lk.Table("customers", key="customer_id", sort_key="since", indexes={"by_email": "email"})
audit = lk.Queue("audit")
clicks = lk.Stream("clicks")

@lk.route("GET", "/orders/{order_id}", reads=[orders])
def get_order(order_id: str) -> dict: return {}

@lk.route("POST", "/orders", writes=[orders, audit], status=201)
def create_order(body: dict) -> dict: return body

@lk.route("GET", "/customers", reads=[customers])
def find(email: str) -> list: return []

@lk.route("POST", "/clicks", writes=[clicks])
def click(body: dict) -> None: ...

@lk.route("POST", "/poll", reads=[audit, clicks])
def poll(body: dict) -> None: ...

@lk.consume(audit, writes=[customers])
def log_audit(message: dict) -> None: ...
"""

TABLE = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
RUNNING = {
    ("logs:CreateLogStream", "{fn}LogGroup.Arn"),
    ("logs:PutLogEvents", "{fn}LogGroup.Arn"),
    ("xray:PutTelemetryRecords", "*"),
    ("xray:PutTraceSegments", "*"),
}


def grants(app: App, name: str) -> set[tuple[str, str]]:
    """(action, resource) pairs of one function's policy, resources in their Fn::Sub form."""
    out = set()
    for st in iam.statements(plan_of(app).function(name)):
        for action in st.actions:
            for res in st.resources:
                out.add((action, res.replace(TABLE, "table/").replace("${", "").replace("}", "")))
    return out


def running(fn: str) -> set[tuple[str, str]]:
    return {(a, r.format(fn=fn)) for a, r in RUNNING}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return make_app(tmp_path_factory.mktemp("iam"), {"app.py": SOURCE})


def test_table_reader(app: App) -> None:
    assert grants(app, "get_order") == running("GetOrder") | {
        (a, "table/OrdersTable")
        for a in (
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:ConditionCheckItem",
        )
    }


def test_reader_of_an_indexed_table_gets_its_indexes(app: App) -> None:
    reads = {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:ConditionCheckItem",
    }
    assert grants(app, "find") == running("Find") | {(a, "table/CustomersTable") for a in reads} | {
        (a, "table/CustomersTable/index/*") for a in reads
    }


def test_table_and_queue_writer(app: App) -> None:
    assert grants(app, "create_order") == running("CreateOrder") | {
        (a, "table/OrdersTable")
        for a in (
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:ConditionCheckItem",
        )
    } | {("sqs:SendMessage", "AuditQueue.Arn")}


def test_stream_writer(app: App) -> None:
    assert grants(app, "click") == running("Click") | {
        ("kinesis:PutRecord", "ClicksStream.Arn"),
        ("kinesis:PutRecords", "ClicksStream.Arn"),
    }


def test_reading_a_queue_or_stream_grants_polling_it_by_hand(app: App) -> None:
    assert grants(app, "poll") == running("Poll") | {
        (a, "AuditQueue.Arn")
        for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility")
    } | {
        (a, "ClicksStream.Arn")
        for a in (
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
        )
    }


def test_queue_consumer_gets_its_trigger_and_its_writes_only(app: App) -> None:
    writes = (
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
    )
    assert grants(app, "log_audit") == running("LogAudit") | {
        (a, "AuditQueue.Arn") for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
    } | {(a, "table/CustomersTable") for a in writes}


def test_no_function_can_write_a_table_it_only_reads(app: App) -> None:
    for spec in app.functions:
        written = {r.logical_id for r in spec.writes}
        for st in iam.statements(plan_of(app).of(spec)):
            if set(st.actions) & set(iam.TABLE_WRITE) - set(iam.TABLE_READ):
                assert all(any(w in res for w in written) for res in st.resources), (spec.name, st)
    assert not set(iam.TABLE_READ) & {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }


def test_every_statement_names_a_resource_except_xray(app: App) -> None:
    for spec in app.functions:
        for st in iam.statements(plan_of(app).of(spec)):
            if "*" in st.resources:
                assert set(st.actions) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
            for res in st.resources:
                assert res == "*" or "${" in res


def test_policies_are_deterministic(tmp_path: Path) -> None:
    first = [iam.policy_document(fn) for fn in plan_of(make_app(tmp_path / "a", {"app.py": SOURCE})).functions]
    second = [iam.policy_document(fn) for fn in plan_of(make_app(tmp_path / "b", {"app.py": SOURCE})).functions]
    assert json.dumps(first) == json.dumps(second)


def test_policy_command_prints_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = write_package(tmp_path, {"app.py": SOURCE})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["policy", name, "get_order"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["Version"] == "2012-10-17"
    assert [s["Sid"] for s in doc["Statement"]] == ["ReadOrdersTable", "WriteOwnLogs", "Tracing"]
    every = json.loads(CliRunner().invoke(main, ["policy", name]).output)
    assert set(every) == {s.name for s in discover(name).functions}
    missing = CliRunner().invoke(main, ["policy", name, "nope"])
    assert missing.exit_code == 2 and "no function 'nope'" in missing.output
