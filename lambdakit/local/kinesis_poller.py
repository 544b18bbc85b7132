"""Lambda's Kinesis event source mapping, emulated: read each shard, invoke, checkpoint.

A failed batch is retried from its first failed record, bisected when the
invocation fails whole, and given up into the on-failure queue when retries or
the record's age run out, as on AWS.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambdakit.local.polling import ACCOUNT, Handler, Poller, failed_ids


def kinesis_record(
    record: dict[str, Any],
    shard_id: str,
    stream_arn: str,
    function_name: str = "local",
    account: str = ACCOUNT,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
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


class KinesisPoller(Poller):
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

    def __init__(
        self,
        handler: Handler,
        kinesis: Any,
        stream_name: str,
        *,
        sqs: Any = None,
        on_failure_url: str | None = None,
        batch_size: int = 100,
        retries: int = 3,
        max_age: int = 3600,
        bisect: bool = True,
        report_failures: bool = True,
        starting_position: str = "TRIM_HORIZON",
        function_name: str = "local",
        timeout: int = 30,
        clock: Callable[[], float] = time.time,
        account: str = ACCOUNT,
    ) -> None:
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
        self.stream_arn = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"][
            "StreamARN"
        ]
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
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
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
        failed = (failed_ids(response, ids) if self.report_failures else set()) if ok else None
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
