"""Replaying what was given up on: a dead-letter queue back into its queue, a Kinesis failure back to its consumer."""

from __future__ import annotations

from typing import Any

from lambdakit.local.kinesis_poller import kinesis_record
from lambdakit.local.lambda_context import LocalContext
from lambdakit.local.polling import Handler, failed_ids


def redrive_dlq(sqs: Any, dlq_url: str, queue_url: str, *, limit: int | None = None) -> int:
    """Move messages from a dead-letter queue back to its queue (once the bug is fixed); returns how many.

    Unlike `aws sqs start-message-move-task`, which gives each message a new
    messageId, it names every message by its `lk-id` attribute (set by a
    storage-first route, else the id it had), so an idempotent consumer skips
    one it had already applied. FIFO messages keep their group and order.
    """
    from lambdakit.runtime.idempotency import ID_ATTRIBUTE

    fifo = dlq_url.endswith(".fifo")
    moved = 0
    while limit is None or moved < limit:
        got = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10 if limit is None else min(10, limit - moved),
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not got:
            return moved
        for message in got:
            attributes = {
                name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
                for name, value in (message.get("MessageAttributes") or {}).items()
            }
            if ID_ATTRIBUTE not in attributes and len(attributes) < 10:  # SQS allows 10 attributes
                attributes[ID_ATTRIBUTE] = {"DataType": "String", "StringValue": message["MessageId"]}
            kwargs: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": message["Body"]}
            if attributes:
                kwargs["MessageAttributes"] = attributes
            if fifo:
                kwargs["MessageGroupId"] = message["Attributes"]["MessageGroupId"]
                kwargs["MessageDeduplicationId"] = message["MessageId"]
            sqs.send_message(**kwargs)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def replay_kinesis_failure(info: dict[str, Any], handler: Handler, *, kinesis: Any, batch_size: int = 100) -> list[str]:
    """Send the records an on-failure message describes to the consumer again; returns the sequence numbers
    that still fail. The records keep their eventIDs, so an idempotent consumer skips those it applied.

    `handler` is the function's handler, or a call of the deployed one, e.g.
    `lambda event, context: json.loads(lambda_client.invoke(FunctionName=name,
    Payload=json.dumps(event))["Payload"].read())`.
    """
    batch = info["KinesisBatchInfo"]
    arn, shard_id = batch["streamArn"], batch["shardId"]
    stream = arn.rsplit("/", 1)[1]
    function = str(info.get("requestContext", {}).get("functionArn", "local")).rsplit(":", 1)[-1]
    last = int(batch["endSequenceNumber"])
    iterator = kinesis.get_shard_iterator(
        StreamName=stream,
        ShardId=shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=batch["startSequenceNumber"],
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    empty = 0
    while iterator and empty < 5:
        out = kinesis.get_records(ShardIterator=iterator, Limit=batch_size)
        iterator = out.get("NextShardIterator")
        page = [r for r in out.get("Records", []) if int(r["SequenceNumber"]) <= last]
        records += page
        if len(page) < len(out.get("Records", [])) or (records and int(records[-1]["SequenceNumber"]) == last):
            break
        empty = empty + 1 if not page else 0
    failed: list[str] = []
    for start in range(0, len(records), batch_size):
        chunk = records[start : start + batch_size]
        event = {"Records": [kinesis_record(r, shard_id, arn, function) for r in chunk]}
        ids = [r["SequenceNumber"] for r in chunk]
        try:
            response = handler(event, LocalContext(function))
        except Exception:
            failed += ids
            continue
        named = failed_ids(response, ids)
        failed += ids if named is None else [i for i in ids if i in named]
    return failed
