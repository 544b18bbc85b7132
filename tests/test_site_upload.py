"""The site upload (`lambdakit.site_upload`) against moto's S3, CloudFront and CloudFormation: real boto3 calls,
asserting on the bucket's objects and the distribution's invalidations."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdakit.declare.app import App
from lambdakit.declare.service import Service
from lambdakit.declare.site import Frontend
from lambdakit.deploy import DeployError, publish_site, site_summary, stack_name
from lambdakit.derive.site import IMMUTABLE, REVALIDATE
from lambdakit.site_upload import invalidation_paths, plan_upload, stack_outputs, upload_site

BUCKET = "shop-dev-sitebucket"
ASSET = "assets/app.3f9a1c2b.js"
STYLE = "assets/index-B2xT9qLm.css"

Client = Any


@dataclass
class Aws:
    s3: Client
    cloudfront: Client
    distribution: str
    put: list[str]  # the keys of the PutObject calls made, in order

    def invalidations(self) -> list[list[str]]:
        """The paths of each invalidation of the distribution, oldest first."""
        listed = self.cloudfront.list_invalidations(DistributionId=self.distribution)["InvalidationList"]
        out = []
        for item in sorted(listed.get("Items", []), key=lambda i: i["CreateTime"]):  # moto lists oldest first
            found = self.cloudfront.get_invalidation(DistributionId=self.distribution, Id=item["Id"])
            out.append(found["Invalidation"]["InvalidationBatch"]["Paths"].get("Items", []))
        return out

    def objects(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    def upload(self, root: Path, **options: Any) -> Any:
        return upload_site(root, BUCKET, self.distribution, self.s3, self.cloudfront, **options)


def distribution(cloudfront: Client) -> str:
    """A minimal distribution in front of the bucket, as moto takes it."""
    answer = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "test-site",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    return str(answer["Distribution"]["Id"])


@pytest.fixture
def aws(moto_env: None) -> Iterator[Aws]:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    put: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:  # the API parameters of each real call
        put.append(params["Key"])

    s3.meta.events.register("before-parameter-build.s3.PutObject", record)
    yield Aws(s3, cloudfront, distribution(cloudfront), put)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A built SPA, with what a build folder also holds and must not be published."""
    return write(
        tmp_path / "dist",
        {
            "index.html": f'<script src="/{ASSET}"></script><link rel="stylesheet" href="/{STYLE}">',
            ASSET: "console.log(1)",
            STYLE: "body{}",
            "robots.txt": "User-agent: *",
            "favicon.svg": "<svg/>",
            ".DS_Store": "finder",
            ".git/HEAD": "ref: refs/heads/main",
            "assets/.cache": "x",
            ".well-known/security.txt": "Contact: mailto:security@example.com",
        },
    )


FILES = [".well-known/security.txt", STYLE, ASSET, "favicon.svg", "index.html", "robots.txt"]
ENTRY_PATHS = ["/.well-known/security.txt", "/favicon.svg", "/robots.txt", "/index.html", "/"]


def test_first_upload_puts_every_file_with_its_headers_and_invalidates_entry_files_only(aws: Aws, site: Path) -> None:
    result = aws.upload(site)

    assert sorted(aws.objects()) == sorted(FILES)
    headers = {key: aws.s3.head_object(Bucket=BUCKET, Key=key) for key in FILES}
    assert headers[ASSET]["CacheControl"] == IMMUTABLE
    # the platform's MIME table says which (`mimetypes`); both are served as UTF-8 text
    assert headers[ASSET]["ContentType"] in ("text/javascript; charset=utf-8", "application/javascript; charset=utf-8")
    assert headers[STYLE]["CacheControl"] == IMMUTABLE
    assert headers[STYLE]["ContentType"] == "text/css; charset=utf-8"
    assert headers["index.html"]["CacheControl"] == REVALIDATE
    assert headers["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert headers["favicon.svg"]["ContentType"] == "image/svg+xml; charset=utf-8"
    assert headers["robots.txt"]["CacheControl"] == REVALIDATE
    body = aws.s3.get_object(Bucket=BUCKET, Key=ASSET)["Body"].read()
    assert body == b"console.log(1)"

    assert aws.invalidations() == [ENTRY_PATHS]
    assert result.invalidation_id is not None
    assert result.paths == tuple(ENTRY_PATHS)
    assert result.unchanged == 0
    assert result.uploaded_bytes == sum((site / key).stat().st_size for key in FILES)
    assert sorted(result.uploaded) == sorted(FILES)


def test_a_second_upload_of_the_same_folder_puts_nothing_and_invalidates_nothing(aws: Aws, site: Path) -> None:
    aws.upload(site)
    aws.put.clear()

    result = aws.upload(site)

    assert aws.put == []
    assert result.uploaded == ()
    assert result.unchanged == len(FILES)
    assert result.invalidation_id is None
    assert len(aws.invalidations()) == 1  # the first upload's
    assert site_summary(result) == f"site: 0 uploaded, {len(FILES)} unchanged, nothing to invalidate"


def test_a_release_puts_what_changed_and_invalidates_only_the_entry_file(aws: Aws, site: Path) -> None:
    aws.upload(site)
    aws.put.clear()
    new_asset = "assets/app.9b8c7d6e.js"
    write(site, {"index.html": f'<script src="/{new_asset}"></script>', new_asset: "console.log(2)"})

    result = aws.upload(site)

    assert aws.put == [new_asset, "index.html"]
    assert result.uploaded == (new_asset, "index.html")
    assert result.unchanged == len(FILES) - 1
    assert aws.invalidations()[-1] == ["/index.html", "/"]
    assert len(aws.invalidations()) == 2
    assert aws.s3.get_object(Bucket=BUCKET, Key="index.html")["Body"].read().decode() == (
        f'<script src="/{new_asset}"></script>'
    )
    assert site_summary(result) == (
        f"site: 2 uploaded ({result.uploaded_bytes} B), {len(FILES) - 1} unchanged, "
        f"invalidated /index.html / ({result.invalidation_id})"
    )


def test_hashed_assets_go_up_before_the_files_that_name_them(aws: Aws, site: Path) -> None:
    aws.upload(site)

    assert set(aws.put) == set(FILES)
    assert aws.put.index("index.html") == len(aws.put) - 1
    for asset in (ASSET, STYLE):
        assert aws.put.index(asset) < aws.put.index("favicon.svg") < aws.put.index("index.html")


def test_files_gone_from_the_folder_stay_in_the_bucket_unless_pruned(aws: Aws, site: Path) -> None:
    aws.upload(site)
    (site / ASSET).unlink()
    (site / "robots.txt").unlink()

    kept = aws.upload(site)

    assert set(FILES) <= set(aws.objects())
    assert kept.kept == (ASSET, "robots.txt")
    assert kept.deleted == ()
    assert kept.invalidation_id is None
    assert "2 gone from the folder left in the bucket" in site_summary(kept)

    pruned = aws.upload(site, prune=True)

    # the old hashed asset stays: a page loaded before the release still asks for it
    assert ASSET in aws.objects()
    assert "robots.txt" not in aws.objects()
    assert pruned.deleted == ("robots.txt",)
    assert pruned.kept == (ASSET,)
    assert aws.invalidations()[-1] == ["/robots.txt"]


def test_plan_compares_md5_with_the_listed_etags(site: Path) -> None:
    etag = hashlib.md5(b"console.log(1)").hexdigest()
    plan = plan_upload(site, {ASSET: etag, "index.html": "0" * 32, "old.html": "1" * 32, STYLE: etag + "-2"})

    assert plan.unchanged == (ASSET,)
    assert plan.keys == (STYLE, ".well-known/security.txt", "favicon.svg", "robots.txt", "index.html")
    assert plan.gone == ("old.html",)
    assert plan_upload(site, {}) == plan_upload(site, {})  # deterministic


def test_invalidation_paths_are_encoded_and_capped() -> None:
    assert invalidation_paths(["a b*.html", ASSET, "docs/index.html"]) == ("/a%20b%2A.html", "/docs/index.html")
    assert invalidation_paths(["main.html"], index="main.html") == ("/main.html", "/")
    assert invalidation_paths([f"page{i}.html" for i in range(3001)]) == ("/*",)


def test_a_missing_folder_is_refused_before_anything_is_touched(aws: Aws, tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="does not exist"):
        aws.upload(tmp_path / "missing")
    assert aws.put == []


STACK_TEMPLATE = {
    "Resources": {"SiteBucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {
        "SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
        "SiteUrl": {"Value": "https://d111111abcdef8.cloudfront.net"},
    },
}


def test_stack_outputs_reads_a_deployed_stack(moto_env: None) -> None:
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="shop-dev", TemplateBody=json.dumps(STACK_TEMPLATE))

    outputs = stack_outputs(cloudformation, "shop-dev")

    assert set(outputs) == {"SiteBucketName", "SiteUrl"}
    assert outputs["SiteUrl"] == "https://d111111abcdef8.cloudfront.net"
    boto3.client("s3", region_name="us-east-1").head_bucket(Bucket=outputs["SiteBucketName"])  # the real bucket


def test_publish_site_uploads_to_the_bucket_the_stack_outputs(aws: Aws, site: Path) -> None:
    app = App(service=Service("shop"), package="shop", site=Frontend(str(site)))
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"SiteBucketName": {"Value": BUCKET}, "SiteDistributionId": {"Value": aws.distribution}},
    }
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName=stack_name(app, "dev"), TemplateBody=json.dumps(template))

    result = publish_site(app, "dev", "us-east-1", None)

    assert sorted(aws.objects()) == sorted(FILES)
    assert result.invalidation_id is not None
    assert aws.invalidations() == [ENTRY_PATHS]


def test_publish_site_names_a_missing_output(moto_env: None, site: Path) -> None:
    app = App(service=Service("shop"), package="shop", site=Frontend(str(site)))
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="shop-dev", TemplateBody=json.dumps(STACK_TEMPLATE))

    with pytest.raises(DeployError, match="no output SiteDistributionId"):
        publish_site(app, "dev", "us-east-1", None)


def test_deploy_finds_the_hosted_zone_of_the_domain(moto_env: None) -> None:
    """The zone deploy fills in: the longest public suffix wins, private zones never."""
    from moto import mock_aws

    from lambdakit.deploy import DeployError, hosted_zone_id

    with mock_aws():
        route53 = boto3.client("route53", region_name="us-east-1")
        outer = route53.create_hosted_zone(Name="example.com", CallerReference="a")["HostedZone"]["Id"]
        inner = route53.create_hosted_zone(Name="shop.example.com.", CallerReference="b")["HostedZone"]["Id"]
        route53.create_hosted_zone(
            Name="www.shop.example.com",
            CallerReference="c",
            VPC={"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"},
            HostedZoneConfig={"PrivateZone": True},
        )
        assert hosted_zone_id(route53, "www.shop.example.com") == inner.rsplit("/", 1)[-1]
        assert hosted_zone_id(route53, "example.com") == outer.rsplit("/", 1)[-1]
        with pytest.raises(DeployError, match=r"no public Route 53 hosted zone holds www\.other\.org"):
            hosted_zone_id(route53, "www.other.org")
