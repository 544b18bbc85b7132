"""A running stack operation as progress: each new stack event, until the stack reaches a final status.

Events come newest first and paged; only those after the marker (the newest event before the
change set ran) are new. When the operation fails, the first resource that failed is the cause
(the ones after it are usually "Resource creation cancelled"), and the stack's final status says
what was left: ROLLBACK_COMPLETE (a failed first create, nothing kept), UPDATE_ROLLBACK_COMPLETE
(back to the previous version), or a *_FAILED status that needs a hand in the console.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Client = Any

SUCCESS = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE")


@dataclass(frozen=True)
class Event:
    id: str
    time: str
    logical_id: str
    resource_type: str
    status: str
    reason: str

    def line(self) -> str:
        reason = f"  {self.reason}" if self.reason else ""
        return f"  {self.time}  {self.logical_id:<32} {self.status}{reason}"


@dataclass(frozen=True)
class Outcome:
    stack: str
    status: str | None  # None: the stack is gone (a finished delete)
    events: tuple[Event, ...]  # oldest first

    @property
    def ok(self) -> bool:
        return self.status is None or self.status in SUCCESS

    def first_failure(self) -> Event | None:
        failed = [e for e in self.events if e.status.endswith("_FAILED") and e.logical_id != self.stack]
        caused = [e for e in failed if "cancelled" not in e.reason.lower()]
        found = caused or failed
        return found[0] if found else None


def final(status: str | None) -> bool:
    return status is None or not status.endswith("_IN_PROGRESS")


def _event(raw: dict[str, Any]) -> Event:
    stamp = raw.get("Timestamp")
    shown = stamp.strftime("%H:%M:%S") if isinstance(stamp, datetime) else str(stamp or "")
    return Event(
        id=str(raw.get("EventId", "")),
        time=shown,
        logical_id=str(raw.get("LogicalResourceId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        status=str(raw.get("ResourceStatus", "")),
        reason=str(raw.get("ResourceStatusReason") or ""),
    )


def newest_id(cf: Client, stack: str) -> str | None:
    """The id of the stack's newest event: the marker after which events are this operation's."""
    from botocore.exceptions import ClientError

    try:
        found = cf.describe_stack_events(StackName=stack)["StackEvents"]
    except ClientError:
        return None  # no stack yet
    return str(found[0]["EventId"]) if found else None


def since(cf: Client, stack: str, marker: str | None) -> list[Event]:
    """The stack's events newer than `marker`, oldest first (every page, stopping at the marker)."""
    found: list[Event] = []
    token: str | None = None
    while True:
        page = cf.describe_stack_events(StackName=stack, **({"NextToken": token} if token else {}))
        for raw in page["StackEvents"]:
            if marker is not None and raw.get("EventId") == marker:
                return found[::-1]
            found.append(_event(raw))
        token = page.get("NextToken")
        if not token:
            return found[::-1]


def watch(
    cf: Client,
    stack: str,
    marker: str | None,
    echo: Callable[[str], None] = print,
    poll: float = 3.0,
    timeout: float = 3 * 3600,
) -> Outcome:
    """Print each new event until the stack's status is final; the outcome with every event seen."""
    from botocore.exceptions import ClientError

    from lambdakit.deploy.changes import stack_status

    seen: dict[str, Event] = {}
    deadline = time.monotonic() + timeout
    while True:
        status = stack_status(cf, stack)
        if status is not None or not seen:
            try:
                fresh = [e for e in since(cf, stack, marker) if e.id not in seen]
            except ClientError:  # the stack went away between the two calls (a finished delete)
                fresh = []
            for event in fresh:
                seen[event.id] = event
                echo(event.line())
        if final(status) or time.monotonic() > deadline:
            return Outcome(stack, status, tuple(seen.values()))
        time.sleep(poll)


def failure_message(outcome: Outcome) -> str:
    """What failed, why, and what state it left: the message deploy ends with on failure."""
    event = outcome.first_failure()
    cause = (
        f"{event.logical_id} ({event.resource_type}) {event.status}: {event.reason or 'no reason given'}"
        if event is not None
        else "no resource reported a failure (see the stack's events)"
    )
    status = outcome.status or "deleted"
    advice = {
        "ROLLBACK_COMPLETE": "the first create was rolled back and nothing billed is left; fix the cause and deploy "
        "again (lambdakit deletes the rolled-back stack first)",
        "UPDATE_ROLLBACK_COMPLETE": "the stack is back to its previous version, still serving; fix the cause and "
        "deploy again",
        "UPDATE_ROLLBACK_FAILED": "the rollback itself failed: continue it in the console (or `aws cloudformation "
        f"continue-update-rollback --stack-name {outcome.stack}`), then deploy again",
        "ROLLBACK_FAILED": "the rollback itself failed: delete the stack in the console, then deploy again",
        "DELETE_FAILED": "the delete stopped: see the resource above, then run destroy again",
    }.get(status, "see the stack's events in the CloudFormation console")
    return f"stack {outcome.stack} failed: {cause}; the stack is now {status}: {advice}"
