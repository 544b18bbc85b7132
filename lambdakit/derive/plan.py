"""The resource plan: every AWS resource an `App` needs, named and configured once.

`plan_of(app)` is a pure function of the declarations. It decides each
resource's logical id (in the template) and local name (in `lambdakit local`
and the tests), each function's memory, timeout, environment and trigger
settings, each queue's dead-letter queue and visibility timeout, each
table's key schema, and the tables and queues lambdakit adds on its own
(idempotency records, Kinesis failure queues). Every backend reads it: the
SAM template (`derive.template`), the IAM policies (`derive.iam`), the local
backend and its pollers (`lambdakit.local`) and the test client. None of
them derives a name or a setting again.

What later patterns add (CloudFront distributions and their behaviors, the
site bucket, certificates, domains, edge functions) goes here as more plan
entries, rendered by their own template module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from lambdakit.core.names import (
    camel,
    dead_letter_queue_name,
    failure_queue_name,
    idempotency_table_name,
    log_group_name,
    queue_name,
)
from lambdakit.declare.app import App
from lambdakit.declare.auth import Cognito
from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.resources import Queue, Stream, Table
from lambdakit.declare.triggers import ConsumerOptions, KinesisOptions, SqsOptions

#: AWS's advice: a queue's visibility timeout >= 6x its consumer's timeout (+ the batching window)
VISIBILITY_FACTOR = 6
#: how long lambdakit's own queues (dead letters, failures) keep a message: SQS's maximum, 14 days
KEEP_FAILED_SECONDS = 1209600

Key = tuple[str, str]  # (attribute, DynamoDB type "S" | "N" | "B")


@dataclass(frozen=True)
class TablePlan:
    """A DynamoDB table: declared (`declared` is the `lk.Table`) or lambdakit's own idempotency table."""

    logical_id: str
    local_name: str
    key: Key
    sort_key: Key | None
    indexes: tuple[tuple[str, Key, Key | None], ...]
    ttl: str | None
    declared: Table | None = None

    def key_schema(self, partition: Key | None = None, sort: Key | None = None) -> list[dict[str, str]]:
        """The table's key schema, or an index's when its keys are given."""
        partition, sort = (partition, sort) if partition is not None else (self.key, self.sort_key)
        schema = [{"AttributeName": partition[0], "KeyType": "HASH"}]
        if sort:
            schema.append({"AttributeName": sort[0], "KeyType": "RANGE"})
        return schema

    def global_secondary_indexes(self) -> list[dict[str, Any]]:
        return [
            {"IndexName": name, "KeySchema": self.key_schema(partition, sort), "Projection": {"ProjectionType": "ALL"}}
            for name, partition, sort in self.indexes
        ]

    def attribute_definitions(self) -> list[dict[str, str]]:
        """Every key attribute of the table and its indexes, once, in the order the schemas name them."""
        types: dict[str, str] = {}
        for partition, sort in [(self.key, self.sort_key), *((p, s) for _, p, s in self.indexes)]:
            for key in (partition, sort):
                if key is not None:
                    types.setdefault(key[0], key[1])
        return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


@dataclass(frozen=True)
class QueuePlan:
    """An SQS queue: declared, created for a storage-first route, or a Kinesis consumer's failure queue.

    `dead_letter` is its dead-letter queue (None for lambdakit's own failure queues, which are the end of
    the line), `max_receive` the deliveries before a message moves there, `visibility_timeout` long enough
    for its consumer's (retried) batch.
    """

    logical_id: str
    local_name: str
    fifo: bool
    visibility_timeout: int
    retention_seconds: int
    max_receive: int
    dead_letter: DeadLetterPlan | None
    consumer: str | None
    declared: Queue | None = None


@dataclass(frozen=True)
class DeadLetterPlan:
    logical_id: str
    local_name: str


@dataclass(frozen=True)
class StreamPlan:
    logical_id: str
    local_name: str
    retention_hours: int
    consumers: tuple[str, ...]
    declared: Stream


@dataclass(frozen=True)
class TriggerPlan:
    """What starts a consumer: its queue or stream, and how Lambda polls it."""

    source: QueuePlan | StreamPlan
    options: ConsumerOptions

    @property
    def kind(self) -> str:
        return "sqs" if isinstance(self.options, SqsOptions) else "kinesis"


@dataclass(frozen=True)
class FunctionPlan:
    """One Lambda: its settings, the resources lambdakit gives it, and the names of its role and logs."""

    spec: FunctionSpec
    logical_id: str
    role_id: str
    log_group_id: str
    log_group_name: str
    permission_id: str | None  # API Gateway's permission to invoke a route's function
    memory: int
    timeout: int
    environment: tuple[tuple[str, str | dict[str, str]], ...]  # name -> a literal or {"Ref": logical id}
    trigger: TriggerPlan | None
    failure_queue: QueuePlan | None  # Kinesis consumers: where records go when retries run out
    idempotency_table: TablePlan | None
    ingest_role_id: str | None  # storage-first routes: the role API Gateway assumes to store a request

    @property
    def name(self) -> str:
        return self.spec.name


if TYPE_CHECKING:
    from lambdakit.derive.site import SitePlan

#: The REST API's logical id.
API_ID = "Api"


@dataclass(frozen=True)
class Plan:
    """Everything `App` needs in AWS. Tuples in a fixed order: the same app gives the same plan."""

    app: App
    tables: tuple[TablePlan, ...]  # the declared ones, by name
    queues: tuple[QueuePlan, ...]  # declared, then storage-first ones, in function order
    streams: tuple[StreamPlan, ...]  # likewise
    pools: tuple[Cognito, ...]  # the user pools the stack creates (not those named by ARN)
    functions: tuple[FunctionPlan, ...]
    site: SitePlan | None = None  # the CloudFront distribution (a Frontend, or cdn=True)

    @property
    def has_api(self) -> bool:
        return any(fn.spec.kind == "http" for fn in self.functions)

    def function(self, name: str) -> FunctionPlan:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise KeyError(name)

    def of(self, spec: FunctionSpec) -> FunctionPlan:
        """The plan of a declared function; the local invoker asks on every invocation, so by index."""
        found = self._by_spec.get(id(spec))
        if found is None:
            raise KeyError(spec.name)
        return found

    @cached_property
    def _by_spec(self) -> dict[int, FunctionPlan]:
        return {id(fn.spec): fn for fn in self.functions}

    def queue(self, queue: Queue) -> QueuePlan:
        return next(q for q in self.queues if q.declared is queue)

    def stream(self, stream: Stream) -> StreamPlan:
        return next(s for s in self.streams if s.declared is stream)

    def all_tables(self) -> Iterator[TablePlan]:
        """Declared tables, then lambdakit's own: what a backend creates."""
        yield from self.tables
        yield from (fn.idempotency_table for fn in self.functions if fn.idempotency_table is not None)

    def all_queues(self) -> Iterator[QueuePlan]:
        yield from self.queues
        yield from (fn.failure_queue for fn in self.functions if fn.failure_queue is not None)


# -- names ----------------------------------------------------------------------------------------------


def role_id(spec: FunctionSpec) -> str:
    return camel(spec.name) + "Role"


def log_group_id(spec: FunctionSpec) -> str:
    return camel(spec.name) + "LogGroup"


def failure_queue_id(spec: FunctionSpec) -> str:
    return camel(spec.name) + "FailureQueue"


def idempotency_table_id(spec: FunctionSpec) -> str:
    return camel(spec.name) + "IdempotencyTable"


def ingest_role_id(spec: FunctionSpec) -> str:
    return camel(spec.name) + "IngestRole"


def dead_letter_id(queue: Queue) -> str:
    return camel(queue.name) + "DeadLetterQueue"


# -- settings -------------------------------------------------------------------------------------------


def _first_set(own: int | None, service: int | None, default: int) -> int:
    """The first setting given (0 included: the build refuses it rather than take the default)."""
    return own if own is not None else service if service is not None else default


def memory_of(app: App, spec: FunctionSpec) -> int:
    """The function's own `memory=`, else its service's, else lambdakit's default."""
    return _first_set(spec.memory, app.service.memory, FunctionSpec.DEFAULT_MEMORY)


def timeout_of(app: App, spec: FunctionSpec) -> int:
    """The function's own `timeout=`, else its service's, else the default for its kind."""
    return _first_set(spec.timeout, app.service.timeout, FunctionSpec.DEFAULT_TIMEOUT[spec.kind])


def integration_timeout_of(app: App, spec: FunctionSpec) -> int | None:
    """How long API Gateway waits for a route's function: the route's `integration_timeout=`, else its
    service's; None: API Gateway's default (29 s)."""
    own = spec.route.integration_timeout if spec.route is not None else None
    return own if own is not None else app.service.integration_timeout


def visibility_timeout(consumer_timeout: int | None, window: int = 0) -> int:
    """Long enough that a message is not redelivered while a (retried) batch still holds it."""
    if not consumer_timeout:
        return 30
    return min(max(30, VISIBILITY_FACTOR * consumer_timeout + window), 43200)


# -- the plan -------------------------------------------------------------------------------------------


def _table(table: Table) -> TablePlan:
    indexes = tuple((name, keys[0], keys[1]) for name, keys in table.indexes.items())
    return TablePlan(table.logical_id, table.name, table.key, table.sort_key, indexes, table.ttl, table)


def _queue(app: App, queue: Queue, consumer: FunctionSpec | None) -> QueuePlan:
    options = consumer.options if consumer is not None else None
    window = options.window if options is not None else 0
    # One consumer per queue: the redrive is the consumer's `max_receive` (which defaults to the queue's).
    max_receive = options.max_receive if isinstance(options, SqsOptions) else queue.max_receive
    dead_letter = DeadLetterPlan(dead_letter_id(queue), dead_letter_queue_name(queue.name, queue.fifo))
    return QueuePlan(
        queue.logical_id,
        queue_name(queue.name, queue.fifo),
        queue.fifo,
        visibility_timeout(timeout_of(app, consumer) if consumer else None, window),
        queue.retention_days * 86400,
        max_receive,
        dead_letter,
        consumer.name if consumer is not None else None,
        queue,
    )


def _environment(app: App, spec: FunctionSpec) -> tuple[tuple[str, str | dict[str, str]], ...]:
    """The variables the runtime reads: which function to run and each resource's physical name."""
    env: dict[str, str | dict[str, str]] = {
        "LAMBDAKIT_FUNCTION": spec.target,
        "POWERTOOLS_SERVICE_NAME": app.service.name,
    }
    for res in spec.resources:
        env[res.env] = {"Ref": res.logical_id}
    if spec.idempotent:
        env["LK_IDEMPOTENCY_TABLE"] = {"Ref": idempotency_table_id(spec)}
    if spec.kind == "http" and not spec.storage_first and app.service.cors is not None:
        env["LAMBDAKIT_CORS"] = app.service.cors.to_json()
    return tuple(env.items())


def plan_of(app: App) -> Plan:
    """The plan of `app`; a pure function of its declarations."""
    consumers = {id(s.source): s for s in app.functions if s.source is not None}
    own_queues = [s.source for s in app.functions if s.kind == "http" and isinstance(s.source, Queue)]
    own_streams = [s.source for s in app.functions if s.kind == "http" and isinstance(s.source, Stream)]
    queues = tuple(_queue(app, q, consumers.get(id(q))) for q in [*app.queues, *own_queues])
    streams = tuple(
        StreamPlan(s.logical_id, s.name, s.retention_hours, tuple(f.name for f in app.functions if f.source is s), s)
        for s in [*app.streams, *own_streams]
    )
    by_source: dict[int, QueuePlan | StreamPlan] = {id(q.declared): q for q in queues}
    by_source.update({id(s.declared): s for s in streams})
    functions = []
    for spec in app.functions:
        trigger = None
        if spec.source is not None and spec.options is not None:
            trigger = TriggerPlan(by_source[id(spec.source)], spec.options)
        failure = None
        if isinstance(spec.options, KinesisOptions):
            failure = QueuePlan(
                failure_queue_id(spec), failure_queue_name(spec.name), False, 30, KEEP_FAILED_SECONDS, 0, None, None
            )
        idempotency = None
        if spec.idempotent:
            idempotency = TablePlan(
                idempotency_table_id(spec), idempotency_table_name(spec.name), ("id", "S"), None, (), "expiration"
            )
        routed = spec.kind == "http" and spec.route is not None and not spec.storage_first
        functions.append(
            FunctionPlan(
                spec=spec,
                logical_id=spec.logical_id,
                role_id=role_id(spec),
                log_group_id=log_group_id(spec),
                log_group_name=log_group_name(spec.name),
                permission_id=camel(spec.name) + "Permission" if routed else None,
                memory=memory_of(app, spec),
                timeout=timeout_of(app, spec),
                environment=_environment(app, spec),
                trigger=trigger,
                failure_queue=failure,
                idempotency_table=idempotency,
                ingest_role_id=ingest_role_id(spec) if spec.storage_first else None,
            )
        )
    from lambdakit.derive.site import site_plan

    has_api = any(fn.spec.kind == "http" for fn in functions)
    return Plan(
        app,
        tuple(_table(t) for t in app.tables),
        queues,
        streams,
        tuple(p for p in app.pools if p.arn is None),
        tuple(functions),
        site_plan(app, API_ID, has_api),
    )
