"""A function's derived IAM policy as the local guard enforces it, and the words that explain a refusal.

The statements come from `lambdakit.derive.iam` (the one place that decides
what a declaration grants); only their `Fn::Sub` resources are resolved here,
to the ARNs of what the backend created.
"""

from __future__ import annotations

from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.resources import Queue, Resource, Stream, Table
from lambdakit.derive import iam
from lambdakit.derive.plan import FunctionPlan
from lambdakit.local.backend import Backend
from lambdakit.local.iam_guard import Grant, Policy

DECORATOR = {"http": "@lk.route", "consumer": "@lk.consume", "authorizer": "@lk.authorizer"}
_GRANTS: dict[type[Resource], tuple[tuple[str, ...], tuple[str, ...]]] = {
    Table: (iam.TABLE_READ, iam.TABLE_WRITE),
    Queue: (iam.QUEUE_READ, iam.QUEUE_WRITE),
    Stream: (iam.STREAM_READ, iam.STREAM_WRITE),
}


def policy_for(fn: FunctionPlan, backend: Backend) -> Policy:
    spec = fn.spec
    grants = tuple(Grant(s.actions, tuple(backend.resolve(r) for r in s.resources)) for s in iam.statements(fn))
    principal = f"arn:aws:sts::{backend.account}:assumed-role/{fn.role_id}/{spec.name}"
    return Policy(
        spec.name, grants, backend.account, principal, lambda action, resource: explain(spec, backend, action, resource)
    )


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


def explain(spec: FunctionSpec, backend: Backend, action: str, resource: str | None) -> str:
    """What the user can change so the call is allowed (or why no declaration can allow it)."""
    where = f"{DECORATOR.get(spec.kind, '@lk.route')} on {spec.name} ({spec.where})"
    res = owner(backend, resource)
    if resource is None:
        return (
            f"called {action} on a resource lambdakit cannot identify from the call's parameters; only a "
            'Resource "*" statement would allow it, and lambdakit grants "*" for X-Ray alone. '
            f"Reach AWS through a declared lk.Table, lk.Queue or lk.Stream listed in reads=/writes= on {where}"
        )
    if res is None:
        return (
            f"touches {resource}, which no lk.Table, lk.Queue or lk.Stream in this app declares: declare it at "
            f"module level and add it to reads= or writes= on {where}"
        )
    verb = verb_for(res, action)
    label = backend.label(res)
    if verb is None:
        return (
            f"called {action} on {res.kind} {res.name!r}; no lambdakit declaration grants {action} "
            f"(reads= and writes= grant data access only): do this outside the function"
        )
    if spec.kind == "authorizer" and verb == "writes":
        return f"may not write {res.kind} {res.name!r}: an authorizer only reads (reads=[{label}] on {where})"
    if spec.kind == "authorizer" and not isinstance(res, Table):
        return f"may not use {res.kind} {res.name!r}: an authorizer reads tables only"
    return f"does not declare {res.kind} {res.name!r} for {action}: add {verb}=[{label}] to {where}"
