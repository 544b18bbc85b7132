"""`lambdakit deploy`: build, then hand the template to the SAM CLI (one deployment path, no drift)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from lambdakit.declare.app import App

if TYPE_CHECKING:
    from lambdakit.site_upload import Result as SiteResult


def stack_name(app: App, stage: str) -> str:
    return f"{app.service.name}-{stage}".replace("_", "-")


def commands(app: App, stage: str, build_dir: Path, region: str | None, profile: str | None) -> list[list[str]]:
    """The SAM CLI commands that package and deploy a built template."""
    extra = [*(["--region", region] if region else []), *(["--profile", profile] if profile else [])]
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
