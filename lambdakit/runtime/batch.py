"""A queue or stream consumer as a Lambda handler: one record per call, each failure reported alone.

Powertools' batch processor runs the loop and builds the partial batch
response (`batchItemFailures`), which the event source honours because the
template turns on `ReportBatchItemFailures`. A record that does not parse
into the function's message type, or whose call raises, is that record's
failure; the others succeed and are deleted (SQS) or checkpointed (Kinesis).
Powertools is imported here only, when a consumer's handler is built.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from lambdakit.runtime.binding import http_plan, is_model, message_type

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def message_type_of(spec: Any) -> Any:
    """What one record becomes: a storage-first route's body type, or a consumer's one parameter type."""
    if spec.storage_first:
        plan = http_plan(spec.func, spec.route.path_params, spec.where)
        assert plan.body is not None, f"{spec.where}: a storage-first route takes a body parameter"
        return plan.body.model
    return message_type(spec.func, spec.where)


def parser(tp: Any) -> Callable[[bytes], Any]:
    """Raw record bytes -> the message, validated by pydantic; raising is the record's failure."""
    if is_model(tp):
        return tp.model_validate_json
    if tp is bytes:
        return lambda raw: raw
    if tp is str:
        return _text
    if tp is Any:
        return json.loads
    from pydantic import TypeAdapter

    return TypeAdapter(tp).validate_json


def _text(raw: bytes) -> str:
    """A `str` consumer gets the text; a JSON string (what `queue.send("hi")` sends) arrives decoded."""
    text = raw.decode("utf-8")
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, str):
            return value
    return text


def _identifier(record: dict[str, Any], on_queue: bool) -> str:
    """What Lambda expects in `batchItemFailures`: the SQS message id or the Kinesis sequence number."""
    return str(record["messageId"] if on_queue else record["kinesis"]["sequenceNumber"])


def _message_id(record: Any) -> str:
    """The SQS message's lasting id: its `lk-id` attribute (kept across DLQ redrives), else its messageId."""
    from lambdakit.runtime.idempotency import ID_ATTRIBUTE

    attribute = (record.get("messageAttributes") or {}).get(ID_ATTRIBUTE) or {}
    return str(attribute.get("stringValue") or record.message_id)


def _log_failure(spec: Any, record_id: str, what: str, exc: BaseException, trace: bool) -> None:
    from lambdakit.runtime.log import logger

    detail: Any = str(exc)
    errors = getattr(exc, "errors", None)
    if callable(errors):  # a pydantic ValidationError: say what is wrong, not what was sent
        with contextlib.suppress(TypeError):
            detail = errors(include_url=False, include_context=False, include_input=False)
    logger().warning(f"{spec.name}: record {record_id} failed: {what}", exc_info=exc if trace else None,
                     extra={"function": spec.name, "record": record_id, "error": type(exc).__name__,
                            "detail": detail})


def make_handler(spec: Any) -> Handler:
    """The Lambda handler of a consumer (`@lk.consume`) or a storage-first route's consumer."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        SqsFifoPartialProcessor,
        process_partial_response,
    )
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    source = spec.source
    if source is None:
        raise RuntimeError(f"{spec.where}: not a consumer: it has no queue or stream")
    on_queue = source.kind == "queue"
    fifo = on_queue and bool(source.fifo)
    kind = "sqs" if on_queue else "kinesis"
    parse = parser(message_type_of(spec))
    func = spec.func
    guard = None
    if spec.idempotent:
        from lambdakit.runtime.idempotency import Guard, record_key

        guard = Guard(spec, func)

    def record_handler(record: Any) -> None:
        if on_queue:
            raw, record_id = record.body.encode("utf-8"), _message_id(record)
        else:
            raw, record_id = record.kinesis.data_as_bytes(), record.event_id
        try:
            message = parse(raw)
        except Exception as exc:
            _log_failure(spec, record_id, "the message does not parse", exc, trace=False)
            raise
        try:
            if guard is None:
                func(message)
            else:
                guard(record_key(kind, record_id, raw), message)
        except Exception as exc:
            _log_failure(spec, record_id, "the function raised", exc, trace=True)
            raise

    def processor() -> Any:
        if fifo:  # a failure stops its message group only; later messages of that group stay in order
            return SqsFifoPartialProcessor(skip_group_on_error=True)
        return BatchProcessor(EventType.SQS if on_queue else EventType.KinesisDataStreams,
                              raise_on_entire_batch_failure=False)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if guard is not None:
            guard.start(context)
        try:  # a new processor per call: the local server may run one handler on several threads
            return dict(process_partial_response(event, record_handler, processor(), context))
        except BatchProcessingError:
            # Every record failed (Powertools raises then): report each one, so exactly these come back.
            return {"batchItemFailures": [{"itemIdentifier": _identifier(r, on_queue)}
                                          for r in event.get("Records") or []]}

    handler.__wrapped__ = func  # type: ignore[attr-defined]
    return handler
