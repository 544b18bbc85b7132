"""Lambda's event source mappings, emulated: poll SQS or Kinesis, invoke a handler, honour its answer.

`SqsPoller` and `KinesisPoller` do what the Lambda service does between a
queue or stream and a function: build the real event shape, invoke, then act
on the partial batch response the way AWS documents it (SQS: delete what
succeeded, let the rest reappear and redrive to the DLQ; Kinesis: checkpoint,
retry from the first failure, bisect on errors, give up into the on-failure
queue). They speak only boto3 (moto in tests) and take any handler
`(event, context) -> response`, so the local server and the tests share them.
`provision` creates the storage resources a local app needs beyond its
declared ones; `poller_for` builds the poller of one consumer.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]

ACCOUNT = "123456789012"  # moto's default account


@dataclass
class LocalContext:
    """The Lambda context object, as far as handlers (and Powertools) read it."""

    function_name: str
    timeout: int = 30
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ""
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout - time.monotonic()) * 1000))


@dataclass
class Stats:
    """What a poller did; `failed` counts record failures, redeliveries included."""

    invocations: int = 0
    errors: int = 0  # invocations that raised or answered badly: the whole batch failed
    delivered: int = 0  # records handed to the function, redeliveries included
    succeeded: int = 0
    failed: int = 0
    discarded: int = 0  # Kinesis: records given up on and described in the on-failure queue


def _failed_ids(response: Any, ids: list[str]) -> set[str] | None:
    """The ids a partial batch response names; None when Lambda would count the whole batch as failed."""
    if response is None or not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    named: set[str] = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or not ident or ident not in ids:
            return None  # an empty, null or unknown identifier fails the whole batch
        named.add(ident)
    return named


class _Poller:
    def __init__(self, handler: Handler, function_name: str, timeout: int, region: str, account: str) -> None:
        self.handler = handler
        self.function_name = function_name
        self.timeout = timeout
        self.region = region
        self.account = account
        self.stats = Stats()
        self._lock = threading.Lock()

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    def _invoke(self, event: dict[str, Any]) -> tuple[bool, Any]:
        """(True, response), or (False, the exception): a raised error fails the whole batch, as in Lambda."""
        context = LocalContext(self.function_name, self.timeout, invoked_function_arn=self.function_arn)
        self.stats.invocations += 1
        self.stats.delivered += len(event["Records"])
        try:
            return True, self.handler(event, context)
        except Exception as exc:
            self.stats.errors += 1
            return False, exc

    def poll(self) -> int:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def drain(self, max_polls: int = 100_000) -> Stats:
        """Poll until there is nothing left to deliver (or `max_polls` is spent); returns the totals."""
        for _ in range(max_polls):
            if not self.poll():
                break
        return self.stats

    def run(self, stop: threading.Event, idle: float = 0.2) -> None:
        """Poll until `stop` is set, resting `idle` seconds whenever there was nothing to do (server thread)."""
        while not stop.is_set():
            try:
                busy = self.poll()
            except Exception:  # a poller thread must outlive a backend hiccup; the next poll retries
                busy = 0
            if not busy:
                stop.wait(idle)


class SqsPoller(_Poller):
    """Lambda's SQS event source: receive a batch, invoke, delete what succeeded.

    What failed is left alone: it reappears after the queue's visibility
    timeout (or `retry_after` seconds, to speed local retries) and SQS moves it
    to the dead-letter queue once its receive count passes maxReceiveCount.
    """

    def __init__(self, handler: Handler, sqs: Any, queue_url: str, *, batch_size: int = 10,
                 function_name: str = "local", timeout: int = 30, report_failures: bool = True,
                 retry_after: int | None = None, account: str = ACCOUNT) -> None:
        super().__init__(handler, function_name, timeout, sqs.meta.region_name, account)
        self.sqs = sqs
        self.queue_url = queue_url
        self.batch_size = batch_size
        self.report_failures = report_failures
        self.retry_after = retry_after
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

    def _receive(self) -> list[dict[str, Any]]:
        """Up to batch_size messages (SQS gives 10 per call); a message seen twice (visibility 0) counts once."""
        messages: dict[str, dict[str, Any]] = {}
        while len(messages) < self.batch_size:
            wanted = min(10, self.batch_size - len(messages))
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=wanted,
                MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=0,
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in messages]
            messages.update((m["MessageId"], m) for m in fresh)
            if len(got) < wanted or len(fresh) < len(got):  # the queue has no more visible right now
                break
        return list(messages.values())

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {}
        for name, value in (message.get("MessageAttributes") or {}).items():
            binary = value.get("BinaryValue")
            attributes[name] = {
                "stringValue": value.get("StringValue"),
                "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
                "stringListValues": [], "binaryListValues": [], "dataType": value.get("DataType", "String"),
            }
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def poll(self) -> int:
        """One batch: returns how many messages were received (0 = the queue had none visible)."""
        with self._lock:
            messages = self._receive()
            if not messages:
                return 0
            ids = [m["MessageId"] for m in messages]
            ok, response = self._invoke({"Records": [self._record(m) for m in messages]})
            failed = (_failed_ids(response, ids) if self.report_failures else set()) if ok else None
            if failed is None:
                if ok:
                    self.stats.errors += 1
                failed = set(ids)
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                chunk = done[start:start + 10]
                self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])
            self.stats.succeeded += len(done)
            self.stats.failed += len(messages) - len(done)
            if self.retry_after is not None:
                again = [m for m in messages if m["MessageId"] in failed]
                for start in range(0, len(again), 10):
                    self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_after}
                        for i, m in enumerate(again[start:start + 10])])
            return len(messages)


def kinesis_record(record: dict[str, Any], shard_id: str, stream_arn: str, function_name: str = "local",
                   account: str = ACCOUNT, clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """A `GetRecords` record as Lambda puts it in a Kinesis event (the same eventID on every delivery)."""
    arrival = record.get("ApproximateArrivalTimestamp")
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": arrival.timestamp() if arrival is not None else clock(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{account}:role/{function_name}",
        "awsRegion": stream_arn.split(":")[3],
        "eventSourceARN": stream_arn,
    }


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    last_sequence: str | None = None
    # Batches waiting to be retried, in order, each with the retries it has used.
    pending: deque[tuple[list[dict[str, Any]], int]] = field(default_factory=deque)


class KinesisPoller(_Poller):
    """Lambda's Kinesis event source, per shard and in order.

    A batch that succeeds is checkpointed. A partial failure is retried from
    its lowest failed sequence number (bisected there: only the rest is sent
    again). An invocation error splits the batch in two (BisectBatchOnFunctionError;
    splitting does not use up retries) down to single records. Once a batch has
    used `retries` retries, or its records are older than `max_age` seconds,
    Lambda gives up on it and sends a description (shard, first and last
    sequence numbers) to the on-failure queue; the records stay in the stream.
    `retries` and `max_age` of -1 mean forever.
    """

    def __init__(self, handler: Handler, kinesis: Any, stream_name: str, *, sqs: Any = None,
                 on_failure_url: str | None = None, batch_size: int = 100, retries: int = 3, max_age: int = 3600,
                 bisect: bool = True, report_failures: bool = True, starting_position: str = "TRIM_HORIZON",
                 function_name: str = "local", timeout: int = 30, clock: Callable[[], float] = time.time,
                 account: str = ACCOUNT) -> None:
        super().__init__(handler, function_name, timeout, kinesis.meta.region_name, account)
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.sqs = sqs
        self.on_failure_url = on_failure_url
        self.batch_size = batch_size
        self.retries = retries
        self.max_age = max_age
        self.bisect = bisect
        self.report_failures = report_failures
        self.starting_position = starting_position
        self.clock = clock
        self.stream_arn = kinesis.describe_stream_summary(StreamName=stream_name)[
            "StreamDescriptionSummary"]["StreamARN"]
        self.shards: dict[str, _Shard] = {}
        self.failures: list[dict[str, Any]] = []  # every description sent to the on-failure queue

    def _iterator(self, shard_id: str, after: str | None) -> str:
        kwargs: dict[str, Any] = {"StreamName": self.stream_name, "ShardId": shard_id}
        if after is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after)
        else:
            kwargs["ShardIteratorType"] = self.starting_position
        return str(self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"])

    def _refresh_shards(self) -> None:
        for shard in self.kinesis.list_shards(StreamName=self.stream_name)["Shards"]:
            sid = shard["ShardId"]
            if sid not in self.shards:
                self.shards[sid] = _Shard(sid, self._iterator(sid, None))

    def _fetch(self, shard: _Shard) -> list[dict[str, Any]]:
        if shard.iterator is None:  # a closed shard, read to its end
            return []
        try:
            out = self.kinesis.get_records(ShardIterator=shard.iterator, Limit=self.batch_size)
        except self.kinesis.exceptions.ExpiredIteratorException:
            shard.iterator = self._iterator(shard.shard_id, shard.last_sequence)
            out = self.kinesis.get_records(ShardIterator=shard.iterator, Limit=self.batch_size)
        shard.iterator = out.get("NextShardIterator")
        records: list[dict[str, Any]] = out.get("Records", [])
        if records:
            shard.last_sequence = records[-1]["SequenceNumber"]
        return records

    def _record(self, shard_id: str, record: dict[str, Any]) -> dict[str, Any]:
        return kinesis_record(record, shard_id, self.stream_arn, self.function_name, self.account, self.clock)

    def _expired(self, record: dict[str, Any]) -> bool:
        arrival = record.get("ApproximateArrivalTimestamp")
        return self.max_age != -1 and arrival is not None and self.clock() - arrival.timestamp() > self.max_age

    def _give_up(self, shard_id: str, batch: list[dict[str, Any]], condition: str, attempts: int) -> None:
        """Skip these records and describe them in the on-failure queue, as Lambda does."""
        def stamp(record: dict[str, Any]) -> str | None:
            arrival = record.get("ApproximateArrivalTimestamp")
            return arrival.astimezone(UTC).isoformat(timespec="milliseconds") if arrival else None

        info = {
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": self.function_arn,
                               "condition": condition, "approximateInvokeCount": attempts},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": stamp(batch[0]),
                "approximateArrivalOfLastRecord": stamp(batch[-1]),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        self.failures.append(info)
        self.stats.discarded += len(batch)
        if self.sqs is not None and self.on_failure_url:
            self.sqs.send_message(QueueUrl=self.on_failure_url, MessageBody=json.dumps(info))

    def _retry(self, shard: _Shard, batch: list[dict[str, Any]], attempts: int) -> None:
        if self.retries == -1 or attempts < self.retries:
            shard.pending.appendleft((batch, attempts + 1))
        else:
            self._give_up(shard.shard_id, batch, "RetryAttemptsExhausted", attempts + 1)

    def _step(self, shard: _Shard) -> int:
        """One invocation for one shard (a pending retry first); returns the records delivered."""
        if shard.pending:
            batch, attempts = shard.pending.popleft()
        else:
            batch, attempts = self._fetch(shard), 0
        if not batch:
            return 0
        expired = [r for r in batch if self._expired(r)]
        if expired:  # records past max_age are not sent to the function again
            self._give_up(shard.shard_id, expired, "RecordAgeExceeded", attempts)
            batch = [r for r in batch if not self._expired(r)]
            if not batch:
                return len(expired)
        ids = [r["SequenceNumber"] for r in batch]
        ok, response = self._invoke({"Records": [self._record(shard.shard_id, r) for r in batch]})
        failed = (_failed_ids(response, ids) if self.report_failures else set()) if ok else None
        if failed is None:  # the invocation failed as a whole
            if ok:
                self.stats.errors += 1
            self.stats.failed += len(batch)
            if self.bisect and len(batch) > 1:
                half = len(batch) // 2
                shard.pending.appendleft((batch[half:], attempts))
                shard.pending.appendleft((batch[:half], attempts))
            else:
                self._retry(shard, batch, attempts)
        elif failed:
            first = min(ids.index(i) for i in failed)  # checkpoint before it, retry it and what follows
            self.stats.succeeded += first
            self.stats.failed += len(batch) - first
            self._retry(shard, batch[first:], attempts)
        else:
            self.stats.succeeded += len(batch)
        return len(batch) + len(expired)

    def poll(self) -> int:
        """One invocation per shard that has records or retries; returns the records delivered (0 = idle)."""
        with self._lock:
            self._refresh_shards()
            return sum(self._step(shard) for shard in self.shards.values())


# -- replaying what was given up on ------------------------------------------------------------------


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
        got = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10 if limit is None else min(10, limit - moved),
                                  MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
                                  VisibilityTimeout=60).get("Messages", [])
        if not got:
            return moved
        for message in got:
            attributes = {name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
                          for name, value in (message.get("MessageAttributes") or {}).items()}
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


def replay_kinesis_failure(info: dict[str, Any], handler: Handler, *, kinesis: Any,
                           batch_size: int = 100) -> list[str]:
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
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          StartingSequenceNumber=batch["startSequenceNumber"])["ShardIterator"]
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
        chunk = records[start:start + batch_size]
        event = {"Records": [kinesis_record(r, shard_id, arn, function) for r in chunk]}
        ids = [r["SequenceNumber"] for r in chunk]
        try:
            response = handler(event, LocalContext(function))
        except Exception:
            failed += ids
            continue
        named = _failed_ids(response, ids)
        failed += ids if named is None else [i for i in ids if i in named]
    return failed


# -- wiring a local app ------------------------------------------------------------------------------


def provision(app: Any, *, sqs: Any, dynamodb: Any, kinesis: Any) -> None:
    """Create the storage resources `lambdakit local` and tests need beyond the declared ones, if missing:
    storage-first queues and streams, every queue's dead-letter queue (with its redrive policy), Kinesis
    consumers' on-failure queues and the idempotency tables."""
    from lambdakit.derive.storage import local_queues, local_streams, local_tables

    arns: dict[str, str] = {}

    def ensure_queue(name: str, attributes: dict[str, str]) -> str:
        try:
            url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
            if attributes:
                sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        except sqs.exceptions.QueueDoesNotExist:
            url = str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        arns[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url

    for queue in local_queues(app):
        fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if queue.fifo else {}
        if queue.dead_letter:
            ensure_queue(queue.dead_letter, dict(fifo))
        attributes = {**fifo, "VisibilityTimeout": str(queue.visibility)}
        if queue.dead_letter:
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arns[queue.dead_letter],
                                                      "maxReceiveCount": queue.max_receive})
        ensure_queue(queue.name, attributes)
    for name in local_streams(app):
        try:
            kinesis.describe_stream_summary(StreamName=name)
        except kinesis.exceptions.ResourceNotFoundException:
            kinesis.create_stream(StreamName=name, ShardCount=1)
    for table in local_tables(app):
        try:
            dynamodb.describe_table(TableName=table["TableName"])
        except dynamodb.exceptions.ResourceNotFoundException:
            dynamodb.create_table(**table)


def poller_for(spec: Any, handler: Handler, *, sqs: Any, kinesis: Any = None,
               retry_after: int | None = None) -> SqsPoller | KinesisPoller:
    """The poller that feeds one consumer (or storage-first route) from its local queue or stream."""
    from lambdakit.declare.triggers import KinesisOptions, SqsOptions
    from lambdakit.derive.storage import local_failure_queue_name, local_queue_name

    source, opts = spec.source, spec.options
    if isinstance(opts, SqsOptions):
        url = sqs.get_queue_url(QueueName=local_queue_name(source))["QueueUrl"]
        return SqsPoller(handler, sqs, url, batch_size=opts.batch_size, function_name=spec.name,
                         timeout=spec.timeout, retry_after=retry_after)
    if isinstance(opts, KinesisOptions):
        failures = sqs.get_queue_url(QueueName=local_failure_queue_name(spec))["QueueUrl"]
        return KinesisPoller(handler, kinesis, source.name, sqs=sqs, on_failure_url=failures,
                             batch_size=opts.batch_size, retries=opts.retries, max_age=opts.max_age,
                             starting_position="TRIM_HORIZON", function_name=spec.name, timeout=spec.timeout)
    raise ValueError(f"{spec.name} consumes no queue or stream")


def pollers(handlers: Iterable[tuple[Any, Handler]], *, sqs: Any, kinesis: Any = None,
            retry_after: int | None = None) -> list[SqsPoller | KinesisPoller]:
    """A poller for each (spec, handler) pair whose spec consumes a queue or stream."""
    return [poller_for(spec, handler, sqs=sqs, kinesis=kinesis, retry_after=retry_after) for spec, handler in handlers
            if spec.source is not None and spec.options is not None]
