"""After the main stack: the site's folder to its bucket, and what the site's parameters need (its zone).

Moved from `lambdakit/deploy.py`; the deploy steps call `publish_site` once the main stack is done.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdakit.declare.app import App
from lambdakit.deploy.errors import DeployError
from lambdakit.deploy.names import stack_name

if TYPE_CHECKING:
    from lambdakit.site_upload import Result as SiteResult


def hosted_zone_id(route53: Any, domain: str) -> str:
    """The public hosted zone that holds `domain`: the one whose name is its longest suffix."""
    best: tuple[int, str] | None = None
    for page in route53.get_paginator("list_hosted_zones").paginate():
        for zone in page["HostedZones"]:
            name = zone["Name"].rstrip(".")
            private = zone.get("Config", {}).get("PrivateZone", False)
            holds = domain == name or domain.endswith("." + name)
            if not private and holds and (best is None or len(name) > best[0]):
                best = (len(name), zone["Id"].rsplit("/", 1)[-1])
    if best is None:
        raise DeployError(
            f"no public Route 53 hosted zone holds {domain}; create one (or delegate the domain to Route 53), "
            "then deploy again"
        )
    return best[1]


BUCKET_OUTPUT = "SiteBucketName"
DISTRIBUTION_OUTPUT = "SiteDistributionId"


def publish_site(
    app: App,
    stage: str,
    region: str | None,
    profile: str | None,
    *,
    prune: bool = False,
    session: Any = None,
) -> SiteResult:
    """After the main stack: the site's folder to the stack's bucket, and the changed entry files invalidated.

    The deploy's own session (or one for the same region and profile), so the upload reaches the stack just
    deployed.
    """
    import boto3

    from lambdakit.site_upload import stack_outputs, upload_site

    if app.site is None:
        raise DeployError(f"{app.package} declares no lk.Frontend: there is no site to upload")
    session = session or boto3.Session(profile_name=profile, region_name=region)
    stack = stack_name(app, stage)
    outputs = stack_outputs(session.client("cloudformation"), stack)
    missing = [name for name in (BUCKET_OUTPUT, DISTRIBUTION_OUTPUT) if name not in outputs]
    if missing:
        raise DeployError(
            f"stack {stack} has no output {', '.join(missing)}; deploy the template `lambdakit build` wrote"
        )
    from lambdakit.derive.routing import routing_of

    if routing_of(app.site) is not None:  # ab_test= / rollout=: variants and releases (deploy/rollout.py)
        from lambdakit.deploy.rollout import RolloutError, publish_routed

        try:
            return publish_routed(
                app.site, outputs, session, session.client("s3"), session.client("cloudfront"), prune=prune
            )
        except RolloutError as exc:
            raise DeployError(str(exc)) from None
    return upload_site(
        Path(app.site.root),
        outputs[BUCKET_OUTPUT],
        outputs[DISTRIBUTION_OUTPUT],
        session.client("s3"),
        session.client("cloudfront"),
        prune=prune,
        index=app.site.index,
    )


def site_summary(result: SiteResult) -> str:
    """One line: `site: 3 uploaded (12.3 KB), 5 unchanged, invalidated /index.html / (I2ABC...)`."""
    parts = [f"{len(result.uploaded)} uploaded" + (f" ({_size(result.uploaded_bytes)})" if result.uploaded else "")]
    parts.append(f"{result.unchanged} unchanged")
    if result.deleted:
        parts.append(f"{len(result.deleted)} deleted")
    if result.kept:
        parts.append(f"{len(result.kept)} gone from the folder left in the bucket")
    if result.invalidation_id is None:
        parts.append("nothing to invalidate")
    else:
        parts.append(f"invalidated {' '.join(result.paths)} ({result.invalidation_id})")
    return "site: " + ", ".join([*parts, *result.notes])


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"
