"""`lambdakit deploy`: build, then hand the template to the SAM CLI (one deployment path, no drift)."""

from __future__ import annotations

import shutil
from pathlib import Path

from lambdakit.declare.app import App


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
