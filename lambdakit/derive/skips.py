"""checkov checks that do not apply to what lambdakit builds, each with the reason that travels with the skip.

SAM copies a resource's Metadata to what it generates, so the reason is
visible in the deployed template too. docs/permissions.md lists them all.
"""

from __future__ import annotations

from typing import Any

# checkov checks that do not apply to what lambdakit builds; the reason travels with the skip.
FUNCTION_SKIPS = (
    ("CKV_AWS_115", "Concurrency limits are a per-account capacity decision; set them per function when needed."),
    (
        "CKV_AWS_116",
        "Failures are kept by the trigger: SQS redrives to a DLQ, Kinesis sends to an on-failure queue, "
        "and API calls are synchronous, so a function DLQ would never receive anything.",
    ),
    (
        "CKV_AWS_117",
        "The function reaches only AWS APIs over IAM-authenticated HTTPS; a VPC adds cold start and "
        "NAT cost without protecting anything here.",
    ),
    (
        "CKV_AWS_173",
        "The environment holds resource names only, never secrets; Lambda encrypts it at rest with an AWS managed key.",
    ),
)
TABLE_SKIPS = (
    (
        "CKV_AWS_119",
        "Encrypted at rest with the AWS managed DynamoDB key; a customer managed key "
        "adds per-request KMS cost and key policy management.",
    ),
)
LOG_SKIPS = (
    (
        "CKV_AWS_158",
        "CloudWatch Logs encrypts every log group at rest; a customer managed key is an "
        "opt-in for regulated workloads.",
    ),
)
QUEUE_SKIPS = (
    (
        "CKV_AWS_27",
        "Encrypted with SQS managed server-side encryption (SqsManagedSseEnabled); "
        "checkov only recognises KmsMasterKeyId.",
    ),
)
API_SKIPS = (
    (
        "CKV_AWS_76",
        "Access logs need the account-wide API Gateway CloudWatch role, which one stack must not set "
        "for the account; execution metrics and X-Ray tracing are on.",
    ),
    ("CKV_AWS_120", "Caching is enabled per route with cache=SECONDS, not for the whole stage."),
)


def skips(skips: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {"checkov": {"skip": [{"id": i, "comment": c} for i, c in skips]}}
