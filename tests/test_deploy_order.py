"""The stacks of a site with sign-in, deployed in order on a first create: the us-east-1 stack without the
sign-in function (the site fails closed), the main stack, the us-east-1 stack with the function built from
the main stack's outputs, the main stack with its version. Each stack's own deploy (change set, review,
execution: tests/test_deploy_e2e.py) is replaced by a recorder, since moto models neither CloudFront nor
Cognito; what is tested is the order, the templates and the parameters each stack gets."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.apps import write_package

APP = """
import lambdakit as lk

service = lk.Service("members")
users = lk.Cognito("members")
site = lk.Frontend("web", auth=users)


@lk.route("GET", "/api/hello", auth=lk.PUBLIC)
def hello() -> dict:
    return {"hi": 1}
"""

MAIN_OUTPUTS = {
    "SiteAuthUserPoolId": "eu-west-1_Members1",
    "SiteAuthClientId": "client-1",
    "SiteAuthDomain": "members-dev.auth.eu-west-1.amazoncognito.com",
    "SiteUrl": "https://d111.cloudfront.net",
}
VERSION = "arn:aws:lambda:us-east-1:123456789012:function:members-dev-SiteAuth:1"


def test_a_first_create_of_a_site_with_sign_in_deploys_the_edge_function_once_the_pool_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moto.cognitoidp

    from lambdakit.deploy import changes, orchestrate
    from lambdakit.deploy.stages import StageSettings
    from lambdakit.discovery import discover
    from lambdakit.packaging import package

    web = tmp_path / "src"
    name = write_package(web, {"__init__.py": APP, "web/index.html": "<html></html>"})
    app = discover(name)
    built = package(app, tmp_path / "out")
    public = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
    jwks = json.loads(gzip.decompress(public.read_bytes()))  # moto's pool keys: a real RS256 key set
    calls: list[dict[str, Any]] = []

    def deploy_stack(run: Any, target: Any, execute: bool) -> dict[str, str]:
        values, _ = orchestrate.parameters(run, target)
        resources = target.template["Resources"]
        code = resources.get("SiteAuth", {}).get("Properties", {}).get("CodeUri")
        calls.append({"key": target.key, "sign_in": "SiteAuth" in resources, "code": code, "values": values})
        if target.key == orchestrate.MAIN:
            return dict(MAIN_OUTPUTS)
        return {"SiteAuthVersionArn": VERSION} if "SiteAuth" in resources else {}

    monkeypatch.setattr(orchestrate, "deploy_stack", deploy_stack)
    monkeypatch.setattr(changes, "stack_status", lambda cf, stack: None)  # nothing deployed yet
    monkeypatch.setattr(orchestrate, "jwks_of", lambda url: jwks)

    class Session:
        def client(self, service: str, region_name: str) -> object:
            return object()

    lines: list[str] = []
    run = orchestrate.Deployment(
        app, "dev", StageSettings("dev"), Session(), "123456789012", "eu-west-1", built, lines.append
    )
    orchestrate.run_stage(run, execute=True)

    keys = [(c["key"], c["sign_in"]) for c in calls]
    first_edge = [("us-east-1", False)] if keys[0][0] == "us-east-1" else []  # skipped when nothing else is there
    assert keys == [*first_edge, ("main", False), ("us-east-1", True), ("main", False)]
    mains = [c for c in calls if c["key"] == "main"]
    assert "SiteAuthVersionArn" not in mains[0]["values"]  # empty (its default): the site fails closed
    assert mains[1]["values"]["SiteAuthVersionArn"] == VERSION
    assert any("SiteAuth waits for the main stack" in line for line in lines)
    (edge,) = [c for c in calls if c["sign_in"]]
    with zipfile.ZipFile(built.out / edge["code"]) as artifact:
        config = json.loads(artifact.read("lambdakit_edge.json"))["config"]
    assert config["issuer"] == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Members1"
    assert config["client_id"] == "client-1" and config["keys"] == jwks["keys"]
