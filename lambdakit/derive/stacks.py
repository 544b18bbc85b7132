"""The stacks one service deploys: the main template, and what must live elsewhere, deployed first.

A pure function of the app. Each extra stack's `Outputs` fill the main template's
`Parameters` of the same name at deploy time (CloudFormation exports cross no
region or account), so the main stack never imports from another region.
`build` writes the main template to `template.yaml` and each extra one to
`template-KEY.yaml`; `deploy` deploys the extra ones first, in this order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdakit.declare.app import App


@dataclass(frozen=True)
class Stack:
    """One extra stack: `key` names its file and (unless `name` is given) suffixes the stack name."""

    key: str  # "us-east-1" (Lambda@Edge, CloudFront's certificate), a failover region, "domain" ...
    template: dict[str, Any]
    region: str | None  # None: the stage's own region
    name: str | None = None  # a stack several services share names itself; else SERVICE-STAGE-KEY


def extra_stacks(app: App) -> tuple[Stack, ...]:
    """The stacks deployed before the main one, in order: the shared domain, us-east-1 (CloudFront's
    certificate and Lambda@Edge), the failover replica's region."""
    from lambdakit.derive.domains import shared_domain_template
    from lambdakit.derive.edge import edge_template
    from lambdakit.derive.failover import failover_of, replica_template, stack_key
    from lambdakit.derive.plan import plan_of

    plan = plan_of(app)
    found: list[Stack] = []
    shared = shared_domain_template(app, plan)
    if shared is not None:
        found.append(shared)
    edge = edge_template(app, plan)
    if edge is not None:
        found.append(Stack("us-east-1", edge, "us-east-1"))
    replica = replica_template(app, plan)
    failover = failover_of(app)
    if replica is not None and failover is not None:
        found.append(Stack(stack_key(failover), replica, failover.region))
    return tuple(found)
