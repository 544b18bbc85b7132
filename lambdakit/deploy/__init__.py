"""`lambdakit deploy`: build, then hand the template to the SAM CLI (one deployment path, no drift)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdakit.declare.app import App

if TYPE_CHECKING:
    from lambdakit.site_upload import Result as SiteResult


def stack_name(app: App, stage: str) -> str:
    return f"{app.service.name}-{stage}".replace("_", "-")


def name_problems(app: App, stage: str) -> list[str]:
    """Names AWS would refuse once the stack name is known: checked before anything is deployed."""
    import re

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


def edge_stack_name(app: App, stage: str) -> str:
    """The us-east-1 stack of what CloudFront needs from that region (the site's certificate)."""
    return stack_name(app, stage) + "-us-east-1"


def edge_command(app: App, stage: str, build_dir: Path, profile: str | None, zone: str) -> list[str]:
    """`sam deploy` of the us-east-1 template, which the main stack's distribution needs first."""
    from lambdakit.build import EDGE_TEMPLATE

    return [
        "sam",
        "deploy",
        "--template-file",
        str(build_dir / EDGE_TEMPLATE),
        "--stack-name",
        edge_stack_name(app, stage),
        "--region",
        "us-east-1",
        "--no-fail-on-empty-changeset",
        "--parameter-overrides",
        f"HostedZoneId={zone}",
        *(["--profile", profile] if profile else []),
    ]


def commands(
    app: App,
    stage: str,
    build_dir: Path,
    region: str | None,
    profile: str | None,
    parameters: dict[str, str] | None = None,
) -> list[list[str]]:
    """The SAM CLI commands that package and deploy a built template, with its parameters' values."""
    extra = [*(["--region", region] if region else []), *(["--profile", profile] if profile else [])]
    if parameters:
        extra += ["--parameter-overrides", *(f"{name}={value}" for name, value in parameters.items())]
    return [
        [
            "sam",
            "build",
            "--template-file",
            str(build_dir / "template.yaml"),
            "--build-dir",
            str(build_dir / "sam"),
            "--cached",
        ],
        [
            "sam",
            "deploy",
            "--template-file",
            str(build_dir / "sam" / "template.yaml"),
            "--stack-name",
            stack_name(app, stage),
            "--capabilities",
            "CAPABILITY_IAM",
            "--resolve-s3",
            "--no-fail-on-empty-changeset",
            "--tags",
            f"lambdakit:service={app.service.name}",
            f"lambdakit:stage={stage}",
            *extra,
        ],
    ]


def sam_available() -> bool:
    return shutil.which("sam") is not None


class DeployError(Exception):
    """A deploy step that failed in a way the message explains (the CLI prints it)."""


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


def site_parameters(app: App, stage: str, session: Any, template: dict[str, Any]) -> dict[str, str]:
    """The values of the site's template parameters that deploy knows: the stage, the domain's zone."""
    from lambdakit.derive.plan import plan_of
    from lambdakit.derive.site import STAGE_PARAMETER, ZONE_PARAMETER

    declared = template.get("Parameters", {})
    values: dict[str, str] = {}
    if STAGE_PARAMETER in declared:
        values[STAGE_PARAMETER] = stage
    site = plan_of(app).site
    if ZONE_PARAMETER in declared and site is not None and site.domain is not None:
        values[ZONE_PARAMETER] = hosted_zone_id(session.client("route53"), site.domain)
    return values


def edge_certificate(app: App, stage: str, session: Any) -> str:
    """The certificate the us-east-1 stack made (its `CertificateArn` output)."""
    from lambdakit.site_upload import stack_outputs

    stack = edge_stack_name(app, stage)
    outputs = stack_outputs(session.client("cloudformation", region_name="us-east-1"), stack)
    if "CertificateArn" not in outputs:
        raise DeployError(f"stack {stack} in us-east-1 has no CertificateArn output; deploy it again")
    return outputs["CertificateArn"]


BUCKET_OUTPUT = "SiteBucketName"
DISTRIBUTION_OUTPUT = "SiteDistributionId"


def publish_site(app: App, stage: str, region: str | None, profile: str | None, *, prune: bool = False) -> SiteResult:
    """After `sam deploy`: the site's folder to the stack's bucket, and the changed entry files invalidated.

    The same region and profile as `sam deploy`, so the upload reaches the stack just deployed.
    """
    import boto3

    from lambdakit.site_upload import stack_outputs, upload_site

    if app.site is None:
        raise DeployError(f"{app.package} declares no lk.Frontend: there is no site to upload")
    session = boto3.Session(profile_name=profile, region_name=region)
    stack = stack_name(app, stage)
    outputs = stack_outputs(session.client("cloudformation"), stack)
    missing = [name for name in (BUCKET_OUTPUT, DISTRIBUTION_OUTPUT) if name not in outputs]
    if missing:
        raise DeployError(
            f"stack {stack} has no output {', '.join(missing)}; deploy the template `lambdakit build` wrote"
        )
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
    return "site: " + ", ".join(parts)


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"
