"""The field's validators, run on what `lambdakit build` emits: the SAM translator, cfn-lint, checkov."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PLACEHOLDER_CODE = "s3://lambdakit-placeholder/code.zip"


def with_placeholder_code(template: dict[str, Any]) -> dict[str, Any]:
    """The translator accepts only s3:// code locations; packaging would put one there."""
    out = copy.deepcopy(template)
    for res in out["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = PLACEHOLDER_CODE
    return out


def transform(template: dict[str, Any]) -> dict[str, Any]:
    """Run the SAM transform offline, as CloudFormation would."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.public.translator import ManagedPolicyLoader  # noqa: F401
    from samtranslator.translator.transform import transform as sam_transform

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return dict(sam_transform(with_placeholder_code(template), {}, _NoManagedPolicies()))


def cfn_lint(template: dict[str, Any], name: str = "template") -> list[str]:
    """cfn-lint's errors and warnings for one template (SAM or transformed)."""
    from cfnlint.api import ManualArgs, lint

    text = json.dumps(template)
    matches = lint(text, config=ManualArgs(regions=["us-east-1"]))
    return [
        f"{name}: {m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches if m.rule.id[0] in ("E", "W")
    ]


def checkov(template: dict[str, Any]) -> list[str]:
    """checkov's failed checks (skips written in Metadata do not count)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.json"
        path.write_text(json.dumps(template))
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "checkov.main",
                "-f",
                str(path),
                "--framework",
                "cloudformation",
                "--skip-download",
                "--output",
                "json",
                "--quiet",
                "--compact",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    if not proc.stdout.strip():
        raise RuntimeError(f"checkov printed nothing: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = []
    for rep in reports:
        for check in rep.get("results", {}).get("failed_checks", []):
            failed.append(f"{check['check_id']} {check['resource']}: {check['check_name']}")
    return failed
