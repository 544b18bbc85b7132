"""Lambda's SQS event source mapping, emulated: receive, invoke, delete what succeeded.

Failed messages become visible again after the visibility timeout and move
to the dead-letter queue after `max_receive` deliveries, as on AWS.
"""

from __future__ import annotations

import base64
from typing import Any

from lambdakit.local.polling import ACCOUNT, Handler, Poller, failed_ids


class SqsPoller(Poller):
    """Lambda's SQS event source: receive a batch, invoke, delete what succeeded.

    What failed is left alone: it reappears after the queue's visibility
    timeout (or `retry_after` seconds, to speed local retries) and SQS moves it
    to the dead-letter queue once its receive count passes maxReceiveCount.
    """

    def __init__(
        self,
        handler: Handler,
        sqs: Any,
        queue_url: str,
        *,
        batch_size: int = 10,
        function_name: str = "local",
        timeout: int = 30,
        report_failures: bool = True,
        retry_after: int | None = None,
        account: str = ACCOUNT,
    ) -> None:
        super().__init__(handler, function_name, timeout, sqs.meta.region_name, account)
        self.sqs = sqs
        self.queue_url = queue_url
        self.batch_size = batch_size
        self.report_failures = report_failures
        self.retry_after = retry_after
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def _receive(self) -> list[dict[str, Any]]:
        """Up to batch_size messages (SQS gives 10 per call); a message seen twice (visibility 0) counts once."""
        messages: dict[str, dict[str, Any]] = {}
        while len(messages) < self.batch_size:
            wanted = min(10, self.batch_size - len(messages))
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=wanted,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
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
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
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
            failed = (failed_ids(response, ids) if self.report_failures else set()) if ok else None
            if failed is None:
                if ok:
                    self.stats.errors += 1
                failed = set(ids)
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                chunk = done[start : start + 10]
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
                )
            self.stats.succeeded += len(done)
            self.stats.failed += len(messages) - len(done)
            if self.retry_after is not None:
                again = [m for m in messages if m["MessageId"] in failed]
                for start in range(0, len(again), 10):
                    self.sqs.change_message_visibility_batch(
                        QueueUrl=self.queue_url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_after}
                            for i, m in enumerate(again[start : start + 10])
                        ],
                    )
            return len(messages)
