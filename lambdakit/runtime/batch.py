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
from typing import TYPE_CHECKING, Any

from lambdakit.core.binding import http_plan, is_model
from lambdakit.core.messages import message_type
from lambdakit.declare.resources import Queue

if TYPE_CHECKING:
    from lambdakit.declare.functions import FunctionSpec

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def message_type_of(spec: FunctionSpec) -> Any:
    """What one record becomes: a storage-first route's body type, or a consumer's one parameter type."""
    if spec.route is not None:  # storage first
        plan = http_plan(spec.func, spec.route.path_params, spec.where)
        assert plan.body is not None, f"{spec.where}: a storage-first route takes a body parameter"
        return plan.body.model
    return message_type(spec.func, spec.where)


def parser(tp: Any) -> Callable[[bytes], Any]:
    """Raw record bytes -> the message, validated by pydantic; raising is the record's failure."""
    if is_model(tp):
        validate: Callable[[bytes], Any] = tp.model_validate_json
        return validate
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


def _log_failure(spec: FunctionSpec, record_id: str, what: str, exc: BaseException, trace: bool) -> None:
    from lambdakit.runtime.log import logger

    detail: Any = str(exc)
    errors = getattr(exc, "errors", None)
    if callable(errors):  # a pydantic ValidationError: say what is wrong, not what was sent
        with contextlib.suppress(TypeError):
            detail = errors(include_url=False, include_context=False, include_input=False)
    logger().warning(
        f"{spec.name}: record {record_id} failed: {what}",
        exc_info=exc if trace else None,
        extra={"function": spec.name, "record": record_id, "error": type(exc).__name__, "detail": detail},
    )


def make_handler(spec: FunctionSpec) -> Handler:
    """The Lambda handler of a consumer (`@lk.consume`) or a storage-first route's consumer."""
    import threading

    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        SqsFifoPartialProcessor,
        process_partial_response,
    )
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from lambdakit.runtime.idempotency import ID_ATTRIBUTE

    source = spec.source
    if source is None:
        raise RuntimeError(f"{spec.where}: not a consumer: it has no queue or stream")
    on_queue = isinstance(source, Queue)
    fifo = isinstance(source, Queue) and source.fifo
    kind = "sqs" if on_queue else "kinesis"
    message_type = message_type_of(spec)
    parse = parser(message_type)
    func = spec.func
    guard = None
    if spec.idempotent:
        from lambdakit.runtime.idempotency import Guard, record_key

        guard = Guard(spec, func)
    # Models and JSON parse from the SQS body's str as it is; bytes only where the type or the key hash needs them.
    as_bytes = guard is not None or message_type in (bytes, str)

    def record_id(record: Any) -> str:
        """The record's lasting id, computed only when used (a failure, the idempotency key): for SQS its
        `lk-id` attribute (kept across DLQ redrives), else its messageId; for Kinesis its eventID."""
        if not on_queue:
            return str(record.event_id)
        attribute = (record.get("messageAttributes") or {}).get(ID_ATTRIBUTE) or {}
        return str(attribute.get("stringValue") or record.message_id)

    def plain_sqs_record(record: Any) -> None:
        """The common case, kept to what a hand-written record handler does: parse the body, call."""
        try:
            message = parse(record.body)
        except Exception as exc:
            _log_failure(spec, record_id(record), "the message does not parse", exc, trace=False)
            raise
        try:
            func(message)
        except Exception as exc:
            _log_failure(spec, record_id(record), "the function raised", exc, trace=True)
            raise

    def record_handler(record: Any) -> None:
        raw: Any = record.body if on_queue else record.kinesis.data_as_bytes()
        if on_queue and as_bytes:
            raw = raw.encode("utf-8")
        try:
            message = parse(raw)
        except Exception as exc:
            _log_failure(spec, record_id(record), "the message does not parse", exc, trace=False)
            raise
        try:
            if guard is None:
                func(message)
            else:
                guard(record_key(kind, record_id(record), raw), message)
        except Exception as exc:
            _log_failure(spec, record_id(record), "the function raised", exc, trace=True)
            raise

    handle_record = plain_sqs_record if on_queue and guard is None and not as_bytes else record_handler

    def new_processor() -> Any:
        if fifo:  # a failure stops its message group only; later messages of that group stay in order
            return SqsFifoPartialProcessor(skip_group_on_error=True)
        return BatchProcessor(
            EventType.SQS if on_queue else EventType.KinesisDataStreams, raise_on_entire_batch_failure=False
        )

    # One processor per thread, reused across invocations (Powertools resets it per batch): building one
    # costs about as much as processing several records. Lambda runs one thread; the local server may run more.
    local = threading.local()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if guard is not None:
            guard.start(context)
        processor = getattr(local, "processor", None)
        if processor is None:
            processor = local.processor = new_processor()
        try:
            return dict(process_partial_response(event, handle_record, processor, context))
        except BatchProcessingError:
            # Every record failed (Powertools raises then): report each one, so exactly these come back.
            return {
                "batchItemFailures": [{"itemIdentifier": _identifier(r, on_queue)} for r in event.get("Records") or []]
            }

    handler.__wrapped__ = func  # type: ignore[attr-defined]
    return handler
