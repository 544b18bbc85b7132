"""One SQS consumer three ways: lambdakit, a raw loop, and Powertools' BatchProcessor used directly.

Each record's work is the same: validate the body into `Message`, then a dict write.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

import lambdakit as lk
from bench.apps.models import Message

SEEN: dict[str, int] = {}
orders = lk.Queue("bench-orders")


def work(message: Message) -> None:
    SEEN[message.order_id] = message.qty


@lk.consume(orders)
def lk_consumer(message: Message) -> None:
    work(message)


def raw_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        try:
            work(Message.model_validate_json(record["body"]))
        except (ValidationError, Exception):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


processor = BatchProcessor(event_type=EventType.SQS)


def _record_handler(record: SQSRecord) -> None:
    work(Message.model_validate_json(record.body))


def powertools_handler(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=_record_handler, processor=processor, context=context)
