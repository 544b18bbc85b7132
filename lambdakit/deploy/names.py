"""The names deploy gives stacks, and the ones AWS would refuse once the stack name is known."""

from __future__ import annotations

import re

from lambdakit.declare.app import App


def stack_name(app: App, stage: str) -> str:
    """The main stack of a service's stage: `SERVICE-STAGE` (`_` becomes `-`, which stack names allow)."""
    return f"{app.service.name}-{stage}".replace("_", "-")


def edge_stack_name(app: App, stage: str) -> str:
    """The us-east-1 stack of what CloudFront needs from that region (its certificate, Lambda@Edge)."""
    return stack_name(app, stage) + "-us-east-1"


def name_problems(app: App, stage: str) -> list[str]:
    """Names AWS would refuse once the stack name is known: checked before anything is deployed."""
    from lambdakit.derive.plan import plan_of

    stack = stack_name(app, stage)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", stack) or len(stack) > 128:
        return [f"stack name {stack!r} (SERVICE-STAGE): letters, digits and '-', starting with a letter, at most 128"]
    problems = []
    site = plan_of(app).site
    longest = max((len(function_id) for function_id in site.functions), default=0) if site is not None else 0
    if site is not None and len(stack) + 1 + max(longest, len("site")) > 64:
        problems.append(
            f"stack name {stack!r} is too long for the site's CloudFront names (STACK-SiteSpaFallback and the "
            f"origin access control are at most 64 characters): use a stage name of at most "
            f"{64 - 1 - max(longest, 4) - len(app.service.name) - 1} characters"
        )
    return problems
