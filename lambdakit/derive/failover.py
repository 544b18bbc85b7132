"""Origin failover for a site: a replica bucket in another region, S3 replication to it, an origin group.

`replica_template` is the stack deployed first in `lk.Failover(region=)`: the replica bucket and
its policy. Its outputs fill the main template's parameters of the same name (no cross-region
exports). The main template gets the replication role, the primary bucket's replication rule, the
replica as a second S3 origin and the origin group on the default (S3) behavior only: an origin
group fails over GET, HEAD and OPTIONS, and a behavior on one cannot take POST, so API behaviors
never use it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lambdakit.declare.app import App
from lambdakit.declare.edge_routing import Failover
from lambdakit.derive.skips import skips

if TYPE_CHECKING:
    from lambdakit.derive.plan import Plan

REPLICA_BUCKET = "SiteReplicaBucket"
REPLICA_POLICY = "SiteReplicaBucketPolicy"
REPLICATION_ROLE = "SiteReplicationRole"
REPLICATION_POLICY = "SiteReplicationPolicy"
#: The replica stack's outputs, and the main template's parameters of the same names.
REPLICA_ARN = "SiteReplicaBucketArn"
REPLICA_DOMAIN = "SiteReplicaDomainName"
REPLICA_ORIGIN = "site-replica"
GROUP = "site-failover"
#: What the primary answers when it is in trouble. Not 403 or 404: those are answers about a file (missing,
#: or not yet replicated), and failing over on them would send every missing file to both buckets and hide
#: a broken bucket policy behind the replica.
FAILOVER_STATUS = (500, 502, 503, 504)
FAILOVER_METHODS = ("GET", "HEAD", "OPTIONS")
#: The primary gets 2 attempts of 3 s to connect (CloudFront's defaults are 3 of 10 s): at most ~6 s before
#: the replica is asked, which gets CloudFront's defaults (it is the last resort).
PRIMARY_CONNECTION = {"ConnectionAttempts": 2, "ConnectionTimeout": 3}
REPLICA_CONNECTION = {"ConnectionAttempts": 3, "ConnectionTimeout": 10}

REPLICA_SKIPS = (
    (
        "CKV_AWS_18",
        "Every read goes through CloudFront; S3 server access logs would repeat CloudFront's view of the same "
        "requests for a bucket nobody else can read.",
    ),
    ("CKV_AWS_144", "This bucket is the cross-region replica of the site bucket: replicating it again adds nothing."),
    (
        "CKV_AWS_145",
        "SSE-S3 (AES-256), like the primary: the files are what every visitor downloads; a KMS key would add key "
        "policies for CloudFront and replication without hiding anything.",
    ),
    ("CKV2_AWS_62", "Nothing reacts to replicated files: S3 replication writes them, CloudFront reads them."),
)


def failover_of(app: App) -> Failover | None:
    site = app.site
    found = site.edge.get("failover") if site is not None else None
    return found if isinstance(found, Failover) else None


def fails_over(method: str, status: int) -> bool:
    """Whether CloudFront asks the replica after the primary's answer (or 504 for no answer)."""
    return method.upper() in FAILOVER_METHODS and status in FAILOVER_STATUS


def region_problems(app: App, stack_region: str | None) -> list[str]:
    """At deploy, once the stage's region is known: a replica in the same region protects against nothing."""
    failover = failover_of(app)
    if failover is None or stack_region is None or failover.region != stack_region:
        return []
    return [
        f"{app.package}: lk.Failover(region={failover.region!r}) is the stack's own region; a replica must be in "
        "another region to survive a regional outage: name another region"
    ]


# -- the replica stack --------------------------------------------------------------------------------


def replica_template(app: App, plan: Plan | None = None) -> dict[str, Any] | None:
    """The template of the replica's region (the `Stack` keyed by that region), or None without failover."""
    failover = failover_of(app)
    if failover is None:
        return None
    from lambdakit.derive.site import bucket_resource, read_by_cloudfront

    bucket = bucket_resource()
    bucket["Metadata"] = skips(REPLICA_SKIPS)
    # The distribution is in the main stack, deployed after this one: its id is not known yet. Any
    # distribution of this account may read (through its OAC); only the site's distribution has this
    # bucket as an origin, and nobody else can be given one in this account.
    this_account = {
        "StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"AWS:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*"}},
    }
    policy = read_by_cloudfront(REPLICA_BUCKET, this_account)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"lambdakit service {app.service.name}: the site's replica in {failover.region} (failover)",
        "Resources": {REPLICA_BUCKET: bucket, REPLICA_POLICY: policy},
        "Outputs": {
            REPLICA_ARN: {
                "Description": "The replica bucket (S3 replication's destination)",
                "Value": {"Fn::GetAtt": f"{REPLICA_BUCKET}.Arn"},
            },
            REPLICA_DOMAIN: {
                "Description": "The replica's regional domain (CloudFront's second origin)",
                "Value": {"Fn::GetAtt": f"{REPLICA_BUCKET}.RegionalDomainName"},
            },
        },
    }


# -- what the main template gains -----------------------------------------------------------------


def parameters() -> dict[str, Any]:
    return {
        REPLICA_ARN: {
            "Type": "String",
            "AllowedPattern": "^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            "Description": "The replica bucket's ARN (the replica stack's output of the same name)",
        },
        REPLICA_DOMAIN: {
            "Type": "String",
            "AllowedPattern": "^[a-z0-9][a-z0-9.-]+\\.amazonaws\\.com(\\.cn)?$",
            "Description": "The replica bucket's regional domain (the replica stack's output of the same name)",
        },
    }


def replication(bucket_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The primary bucket's `ReplicationConfiguration`, and the role and policy S3 replicates with.

    The policy is its own resource: the bucket names the role, and the role's permissions name the
    bucket, so one resource holding both would be a circular dependency.
    """
    config = {
        "Role": {"Fn::GetAtt": f"{REPLICATION_ROLE}.Arn"},
        "Rules": [
            {
                "Id": "site-replica",
                "Status": "Enabled",
                "Priority": 1,
                "Filter": {"Prefix": ""},
                # `--prune` deletes stay deletes in the replica (versions themselves are never deleted by S3).
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "Destination": {"Bucket": {"Ref": REPLICA_ARN}},
            }
        ],
    }
    source = {"Fn::GetAtt": f"{bucket_id}.Arn"}
    source_objects = {"Fn::Sub": f"${{{bucket_id}.Arn}}/*"}
    resources = {
        REPLICATION_ROLE: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "S3 replicates the site bucket to its replica with this role",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    ],
                },
            },
        },
        REPLICATION_POLICY: {
            "Type": "AWS::IAM::RolePolicy",
            "Properties": {
                "RoleName": {"Ref": REPLICATION_ROLE},
                "PolicyName": "replicate-site",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ReadReplicationRule",
                            "Effect": "Allow",
                            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                            "Resource": source,
                        },
                        {
                            "Sid": "ReadVersions",
                            "Effect": "Allow",
                            "Action": [
                                "s3:GetObjectVersionForReplication",
                                "s3:GetObjectVersionAcl",
                                "s3:GetObjectVersionTagging",
                            ],
                            "Resource": source_objects,
                        },
                        {
                            "Sid": "WriteReplica",
                            "Effect": "Allow",
                            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                            "Resource": {"Fn::Sub": f"${{{REPLICA_ARN}}}/*"},
                        },
                    ],
                },
            },
        },
    }
    return config, resources


def replica_origin(oac_id: str) -> dict[str, Any]:
    return {
        "Id": REPLICA_ORIGIN,
        "DomainName": {"Ref": REPLICA_DOMAIN},
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": {"Fn::GetAtt": f"{oac_id}.Id"},
        **REPLICA_CONNECTION,
    }


def origin_group(primary: str) -> dict[str, Any]:
    return {
        "Quantity": 1,
        "Items": [
            {
                "Id": GROUP,
                "FailoverCriteria": {"StatusCodes": {"Quantity": len(FAILOVER_STATUS), "Items": list(FAILOVER_STATUS)}},
                "Members": {"Quantity": 2, "Items": [{"OriginId": primary}, {"OriginId": REPLICA_ORIGIN}]},
            }
        ],
    }


def stack_key(failover: Failover) -> str:
    """The extra stack's key: its region (file `template-REGION.yaml`, stack `SERVICE-STAGE-REGION`)."""
    assert re.match(r"^[a-z0-9-]+$", failover.region)
    return failover.region
