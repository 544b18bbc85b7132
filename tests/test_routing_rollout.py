"""Releases: the state's transitions, the KeyValueStore calls deploy and promote make, and a release's upload.

moto models CloudFront KeyValueStore's control plane (create, describe: what CloudFormation does with
`AWS::CloudFront::KeyValueStore`) but not its data plane (`cloudfront-keyvaluestore`: get/put keys), which
lambdakit calls. So the data plane is tested at the wire: a real botocore client (serialising, resolving
the account's endpoint from the store's ARN, signing with SigV4A through awscrt) whose HTTP requests are
answered by `WireStore`, which implements the documented behaviour of the three operations used
(DescribeKeyValueStore's ETag, GetKey's 404, PutKey's If-Match and 409 ConflictException). What this
cannot prove is AWS's side of it; the rest of the path is the real one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import botocore.compat
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto import mock_aws

import lambdakit as lk
from lambdakit.deploy import rollout
from lambdakit.deploy.rollout import RolloutError, promoted, publish_release, released, rolled_back
from lambdakit.derive.routing import STATE_KEY, ReleaseState, RoutingPlan

R1, R2, R3 = "1111aaaa1111aaaa", "2222bbbb2222bbbb", "3333cccc3333cccc"


# -- the transitions --------------------------------------------------------------------------------


def test_a_release_lifecycle() -> None:
    state = released(ReleaseState(), R1, 10)
    assert state == ReleaseState(R1, None, 10)  # the first release is everyone's
    assert released(state, R1, 10) == state  # the same build again: the same release, nothing changes
    state = released(state, R2, 10)
    assert state == ReleaseState(R1, R2, 10)  # a new one is the candidate
    assert released(state, R2, 25) == ReleaseState(R1, R2, 25)  # redeployed with another percent
    assert released(state, R3, 10) == ReleaseState(R1, R3, 10)  # a newer build replaces the candidate
    assert promoted(state) == ReleaseState(R2, None, 10)
    assert rolled_back(state) == ReleaseState(R1, None, 10)
    with pytest.raises(RolloutError, match="no candidate release to promote: everyone is on release " + R2):
        promoted(promoted(state))
    with pytest.raises(RolloutError, match="no release was deployed yet"):
        rolled_back(ReleaseState())


def test_the_state_text_round_trips() -> None:
    state = ReleaseState(R1, R2, 10)
    assert ReleaseState.parse(state.text()) == state
    assert ReleaseState.parse(None) == ReleaseState()
    assert len(state.text().encode()) < 1024  # a KeyValueStore value is at most 1 KB


# -- the data plane, at the wire ---------------------------------------------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


class WireStore:
    """The KeyValueStore data plane's HTTP side, for the operations lambdakit calls; records what it was sent."""

    def __init__(self, arn: str) -> None:
        self.arn = arn
        self.keys: dict[str, str] = {}
        self.version = 1
        self.requests: list[AWSPreparedRequest] = []
        self.interfere: Any = None  # called before a PutKey: another writer

    @property
    def etag(self) -> str:
        return f"KV{self.version:08d}"

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.requests.append(request)
        path = unquote(urlsplit(request.url).path)
        prefix = f"/key-value-stores/{self.arn}"
        assert path.startswith(prefix), path
        rest = path[len(prefix) :]
        if request.method == "GET" and rest == "":
            body = {"ItemCount": len(self.keys), "TotalSizeInBytes": 0, "KvsARN": self.arn, "Created": 1.7e9}
            return self._answer(200, body, {"ETag": self.etag})
        key = rest.removeprefix("/keys/")
        if request.method == "GET":
            if key not in self.keys:
                return self._error(404, "ResourceNotFoundException", "Key not found")
            return self._answer(200, {"Key": key, "Value": self.keys[key], "ItemCount": 1, "TotalSizeInBytes": 1})
        if request.method == "PUT":
            if self.interfere is not None:
                self.interfere()
            if_match = request.headers.get("If-Match")
            if (if_match.decode() if isinstance(if_match, bytes) else if_match) != self.etag:
                return self._error(409, "ConflictException", "Resource is not in expected state")
            self.keys[key] = json.loads(request.body or b"{}")["Value"]
            self.version += 1
            return self._answer(200, {"ItemCount": len(self.keys), "TotalSizeInBytes": 1}, {"ETag": self.etag})
        raise AssertionError(f"lambdakit calls no {request.method} {rest}")

    def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> AWSResponse:
        return AWSResponse(
            "", status, {"Content-Type": "application/json", **(headers or {})}, _Body(json.dumps(body).encode())
        )

    def _error(self, status: int, code: str, message: str) -> AWSResponse:
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json"}
        return AWSResponse("", status, headers, _Body(json.dumps({"Message": message}).encode()))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield boto3.Session(region_name="eu-west-1")


@pytest.fixture
def store(aws: boto3.Session) -> tuple[Any, WireStore]:
    if not botocore.compat.HAS_CRT:
        pytest.skip("the KeyValueStore API signs with SigV4A: awscrt (botocore[crt]) must be installed")
    """A store created through moto's control plane (as CloudFormation would), and a data plane client."""
    created = aws.client("cloudfront").create_key_value_store(Name="shop-prod-releases", Comment="releases")
    arn = created["KeyValueStore"]["ARN"]
    assert arn.startswith(
        "arn:aws:cloudfront::123456789012:key-value-store/"
    )  # the shape the router's association takes
    client = rollout.store_client(aws)
    wire = WireStore(arn)
    client.meta.events.register("before-send", wire)
    return client, wire


def test_the_data_plane_requests_are_signed_sigv4a_for_the_accounts_endpoint(store: tuple[Any, WireStore]) -> None:
    client, wire = store
    rollout.change(client, wire.arn, lambda state: released(state, R1, 10))
    describe, get, put = wire.requests
    assert urlsplit(describe.url).hostname == "123456789012.cloudfront-kvs.global.api.aws"
    for request in (describe, get, put):
        assert request.headers["Authorization"].startswith(b"AWS4-ECDSA-P256-SHA256 ")  # SigV4A (awscrt)
        assert request.headers["X-Amz-Region-Set"] == b"*"
    assert put.method == "PUT" and put.headers["If-Match"] in (b"KV00000001", "KV00000001")
    assert json.loads(wire.keys[STATE_KEY]) == {"stable": R1, "candidate": None, "percent": 10}


def test_promote_and_rollback_through_the_store(store: tuple[Any, WireStore]) -> None:
    client, wire = store
    rollout.change(client, wire.arn, lambda state: released(state, R1, 10))
    rollout.change(client, wire.arn, lambda state: released(state, R2, 10))
    assert rollout.read(client, wire.arn).state == ReleaseState(R1, R2, 10)
    before, after = rollout.promote(client, wire.arn)
    assert (before, after) == (ReleaseState(R1, R2, 10), ReleaseState(R2, None, 10))
    rollout.change(client, wire.arn, lambda state: released(state, R3, 10))
    assert rollout.rollback(client, wire.arn)[1] == ReleaseState(R2, None, 10)
    writes = [r for r in wire.requests if r.method == "PUT"]
    with pytest.raises(RolloutError, match="no candidate release to roll back"):
        rollout.rollback(client, wire.arn)
    assert len([r for r in wire.requests if r.method == "PUT"]) == len(writes)  # a refused change writes nothing


def test_a_store_changed_meanwhile_is_not_overwritten(store: tuple[Any, WireStore]) -> None:
    client, wire = store
    rollout.change(client, wire.arn, lambda state: released(state, R1, 10))
    rollout.change(client, wire.arn, lambda state: released(state, R2, 10))

    def someone_else_promotes() -> None:
        wire.interfere = None
        wire.keys[STATE_KEY] = ReleaseState(R2, None, 10).text()
        wire.version += 1

    wire.interfere = someone_else_promotes
    with pytest.raises(RolloutError, match="changed while lambdakit was updating it"):
        rollout.rollback(client, wire.arn)
    assert ReleaseState.parse(wire.keys[STATE_KEY]) == ReleaseState(R2, None, 10)  # their promote stands


def test_without_awscrt_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.compat, "HAS_CRT", False)
    with pytest.raises(RolloutError, match=r"needs awscrt: pip install 'botocore\[crt\]'"):
        rollout.store_client(boto3.Session(region_name="eu-west-1"))


# -- a deploy's release: the upload (moto S3) then the state ---------------------------------------------


def write_build(root: Path, version: str) -> None:
    for variant in ("a", "b"):
        (root / variant / "assets").mkdir(parents=True, exist_ok=True)
        (root / variant / "index.html").write_text(f"<title>{variant} {version}</title>")
        (root / variant / "assets" / "app.3f9a1c2b.js").write_text(f"/* {variant} */")


def test_a_release_is_uploaded_under_its_immutable_prefix_then_recorded(
    tmp_path: Path, aws: boto3.Session, store: tuple[Any, WireStore]
) -> None:
    client, wire = store
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="site", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    write_build(tmp_path, "v1")
    plan = RoutingPlan(
        lk.ABTest({"a": 50, "b": 50}), lk.Rollout(percent=10), "index.html", str(tmp_path), str(tmp_path)
    )
    first = publish_release(plan, "site", s3, client, wire.arn)
    assert first.after == ReleaseState(first.release, None, 10)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="site")["Contents"])
    assert keys == [
        f"releases/{first.release}/variants/{v}/{name}"
        for v in ("a", "b")
        for name in ("assets/app.3f9a1c2b.js", "index.html")
    ]
    head = s3.head_object(Bucket="site", Key=f"releases/{first.release}/variants/a/index.html")
    assert head["CacheControl"] == "no-cache" and head["ContentType"] == "text/html; charset=utf-8"
    again = publish_release(plan, "site", s3, client, wire.arn)  # the same folder: the same release, no upload
    assert again.release == first.release and again.uploaded == () and again.after == first.after
    write_build(tmp_path, "v2")
    second = publish_release(plan, "site", s3, client, wire.arn)
    assert second.release != first.release and second.after == ReleaseState(first.release, second.release, 10)
    assert len(second.uploaded) == 4  # a release holds all its files: its prefix is new
    old = s3.get_object(Bucket="site", Key=f"releases/{first.release}/variants/b/index.html")["Body"].read()
    assert old == b"<title>b v1</title>"  # the stable release's files are untouched: rollback serves them


def test_an_ab_test_alone_publishes_each_variant_under_its_prefix(
    tmp_path: Path, aws: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.apps import write_package

    init = 'import lambdakit as lk\nsite = lk.Frontend("a", ab_test=lk.ABTest({"a": 80, "b": 20}))\n'
    package = write_package(tmp_path, {"__init__.py": init})
    write_build(tmp_path / package, "v1")
    from lambdakit.discovery import discover

    site = discover(package).site
    assert site is not None
    s3, cloudfront = aws.client("s3"), aws.client("cloudfront")
    s3.create_bucket(Bucket="site", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    origin = {
        "Id": "site",
        "DomainName": "site.s3.eu-west-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "t",
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )["Distribution"]["Id"]
    outputs = {"SiteBucketName": "site", "SiteDistributionId": distribution}
    result = rollout.publish_routed(site, outputs, aws, s3, cloudfront)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="site")["Contents"])
    assert keys == [f"variants/{v}/{name}" for v in ("a", "b") for name in ("assets/app.3f9a1c2b.js", "index.html")]
    assert result.paths == ("/variants/a/index.html", "/variants/b/index.html")  # the rewritten URIs: the cache keys
    assert result.notes == ("variant a: 80%", "variant b: 20%")
    again = rollout.publish_routed(site, outputs, aws, s3, cloudfront)
    assert again.uploaded == () and again.unchanged == 4 and again.invalidation_id is None
