"""A function's derived IAM policy as the local guard enforces it, and the words that explain a refusal.

The statements come from `lambdakit.derive.iam` (the one place that decides
what a declaration grants); only their `Fn::Sub` resources are resolved here,
to the ARNs of what the backend created.
"""

from __future__ import annotations

from lambdakit.declare.resources import Queue, Resource, Stream, Table
from lambdakit.derive import iam
from lambdakit.derive.plan import FunctionPlan
from lambdakit.local.backend import Backend
from lambdakit.local.iam_guard import Grant, Policy, Refusal

DECORATOR = {"http": "@lk.route", "consumer": "@lk.consume", "authorizer": "@lk.authorizer"}
_GRANTS: dict[type[Resource], tuple[tuple[str, ...], tuple[str, ...]]] = {
    Table: (iam.TABLE_READ, iam.TABLE_WRITE),
    Queue: (iam.QUEUE_READ, iam.QUEUE_WRITE),
    Stream: (iam.STREAM_READ, iam.STREAM_WRITE),
}
#: Every action `derive.iam` grants any function; whatever else a call needs, no declaration allows.
GRANTED = frozenset(
    iam.TABLE_READ
    + iam.TABLE_WRITE
    + iam.QUEUE_READ
    + iam.QUEUE_WRITE
    + iam.QUEUE_TRIGGER
    + iam.STREAM_READ
    + iam.STREAM_WRITE
    + iam.STREAM_TRIGGER
    + iam.IDEMPOTENCY
    + iam.LOGS
    + iam.TRACING
)
#: The services reads=/writes= grant data access to: (declaration, reads, writes, what the grants extend to).
_DATA: dict[str, tuple[type[Resource], tuple[str, ...], tuple[str, ...], str]] = {
    "dynamodb": (Table, iam.TABLE_READ, iam.TABLE_WRITE, " (and TransactGetItems/TransactWriteItems of those)"),
    "sqs": (Queue, iam.QUEUE_READ, iam.QUEUE_WRITE, " (and their Batch forms)"),
    "kinesis": (Stream, iam.STREAM_READ, iam.STREAM_WRITE, ""),
}
_NAMED_BY = {
    "dynamodb": "TableName (the keys of RequestItems, the TableName of each of TransactItems)",
    "sqs": "QueueUrl",
    "kinesis": "StreamARN or StreamName (a ListShards page: the stream too, not its NextToken alone)",
    "logs": "logGroupName",
}
_OUTSIDE = "do it outside the function (at deploy time or in a script)"


def policy_for(fn: FunctionPlan, backend: Backend) -> Policy:
    spec = fn.spec
    grants = tuple(Grant(s.actions, tuple(backend.resolve(r) for r in s.resources)) for s in iam.statements(fn))
    principal = f"arn:aws:sts::{backend.account}:assumed-role/{fn.role_id}/{spec.name}"
    return Policy(spec.name, grants, backend.account, principal, lambda refusal: explain(fn, backend, refusal))


def owner(backend: Backend, resource: str | None) -> Resource | None:
    """The declared table, queue or stream an ARN belongs to (an index belongs to its table)."""
    if resource is None:
        return None
    arn = resource.split("/index/", 1)[0]
    return backend.owners.get(arn)


def verb_for(res: Resource, action: str) -> str | None:
    """The declaration that grants `action` on `res`: "reads", "writes", or None when none does."""
    read, write = _GRANTS.get(type(res), ((), ()))
    if action in read:
        return "reads"
    if action in write:
        return "writes"
    return None


def _short(actions: tuple[str, ...]) -> str:
    return ", ".join(a.split(":", 1)[1] for a in actions)


def not_granted(service: str, action: str) -> str:
    """Why no declaration can allow `action` (an action `derive.iam` grants no function)."""
    data = _DATA.get(service)
    if data is not None:
        kind, read, write, extra = data
        return (
            f"lambdakit does not grant {action} to functions at all: reads= of an lk.{kind.__name__} grants "
            f"{_short(read)}; writes= grants {_short(write)}{extra}; {_OUTSIDE}"
        )
    if service == "logs":
        return (
            f"lambdakit does not grant {action} to functions at all: a function may only create log streams in "
            "and write to its own log group (Lambda does that for it: print or log instead)"
        )
    if service == "xray":
        return (
            f"lambdakit does not grant {action} to functions at all: only xray:PutTraceSegments and "
            "xray:PutTelemetryRecords (for tracing)"
        )
    return (
        f"lambdakit does not grant {service} operations to functions at all: reads= and writes= name lk.Table, "
        f"lk.Queue and lk.Stream only (DynamoDB, SQS and Kinesis); {_OUTSIDE}"
    )


def explain(fn: FunctionPlan, backend: Backend, refusal: Refusal) -> str:
    """What the user can change so the call is allowed (or why no declaration can allow it)."""
    spec = fn.spec
    where = f"{DECORATOR.get(spec.kind, '@lk.route')} on {spec.name} ({spec.where})"
    operation, action, resource = refusal.operation, refusal.action, refusal.resource
    service = operation.split(":", 1)[0]
    needs = f" (which {operation} needs)" if action != operation else ""
    if not refusal.mapped:
        return (
            f"called {operation}, which lambdakit's local IAM check cannot map to the IAM actions and resources it "
            f"needs, so it refuses the call (the check fails closed); {not_granted(service, operation)}"
        )
    res = owner(backend, resource)
    if action not in GRANTED:
        on = f" on {res.kind} {res.name!r}" if res else f" on {resource}" if resource and resource != "*" else ""
        if action == "sqs:GetQueueUrl":  # what a queue handle does when the function did not declare the queue
            given = f"in {res.env}" if res else "in its LK_<NAME> variable"
            return (
                f"called {operation}{on}; lambdakit does not grant {action} to functions at all: declare the queue "
                f"in writes= (or reads=) on {where}, and the function is given its URL {given}, with no lookup"
            )
        return f"called {operation}{on}; {not_granted(service, action)}"
    if resource is None:
        kind = {"dynamodb": "table", "sqs": "queue", "kinesis": "stream", "logs": "log group"}.get(service, "resource")
        data = _DATA.get(service)
        verbs = [v for v, actions in (("reads", data[1]), ("writes", data[2])) if action in actions] if data else []
        declare = f"; then declare the {kind} in {' or '.join(f'{v}=' for v in verbs)} on {where}" if verbs else ""
        return (
            f"called {operation}{needs} on a {kind} lambdakit cannot identify from the call's parameters, so it "
            f"refuses the call (the check fails closed): name the {kind} by {_NAMED_BY.get(service, 'its ARN')}"
            f"{declare}"
        )
    if action in iam.LOGS:
        return (
            f"may write only its own log group {fn.log_group_name}, not {resource} ({action}{needs}): "
            "Lambda writes it for the function (print or log instead)"
        )
    if action in iam.TRACING:  # every function's policy has the Tracing statement: only an edited policy lacks it
        return f"has no Tracing statement allowing {action} on *"
    if res is None:
        return (
            f"touches {resource}, which no lk.Table, lk.Queue or lk.Stream in this app declares: declare it at "
            f"module level and add it to reads= or writes= on {where}"
        )
    verb = verb_for(res, action)
    label = backend.label(res)
    if verb is None:
        return f"called {operation} on {res.kind} {res.name!r}; no declaration of a {res.kind} grants {action}"
    if spec.kind == "authorizer" and verb == "writes":
        return f"may not write {res.kind} {res.name!r}: an authorizer only reads (reads=[{label}] on {where})"
    if spec.kind == "authorizer" and not isinstance(res, Table):
        return f"may not use {res.kind} {res.name!r}: an authorizer reads tables only"
    return f"does not declare {res.kind} {res.name!r} for {action}{needs}: add {verb}=[{label}] to {where}"
