"""Storage first: API Gateway writes the body straight into SQS or Kinesis; a consumer drains it.

Everything a queue or stream needs lives here: the gateway's service
integration and the role it assumes, the queue and its dead-letter queue, the
stream and its failure queue, the consumer's event source, the idempotency table.
"""

from __future__ import annotations

from typing import Any

from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.names import camel
from lambdakit.declare.resources import Queue, Stream
from lambdakit.declare.triggers import KinesisOptions, SqsOptions
from lambdakit.derive import iam
from lambdakit.derive.skips import QUEUE_SKIPS, TABLE_SKIPS, skips

VISIBILITY_FACTOR = 6  # AWS's advice: queue visibility timeout >= 6x the function timeout


def ingest_role_id(spec: FunctionSpec) -> str:
    return camel(spec.name) + "IngestRole"


def _responses(ok_template: str) -> dict[str, Any]:
    error = ('{"error": {"code": "%s", "message": "%s"}, "request_id": "$context.requestId"}')
    return {
        "default": {"statusCode": "202", "responseTemplates": {"application/json": ok_template}},
        "4\\d{2}": {"statusCode": "500", "selectionPattern": "4\\d{2}",
                    "responseTemplates": {"application/json": error % ("internal_error", "the request was not stored")}},
        "5\\d{2}": {"statusCode": "503", "selectionPattern": "5\\d{2}",
                    "responseTemplates": {"application/json": error % ("service_unavailable",
                                                                       "the request was not stored; retry")}},
    }


def storage_integration(spec: FunctionSpec) -> dict[str, Any]:
    """The `aws` integration that stores the validated body; no Lambda runs on this path."""
    source = spec.source
    credentials = {"Fn::Sub": f"${{{ingest_role_id(spec)}.Arn}}"}
    if isinstance(source, Queue):
        assert isinstance(spec.options, SqsOptions)
        template = "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
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
            "requestParameters": {"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
            "requestTemplates": {"application/json": template},
            "responses": _responses(
                '{"message_id": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')", '
                '"request_id": "$context.requestId"}'),
        }
    assert isinstance(source, Stream) and isinstance(spec.options, KinesisOptions)
    key = (f"$util.escapeJavaScript($input.path('$.{spec.options.partition_key}'))" if spec.options.partition_key
           else "$context.requestId")
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
            '"request_id": "$context.requestId"}'),
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


def queue_resources(queue: Queue, consumer_timeout: int | None) -> dict[str, Any]:
    """The queue (encrypted, redriving to its DLQ after max_receive) and its dead-letter queue."""
    fifo = {"FifoQueue": True, "ContentBasedDeduplication": True} if queue.fifo else {}
    visibility = max(30, VISIBILITY_FACTOR * consumer_timeout) if consumer_timeout else 30
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
                "VisibilityTimeout": min(visibility, 43200),
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
