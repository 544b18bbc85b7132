"""The site router's and the failover's templates: resource by resource, then through the SAM translator,
cfn-lint (SAM and transformed) and checkov; and the declarations' mistakes as build errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lambdakit as lk
from lambdakit.derive import failover, routing
from lambdakit.derive.failover import replica_template
from lambdakit.derive.plan import plan_of
from lambdakit.derive.template import build_template
from lambdakit.discovery import BuildError, discover
from tests.apps import write_package
from tests.validate import cfn_lint, checkov, transform

INDEX = "<!doctype html><title>{}</title><script src=/assets/app.3f9a1c2b.js></script>"
API = """
@lk.route("GET", "/products/{sku}")
def get_product(sku: str) -> dict[str, str]:
    return {"sku": sku}

@lk.route("POST", "/orders", status=201)
def create_order(body: dict[str, int]) -> dict[str, int]:
    return body
"""


def site_files(*folders: str) -> dict[str, str]:
    out = {}
    for folder in folders:
        out[f"{folder}/index.html"] = INDEX.format(folder)
        out[f"{folder}/assets/app.3f9a1c2b.js"] = f"console.log({folder!r})"
    return out


def package(root: Path, frontend: str, folders: tuple[str, ...] = ("web/dist", "web/dist-b")) -> str:
    init = f'import lambdakit as lk\nservice = lk.Service("shop")\nsite = lk.Frontend({frontend})\n' + API
    return write_package(root, {"__init__.py": init, **site_files(*folders)})


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("routed")
    ab = '"web/dist", ab_test=lk.ABTest({"web/dist": 90, "web/dist-b": 10})'
    return {
        "ab": package(root, ab),
        "rollout": package(root, '"web/dist", rollout=lk.Rollout(percent=10)'),
        "both": package(root, ab + ", rollout=lk.Rollout(percent=25)"),
        "failover": package(root, '"web/dist", failover=lk.Failover(region="us-west-2")'),
        "everything": package(root, ab + ', rollout=lk.Rollout(percent=5), failover=lk.Failover(region="eu-west-1")'),
    }


def template_of(package: str) -> dict[str, Any]:
    return build_template(discover(package))


def default_behavior(template: dict[str, Any]) -> dict[str, Any]:
    behavior: dict[str, Any] = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"][
        "DefaultCacheBehavior"
    ]
    return behavior


def associations(behavior: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["EventType"], a["FunctionARN"]["Fn::GetAtt"].split(".")[0]) for a in behavior["FunctionAssociations"]]


def test_ab_test_replaces_the_spa_fallback_with_the_router_and_its_cookie_function(apps: dict[str, str]) -> None:
    template = template_of(apps["ab"])
    resources = template["Resources"]
    assert "SiteSpaFallback" not in resources
    assert associations(default_behavior(template)) == [
        ("viewer-request", "SiteRouter"),
        ("viewer-response", "SiteRouterCookies"),
    ]
    router = resources["SiteRouter"]["Properties"]
    assert router["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert "KeyValueStoreAssociations" not in router["FunctionConfig"]  # weights are in the code: no store
    assert '[["web-dist",90],["web-dist-b",10]]' in router["FunctionCode"]
    assert "SiteReleases" not in resources
    # API behaviors keep their own functions: the router never runs on /api
    for behavior in resources["SiteDistribution"]["Properties"]["DistributionConfig"]["CacheBehaviors"]:
        assert all(
            a["FunctionARN"]["Fn::GetAtt"] != "SiteRouter.FunctionARN" for a in behavior.get("FunctionAssociations", [])
        )


def test_rollout_adds_the_release_store_associated_to_the_router(apps: dict[str, str]) -> None:
    template = template_of(apps["rollout"])
    resources = template["Resources"]
    store = resources["SiteReleases"]
    assert store["Type"] == "AWS::CloudFront::KeyValueStore"
    assert store["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}-releases"}
    config = resources["SiteRouter"]["Properties"]["FunctionConfig"]
    assert config["KeyValueStoreAssociations"] == [{"KeyValueStoreARN": {"Fn::GetAtt": "SiteReleases.Arn"}}]
    assert template["Outputs"]["SiteReleasesArn"]["Value"] == {"Fn::GetAtt": "SiteReleases.Arn"}
    code = resources["SiteRouter"]["Properties"]["FunctionCode"]
    assert code.startswith("import cf from 'cloudfront';\nvar STORE = cf.kvs();")
    # the distribution holds nothing a promote would change: no release id, no percent
    assert "releases/" not in str(resources["SiteDistribution"])


def test_failover_puts_an_origin_group_on_the_s3_behavior_only(apps: dict[str, str]) -> None:
    template = template_of(apps["failover"])
    resources = template["Resources"]
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    group = config["OriginGroups"]["Items"][0]
    assert config["OriginGroups"]["Quantity"] == 1
    assert group["FailoverCriteria"]["StatusCodes"] == {"Quantity": 4, "Items": [500, 502, 503, 504]}
    assert [m["OriginId"] for m in group["Members"]["Items"]] == ["site", "site-replica"]
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == group["Id"] and default["AllowedMethods"] == ["GET", "HEAD"]
    for behavior in config["CacheBehaviors"]:  # the API takes POST: never on the origin group
        assert behavior["TargetOriginId"] == "api" and "POST" in behavior["AllowedMethods"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["site"]["ConnectionAttempts"] == 2 and origins["site"]["ConnectionTimeout"] == 3
    replica = origins["site-replica"]
    assert replica["DomainName"] == {"Ref": "SiteReplicaDomainName"}
    assert replica["OriginAccessControlId"] == {"Fn::GetAtt": "SiteOriginAccess.Id"}
    assert set(template["Parameters"]) >= {"SiteReplicaBucketArn", "SiteReplicaDomainName"}
    # replication: the rule, and a role that can do only that, on the two buckets
    rule = resources["SiteBucket"]["Properties"]["ReplicationConfiguration"]["Rules"][0]
    assert rule["Destination"]["Bucket"] == {"Ref": "SiteReplicaBucketArn"} and rule["Status"] == "Enabled"
    trust = resources["SiteReplicationRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    statements = resources["SiteReplicationPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    assert all(
        a.startswith(("s3:GetReplication", "s3:ListBucket", "s3:GetObjectVersion", "s3:Replicate")) for a in actions
    )
    assert all("*" not in str(s["Resource"]).replace("/*", "") for s in statements)
    # the checks that were skipped because there was no replica are now met, not skipped
    bucket_skips = [s["id"] for s in resources["SiteBucket"]["Metadata"]["checkov"]["skip"]]
    distribution_skips = [s["id"] for s in resources["SiteDistribution"]["Metadata"]["checkov"]["skip"]]
    assert "CKV_AWS_144" not in bucket_skips and "CKV_AWS_310" not in distribution_skips


def test_the_replica_template(apps: dict[str, str]) -> None:
    app = discover(apps["failover"])
    replica = replica_template(app, plan_of(app))
    assert replica is not None and replica_template(discover(apps["ab"]), None) is None
    bucket = replica["Resources"]["SiteReplicaBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    statements = replica["Resources"]["SiteReplicaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statements[0]["Effect"] == "Deny" and statements[0]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    for statement in statements[1:]:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Condition"]["StringEquals"] == {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"]["Fn::Sub"].endswith(":distribution/*")
    # its outputs are the main template's parameters of the same name
    main = template_of(apps["failover"])
    assert set(replica["Outputs"]) == {failover.REPLICA_ARN, failover.REPLICA_DOMAIN} <= set(main["Parameters"])


@pytest.mark.parametrize("name", ["ab", "rollout", "failover", "everything"])  # "both" is in "everything"
def test_templates_pass_the_translator_and_cfn_lint(apps: dict[str, str], name: str) -> None:
    template = template_of(apps[name])
    assert cfn_lint(template, "sam") == []
    assert cfn_lint(transform(template), "transformed") == []
    app = discover(apps[name])
    replica = replica_template(app, plan_of(app))
    if replica is not None:
        assert cfn_lint(replica, "replica") == []


def test_templates_pass_checkov(apps: dict[str, str]) -> None:
    app = discover(apps["everything"])
    replica = replica_template(app, plan_of(app))
    assert replica is not None
    assert checkov(build_template(app)) == []
    assert checkov(replica) == []


def test_router_code_stays_under_the_10_kb_limit() -> None:
    variants = {f"web/variant-number-{i:02d}-with-a-long-folder-name": 5 for i in range(20)}
    plan = routing.RoutingPlan(lk.ABTest(variants), lk.Rollout(50), "index.html", ".", ".")
    for code in (plan.router_code(), plan.cookies_code()):
        assert len(code.encode()) < routing.MAX_CODE_BYTES
        assert "=>" not in code and "let " not in code and "const " not in code  # ES5.1 plus async/await


def test_code_over_10_kb_is_a_build_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routing, "MAX_CODE_BYTES", 600)  # the real limit needs more variants than allowed
    pkg = package(tmp_path, '"web/dist", ab_test=lk.ABTest({"web/dist": 50, "web/dist-b": 50}), rollout=lk.Rollout()')
    with pytest.raises(BuildError) as caught:
        discover(pkg)
    assert "the generated SiteRouter is" in str(caught.value) and "at most 600" in str(caught.value)


# -- declarations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: lk.ABTest({"a": 100}), "at least two variants"),
        (lambda: lk.ABTest({"a": 50, "b": 40}), "sum to 90"),
        (lambda: lk.ABTest({"a": 50.5, "b": 49.5}), "whole percent"),
        (lambda: lk.ABTest({"a": 0, "b": 100}), "whole percent, at least 1"),
        (lambda: lk.ABTest({"web/B": 50, "web-b": 50}), "share the variant name"),
        (lambda: lk.ABTest({"/abs": 50, "b": 50}), "relative"),
        (lambda: lk.ABTest({"a": 50, "b": 50}, cookie="a b"), "cookie="),
        (lambda: lk.Rollout(0), "from 1 to 99"),
        (lambda: lk.Rollout(100), "from 1 to 99"),
        (lambda: lk.Rollout(True), "from 1 to 99"),
        (lambda: lk.Failover("mars-1"), "not an AWS region"),
        (lambda: lk.Failover(region="US-WEST-2"), "not an AWS region"),
    ],
)
def test_declaration_mistakes(make: Any, expected: str) -> None:
    with pytest.raises(lk.DeclarationError, match=expected):
        make()


@pytest.mark.parametrize(
    ("frontend", "expected"),
    [
        ('"web/dist", ab_test=lk.ABTest({"web/dist": 50, "web/missing": 50})', "variant 'web-missing'"),
        ('"web/dist", ab_test={"web/dist": 50}', "ab_test= takes lk.ABTest(...)"),
        ('"web/dist", rollout=10', "rollout= takes lk.Rollout(...)"),
        (
            '"web/dist", ab_test=lk.ABTest({"web/dist": 50, "web/dist-b": 50}, cookie="x"), '
            'rollout=lk.Rollout(cookie="x")',
            "both use the cookie 'x'",
        ),
    ],
)
def test_site_mistakes_are_build_errors(tmp_path: Path, frontend: str, expected: str) -> None:
    with pytest.raises(BuildError) as caught:
        discover(package(tmp_path, frontend))
    assert expected in str(caught.value)


def test_a_failover_region_equal_to_the_stacks_is_refused(apps: dict[str, str]) -> None:
    app = discover(apps["failover"])
    assert failover.region_problems(app, "eu-west-1") == []
    assert "is the stack's own region" in failover.region_problems(app, "us-west-2")[0]


def test_a_viewer_lambda_at_edge_on_the_default_behavior_conflicts_with_the_router(tmp_path: Path) -> None:
    site = discover(package(tmp_path, '"web/dist", rollout=lk.Rollout()')).site
    assert site is not None
    found = routing.edge_conflicts(site, "shop", [("geo", "viewer-request", "/*"), ("log", "origin-request", "/*")])
    assert len(found) == 1 and "@lk.edge function 'geo'" in found[0] and "move it to 'origin-request'" in found[0]


def test_a_users_viewer_request_lambda_at_edge_with_rollout_is_a_build_error(tmp_path: Path) -> None:
    init = (
        'import lambdakit as lk\nsite = lk.Frontend("web/dist", rollout=lk.Rollout())\n'
        '@lk.edge("viewer-request")\ndef geo(request: dict) -> dict:\n    return request\n'
    )
    pkg = write_package(tmp_path, {"__init__.py": init, **site_files("web/dist")})
    with pytest.raises(BuildError) as caught:
        discover(pkg)
    found = [p for p in caught.value.problems if "@lk.edge function 'geo'" in p]
    assert len(found) == 1 and "Lambda@Edge cannot read a KeyValueStore" in found[0]
    assert "move it to 'origin-request'" in found[0] and "(geo)" in found[0]  # names the function's line
