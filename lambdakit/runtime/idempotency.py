"""At most once per message: a consumer's effect is recorded in DynamoDB (Powertools idempotency).

SQS and Kinesis deliver at least once: a message comes back when a batch
times out, when Lambda retries a Kinesis batch from its first failed record,
or when SQS simply delivers twice. The key of a message is where it came from
and what it says: its id plus the SHA-256 of the body. The id is the SQS
`messageId` or the Kinesis `eventID` (shard id and sequence number); a message
that carries an `lk-id` attribute uses that instead, because it survives a
DLQ redrive, which gives the message a new `messageId` (storage-first routes
set it to the API request id; `lambdakit.local.redrive.redrive_dlq` keeps it).
A redelivery has the same key, so its effect is not repeated; two requests
with the same body are two messages, so both take effect.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdakit.core.names import idempotency_table_name
from lambdakit.declare.resources import Queue, Stream

if TYPE_CHECKING:
    from lambdakit.declare.functions import FunctionSpec

TABLE_ENV = "LK_IDEMPOTENCY_TABLE"
ID_ATTRIBUTE = "lk-id"  # an SQS message attribute naming the message across redrives


def table_name(function: str) -> str:
    """The table the template names, else the one the local backend created."""
    return os.environ.get(TABLE_ENV) or idempotency_table_name(function)


def record_key(source: str, record_id: str, body: bytes) -> dict[str, str]:
    """What identifies one delivery of a message: the same on every redelivery, distinct per message."""
    return {"source": source, "id": record_id, "sha256": hashlib.sha256(body).hexdigest()}


def remember_for(spec: FunctionSpec) -> int:
    """Seconds to keep a record: as long as the source could still deliver the message again."""
    source = spec.source
    if isinstance(source, Queue):
        return source.retention_days * 86400
    if isinstance(source, Stream):
        return source.retention_hours * 3600
    return 86400


class Guard:
    """Runs `func(message)` at most once per record key; a failure deletes the record so a retry runs again."""

    def __init__(self, spec: FunctionSpec, func: Callable[[Any], Any]) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        from lambdakit.runtime import aws

        class _Persistence(DynamoDBPersistenceLayer):
            """Uses lambdakit's shared client, so `aws.reset()` (a new backend, new credentials) reaches it too."""

            @property
            def client(self) -> Any:
                return aws.client("dynamodb")

            @client.setter
            def client(self, value: Any) -> None:
                pass

        self.config = IdempotencyConfig(expires_after_seconds=remember_for(spec), hash_function="sha256")
        self.persistence = _Persistence(table_name=table_name(spec.name), boto3_client=aws.client("dynamodb"))

        def run(*, key: dict[str, str], message: Any) -> None:
            func(message)  # the result is not kept: a consumer's effect is what it writes

        # A stable prefix: the same key whatever the deployed function is called.
        self._run = idempotent_function(
            run,
            data_keyword_argument="key",
            persistence_store=self.persistence,
            config=self.config,
            key_prefix=f"lambdakit.{spec.name}",
        )

    def start(self, context: Any) -> None:
        """Lets an in-progress record expire with the invocation, so a timed-out message can run again."""
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            self.config.register_lambda_context(context)

    def __call__(self, key: dict[str, str], message: Any) -> None:
        self._run(key=key, message=message)
