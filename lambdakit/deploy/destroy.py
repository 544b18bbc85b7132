"""`lambdakit destroy`: delete a stage's stacks (main first, then the extra ones), keeping its data.

What a stack keeps on deletion is decided by its template: tables, user pools and the site's
bucket are `Retain` / `RetainExceptOnCreate`, so they stay in the account, and the review says
so, with the command that deletes each by hand. The us-east-1 stack's Lambda@Edge functions
cannot be deleted while CloudFront still holds their replicas (for a while after the
distribution is gone): the delete is retried for a bounded time, then the command that
finishes it later is printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lambdakit.declare.app import App
from lambdakit.deploy import changes, events
from lambdakit.deploy.errors import DeployError
from lambdakit.deploy.review import RETAINED

Echo = Callable[[str], None]

#: How to delete what a stack keeps, by type: the aws CLI command for its physical id.
DELETE_COMMANDS = {
    "AWS::DynamoDB::Table": "aws dynamodb delete-table --table-name {id} --region {region}",
    "AWS::Cognito::UserPool": "aws cognito-idp delete-user-pool --user-pool-id {id} --region {region}",
    "AWS::S3::Bucket": "aws s3 rb s3://{id} --force --region {region}  (a versioned bucket: delete its versions first)",
    "AWS::SQS::Queue": "aws sqs delete-queue --queue-url {id} --region {region}",
    "AWS::Kinesis::Stream": "aws kinesis delete-stream --stream-name {id} --region {region}",
    "AWS::Logs::LogGroup": "aws logs delete-log-group --log-group-name {id} --region {region}",
}
#: CloudFormation's reason when a Lambda@Edge function still has replicas.
REPLICA_HINTS = ("replicated function", "replica")


@dataclass(frozen=True)
class Kept:
    logical_id: str
    resource_type: str
    physical_id: str
    policy: str

    def line(self, region: str) -> str:
        command = DELETE_COMMANDS.get(self.resource_type, "delete it in the console")
        return (
            f"  kept: {self.logical_id} ({self.resource_type}) {self.physical_id} [DeletionPolicy {self.policy}]\n"
            f"        to delete it by hand: {command.format(id=self.physical_id, region=region)}"
        )


def kept(template: Mapping[str, Any], physical: Mapping[str, str]) -> list[Kept]:
    """The stack's resources its deletion leaves in the account (a pure function of template and ids)."""
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        policy = str(resource.get("DeletionPolicy", "Delete"))
        if policy in RETAINED and logical_id in physical:
            found.append(Kept(logical_id, str(resource.get("Type")), physical[logical_id], policy))
    return found


def physical_ids(cf: Any, stack: str) -> dict[str, str]:
    return {
        r["LogicalResourceId"]: str(r.get("PhysicalResourceId", ""))
        for page in cf.get_paginator("list_stack_resources").paginate(StackName=stack)
        for r in page["StackResourceSummaries"]
    }


def destroy(
    app: App,
    stage: str,
    *,
    region: str | None = None,
    profile: str | None = None,
    confirm: Callable[[str], bool],
    echo: Echo = print,
    poll: float = 5.0,
    edge_wait: float = 900.0,
    edge_retry: float = 60.0,
) -> list[str]:
    """Delete the stage's stacks after showing what goes and what stays; the stacks deleted."""
    from lambdakit.deploy.names import stack_name
    from lambdakit.deploy.orchestrate import open_stage
    from lambdakit.derive.stacks import extra_stacks

    settings, session, account, where = open_stage(app, stage, region, profile)
    echo(f"stage {stage}: account {account}, region {where} ({settings.where})")
    main = stack_name(app, stage)
    stacks = [(main, where)] + [
        (s.name or f"{main}-{s.key}", s.region or where) for s in extra_stacks(app) if s.name is None
    ]  # a shared stack (named by its domain) serves other services too: it is left alone
    present = []
    for name, in_region in stacks:
        cf = session.client("cloudformation", region_name=in_region)
        status = changes.stack_status(cf, name)
        if status is None:
            echo(f"stack {name} ({in_region}): does not exist")
            continue
        ids = physical_ids(cf, name)
        keep = kept(changes.current_template(cf, name), ids)
        echo(f"stack {name} ({in_region}, {status}): {len(ids) - len(keep)} resource(s) deleted, {len(keep)} kept")
        for item in keep:
            echo(item.line(in_region))
        present.append((name, in_region))
    if not present:
        echo("nothing to delete")
        return []
    if not confirm(f"delete {', '.join(name for name, _ in present)}?"):
        raise DeployError("not deleted: nothing was confirmed")
    for name, in_region in present:
        cf = session.client("cloudformation", region_name=in_region)
        again = f"lambdakit destroy {app.package} --stage {stage}"
        _delete(cf, name, in_region, again, echo, poll, edge_wait, edge_retry)
    return [name for name, _ in present]


def _delete(
    cf: Any, stack: str, region: str, again: str, echo: Echo, poll: float, edge_wait: float, edge_retry: float
) -> None:
    """Delete one stack, retrying while Lambda@Edge replicas hold it (for `edge_wait` seconds at most)."""
    deadline = time.monotonic() + edge_wait
    while True:
        marker = events.newest_id(cf, stack)
        echo(f"deleting {stack} ...")
        cf.delete_stack(StackName=stack)
        outcome = events.watch(cf, stack, marker, echo, poll)
        if outcome.ok:
            echo(f"stack {stack}: deleted")
            return
        failure = outcome.first_failure()
        replicas = failure is not None and any(hint in failure.reason.lower() for hint in REPLICA_HINTS)
        if not replicas:
            raise DeployError(events.failure_message(outcome))
        if time.monotonic() + edge_retry > deadline:
            raise DeployError(
                f"stack {stack}: its Lambda@Edge functions still have replicas in CloudFront's edge locations, which "
                "CloudFront removes some time (up to a few hours) after the distribution stops using them; finish "
                f"later with `{again}`, or `aws cloudformation delete-stack --stack-name {stack} --region {region}`"
            )
        echo(f"{stack}: CloudFront is still removing the Lambda@Edge replicas; trying again in {edge_retry:.0f} s")
        time.sleep(edge_retry)
