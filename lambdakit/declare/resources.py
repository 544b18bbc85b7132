"""Tables, queues and streams: declared once at module level, used as handles in code.

A resource object is pure data (its name, keys, options). Its data methods
(`get`, `put`, `send`, ...) delegate to `lambdakit.runtime.data`, imported on
first use, so declaring a resource costs nothing at cold start.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lambdakit.core.names import DeclarationError, camel, check_name, env_var

_KEY_TYPES = {str: "S", int: "N", bytes: "B", "str": "S", "int": "N", "bytes": "B"}

KeySpec = "str | tuple[str, type]"


def _key(table: str, what: str, spec: object) -> tuple[str, str]:
    """Normalise `key=` / `sort_key=` / index keys to (attribute, DynamoDB type)."""
    if isinstance(spec, str):
        return check_name(f"table {table!r} {what}", spec), "S"
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) and spec[1] in _KEY_TYPES:
        return check_name(f"table {table!r} {what}", spec[0]), _KEY_TYPES[spec[1]]
    raise DeclarationError(
        f"table {table!r}: {what}={spec!r} is not a key; use an attribute name, "
        "or (name, type) with type str, int or bytes"
    )


class Resource:
    """Something a function reads or writes; its kind decides the IAM actions."""

    kind: ClassVar[str]
    suffix: ClassVar[str]

    def __init__(self, name: str) -> None:
        self.name = check_name(self.kind, name)

    @property
    def logical_id(self) -> str:
        return camel(self.name) + self.suffix

    @property
    def env(self) -> str:
        return env_var(self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Table(Resource):
    """A DynamoDB table (on demand, point-in-time recovery, encrypted, retained on delete)."""

    kind = "table"
    suffix = "Table"

    def __init__(
        self,
        name: str,
        key: Any,
        sort_key: Any = None,
        indexes: dict[str, Any] | None = None,
        ttl: str | None = None,
    ) -> None:
        super().__init__(name)
        self.key = _key(name, "key", key)
        self.sort_key = _key(name, "sort_key", sort_key) if sort_key is not None else None
        self.indexes: dict[str, tuple[tuple[str, str], tuple[str, str] | None]] = {}
        for index, keys in (indexes or {}).items():
            check_name(f"table {name!r} index", index)
            if isinstance(keys, tuple) and len(keys) == 2 and not (isinstance(keys[1], type) or keys[1] in _KEY_TYPES):
                partition, sort = keys
                self.indexes[index] = (_key(name, f"index {index!r}", partition), _key(name, f"index {index!r}", sort))
            else:
                self.indexes[index] = (_key(name, f"index {index!r}", keys), None)
        self.ttl = ttl

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.key[0],) + ((self.sort_key[0],) if self.sort_key else ())

    # -- data handle -------------------------------------------------------
    @property
    def table(self) -> Any:
        """The boto3 `Table` resource, for anything the handle does not cover."""
        from lambdakit.runtime import data

        return data.table(self)

    def get(self, **key: Any) -> dict[str, Any] | None:
        from lambdakit.runtime import data

        return data.get_item(self, key)

    def put(self, item: Any) -> None:
        from lambdakit.runtime import data

        data.put_item(self, item)

    def delete(self, **key: Any) -> None:
        from lambdakit.runtime import data

        data.delete_item(self, key)

    def update(self, key: dict[str, Any], set: dict[str, Any]) -> dict[str, Any]:
        from lambdakit.runtime import data

        return data.update_item(self, key, set)

    def query(self, index: str | None = None, limit: int | None = None, **key_equals: Any) -> list[dict[str, Any]]:
        from lambdakit.runtime import data

        return data.query(self, index, limit, key_equals)

    def scan(self, limit: int | None = None) -> list[dict[str, Any]]:
        from lambdakit.runtime import data

        return data.scan(self, limit)


class Queue(Resource):
    """An SQS queue with its own dead-letter queue and encryption."""

    kind = "queue"
    suffix = "Queue"
    DEFAULT_MAX_RECEIVE = 5

    def __init__(
        self, name: str, fifo: bool = False, max_receive: int = DEFAULT_MAX_RECEIVE, retention_days: int = 4
    ) -> None:
        super().__init__(name)
        self.fifo = fifo
        self.max_receive = max_receive
        self.retention_days = retention_days
        if not 1 <= max_receive <= 1000:
            raise DeclarationError(f"queue {name!r}: max_receive={max_receive} must be between 1 and 1000")
        if not 1 <= retention_days <= 14:
            raise DeclarationError(f"queue {name!r}: retention_days={retention_days} must be between 1 and 14")

    def send(self, message: Any, group: str | None = None, dedup_id: str | None = None) -> str:
        """Send a model or JSON-able value; returns the message id. FIFO queues: `group` orders messages,
        and a repeated `dedup_id` within 5 minutes is dropped by SQS (every send is distinct without one)."""
        from lambdakit.runtime import data

        return data.send_message(self, message, group, dedup_id)


class Stream(Resource):
    """A Kinesis data stream (on demand, encrypted)."""

    kind = "stream"
    suffix = "Stream"

    def __init__(self, name: str, retention_hours: int = 24) -> None:
        super().__init__(name)
        if not 24 <= retention_hours <= 8760:
            raise DeclarationError(f"stream {name!r}: retention_hours={retention_hours} must be between 24 and 8760")
        self.retention_hours = retention_hours

    def put(self, record: Any, partition_key: str | None = None) -> str:
        """Put a model or JSON-able value; returns the sequence number."""
        from lambdakit.runtime import data

        return data.put_record(self, record, partition_key)
