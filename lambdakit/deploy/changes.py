"""A stack's state, and a change set per stack: what CloudFormation would do, before it does it.

A change set is CREATE for a stack that does not exist yet (or one a change set made but never
ran: REVIEW_IN_PROGRESS), UPDATE otherwise. A stack whose first create failed
(ROLLBACK_COMPLETE) can only be deleted, so it is, saying so: nothing billed is left in it
(data resources are RetainExceptOnCreate). A stack busy with another operation is refused.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lambdakit.deploy.errors import DeployError

Client = Any

#: CloudFormation's answers to a change set with nothing in it (the wording differs between operations).
_EMPTY = ("didn't contain changes", "No updates are to be performed")
_NAMED_IAM = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


@dataclass(frozen=True)
class ResourceChange:
    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str | None  # True | False | Conditional (Modify only)
    physical_id: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    stack: str
    name: str
    kind: str  # CREATE | UPDATE
    changes: tuple[ResourceChange, ...]
    made: bool = True  # False: refused outright as empty, there is nothing to delete

    @property
    def empty(self) -> bool:
        return not self.changes


def stack_status(cf: Client, stack: str) -> str | None:
    """The stack's status, or None when there is no such stack (a deleted one is gone)."""
    from botocore.exceptions import ClientError

    try:
        found = cf.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    status = str(found[0]["StackStatus"]) if found else None
    return None if status == "DELETE_COMPLETE" else status


def wait_deleted(cf: Client, stack: str, poll: float, timeout: float = 1800) -> str | None:
    """Poll until the stack is gone (None) or its deletion stopped (its status, DELETE_FAILED)."""
    deadline = time.monotonic() + timeout
    while True:
        status = stack_status(cf, stack)
        if status is None or status == "DELETE_FAILED" or time.monotonic() > deadline:
            return status
        time.sleep(poll)


def ready(cf: Client, stack: str, echo: Callable[[str], None], poll: float = 2.0) -> bool:
    """Make the stack ready for a change set; True when it exists (an UPDATE), False for a CREATE."""
    status = stack_status(cf, stack)
    if status is None or status == "REVIEW_IN_PROGRESS":
        return False
    if status == "ROLLBACK_COMPLETE":
        echo(
            f"stack {stack} is ROLLBACK_COMPLETE: its first create failed and was rolled back, so it holds nothing "
            "billed (data resources are RetainExceptOnCreate); deleting it to create it again"
        )
        cf.delete_stack(StackName=stack)
        left = wait_deleted(cf, stack, poll)
        if left is not None:
            raise DeployError(
                f"stack {stack} could not be deleted ({left}); see its events in the CloudFormation console"
            )
        return False
    if status.endswith("_IN_PROGRESS"):
        raise DeployError(
            f"stack {stack} is {status}: another operation is running on it; wait until it ends "
            f"(aws cloudformation wait stack-update-complete --stack-name {stack}), then deploy again"
        )
    if status in ("DELETE_FAILED", "UPDATE_ROLLBACK_FAILED", "ROLLBACK_FAILED"):
        raise DeployError(
            f"stack {stack} is {status}: CloudFormation cannot change it until that is resolved "
            "(continue the rollback or finish the delete in the console; its events say which resource), "
            "then deploy again"
        )
    return True


def capabilities(template: Mapping[str, Any]) -> list[str]:
    """What the stack must be allowed: IAM for roles, NAMED_IAM when one is named, AUTO_EXPAND for macros."""
    found: set[str] = set()
    for resource in template.get("Resources", {}).values():
        kind = str(resource.get("Type", ""))
        if kind.startswith("AWS::IAM::"):
            found.add("CAPABILITY_IAM")
            if _NAMED_IAM.get(kind) in resource.get("Properties", {}):
                found.add("CAPABILITY_NAMED_IAM")
        if kind in ("AWS::CloudFormation::Stack", "AWS::Serverless::Application"):
            found.add("CAPABILITY_AUTO_EXPAND")
    if template.get("Transform"):
        found.add("CAPABILITY_AUTO_EXPAND")
    return sorted(found)


def change_set_name() -> str:
    """Letters, digits and '-', starting with a letter, unique enough per stack (to the microsecond)."""
    return "lambdakit-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")


def create(
    cf: Client,
    stack: str,
    template: Mapping[str, Any],
    *,
    exists: bool,
    parameters: Mapping[str, str],
    previous: tuple[str, ...] = (),
    tags: Mapping[str, str],
    template_url: str | None = None,
    poll: float = 2.0,
) -> ChangeSet:
    """Create the stack's change set and wait until CloudFormation has computed it."""
    from botocore.exceptions import ClientError

    name = change_set_name()
    kind = "UPDATE" if exists else "CREATE"
    body = json.dumps(template, separators=(",", ":"))  # as measured against the 51,200-byte limit
    source = {"TemplateURL": template_url} if template_url else {"TemplateBody": body}
    values: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    values += [{"ParameterKey": key, "UsePreviousValue": True} for key in previous]
    try:
        cf.create_change_set(
            StackName=stack,
            ChangeSetName=name,
            ChangeSetType=kind,
            Parameters=values,
            Capabilities=capabilities(template),
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
            IncludeNestedStacks=False,
            **source,
        )
    except ClientError as exc:
        if any(text in _message(exc) for text in _EMPTY):  # some endpoints refuse an empty change set outright
            return ChangeSet(stack, name, kind, (), made=False)
        raise DeployError(f"CloudFormation refused a change set for {stack}: {_message(exc)}") from None
    while True:
        found = cf.describe_change_set(StackName=stack, ChangeSetName=name)
        status = found["Status"]
        if status in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(poll)
    if status == "FAILED":
        reason = str(found.get("StatusReason", ""))
        if any(text in reason for text in _EMPTY):
            return ChangeSet(stack, name, kind, ())
        delete(cf, stack, name)
        raise DeployError(f"the change set of {stack} failed: {reason}")
    changes = list(found.get("Changes", []))
    while found.get("NextToken"):
        found = cf.describe_change_set(StackName=stack, ChangeSetName=name, NextToken=found["NextToken"])
        changes += found.get("Changes", [])
    return ChangeSet(stack, name, kind, tuple(_change(c["ResourceChange"]) for c in changes if "ResourceChange" in c))


def _change(raw: Mapping[str, Any]) -> ResourceChange:
    return ResourceChange(
        action=str(raw.get("Action", "")),
        logical_id=str(raw.get("LogicalResourceId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        replacement=raw.get("Replacement"),
        physical_id=raw.get("PhysicalResourceId"),
    )


def delete(cf: Client, stack: str, name: str) -> None:
    """Delete a change set; one already gone is fine (CloudFormation deletes a failed CREATE's with its stack)."""
    from botocore.exceptions import ClientError

    with contextlib.suppress(ClientError):
        cf.delete_change_set(StackName=stack, ChangeSetName=name)


def current_template(cf: Client, stack: str) -> dict[str, Any]:
    """The template the stack holds now (as deployed: plain, since lambdakit transforms before sending)."""
    import yaml

    body = cf.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    if isinstance(body, Mapping):
        return dict(json.loads(json.dumps(body)))
    try:
        return dict(json.loads(body))
    except ValueError:
        return dict(yaml.safe_load(body))


def outputs(cf: Client, stack: str) -> dict[str, str]:
    """OutputKey -> OutputValue of the stack (none while it is not created)."""
    found = cf.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in (found[0].get("Outputs") or [])} if found else {}


def _message(exc: Exception) -> str:
    response = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Message") or exc)
