"""The SAM transform, applied here rather than by CloudFormation: one plain template for AWS and for moto.

CloudFormation could expand `AWS::Serverless-2016-10-31` itself, but moto's cannot, and the
review (`review.py`) must read the roles and functions the stack will really hold. The
translator builds its own boto3 session for the region and partition: it reads
`AWS_DEFAULT_REGION` from the environment, so that is set to the stack's region for the call.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lambdakit.deploy.errors import DeployError

#: CloudFormation takes a template body of at most this many bytes; a larger one goes by TemplateURL.
MAX_BODY = 51_200
SAM = "AWS::Serverless-2016-10-31"


def is_sam(template: dict[str, Any]) -> bool:
    transform = template.get("Transform")
    return transform == SAM or (isinstance(transform, list) and SAM in transform)


@contextmanager
def _region(region: str) -> Iterator[None]:
    before = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        yield
    finally:
        if before is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = before


class _NoManagedPolicies:
    """The translator asks for managed policies missing from its bundled list only; lambdakit names none."""

    def load(self) -> dict[str, str]:
        return {}


def plain(template: dict[str, Any], region: str, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The template CloudFormation will hold: SAM's types expanded (every CodeUri must already be s3://)."""
    if not is_sam(template):
        return copy.deepcopy(template)
    from samtranslator.model.exceptions import InvalidDocumentException  # type: ignore[import-untyped,unused-ignore]
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    # the translator's metrics (for SAM's own telemetry) would warn that they were never published
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    with _region(region):
        try:
            return dict(transform(copy.deepcopy(template), dict(parameters or {}), _NoManagedPolicies()))
        except InvalidDocumentException as exc:
            causes = "; ".join(str(cause) for cause in exc.causes) or str(exc)
            raise DeployError(f"the SAM transform refused the template: {causes}") from None


def body(template: dict[str, Any]) -> str:
    """The template as CloudFormation receives it: compact, deterministic JSON."""
    return json.dumps(template, separators=(",", ":"), sort_keys=False)
