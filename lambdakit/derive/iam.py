"""Each function's least-privilege IAM policy, derived from its declarations alone.

This is the one place that decides which actions a declaration grants. The
resources are CloudFormation `Fn::Sub` strings (`${OrdersTable}` etc.), so the
same statements render into the template and resolve to concrete ARNs for the
local IAM check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdakit.core.names import camel
from lambdakit.declare.resources import Queue, Resource, Stream, Table
from lambdakit.derive.plan import FunctionPlan, QueuePlan

TABLE_READ = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
TABLE_WRITE = (
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
QUEUE_WRITE = ("sqs:SendMessage",)
QUEUE_READ = ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage")
QUEUE_TRIGGER = ("sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage")
STREAM_WRITE = ("kinesis:PutRecord", "kinesis:PutRecords")
STREAM_READ = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
STREAM_TRIGGER = STREAM_READ
IDEMPOTENCY = ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")
TRACING = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")

_ARN = "arn:${AWS::Partition}"


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def render(self) -> dict[str, Any]:
        resources = [{"Fn::Sub": r} if "${" in r else r for r in self.resources]
        return {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": resources[0] if len(resources) == 1 else resources,
        }


def table_arn(table: Table | str) -> str:
    ref = table.logical_id if isinstance(table, Table) else table
    return f"{_ARN}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/${{{ref}}}"


def arn(resource: Resource) -> str:
    if isinstance(resource, Table):
        return table_arn(resource)
    return _arn_of(resource.logical_id)


def _arn_of(logical_id: str) -> str:
    """The `Fn::Sub` form of a resource's ARN attribute (queues, streams, log groups)."""
    return f"${{{logical_id}.Arn}}"


def _data(verb: str, res: Resource) -> Statement:
    sid = f"{verb}{camel(res.name)}{type(res).__name__}"
    if isinstance(res, Table):
        resources: tuple[str, ...] = (table_arn(res),)
        if verb == "Read" and res.indexes:
            resources += (table_arn(res) + "/index/*",)
        return Statement(sid, TABLE_READ if verb == "Read" else TABLE_WRITE, resources)
    if isinstance(res, Queue):
        return Statement(sid, QUEUE_READ if verb == "Read" else QUEUE_WRITE, (arn(res),))
    if isinstance(res, Stream):
        return Statement(sid, STREAM_READ if verb == "Read" else STREAM_WRITE, (arn(res),))
    raise TypeError(res)


def statements(fn: FunctionPlan) -> list[Statement]:
    """The function's whole policy, in a fixed order: its trigger, its data, then running it."""
    out: list[Statement] = []
    spec = fn.spec
    if fn.trigger is not None:
        if isinstance(fn.trigger.source, QueuePlan):
            out.append(Statement("ConsumeTriggerQueue", QUEUE_TRIGGER, (_arn_of(fn.trigger.source.logical_id),)))
        else:
            out.append(Statement("ConsumeTriggerStream", STREAM_TRIGGER, (_arn_of(fn.trigger.source.logical_id),)))
    if fn.failure_queue is not None:
        out.append(Statement("SendFailedRecords", QUEUE_WRITE, (_arn_of(fn.failure_queue.logical_id),)))
    if fn.idempotency_table is not None:
        out.append(Statement("Idempotency", IDEMPOTENCY, (table_arn(fn.idempotency_table.logical_id),)))
    out += [_data("Read", r) for r in spec.reads]
    out += [_data("Write", r) for r in spec.writes]
    out.append(Statement("WriteOwnLogs", LOGS, (_arn_of(fn.log_group_id),)))
    # X-Ray has no resource-level permissions: "*" is the only resource AWS accepts here.
    out.append(Statement("Tracing", TRACING, ("*",)))
    return out


def policy_document(fn: FunctionPlan) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [s.render() for s in statements(fn)]}
