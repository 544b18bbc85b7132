"""Site sign-in's half of the main template: through the SAM translator, cfn-lint (SAM and transformed) and
checkov, and resource by resource (what is protected, what is cached, what fails closed, the app client)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lambdakit.derive import cloudfront_functions
from lambdakit.derive import site_auth as derive
from lambdakit.derive.edge import edge_functions, edge_template
from lambdakit.derive.plan import plan_of
from lambdakit.derive.template import build_template
from lambdakit.discovery import discover
from lambdakit.local.site import spa_twin
from lambdakit.testing.events import cloudfront_function_event
from tests.apps import write_package
from tests.validate import cfn_lint, checkov, transform

NODE = shutil.which("node")
ROUTE = """
@lk.route("GET", "/hello")
def hello() -> dict[str, str]:
    return {}
"""
APPS = {
    "whole": 'service = lk.Service("portal")\nusers = lk.Cognito("portal-users")\n'
    'site = lk.Frontend("web", domain="portal.example.com", auth=users)\n',
    "members": 'service = lk.Service("club")\nusers = lk.Cognito("club-users", domain="club-login")\n'
    'site = lk.Frontend("web", auth={"/members": users})\n',
}
FILES = {"web/index.html": "<h1>Home</h1>", "web/members/index.html": "<h1>Members</h1>"}


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = {}
    for name, source in APPS.items():
        package = write_package(
            tmp_path_factory.mktemp(name), {"__init__.py": "import lambdakit as lk\n" + source + ROUTE, **FILES}
        )
        out[name] = build_template(discover(package))
    return out


def behaviors(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each behavior by path pattern ("*" the default)."""
    config = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    found = {"*": config["DefaultCacheBehavior"]}
    found.update({b["PathPattern"]: b for b in config.get("CacheBehaviors", ())})
    return found


def test_the_templates_pass_the_translator_and_cfn_lint(templates: dict[str, dict[str, Any]]) -> None:
    for name, template in templates.items():
        assert cfn_lint(template, f"{name} (SAM)") == []
        assert cfn_lint(transform(template), f"{name} (transformed)") == []


def test_the_templates_pass_checkov(templates: dict[str, dict[str, Any]]) -> None:
    merged = json.loads(json.dumps(templates["whole"]))
    for logical_id, resource in templates["members"]["Resources"].items():
        merged["Resources"].setdefault("Members" + logical_id, resource)
    assert checkov(merged) == []


def test_protected_behaviors_are_never_cached_and_sign_in_at_the_origin_request(
    templates: dict[str, dict[str, Any]],
) -> None:
    found = behaviors(templates["members"])
    for pattern in ("/members", "/members/*"):
        behavior = found[pattern]
        assert behavior["CachePolicyId"] == derive.CACHING_DISABLED
        assert behavior["OriginRequestPolicyId"] == {"Ref": derive.ORIGIN_REQUESTS}
        ready, closed = behavior["LambdaFunctionAssociations"]["Fn::If"][1:]
        assert ready == [{"EventType": "origin-request", "LambdaFunctionARN": {"Ref": "SiteAuthVersionArn"}}]
        assert closed == {"Ref": "AWS::NoValue"}
        serving, failing = behavior["FunctionAssociations"]["Fn::If"][1:]
        assert serving == [
            {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": "SiteSpaFallback.FunctionARN"}}
        ]
        assert failing == [{"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": "SiteAuthClosed.FunctionARN"}}]
    # the public site and the API are untouched: the API keeps its own auth
    assert found["*"]["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert "LambdaFunctionAssociations" not in found["*"] and "LambdaFunctionAssociations" not in found["/api/*"]
    assert found["/api/*"]["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    whole = behaviors(templates["whole"])
    assert whole["*"]["CachePolicyId"] == derive.CACHING_DISABLED and "Fn::If" in whole["*"]["FunctionAssociations"]
    assert "Fn::If" not in json.dumps(whole["/api/*"])


def test_the_site_fails_closed_until_the_edge_function_exists(templates: dict[str, dict[str, Any]]) -> None:
    template = templates["members"]
    parameter = template["Parameters"]["SiteAuthVersionArn"]
    assert parameter["Default"] == ""
    assert template["Conditions"] == {
        "SiteAuthReady": {"Fn::Not": [{"Fn::Equals": [{"Ref": "SiteAuthVersionArn"}, ""]}]}
    }
    code = template["Resources"]["SiteAuthClosed"]["Properties"]["FunctionCode"]
    if NODE is not None:
        script = (
            code + "\nprocess.stdout.write(JSON.stringify(handler(" + json.dumps(cloudfront_function_event()) + ")));"
        )
        answer = json.loads(subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True).stdout)
        assert answer["statusCode"] == 503 and answer["headers"]["cache-control"] == {"value": "no-store"}


def test_the_origin_request_policy_forwards_what_the_sign_in_reads_and_never_host(
    templates: dict[str, dict[str, Any]],
) -> None:
    config = templates["members"]["Resources"]["SiteAuthOriginRequests"]["Properties"]["OriginRequestPolicyConfig"]
    assert config["CookiesConfig"] == {
        "CookieBehavior": "whitelist",
        "Cookies": ["lk_id", "lk_access", "lk_refresh", "lk_state"],
    }
    assert config["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["x-lambdakit-viewer-uri"]}
    assert config["QueryStringsConfig"] == {"QueryStringBehavior": "all"}


def test_the_sites_app_client_is_a_public_code_flow_client_on_the_sites_domain(
    templates: dict[str, dict[str, Any]],
) -> None:
    client = templates["whole"]["Resources"]["PortalUsersUserPoolSiteClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthScopes"] == ["email", "openid", "profile"]
    assert client["CallbackURLs"] == [{"Fn::Sub": "https://${SiteDomainName}/_auth/callback"}]
    assert client["LogoutURLs"] == [{"Fn::Sub": "https://${SiteDomainName}/"}]
    members = templates["members"]["Resources"]["ClubUsersUserPoolSiteClient"]["Properties"]
    assert members["CallbackURLs"] == [{"Fn::Sub": "https://${SiteDistribution.DomainName}/members/_auth/callback"}]
    # the hosted sign-in needs the pool's domain: made here when the pool itself would not have one
    assert templates["whole"]["Resources"]["PortalUsersUserPoolDomain"]["Type"] == "AWS::Cognito::UserPoolDomain"
    outputs = templates["whole"]["Outputs"]
    assert outputs["SiteAuthUserPoolId"]["Value"] == {"Ref": "PortalUsersUserPool"}
    assert outputs["SiteAuthClientId"]["Value"] == {"Ref": "PortalUsersUserPoolSiteClient"}
    assert {"SiteAuthDomain", "SiteUrl"} <= set(outputs)


def test_the_sign_in_runs_on_the_protected_behaviors_only(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"__init__.py": "import lambdakit as lk\n" + APPS["members"] + ROUTE, **FILES})
    app = discover(package)
    plan = plan_of(app)
    (auth,) = [fn for fn in edge_functions(app, plan) if fn.logical_id == "SiteAuth"]
    assert auth.event == "origin-request" and auth.behaviors == ("/members",) and auth.deploy_config
    assert auth.handler == "lambdakit.edge.site_auth.handler"
    us_east_1 = edge_template(app, plan)
    assert us_east_1 is not None and "SiteAuthVersionArn" in us_east_1["Outputs"]


@pytest.mark.skipif(NODE is None, reason="Node runs CloudFront Functions' JavaScript")
@pytest.mark.parametrize("uri", ["/members/deep/link", "/members/app.3f9a1c2b.js", "/"])
def test_the_spa_fallback_keeps_the_viewers_path_for_the_sign_in(uri: str) -> None:
    assert NODE is not None
    event = cloudfront_function_event(uri=uri)
    code = cloudfront_functions.spa_fallback("index.html", keep_viewer_uri=True)
    script = code + "\nprocess.stdout.write(JSON.stringify(handler(" + json.dumps(event) + ")));"
    result = json.loads(subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True).stdout)
    assert result["headers"]["x-lambdakit-viewer-uri"] == {"value": uri}
    assert result == spa_twin("index.html", keep_viewer_uri=True)(event)
