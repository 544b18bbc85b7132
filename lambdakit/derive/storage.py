"""Storage first: API Gateway writes the body straight into SQS or Kinesis; a consumer drains it.

Everything a queue or stream needs lives here: the gateway's service
integration and the role it assumes, the queue and its dead-letter queue, the
stream and its failure queue, the consumer's event source, the idempotency
table, the build checks that keep a valid body storable, and the names the
local emulator gives these resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdakit.declare.functions import FunctionSpec
from lambdakit.core.names import DeclarationError, camel
from lambdakit.declare.resources import Queue, Stream
from lambdakit.declare.service import App
from lambdakit.declare.triggers import KinesisOptions, SqsOptions
from lambdakit.derive import iam
from lambdakit.derive.skips import QUEUE_SKIPS, TABLE_SKIPS, skips

VISIBILITY_FACTOR = 6  # AWS's advice: visibility timeout >= 6x the function timeout (+ the batching window)


def ingest_role_id(spec: FunctionSpec) -> str:
    return camel(spec.name) + "IngestRole"


def _error(code: str, message: str) -> str:
    return '{"error": {"code": "' + code + '", "message": "' + message + '"}, "request_id": "$context.requestId"}'


def _responses(ok_template: str, refusal_is_throttling: bool = False) -> dict[str, Any]:
    """Integration responses, keyed by the regex matched against the service's status code.

    A refusal from SQS or Kinesis (throttling, size, permissions) must never
    look like success: the caller is told the request was not stored. Kinesis
    signals throttling (ProvisionedThroughputExceeded) as a 400, so there a 4xx
    tells the caller to retry.
    """
    refused = (("503", "service_unavailable", "the request was not stored; retry") if refusal_is_throttling
               else ("500", "internal_error", "the request was not stored"))
    return {
        "default": {"statusCode": "202", "responseTemplates": {"application/json": ok_template}},
        "4\\d{2}": {"statusCode": refused[0], "responseTemplates": {
            "application/json": _error(refused[1], refused[2])}},
        "5\\d{2}": {"statusCode": "503", "responseTemplates": {
            "application/json": _error("service_unavailable", "the request was not stored; retry")}},
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


def storage_integration(spec: FunctionSpec) -> dict[str, Any]:
    """The `aws` integration that stores the validated body; no Lambda runs on this path."""
    source = spec.source
    credentials = {"Fn::Sub": f"${{{ingest_role_id(spec)}.Arn}}"}
    if isinstance(source, Queue):
        assert isinstance(spec.options, SqsOptions)
        # The request id rides along as the `lk-id` attribute: the consumer's idempotency key, kept by redrives.
        template = ("Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
                    "&MessageAttribute.1.Name=lk-id&MessageAttribute.1.Value.DataType=String"
                    "&MessageAttribute.1.Value.StringValue=$context.requestId")
        if spec.options.fifo:
            group = (f"$util.urlEncode($input.path('$.{spec.options.group_by}'))" if spec.options.group_by
                     else "$context.requestId")
            template += f"&MessageGroupId={group}&MessageDeduplicationId=$context.requestId"
        return {
            "type": "aws",
            "httpMethod": "POST",
            "credentials": credentials,
            "uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:sqs:path/${AWS::AccountId}/"
                               f"${{{source.logical_id}.QueueName}}"},
            "passthroughBehavior": "never",
            "requestParameters": {"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'",
                                  # the query API answers in JSON only when asked; the 202 template reads JSON
                                  "integration.request.header.Accept": "'application/json'"},
            "requestTemplates": {"application/json": template},
            "responses": _responses(
                '{"message_id": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')", '
                '"request_id": "$context.requestId"}'),
        }
    assert isinstance(source, Stream) and isinstance(spec.options, KinesisOptions)
    # escapeJavaScript turns ' into \' (not valid in JSON): undo that one escape.
    key = (f"$util.escapeJavaScript($input.path('$.{spec.options.partition_key}')).replaceAll(\"\\\\'\", \"'\")"
           if spec.options.partition_key else "$context.requestId")
    return {
        "type": "aws",
        "httpMethod": "POST",
        "credentials": credentials,
        "uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:kinesis:action/PutRecord"},
        "passthroughBehavior": "never",
        "requestParameters": {"integration.request.header.Content-Type": "'application/x-amz-json-1.1'"},
        "requestTemplates": {"application/json": {"Fn::Sub": (
            f'{{"StreamName": "${{{source.logical_id}}}", "Data": "$util.base64Encode($input.body)", '
            f'"PartitionKey": "{key}"}}')}},
        "responses": _responses(
            '{"sequence_number": "$input.path(\'$.SequenceNumber\')", "shard_id": "$input.path(\'$.ShardId\')", '
            '"request_id": "$context.requestId"}', refusal_is_throttling=True),
    }


def ingest_role(spec: FunctionSpec) -> dict[str, Any]:
    """The role API Gateway assumes to store one route's requests: one action, one resource."""
    source = spec.source
    assert source is not None
    actions = iam.QUEUE_WRITE if isinstance(source, Queue) else ("kinesis:PutRecord",)
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _trust("apigateway.amazonaws.com"),
            "Policies": [{"PolicyName": "store-request", "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [iam.Statement("StoreRequest", actions, (iam.arn(source),)).render()]}}],
        },
    }


def _trust(*services: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": list(services) if len(services) > 1 else services[0]},
        "Action": "sts:AssumeRole"}]}


def visibility_timeout(consumer_timeout: int | None, window: int = 0) -> int:
    """Long enough that a message is not redelivered while a (retried) batch still holds it."""
    if not consumer_timeout:
        return 30
    return min(max(30, VISIBILITY_FACTOR * consumer_timeout + window), 43200)


def queue_resources(queue: Queue, consumer_timeout: int | None, window: int = 0) -> dict[str, Any]:
    """The queue (encrypted, redriving to its DLQ after max_receive) and its dead-letter queue."""
    fifo = {"FifoQueue": True, "ContentBasedDeduplication": True} if queue.fifo else {}
    visibility = visibility_timeout(consumer_timeout, window)
    return {
        queue.dlq_logical_id: {
            "Type": "AWS::SQS::Queue",
            "Metadata": skips(QUEUE_SKIPS),
            "Properties": {**fifo, "SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1209600},
        },
        queue.logical_id: {
            "Type": "AWS::SQS::Queue",
            "Metadata": skips(QUEUE_SKIPS),
            "Properties": {
                **fifo,
                "SqsManagedSseEnabled": True,
                "VisibilityTimeout": visibility,
                "MessageRetentionPeriod": queue.retention_days * 86400,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [queue.dlq_logical_id, "Arn"]},
                                  "maxReceiveCount": queue.max_receive},
            },
        },
    }


def stream_resource(stream: Stream) -> dict[str, Any]:
    return {stream.logical_id: {
        "Type": "AWS::Kinesis::Stream",
        "Properties": {
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "RetentionPeriodHours": stream.retention_hours,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        },
    }}


def failure_queue(spec: FunctionSpec) -> dict[str, Any]:
    """Where a Kinesis consumer's records go once retries or their age run out: nothing is lost."""
    return {iam.failure_queue_id(spec): {
        "Type": "AWS::SQS::Queue",
        "Metadata": skips(QUEUE_SKIPS),
        "Properties": {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1209600},
    }}


def idempotency_table(spec: FunctionSpec) -> dict[str, Any]:
    """Powertools' record table: key `id`, records expire through the `expiration` TTL attribute."""
    return {iam.idempotency_table_id(spec): {
        "Type": "AWS::DynamoDB::Table",
        "Metadata": skips(TABLE_SKIPS),
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    }}


def event_source(spec: FunctionSpec) -> dict[str, Any]:
    """The SAM event that attaches a consumer, reporting failures per record."""
    opts = spec.options
    source = spec.source
    assert source is not None
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
    assert isinstance(opts, KinesisOptions)
    props = {
        "Stream": {"Fn::GetAtt": [source.logical_id, "Arn"]},
        # TRIM_HORIZON by default: records written before the mapping was enabled are read too, not skipped.
        "StartingPosition": opts.starting_position,
        "BatchSize": opts.batch_size,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": opts.retries,
        "MaximumRecordAgeInSeconds": opts.max_age,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Type": "SQS",
                                            "Destination": {"Fn::GetAtt": [iam.failure_queue_id(spec), "Arn"]}}},
    }
    if opts.window:
        props["MaximumBatchingWindowInSeconds"] = opts.window
    return {"Stream": {"Type": "Kinesis", "Properties": props}}


# -- build checks ---------------------------------------------------------------------------------


def _key_field_problem(spec: FunctionSpec, option: str, field: str) -> str | None:
    """A field the gateway reads from the body to route the message must always be there as a string."""
    from lambdakit.derive.jsonschema import body_schema
    from lambdakit.core.binding import http_plan, is_model

    assert spec.route is not None
    body = http_plan(spec.func, spec.route.path_params, spec.where).body
    fix = f"give the body model a required field `{field}: str = Field(min_length=1)`, or name one it has"
    if body is None or not is_model(body.model):
        return (f"{spec.where}: {option}={field!r} reads a field of the body, so the body must be a pydantic "
                f"model; {fix}")
    schema = body_schema(body.model)
    prop = schema.get("properties", {}).get(field)
    if prop is None:
        fields = ", ".join(schema.get("properties", {})) or "none"
        return f"{spec.where}: {option}={field!r}: the body model has no field {field!r} (it has: {fields}); {fix}"
    if field not in schema.get("required", []) or prop.get("type") != "string":
        return (f"{spec.where}: {option}={field!r} must be a required string field, so every stored request has "
                f"one; {fix}")
    return None


def check(app: App) -> list[str]:
    """Storage mistakes the template would carry to AWS: named once at build time, each with its fix."""
    problems: list[str] = []
    readers: dict[int, FunctionSpec] = {}
    for spec in app.functions:
        opts = spec.options
        if spec.source is None or opts is None:
            continue
        if isinstance(spec.source, Queue):
            other = readers.setdefault(id(spec.source), spec)
            if other is not spec:
                problems.append(f"{spec.where}: queue {spec.source.name!r} is already consumed by {other.where}; a "
                                "queue hands each message to one consumer: give each consumer its own queue "
                                "(or use a stream, which every consumer reads whole)")
        if isinstance(opts, SqsOptions) and opts.fifo and opts.window:
            problems.append(f"{spec.where}: window={opts.window}: Lambda has no batching window for FIFO queues; "
                            "remove window=")
        if spec.kind == "consumer":  # lk.consume refuses group_by= and partition_key= itself
            continue
        if not spec.storage_first:
            continue
        key = ("partition_key", opts.partition_key) if isinstance(opts, KinesisOptions) else ("group_by", opts.group_by)
        if key[1]:
            try:
                problem = _key_field_problem(spec, *key)
            except DeclarationError:  # a signature the binding plan refuses: discovery reports that already
                continue
            if problem:
                problems.append(problem)
    return problems


# -- local names: what `lambdakit local` and tests create, and the runtime finds by default ---------------


@dataclass(frozen=True)
class LocalQueue:
    """A queue to create locally, with the attributes the template gives it."""

    name: str
    fifo: bool
    dead_letter: str | None
    max_receive: int
    visibility: int


def local_queue_name(queue: Queue) -> str:
    """The runtime's fallback for a queue's physical name (`lambdakit.runtime.data.queue_url`)."""
    return queue.name + (".fifo" if queue.fifo else "")


def local_dlq_name(queue: Queue) -> str:
    return queue.name + "-dlq" + (".fifo" if queue.fifo else "")


def local_failure_queue_name(spec: FunctionSpec) -> str:
    return spec.name + "-failures"


def _queues(app: App) -> list[tuple[Queue, FunctionSpec | None]]:
    consumers = {id(s.source): s for s in app.functions if s.source is not None}
    queues = list(app.queues) + [s.source for s in app.functions if s.storage_first and isinstance(s.source, Queue)]
    return [(q, consumers.get(id(q))) for q in queues]


def local_queues(app: App) -> list[LocalQueue]:
    """Every queue of the app (declared or storage-first) with its DLQ, then each Kinesis consumer's failure queue."""
    out = []
    for queue, consumer in _queues(app):
        window = consumer.options.window if consumer is not None and consumer.options is not None else 0
        out.append(LocalQueue(local_queue_name(queue), queue.fifo, local_dlq_name(queue), queue.max_receive,
                              visibility_timeout(consumer.timeout if consumer else None, window)))
    for spec in app.functions:
        if isinstance(spec.options, KinesisOptions):
            out.append(LocalQueue(local_failure_queue_name(spec), False, None, 0, 30))
    return out


def local_streams(app: App) -> list[str]:
    return [s.name for s in app.streams] + [s.source.name for s in app.functions
                                            if s.storage_first and isinstance(s.source, Stream)]


def local_tables(app: App) -> list[dict[str, Any]]:
    """`dynamodb.create_table` arguments for the tables lambdakit adds itself: each idempotent consumer's."""
    from lambdakit.runtime.idempotency import local_table_name

    return [{"TableName": local_table_name(spec.name), "BillingMode": "PAY_PER_REQUEST",
             "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
             "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}
            for spec in app.functions if spec.idempotent]
