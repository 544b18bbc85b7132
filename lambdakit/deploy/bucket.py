"""The artifact bucket: one per account and region, made safe once, holding each zip under its hash.

`lambdakit-artifacts-ACCOUNT-REGION` is private (public access blocked, bucket owner enforced: no
ACLs), encrypted by default, versioned, and reachable over TLS only (a policy denying any request
with `aws:SecureTransport` false; left out only when the endpoint itself is plain HTTP, an
emulator such as moto's server, which that policy would lock out). Another account could own a
bucket of that name: every call names the expected owner, so S3 refuses instead of uploading code
to a stranger. A zip is stored at `SERVICE/SHA256.zip`, so an unchanged artifact is never uploaded
again and a stack's CodeUri changes exactly when its code does.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from lambdakit.deploy.errors import DeployError

Client = Any  # boto3 clients are typed per service at run time


class ArtifactLike(Protocol):
    """What deploy reads of `lambdakit.packaging.artifact.Artifact`."""

    @property
    def path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...


def bucket_name(account: str, region: str) -> str:
    return f"lambdakit-artifacts-{account}-{region}"


def tls_only_policy(bucket: str) -> dict[str, Any]:
    """Deny every request to the bucket that does not come over TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def ensure_bucket(s3: Client, account: str, region: str, echo: Callable[[str], None] = print) -> str:
    """The account's artifact bucket in `region`, created (and locked down) when missing."""
    from botocore.exceptions import ClientError

    name = bucket_name(account, region)
    try:
        s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
        return name
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(
                f"the artifact bucket {name} exists but is not usable by account {account} ({code}): it belongs to "
                "another account, or these credentials may not list it (s3:ListBucket); deploy needs it for the code"
            ) from None
    echo(f"creating the artifact bucket {name} (private, encrypted, TLS only, versioned)")
    create: dict[str, Any] = {"Bucket": name, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":  # us-east-1 refuses its own name as a location constraint
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create)
    owner = {"Bucket": name, "ExpectedBucketOwner": account}
    s3.put_public_access_block(
        **owner,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        **owner,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]
        },
    )
    s3.put_bucket_versioning(**owner, VersioningConfiguration={"Status": "Enabled"})
    if str(s3.meta.endpoint_url).startswith("https://"):
        s3.put_bucket_policy(**owner, Policy=json.dumps(tls_only_policy(name)))
    else:  # AWS is HTTPS only: this is an emulator reached over HTTP, which the policy would lock out
        echo(f"  {s3.meta.endpoint_url} is plain HTTP (an emulator): the TLS-only bucket policy is left out")
    return name


def artifact_key(service: str, artifact: ArtifactLike) -> str:
    return f"{service}/{artifact.sha256}.zip"


def upload(
    s3: Client,
    bucket: str,
    account: str,
    service: str,
    artifacts: Iterable[ArtifactLike],
    echo: Callable[[str], None] = print,
) -> dict[Path, str]:
    """Each artifact at `SERVICE/SHA256.zip` (skipped when there already): artifact path -> its s3:// URI."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError

    uris: dict[Path, str] = {}
    for artifact in artifacts:
        key = artifact_key(service, artifact)
        try:
            s3.head_object(Bucket=bucket, Key=key, ExpectedBucketOwner=account)
            echo(f"  {artifact.path.name}: unchanged (s3://{bucket}/{key})")
        except ClientError:
            try:
                s3.upload_file(str(artifact.path), bucket, key, ExtraArgs={"ExpectedBucketOwner": account})
            except (S3UploadFailedError, ClientError, OSError) as exc:
                raise DeployError(f"uploading {artifact.path} to s3://{bucket}/{key} failed: {exc}") from None
            echo(f"  {artifact.path.name}: uploaded {artifact.size / 1024:.1f} KB to s3://{bucket}/{key}")
        uris[artifact.path.resolve()] = f"s3://{bucket}/{key}"
    return uris


#: The code properties of the SAM types that take a local path before packaging.
CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def code_paths(template: dict[str, Any], out: Path) -> dict[str, Path]:
    """Logical id -> the local zip each function's code property names (relative to `out`)."""
    found = {}
    for logical_id, resource in template.get("Resources", {}).items():
        prop = CODE_PROPERTIES.get(resource.get("Type", ""))
        value = resource.get("Properties", {}).get(prop) if prop else None
        if isinstance(value, str) and not value.startswith("s3://"):
            found[logical_id] = (out / value).resolve()
    return found


def with_code_uris(template: dict[str, Any], out: Path, uris: dict[Path, str]) -> dict[str, Any]:
    """A copy of `template` whose every local code path is the s3:// URI of the uploaded zip."""
    result = copy.deepcopy(template)
    for logical_id, path in code_paths(template, out).items():
        if path not in uris:
            raise DeployError(
                f"{logical_id}: its code {path.name} is not among the packaged artifacts; run `lambdakit package` again"
            )
        resource = result["Resources"][logical_id]
        resource["Properties"][CODE_PROPERTIES[resource["Type"]]] = uris[path]
    return result


def upload_template(s3: Client, bucket: str, account: str, service: str, body: str, region: str) -> str:
    """A template too large to send inline (over 51,200 bytes), in the bucket: its https URL for TemplateURL."""
    import hashlib

    key = f"{service}/templates/{hashlib.sha256(body.encode()).hexdigest()}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ExpectedBucketOwner=account)
    host = "s3.amazonaws.com" if region == "us-east-1" else f"s3.{region}.amazonaws.com"
    return f"https://{bucket}.{host}/{key}"
