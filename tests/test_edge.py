"""`@lk.edge` (pattern 7): the declaration stays a plain function, the main template associates its version on
the behavior, and the us-east-1 template holds it (x86_64, no environment, a numbered version per code change,
a role trusting edgelambda with only its logs), through the SAM translator, cfn-lint (both) and checkov."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lambdakit as lk
from lambdakit.declare.app import App
from lambdakit.derive.edge import EdgeFunctionPlan, edge_functions, edge_template
from lambdakit.derive.plan import plan_of
from lambdakit.derive.template import render
from lambdakit.discovery import discover
from lambdakit.packaging.edge import edge_artifact, stamped
from tests.edge_apps import edge_package
from tests.validate import cfn_lint, checkov, transform

EDGE = """
import lambdakit as lk


@lk.edge("viewer-request")
def legacy(request: dict) -> dict:
    if request["uri"].startswith("/old/"):
        return {"status": "301", "headers": {"location": [{"key": "Location", "value": request["uri"][4:]}]}}
    return request


@lk.edge("origin-response", path="/members/*", memory=512, timeout=20)
def members_header(request: dict, response: dict) -> dict:
    response["headers"]["x-members"] = [{"key": "X-Members", "value": "yes"}]
    return response


@lk.edge("origin-request", path="/api/*", include_body=True)
def tag_api(request: dict) -> dict:
    return request
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return discover(edge_package(tmp_path_factory.mktemp("edge"), EDGE))


def config(template: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    return out


def behavior(template: dict[str, Any], pattern: str | None) -> dict[str, Any]:
    if pattern is None:
        found: dict[str, Any] = config(template)["DefaultCacheBehavior"]
        return found
    return next(b for b in config(template)["CacheBehaviors"] if b["PathPattern"] == pattern)


def test_the_decorated_function_stays_a_plain_call() -> None:
    @lk.edge("viewer-request")
    def plain(request: dict[str, Any]) -> dict[str, Any]:
        return {**request, "seen": True}

    assert plain({"uri": "/"}) == {"uri": "/", "seen": True}
    assert plain.__lambdakit__.event == "viewer-request"  # type: ignore[attr-defined]
    import lambdakit.edge.handler  # noqa: F401  (the runtime package shares the name: lk.edge still decorates)

    @lk.edge("origin-request")
    def still(request: dict[str, Any]) -> dict[str, Any]:
        return request

    assert still.__lambdakit__.event == "origin-request"  # type: ignore[attr-defined]


def test_the_plan_names_each_function_its_behavior_and_lambdakits_steps(app: App) -> None:
    plans = {fn.name: fn for fn in edge_functions(app, plan_of(app))}
    assert plans["legacy"] == EdgeFunctionPlan(
        logical_id="EdgeLegacy",
        name="legacy",
        event="viewer-request",
        path="/*",
        memory=128,
        timeout=5,
        handler="lambdakit.edge.handler.handler",
        module=app.package + ".edge",
        function="legacy",
        deploy_config=False,
        paths=("/*",),
        steps=(("spa", {"index": "index.html"}),),  # it took the SPA fallback's event, so it runs the fallback
    )
    assert (plans["members_header"].path, plans["members_header"].memory, plans["members_header"].timeout) == (
        "/members",
        512,
        20,
    )
    assert plans["tag_api"].path == "/api" and plans["tag_api"].include_body and plans["tag_api"].steps == ()


def test_the_main_template_associates_each_version_from_a_parameter(app: App) -> None:
    template = render(plan_of(app), code_uri="src")
    default = behavior(template, None)
    assert default["LambdaFunctionAssociations"] == [
        {"EventType": "viewer-request", "LambdaFunctionARN": {"Ref": "EdgeLegacyVersionArn"}}
    ]
    # CloudFront allows one function per event: the SPA fallback's CloudFront Function leaves the default behavior
    assert "FunctionAssociations" not in default
    members = behavior(template, "/members/*")  # a path no behavior served: its own, with the default's settings
    assert members["TargetOriginId"] == default["TargetOriginId"] == "site"
    assert members["FunctionAssociations"][0]["EventType"] == "viewer-request"  # the SPA fallback stays here
    assert members["LambdaFunctionAssociations"] == [
        {"EventType": "origin-response", "LambdaFunctionARN": {"Ref": "EdgeMembersHeaderVersionArn"}}
    ]
    assert {**behavior(template, "/members"), "PathPattern": "/members/*"} == members
    api = behavior(template, "/api/*")
    assert api["LambdaFunctionAssociations"] == [
        {"EventType": "origin-request", "LambdaFunctionARN": {"Ref": "EdgeTagApiVersionArn"}, "IncludeBody": True}
    ]
    partners = behavior(template, "/api/partners/*")  # the mount's prefix strip keeps its viewer request
    assert partners["FunctionAssociations"][0]["FunctionARN"] == {"Fn::GetAtt": "SiteApiPartnersPath.FunctionARN"}
    for name in ("EdgeLegacyVersionArn", "EdgeMembersHeaderVersionArn", "EdgeTagApiVersionArn"):
        assert template["Parameters"][name]["Type"] == "String"
        assert ":lambda:us-east-1:" in template["Parameters"][name]["AllowedPattern"]
    assert "SiteSpaFallback" in template["Resources"]  # still used by /members
    assert cfn_lint(template, "main") == []
    assert cfn_lint(transform(template), "main transformed") == []


def test_the_us_east_1_template_holds_each_function(app: App) -> None:
    template = edge_template(app, plan_of(app))
    assert template is not None
    resources = template["Resources"]
    fn = resources["EdgeLegacy"]["Properties"]
    assert fn["Architectures"] == ["x86_64"]
    assert fn["Runtime"] == app.service.runtime
    assert (fn["MemorySize"], fn["Timeout"], fn["Handler"]) == (128, 5, "lambdakit.edge.handler.handler")
    for forbidden in (
        "Environment",
        "Layers",
        "VpcConfig",
        "DeadLetterQueue",
        "Tracing",
        "ReservedConcurrentExecutions",
    ):
        assert forbidden not in fn
    assert resources["EdgeMembersHeader"]["Properties"]["MemorySize"] == 512
    trust = resources["EdgeLegacyRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ]
    assert "ManagedPolicyArns" not in resources["EdgeLegacyRole"]["Properties"]
    statements = resources["EdgeLegacyLogs"]["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    arns = [r["Fn::Sub"] for s in statements for r in s["Resource"]]
    assert all(":log-group:/aws/lambda/" in arn for arn in arns)
    assert any(":logs:*:" in arn and "/aws/lambda/us-east-1.${EdgeLegacy}" in arn for arn in arns)  # the replicas'
    assert template["Outputs"]["EdgeLegacyVersionArn"]["Value"] == {"Ref": "EdgeLegacy.Version"}
    transformed = transform(template)
    versions = {k: v for k, v in transformed["Resources"].items() if v["Type"] == "AWS::Lambda::Version"}
    assert len(versions) == 3 and all(v["DeletionPolicy"] == "Retain" for v in versions.values())
    (legacy_version,) = [k for k in versions if k.startswith("EdgeLegacyVersion")]
    assert transformed["Outputs"]["EdgeLegacyVersionArn"]["Value"] == {"Ref": legacy_version}
    assert cfn_lint(template, "edge") == []
    assert cfn_lint(transformed, "edge transformed") == []


def test_a_code_change_publishes_a_new_version(app: App, tmp_path: Path) -> None:
    plan = plan_of(app)
    (fn,) = [f for f in edge_functions(app, plan) if f.name == "legacy"]
    artifact = edge_artifact(app, fn, tmp_path)

    def version_id(sha: str) -> str:
        template = edge_template(app, plan)
        assert template is not None
        stamped(template, fn, artifact, fn.artifact_name)
        template["Resources"][fn.logical_id]["Properties"]["AutoPublishCodeSha256"] = sha
        found = transform(template)["Resources"]
        return next(k for k, v in found.items() if v["Type"] == "AWS::Lambda::Version" and k.startswith("EdgeLegacy"))

    assert version_id(artifact.sha256) == version_id(artifact.sha256)
    assert version_id(artifact.sha256) != version_id("0" * 64)


def test_the_edge_template_passes_checkov(app: App) -> None:
    template = edge_template(app, plan_of(app))
    assert template is not None
    assert checkov(template) == []
    assert checkov(transform(template)) == []


def test_the_certificate_stays_in_the_edge_template_with_the_interfaces_output(tmp_path: Path) -> None:
    init = (
        'import lambdakit as lk\nservice = lk.Service("certshop")\n'
        'site = lk.Frontend("web/dist", domain="www.example.com")\n'
    )
    app = discover(edge_package(tmp_path, "x = 1\n", init=init))
    template = edge_template(app, plan_of(app))
    assert template is not None
    assert "Transform" not in template  # no edge function: plain CloudFormation
    assert template["Outputs"]["SiteCertificateArn"]["Value"] == {"Ref": "SiteCertificate"}
    assert "SiteCertificateArn" in render(plan_of(app), code_uri="src")["Parameters"]


def test_no_edge_template_without_a_certificate_or_functions(tmp_path: Path) -> None:
    app = discover(edge_package(tmp_path, "x = 1\n"))
    assert edge_template(app, plan_of(app)) is None
    assert edge_functions(app, plan_of(app)) == ()


def test_the_example_shop_has_its_not_found_page_at_the_edge() -> None:
    app = discover("example_app.shop")
    (fn,) = [f for f in edge_functions(app, plan_of(app)) if f.module is not None]
    assert (fn.name, fn.event, fn.path) == ("not_found_page", "origin-response", "/*")
    template = edge_template(app, plan_of(app))
    assert template is not None and "EdgeNotFoundPage" in template["Resources"]
