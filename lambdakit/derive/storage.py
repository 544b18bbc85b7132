"""Storage first: API Gateway writes the body straight into SQS or Kinesis; a consumer drains it.

The template fragments of storage first live here: the gateway's service
integration and the role it assumes, the queue and its dead-letter queue, the
stream and its failure queue, the consumer's event source, the idempotency
table, and the build checks that keep a valid body storable. What each
resource is called and how it is configured is decided in `derive.plan`.
"""

from __future__ import annotations

from typing import Any

from lambdakit.core.names import DeclarationError
from lambdakit.declare.app import App
from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.resources import Queue, Stream
from lambdakit.declare.triggers import KinesisOptions, SqsOptions
from lambdakit.derive import iam
from lambdakit.derive.plan import KEEP_FAILED_SECONDS, FunctionPlan, QueuePlan, StreamPlan, TablePlan
from lambdakit.derive.skips import QUEUE_SKIPS, TABLE_SKIPS, skips


def _error(code: str, message: str) -> str:
    return '{"error": {"code": "' + code + '", "message": "' + message + '"}, "request_id": "$context.requestId"}'


def _responses(ok_template: str, refusal_is_throttling: bool = False) -> dict[str, Any]:
    """Integration responses, keyed by the regex matched against the service's status code.

    A refusal from SQS or Kinesis (throttling, size, permissions) must never
    look like success: the caller is told the request was not stored. Kinesis
    signals throttling (ProvisionedThroughputExceeded) as a 400, so there a 4xx
    tells the caller to retry.
    """
    refused = (
        ("503", "service_unavailable", "the request was not stored; retry")
        if refusal_is_throttling
        else ("500", "internal_error", "the request was not stored")
    )
    return {
        "default": {"statusCode": "202", "responseTemplates": {"application/json": ok_template}},
        "4\\d{2}": {
            "statusCode": refused[0],
            "responseTemplates": {"application/json": _error(refused[1], refused[2])},
        },
        "5\\d{2}": {
            "statusCode": "503",
            "responseTemplates": {
                "application/json": _error("service_unavailable", "the request was not stored; retry")
            },
        },
    }


def method_responses() -> dict[str, Any]:
    """The method responses a storage-first operation declares: every status its integration maps to."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "202": {"description": "stored; the body holds the message id (SQS) or sequence number (Kinesis)"},
        "400": {"description": "invalid body, refused before anything is stored", "content": error},
        "500": {"description": "not stored: the queue or stream refused the request", "content": error},
        "503": {"description": "not stored: the queue or stream is unavailable; retry", "content": error},
    }


def storage_integration(fn: FunctionPlan) -> dict[str, Any]:
    """The `aws` integration that stores the validated body; no Lambda runs on this path."""
    spec = fn.spec
    source = spec.source
    credentials = {"Fn::Sub": f"${{{fn.ingest_role_id}.Arn}}"}
    if isinstance(source, Queue):
        assert isinstance(spec.options, SqsOptions)
        # The request id rides along as the `lk-id` attribute: the consumer's idempotency key, kept by redrives.
        template = (
            "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
            "&MessageAttribute.1.Name=lk-id&MessageAttribute.1.Value.DataType=String"
            "&MessageAttribute.1.Value.StringValue=$context.requestId"
        )
        if spec.options.fifo:
            group = (
                f"$util.urlEncode($input.path('$.{spec.options.group_by}'))"
                if spec.options.group_by
                else "$context.requestId"
            )
            template += f"&MessageGroupId={group}&MessageDeduplicationId=$context.requestId"
        return {
            "type": "aws",
            "httpMethod": "POST",
            "credentials": credentials,
            "uri": {
                "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:sqs:path/${AWS::AccountId}/"
                f"${{{source.logical_id}.QueueName}}"
            },
            "passthroughBehavior": "never",
            "requestParameters": {
                "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'",
                # the query API answers in JSON only when asked; the 202 template reads JSON
                "integration.request.header.Accept": "'application/json'",
            },
            "requestTemplates": {"application/json": template},
            "responses": _responses(
                '{"message_id": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')", '
                '"request_id": "$context.requestId"}'
            ),
        }
    assert isinstance(source, Stream) and isinstance(spec.options, KinesisOptions)
    # escapeJavaScript turns ' into \' (not valid in JSON): undo that one escape.
    key = (
        f"$util.escapeJavaScript($input.path('$.{spec.options.partition_key}')).replaceAll(\"\\\\'\", \"'\")"
        if spec.options.partition_key
        else "$context.requestId"
    )
    return {
        "type": "aws",
        "httpMethod": "POST",
        "credentials": credentials,
        "uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:kinesis:action/PutRecord"},
        "passthroughBehavior": "never",
        "requestParameters": {"integration.request.header.Content-Type": "'application/x-amz-json-1.1'"},
        "requestTemplates": {
            "application/json": {
                "Fn::Sub": (
                    f'{{"StreamName": "${{{source.logical_id}}}", "Data": "$util.base64Encode($input.body)", '
                    f'"PartitionKey": "{key}"}}'
                )
            }
        },
        "responses": _responses(
            '{"sequence_number": "$input.path(\'$.SequenceNumber\')", "shard_id": "$input.path(\'$.ShardId\')", '
            '"request_id": "$context.requestId"}',
            refusal_is_throttling=True,
        ),
    }


def ingest_role(fn: FunctionPlan) -> dict[str, Any]:
    """The role API Gateway assumes to store one route's requests: one action, one resource."""
    source = fn.spec.source
    assert source is not None
    actions = iam.QUEUE_WRITE if isinstance(source, Queue) else ("kinesis:PutRecord",)
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _trust("apigateway.amazonaws.com"),
            "Policies": [
                {
                    "PolicyName": "store-request",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [iam.Statement("StoreRequest", actions, (iam.arn(source),)).render()],
                    },
                }
            ],
        },
    }


def _trust(*services: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": list(services) if len(services) > 1 else services[0]},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def queue_resources(queue: QueuePlan) -> dict[str, Any]:
    """The queue (encrypted, redriving to its DLQ after max_receive) and its dead-letter queue."""
    assert queue.dead_letter is not None
    fifo = {"FifoQueue": True, "ContentBasedDeduplication": True} if queue.fifo else {}
    dead_letter = queue.dead_letter.logical_id
    return {
        dead_letter: {
            "Type": "AWS::SQS::Queue",
            "Metadata": skips(QUEUE_SKIPS),
            "Properties": {**fifo, "SqsManagedSseEnabled": True, "MessageRetentionPeriod": KEEP_FAILED_SECONDS},
        },
        queue.logical_id: {
            "Type": "AWS::SQS::Queue",
            "Metadata": skips(QUEUE_SKIPS),
            "Properties": {
                **fifo,
                "SqsManagedSseEnabled": True,
                "VisibilityTimeout": queue.visibility_timeout,
                "MessageRetentionPeriod": queue.retention_seconds,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dead_letter, "Arn"]},
                    "maxReceiveCount": queue.max_receive,
                },
            },
        },
    }


def stream_resource(stream: StreamPlan) -> dict[str, Any]:
    return {
        stream.logical_id: {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {
                "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
                "RetentionPeriodHours": stream.retention_hours,
                "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
            },
        }
    }


def failure_queue(queue: QueuePlan) -> dict[str, Any]:
    """Where a Kinesis consumer's records go once retries or their age run out: nothing is lost."""
    return {
        queue.logical_id: {
            "Type": "AWS::SQS::Queue",
            "Metadata": skips(QUEUE_SKIPS),
            "Properties": {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": queue.retention_seconds},
        }
    }


def idempotency_table(table: TablePlan) -> dict[str, Any]:
    """Powertools' record table: key `id`, records expire through the `expiration` TTL attribute."""
    return {
        table.logical_id: {
            "Type": "AWS::DynamoDB::Table",
            "Metadata": skips(TABLE_SKIPS),
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": table.attribute_definitions(),
                "KeySchema": table.key_schema(),
                "TimeToLiveSpecification": {"AttributeName": table.ttl, "Enabled": True},
                "SSESpecification": {"SSEEnabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        }
    }


def event_source(fn: FunctionPlan) -> dict[str, Any]:
    """The SAM event that attaches a consumer, reporting failures per record."""
    assert fn.trigger is not None
    opts = fn.trigger.options
    source = fn.trigger.source
    if isinstance(opts, SqsOptions):
        props: dict[str, Any] = {
            "Queue": {"Fn::GetAtt": [source.logical_id, "Arn"]},
            "BatchSize": opts.batch_size,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        }
        if opts.window:
            props["MaximumBatchingWindowInSeconds"] = opts.window
        if opts.max_concurrency:
            props["ScalingConfig"] = {"MaximumConcurrency": opts.max_concurrency}
        return {"Queue": {"Type": "SQS", "Properties": props}}
    assert isinstance(opts, KinesisOptions) and fn.failure_queue is not None
    props = {
        "Stream": {"Fn::GetAtt": [source.logical_id, "Arn"]},
        # TRIM_HORIZON by default: records written before the mapping was enabled are read too, not skipped.
        "StartingPosition": opts.starting_position,
        "BatchSize": opts.batch_size,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": opts.retries,
        "MaximumRecordAgeInSeconds": opts.max_age,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {
            "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": [fn.failure_queue.logical_id, "Arn"]}}
        },
    }
    if opts.window:
        props["MaximumBatchingWindowInSeconds"] = opts.window
    return {"Stream": {"Type": "Kinesis", "Properties": props}}


# -- build checks ---------------------------------------------------------------------------------


def _key_field_problem(spec: FunctionSpec, option: str, field: str) -> str | None:
    """A field the gateway reads from the body to route the message must always be there as a string."""
    from lambdakit.core.binding import http_plan, is_model
    from lambdakit.derive.jsonschema import body_schema

    assert spec.route is not None
    body = http_plan(spec.func, spec.route.path_params, spec.where).body
    fix = f"give the body model a required field `{field}: str = Field(min_length=1)`, or name one it has"
    if body is None or not is_model(body.model):
        return (
            f"{spec.where}: {option}={field!r} reads a field of the body, so the body must be a pydantic model; {fix}"
        )
    schema = body_schema(body.model)
    prop = schema.get("properties", {}).get(field)
    if prop is None:
        fields = ", ".join(schema.get("properties", {})) or "none"
        return f"{spec.where}: {option}={field!r}: the body model has no field {field!r} (it has: {fields}); {fix}"
    if field not in schema.get("required", []) or prop.get("type") != "string":
        return (
            f"{spec.where}: {option}={field!r} must be a required string field, so every stored request has one; {fix}"
        )
    return None


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


def pattern_problems(spec: FunctionSpec) -> list[str]:
    """A body pattern the gateway's validator cannot run (pydantic's Rust regex takes `\\p{L}`, the
    ECMA/Java engines and the local check do not): refused at build, not a 500 on every request."""
    import re

    from lambdakit.core.binding import http_plan
    from lambdakit.derive.jsonschema import body_schema

    assert spec.route is not None
    body = http_plan(spec.func, spec.route.path_params, spec.where).body
    if body is None:
        return []
    problems = []
    for pattern in dict.fromkeys(_patterns(body_schema(body.model))):
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(
                f"{spec.where}: the body's pattern {pattern!r} is not one API Gateway's validator can run "
                f"({exc}); write it with plain character classes (e.g. [A-Za-z] for \\p{{L}})"
            )
    return problems


def check(app: App) -> list[str]:
    """Storage mistakes the template would carry to AWS: named once at build time, each with its fix."""
    problems: list[str] = []
    readers: dict[int, FunctionSpec] = {}
    for spec in app.functions:
        if spec.storage_first and spec.route is not None:
            from contextlib import suppress

            with suppress(Exception):  # the body's own mistakes are reported by the binding checks
                problems += pattern_problems(spec)
        opts = spec.options
        if spec.source is None or opts is None:
            continue
        if isinstance(spec.source, Queue):
            other = readers.setdefault(id(spec.source), spec)
            if other is not spec:
                problems.append(
                    f"{spec.where}: queue {spec.source.name!r} is already consumed by {other.where}; a "
                    "queue hands each message to one consumer: give each consumer its own queue "
                    "(or use a stream, which every consumer reads whole)"
                )
        if isinstance(opts, SqsOptions) and opts.fifo and opts.window:
            problems.append(
                f"{spec.where}: window={opts.window}: Lambda has no batching window for FIFO queues; remove window="
            )
        if spec.kind == "consumer":  # lk.consume refuses group_by= and partition_key= itself
            continue
        if not spec.storage_first:
            continue
        option, field = (
            ("partition_key", opts.partition_key) if isinstance(opts, KinesisOptions) else ("group_by", opts.group_by)
        )
        if field:
            try:
                problem = _key_field_problem(spec, option, field)
            except DeclarationError:  # a signature the binding plan refuses: discovery reports that already
                continue
            if problem:
                problems.append(problem)
    return problems
