"""What a change does, in the order a reviewer needs it: IAM first, then the resources, data loudly.

Pure functions of two plain (transformed) templates, the stack's current one and the new one,
and of the change set's resource changes. A function's permissions are those of the role its
`Role` property names: the role's inline policies and any AWS::IAM::Policy attached to it.
Each grant is an (action, resource) pair, its resource shown as what it is (`table Orders`)
rather than as the `Fn::Sub` that computes its ARN.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdakit.deploy.changes import ResourceChange

Template = Mapping[str, Any]

#: What a resource type is called in a review, and the logical-id suffix lambdakit gives it.
KINDS = {
    "AWS::DynamoDB::Table": ("table", "Table"),
    "AWS::SQS::Queue": ("queue", "Queue"),
    "AWS::Kinesis::Stream": ("stream", "Stream"),
    "AWS::Logs::LogGroup": ("log group", "LogGroup"),
    "AWS::S3::Bucket": ("bucket", "Bucket"),
    "AWS::Lambda::Function": ("function", "Function"),
    "AWS::SNS::Topic": ("topic", "Topic"),
    "AWS::Cognito::UserPool": ("user pool", "UserPool"),
    "AWS::IAM::Role": ("role", "Role"),
}
#: Resources that hold data: their replacement or removal is printed loudly.
DATA = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::Cognito::UserPool",
    "AWS::SQS::Queue",
    "AWS::Kinesis::Stream",
    "AWS::Logs::LogGroup",
)
RETAINED = ("Retain", "RetainExceptOnCreate", "Snapshot")
_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


@dataclass(frozen=True, order=True)
class Grant:
    """One permission: an action on a resource (shown readably), allowed or denied."""

    action: str
    resource: str
    effect: str = "Allow"


@dataclass(frozen=True)
class FunctionIam:
    """What one function (or a role no function uses) gains and loses."""

    subject: str  # "function log_audit (LogAuditFunction)" or "role IngestRole"
    role: str
    gained: tuple[Grant, ...]
    lost: tuple[Grant, ...]
    new_role: bool = False


@dataclass(frozen=True)
class IamReview:
    changes: tuple[FunctionIam, ...]
    new_roles: tuple[str, ...]
    removed_roles: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.changes or self.new_roles or self.removed_roles)


# -- reading a template ------------------------------------------------------------------------------------


def describe(value: Any, template: Template) -> str:
    """A resource of a policy statement, readably: `table Orders`, `queue Audit (its indexes)`, or the ARN."""
    resources = template.get("Resources", {})
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and len(value) == 1:
        (fn, arg), *_ = value.items()
        if fn == "Fn::GetAtt":
            name = arg[0] if isinstance(arg, list) else str(arg).split(".")[0]
            return _named(name, resources)
        if fn == "Ref":
            return _named(str(arg), resources)
        if fn == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) else str(arg)
            names = [n for n in _REFERENCE.findall(text) if n in resources]
            if len(set(names)) == 1 and _same_service(text, str(resources[names[0]].get("Type", ""))):
                suffix = " (its indexes)" if text.endswith("/index/*") else ""
                suffix = " (its objects)" if text.endswith("/*") and not suffix else suffix
                return _named(names[0], resources) + suffix
            return text
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _same_service(arn: str, resource_type: str) -> bool:
    """Whether an ARN is of the referenced resource itself (`table/${OrdersTable}`), not of something named
    after it (the log groups `/aws/lambda/us-east-1.${EdgeFunction}`): then the ARN is shown as it is."""
    if not arn.startswith("arn:"):
        return True
    parts, kinds = re.sub(r"\$\{[^}]*\}", "x", arn).split(":"), resource_type.split("::")
    return len(parts) > 2 and len(kinds) > 1 and parts[2].startswith(kinds[1].lower())


def _named(logical_id: str, resources: Mapping[str, Any]) -> str:
    kind = str(resources.get(logical_id, {}).get("Type", ""))
    if kind not in KINDS:
        return f"{kind.split('::')[-1] or 'resource'} {logical_id}"
    word, suffix = KINDS[kind]
    short = logical_id[: -len(suffix)] if logical_id.endswith(suffix) and logical_id != suffix else logical_id
    return f"{word} {short}"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _documents(role_id: str, template: Template) -> list[Mapping[str, Any]]:
    """The policy documents that apply to a role: its inline ones, and AWS::IAM::Policy resources naming it."""
    resources = template.get("Resources", {})
    role = resources.get(role_id, {})
    documents = [p.get("PolicyDocument", {}) for p in role.get("Properties", {}).get("Policies", []) or []]
    for resource in resources.values():
        if resource.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy"):
            props = resource.get("Properties", {})
            roles = _listed(props.get("Roles", [])) + ([props["RoleName"]] if "RoleName" in props else [])
            if {"Ref": role_id} in roles:
                documents.append(props.get("PolicyDocument", {}))
    return documents


def grants(role_id: str, template: Template) -> frozenset[Grant]:
    """Every (action, resource) the role's policies state, and its managed policies as grants of their own."""
    found: set[Grant] = set()
    for document in _documents(role_id, template):
        for statement in _listed(document.get("Statement", [])):
            effect = str(statement.get("Effect", "Allow"))
            for action in _listed(statement.get("Action", [])):
                for resource in _listed(statement.get("Resource", "*")):
                    found.add(Grant(str(action), describe(resource, template), effect))
    role = template.get("Resources", {}).get(role_id, {})
    for arn in role.get("Properties", {}).get("ManagedPolicyArns", []) or []:
        found.add(Grant("managed policy", describe(arn, template)))
    return frozenset(found)


def roles(template: Template) -> list[str]:
    return [lid for lid, r in template.get("Resources", {}).items() if r.get("Type") == "AWS::IAM::Role"]


def functions(template: Template) -> dict[str, tuple[str, str | None]]:
    """Function logical id -> (how to name it, the logical id of its role when the template makes it)."""
    out: dict[str, tuple[str, str | None]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        props = resource.get("Properties", {})
        role = props.get("Role")
        role_id = None
        if isinstance(role, Mapping) and "Fn::GetAtt" in role:
            target = role["Fn::GetAtt"]
            role_id = target[0] if isinstance(target, list) else str(target).split(".")[0]
        variables = props.get("Environment", {}).get("Variables", {})
        declared = variables.get("LAMBDAKIT_FUNCTION") if isinstance(variables, Mapping) else None
        name = str(declared).rsplit(":", 1)[-1] if isinstance(declared, str) else None
        out[logical_id] = (f"function {name} ({logical_id})" if name else f"function {logical_id}", role_id)
    return out


# -- the IAM review ----------------------------------------------------------------------------------------


def iam_review(old: Template | None, new: Template) -> IamReview:
    """Per function, the grants it gains and loses between the stack's template and the new one."""
    before: Template = old or {"Resources": {}}
    old_roles, new_roles = set(roles(before)), set(roles(new))
    old_functions, new_functions = functions(before), functions(new)
    changes: list[FunctionIam] = []
    covered: set[str] = set()
    for logical_id in sorted(set(old_functions) | set(new_functions)):
        subject, new_role = new_functions.get(logical_id, old_functions.get(logical_id, ("", None)))
        old_role = old_functions.get(logical_id, ("", None))[1]
        had = grants(old_role, before) if old_role and logical_id in old_functions else frozenset()
        has = grants(new_role, new) if new_role and logical_id in new_functions else frozenset()
        covered.update(r for r in (old_role, new_role) if r)
        if had != has:
            role = new_role or old_role or "?"
            changes.append(
                FunctionIam(subject, role, tuple(sorted(has - had)), tuple(sorted(had - has)), role not in old_roles)
            )
    for role in sorted((old_roles | new_roles) - covered):  # roles no function uses (API Gateway's, ...)
        had = grants(role, before) if role in old_roles else frozenset()
        has = grants(role, new) if role in new_roles else frozenset()
        if had != has:
            changes.append(
                FunctionIam(
                    f"role {role}", role, tuple(sorted(has - had)), tuple(sorted(had - has)), role not in old_roles
                )
            )
    return IamReview(tuple(changes), tuple(sorted(new_roles - old_roles)), tuple(sorted(old_roles - new_roles)))


def _by_resource(found: Iterable[Grant]) -> list[tuple[str, str, list[str]]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for grant in found:
        grouped.setdefault((grant.effect, grant.resource), []).append(grant.action)
    return [(effect, resource, sorted(actions)) for (effect, resource), actions in sorted(grouped.items())]


def iam_lines(review: IamReview) -> list[str]:
    """The IAM part of the review, as printed: `+ dynamodb:PutItem, ... on table Orders` per function."""
    if review.empty:
        return ["IAM: no change"]
    lines = ["IAM changes:"]
    for change in review.changes:
        role = "" if change.subject == f"role {change.role}" else f", role {change.role}"
        lines.append(f"  {change.subject}{role}" + (" (new)" if change.new_role else "") + ":")
        for sign, found in (("+", change.gained), ("-", change.lost)):
            for effect, resource, actions in _by_resource(found):
                denied = " DENY" if effect != "Allow" else ""
                lines.append(f"    {sign}{denied} {', '.join(actions)} on {resource}")
    for role in review.new_roles:
        lines.append(f"  new role {role}")
    for role in review.removed_roles:
        lines.append(f"  removed role {role}")
    return lines


# -- the other changes -------------------------------------------------------------------------------------


def change_lines(changes: Sequence[ResourceChange], old: Template | None, new: Template) -> list[str]:
    """Add / Modify / Remove per resource; a replacement and a data resource's fate said loudly."""
    if not changes:
        return ["resources: no change"]
    lines = ["resources:"]
    before = (old or {}).get("Resources", {})
    for change in changes:
        line = f"  {change.action:<7} {change.logical_id} ({change.resource_type})"
        data = change.resource_type in DATA
        if change.action == "Modify" and change.replacement in ("True", "Conditional"):
            certain = "WILL BE REPLACED" if change.replacement == "True" else "MAY BE REPLACED"
            line += f"  <-- {certain}: a new resource, the old one deleted"
            if data:
                policy = str(before.get(change.logical_id, {}).get("UpdateReplacePolicy", "Delete"))
                fate = "kept (UpdateReplacePolicy " + policy + ")" if policy in RETAINED else "ITS DATA DELETED"
                line += f"; the old one's data: {fate}"
        elif change.action == "Remove":
            policy = str(before.get(change.logical_id, {}).get("DeletionPolicy", "Delete"))
            if policy in RETAINED:
                line += f"  (kept in the account: DeletionPolicy {policy}; delete it by hand once sure)"
            elif data:
                line += "  <-- DELETED WITH ITS DATA"
        lines.append(line)
    return lines


def new_stack_lines(new: Template) -> list[str]:
    """For a stack that does not exist yet: everything is new."""
    resources = new.get("Resources", {})
    lines = [f"resources: all {len(resources)} new"]
    lines += [f"  Add     {lid} ({r.get('Type')})" for lid, r in resources.items()]
    return lines
