"""The console's JSON endpoints, under `/_lambdakit/api/`: what the app declares, what ran, what waits where.

    GET  functions                 every function: trigger, route, auth, reads/writes, derived IAM policy
    GET  invocations?since=N       what ran after invocation N (oldest first), with the AWS calls each made
    GET  queues                    each queue's depth, its dead-letter queue's depth and messages; each stream
    GET  queues/NAME               one queue
    POST queues/NAME/redrive       move NAME's dead letters back to NAME, for its consumer to process again
    GET  tables                    each table, its keys and item count
    GET  tables/NAME               its first 100 items (a scan; read-only)

The console is the developer's view, not a function: it reads the backend with
lambdakit's own clients, outside any `iam_guard.acting_as`, so nothing it does
is checked against a policy or recorded as an invocation. Before touching
moto's data it waits for running functions (their invokers' locks), as the
invocations wait for each other: moto is not made for concurrent writers.
Errors have the framework's one shape (`lambdakit.errors.error_body`).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from lambdakit.declare.auth import describe
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive.iam import policy_document
from lambdakit.derive.plan import FunctionPlan, QueuePlan, StreamPlan, TablePlan
from lambdakit.derive.summary import trigger
from lambdakit.errors import error_body
from lambdakit.local.emulator import Emulator
from lambdakit.local.invoker import Invocation, recorded_since

#: the items `tables/NAME` shows, and the dead letters each queue shows
ITEMS = 100
DEAD_LETTERS = 50
#: how long the console waits for a running function before answering 503
WAIT_SECONDS = 10.0


class ApiError(Exception):
    """An answer other than 200: its status and the framework's error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Queue:
    emulator: Emulator
    plan: QueuePlan
    name: str  # declared name (a Kinesis consumer's failure queue: its physical name)
    failures_of: str | None = None  # the Kinesis consumer whose given-up records it holds


@dataclass(frozen=True)
class _Stream:
    emulator: Emulator
    plan: StreamPlan


@dataclass(frozen=True)
class _Table:
    emulator: Emulator
    plan: TablePlan
    idempotency_of: str | None = None  # the function whose idempotency records it holds


class ConsoleApi:
    """The endpoints over one emulator and the apps its site mounts (they share one in-memory AWS)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.running = emulator.everything()
        self._lock = threading.Lock()  # console requests touch moto one at a time (peeking moves messages)
        self.queues: dict[str, _Queue] = {}
        self.streams: dict[str, _Stream] = {}
        self.tables: dict[str, _Table] = {}
        for running in self.running:  # names are physical: apps on one backend share what has one name
            plan = running.plan
            for queue in plan.queues:
                name = queue.declared.name if queue.declared is not None else queue.local_name
                self.queues.setdefault(name, _Queue(running, queue, name))
            for fn in plan.functions:
                if fn.failure_queue is not None:
                    failure = fn.failure_queue
                    self.queues.setdefault(failure.local_name, _Queue(running, failure, failure.local_name, fn.name))
            for stream in plan.streams:
                self.streams.setdefault(stream.declared.name, _Stream(running, stream))
            for table in plan.tables:
                self.tables.setdefault(table.local_name, _Table(running, table))
            for fn in plan.functions:
                if fn.idempotency_table is not None:
                    self.tables.setdefault(
                        fn.idempotency_table.local_name, _Table(running, fn.idempotency_table, fn.name)
                    )
        # An invocation names its function, not its app: the first app declaring the name is its own.
        self._service_of = {s.name: e.app.service.name for e in reversed(self.running) for s in e.app.functions}

    # -- dispatch -----------------------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: Mapping[str, str], origin: str | None = None, host: str | None = None
    ) -> tuple[int, Any]:
        """(status, JSON body) for `METHOD /_lambdakit/api/PATH`. `origin` and `host` are the request's
        headers: a POST from another origin (a page elsewhere, posting to localhost) is refused."""
        try:
            return 200, self._route(method.upper(), [p for p in path.split("/") if p], query, origin, host)
        except ApiError as exc:
            return exc.status, error_body(exc.code, exc.message)

    def _route(
        self, method: str, parts: list[str], query: Mapping[str, str], origin: str | None, host: str | None
    ) -> Any:
        shown = "/_lambdakit/api/" + "/".join(parts)
        get: dict[tuple[str, int], Callable[[list[str]], Any]] = {
            ("functions", 1): lambda _: self.functions(),
            ("invocations", 1): lambda _: self.invocations(_int(query, "since", 0), _int(query, "limit", 200)),
            ("queues", 1): lambda _: self.queue_list(),
            ("queues", 2): lambda p: self.queue(p[1]),
            ("tables", 1): lambda _: self.table_list(),
            ("tables", 2): lambda p: self.table(p[1]),
        }
        key = (parts[0] if parts else "", len(parts))
        if len(parts) == 3 and parts[0] == "queues" and parts[2] == "redrive":
            if method != "POST":
                raise ApiError(405, "method_not_allowed", f"POST {shown} to move the dead letters back")
            if origin and urlsplit(origin).netloc != (host or ""):
                raise ApiError(403, "forbidden", f"{shown} takes requests from the console's own origin only")
            return self.redrive(parts[1])
        if key in get:
            if method not in ("GET", "HEAD"):
                raise ApiError(405, "method_not_allowed", f"{shown} answers GET only")
            return get[key](parts)
        raise ApiError(
            404,
            "not_found",
            f"no console endpoint {method} {shown}; there are functions, invocations?since=N, queues, "
            "queues/NAME, queues/NAME/redrive (POST), tables, tables/NAME",
        )

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """While no function runs (in any of the apps), and no other console request touches moto."""
        with ExitStack() as stack:
            locks: list[threading.Lock | threading.RLock] = [self._lock, *(e.invoker.lock for e in self.running)]
            for lock in locks:
                if not lock.acquire(timeout=WAIT_SECONDS):
                    raise ApiError(503, "busy", f"a function has been running for over {WAIT_SECONDS:.0f} s")
                stack.callback(lock.release)
            yield

    # -- functions --------------------------------------------------------------------------------------------
    def functions(self) -> dict[str, Any]:
        return {
            "service": self.emulator.app.service.name,
            "functions": [_function(e, fn) for e in self.running for fn in e.plan.functions],
        }

    # -- invocations ------------------------------------------------------------------------------------------
    def invocations(self, since: int = 0, limit: int = 200) -> dict[str, Any]:
        """What ran after `since` (at most the newest `limit`, oldest first) and the cursor to ask from next.
        A cursor past the latest invocation comes from before a restart: then everything is sent again."""
        last, found = recorded_since([e.invoker for e in self.running], since)
        reset = since > last
        if reset:
            last, found = recorded_since([e.invoker for e in self.running], 0)
        limit = max(1, min(limit, 1000))
        return {
            "cursor": last,
            "reset": reset,
            "invocations": [self._invocation(inv) for inv in found[-limit:]],
        }

    def _invocation(self, inv: Invocation) -> dict[str, Any]:
        return {
            "seq": inv.seq,
            "at": inv.at,
            "service": self._service_of.get(inv.function, self.emulator.app.service.name),
            "function": inv.function,
            "trigger": inv.trigger,
            "status": inv.status,
            "outcome": outcome(inv.status),
            "ms": round(inv.ms, 2),
            "request_id": inv.request_id,
            "calls": [
                {
                    "operation": c.operation,
                    "action": c.action,
                    "resource": c.resource,
                    "allowed": c.allowed,
                    "message": c.message,
                }
                for c in inv.calls
            ],
            "dropped_calls": inv.dropped_calls,
            "denied": list(inv.denied),
        }

    # -- queues and streams -----------------------------------------------------------------------------------
    def queue_list(self) -> dict[str, Any]:
        with self._quiet():
            return {
                "queues": [self._queue(q) for q in self.queues.values()],
                "streams": [self._stream(s) for s in self.streams.values()],
            }

    def queue(self, name: str) -> dict[str, Any]:
        found = self._find_queue(name)
        with self._quiet():
            return self._queue(found)

    def redrive(self, name: str) -> dict[str, Any]:
        """Move every message of the queue's dead-letter queue back to it (`local.redrive.redrive_dlq`), so its
        consumer gets them again; each keeps its `lk-id`, so an idempotent consumer skips what it applied."""
        from lambdakit.local.redrive import redrive_dlq

        found = self._find_queue(name)
        dead = found.plan.dead_letter
        if dead is None:
            raise ApiError(400, "bad_request", f"queue {name!r} has no dead-letter queue to redrive")
        backend = found.emulator.backend
        with self._quiet():
            moved = redrive_dlq(
                backend.client("sqs"),
                backend.queue_url_named(dead.local_name),
                backend.queue_url_named(found.plan.local_name),
            )
        return {"queue": name, "moved": moved}

    def _find_queue(self, name: str) -> _Queue:
        found = self.queues.get(name) or next((q for q in self.queues.values() if q.plan.local_name == name), None)
        if found is None:
            raise ApiError(404, "not_found", f"no queue named {name!r}; queues: {', '.join(self.queues) or 'none'}")
        return found

    def _queue(self, found: _Queue) -> dict[str, Any]:
        backend, plan = found.emulator.backend, found.plan
        sqs = backend.client("sqs")
        url = backend.queue_url_named(plan.local_name)
        out: dict[str, Any] = {
            "name": found.name,
            "local_name": plan.local_name,
            "kind": "failures" if found.failures_of else "queue",
            "fifo": plan.fifo,
            "url": url,
            "consumer": plan.consumer,
            "failures_of": found.failures_of,
            "max_receive": plan.max_receive if plan.dead_letter is not None else None,
            "visibility_timeout": plan.visibility_timeout,
            **_depth(sqs, url),
            "dead_letter": None,
        }
        if found.failures_of:  # nothing reads it: what it holds is shown like dead letters
            out["messages"] = _peek(sqs, url, DEAD_LETTERS)
        if plan.dead_letter is not None:
            dlq = backend.queue_url_named(plan.dead_letter.local_name)
            out["dead_letter"] = {
                "name": plan.dead_letter.local_name,
                "url": dlq,
                **_depth(sqs, dlq),
                "messages": _peek(sqs, dlq, DEAD_LETTERS),
            }
        return out

    def _stream(self, found: _Stream) -> dict[str, Any]:
        kinesis = found.emulator.backend.client("kinesis")
        name = found.plan.local_name
        shards = []
        for shard in kinesis.list_shards(StreamName=name).get("Shards", []):
            shards.append({"id": shard["ShardId"], "records": _count_records(kinesis, name, shard["ShardId"])})
        return {
            "name": found.plan.declared.name,
            "local_name": name,
            "consumers": list(found.plan.consumers),
            "retention_hours": found.plan.retention_hours,
            "shards": shards,
            "records": sum(s["records"] for s in shards),
        }

    # -- tables -------------------------------------------------------------------------------------------------
    def table_list(self) -> dict[str, Any]:
        with self._quiet():
            return {"tables": [self._table_summary(t) for t in self.tables.values()]}

    def _table_summary(self, found: _Table) -> dict[str, Any]:
        plan = found.plan
        described = found.emulator.backend.client("dynamodb").describe_table(TableName=plan.local_name)["Table"]
        return {
            "name": plan.local_name,
            "kind": "idempotency" if found.idempotency_of else "table",
            "idempotency_of": found.idempotency_of,
            "key": plan.key[0],
            "sort_key": plan.sort_key[0] if plan.sort_key else None,
            "indexes": [name for name, _, _ in plan.indexes],
            "count": int(described.get("ItemCount", 0)),
        }

    def table(self, name: str) -> dict[str, Any]:
        found = self.tables.get(name)
        if found is None:
            raise ApiError(404, "not_found", f"no table named {name!r}; tables: {', '.join(self.tables) or 'none'}")
        from boto3.dynamodb.types import TypeDeserializer

        ddb = found.emulator.backend.client("dynamodb")
        plain = TypeDeserializer()
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": found.plan.local_name, "Limit": ITEMS}
        more = False
        with self._quiet():
            while len(items) < ITEMS:
                page = ddb.scan(**kwargs)
                items += [{k: _json(plain.deserialize(v)) for k, v in item.items()} for item in page.get("Items", [])]
                start = page.get("LastEvaluatedKey")
                more = start is not None
                if not more:
                    break
                kwargs.update(ExclusiveStartKey=start, Limit=ITEMS - len(items))
            summary = self._table_summary(found)
        return {**summary, "items": items[:ITEMS], "truncated": more or len(items) > ITEMS}


def outcome(status: str) -> str:
    """The invocation's status as ok, warn (refused or not found: the caller's side) or error."""
    head = status.split(" ", 1)[0]
    if head.isdigit():
        code = int(head)
        return "ok" if code < 400 else "warn" if code < 500 else "error"
    if status.endswith(" ok") and "/" in head:
        done, total = head.split("/", 1)
        return "ok" if done == total else "error"
    if status in ("ok", "Allow"):
        return "ok"
    if status in ("Deny", "Unauthorized"):
        return "warn"
    return "error"


def _function(running: Emulator, fn: FunctionPlan) -> dict[str, Any]:
    spec: FunctionSpec = fn.spec
    app = running.app
    auth = describe(app.effective_auth(spec)) if spec.route is not None else None
    return {
        "name": spec.name,
        "service": app.service.name,
        "kind": spec.kind,
        "trigger": trigger(spec),
        "route": {"method": spec.route.method, "path": spec.route.path} if spec.route is not None else None,
        "auth": auth,
        "api_key": bool(spec.route is not None and spec.route.api_key),
        "source": {"kind": spec.source.kind, "name": spec.source.name} if spec.source is not None else None,
        "reads": [{"kind": r.kind, "name": r.name} for r in spec.reads],
        "writes": [{"kind": r.kind, "name": r.name} for r in spec.writes],
        "memory": fn.memory,
        "timeout": fn.timeout,
        "where": spec.where,
        "policy": policy_document(fn),
    }


def _depth(sqs: Any, url: str) -> dict[str, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return {
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    }


def _peek(sqs: Any, url: str, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` of a queue's visible messages, handed back at once (visibility 0). Only for queues nothing
    consumes (dead letters, Kinesis failures): receiving counts against a source queue's maxReceiveCount."""
    seen: dict[str, dict[str, Any]] = {}
    handles: list[str] = []
    try:
        while len(seen) < limit:
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, limit - len(seen)),
                VisibilityTimeout=30,
                MessageSystemAttributeNames=["SentTimestamp", "MessageGroupId"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                break
            for message in got:
                handles.append(message["ReceiptHandle"])
                seen.setdefault(message["MessageId"], message)
    finally:
        for start in range(0, len(handles), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + 10])
                ],
            )
    out = []
    for message in seen.values():
        body = message["Body"]
        try:
            decoded: Any = json.loads(body)
        except ValueError:
            decoded = None
        sent = (message.get("Attributes") or {}).get("SentTimestamp")
        out.append(
            {
                "id": message["MessageId"],
                "body": body,
                "json": decoded,
                "sent_at": int(sent) / 1000 if sent else None,
                "group": (message.get("Attributes") or {}).get("MessageGroupId"),
                "attributes": {
                    name: value.get("StringValue") for name, value in (message.get("MessageAttributes") or {}).items()
                },
            }
        )
    return sorted(out, key=lambda m: m["sent_at"] or 0)


def _count_records(kinesis: Any, stream: str, shard: str, pages: int = 20) -> int:
    """The records a shard holds (read from its start; moto keeps them all, up to `pages` of 10,000)."""
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    count = 0
    for _ in range(pages):
        out = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        count += len(out.get("Records", []))
        iterator = out.get("NextShardIterator")
        if not out.get("Records") or not iterator:
            break
    return count


def _json(value: Any) -> Any:
    """A DynamoDB value as JSON: numbers as int or float, sets as sorted lists, binary as base64."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_json(v) for v in value), key=str)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if hasattr(value, "value") and isinstance(value.value, (bytes, bytearray)):  # boto3's Binary
        return base64.b64encode(bytes(value.value)).decode()
    return value


def _int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name}={raw!r}: a whole number, please") from None
