"""Every limit AWS would refuse at deploy is a build error naming the declaration and the fix (one case each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambdakit.declare.app import App
from lambdakit.derive.limits import MAX_TEMPLATE_BODY_BYTES, MAX_TEMPLATE_BYTES, template_bytes
from lambdakit.derive.template import MAX_RESOURCES, build_template, stack_problems
from lambdakit.discovery import BuildError, discover
from tests.apps import make_app, write_package

HEADER = "import lambdakit as lk\n"
SITE = {"web/dist/index.html": "<!doctype html>"}
LONG = "a" * 40  # a valid service name (48 at most) that leaves no room for STACK-SiteSpaFallback


def build_problems(tmp_path: Path, source: str, files: dict[str, str] | None = None) -> str:
    name = write_package(tmp_path, {"app.py": HEADER + source, **(files or {})})
    with pytest.raises(BuildError) as info:
        discover(name)
    return "\n".join(info.value.problems)


CASES = {
    "memory-low": (
        '@lk.route("GET", "/a", memory=64)\ndef a() -> dict: return {}',
        "(a): memory=64: Lambda gives 128-10240 MB",
    ),
    "memory-high": (
        'service = lk.Service("s", memory=20000)\n@lk.route("GET", "/a")\ndef a() -> dict: return {}',
        "(a): memory=20000: Lambda gives 128-10240 MB (whole MB)",
    ),
    "timeout-lambda": (
        'q = lk.Queue("q")\n@lk.consume(q, timeout=901)\ndef a(m: dict) -> None: ...',
        "(a): timeout=901: Lambda runs a function 1-900 seconds",
    ),
    "timeout-api": (
        '@lk.route("GET", "/a", timeout=60)\ndef a() -> dict: return {}',
        "(a): timeout=60: API Gateway answers 504 after 29 s, so the caller would never see the answer; keep it "
        '<= 29, make the route storage first (trigger="sqs") and do the long work in its consumer, or let API '
        "Gateway wait longer with integration_timeout=60 on the route or its lk.Service",
    ),
    "timeout-over-integration": (
        '@lk.route("GET", "/a", timeout=60, integration_timeout=45)\ndef a() -> dict: return {}',
        "(a): timeout=60: API Gateway answers 504 after integration_timeout=45 s",
    ),
    "integration-timeout-range": (
        '@lk.route("GET", "/a", integration_timeout=0)\ndef a() -> dict: return {}',
        "(a): integration_timeout=0: whole seconds, 1-29 (API Gateway's default limit), up to 900",
    ),
    "integration-timeout-service": (
        'service = lk.Service("s", integration_timeout="60")\n@lk.route("GET", "/a")\ndef a() -> dict: return {}',
        "lk.Service('s'): integration_timeout='60': whole seconds",
    ),
    "integration-timeout-storage-first": (
        '@lk.route("POST", "/a", trigger="sqs", integration_timeout=60)\ndef a(body: dict) -> None: ...',
        "(a): integration_timeout= is for routes served by a function",
    ),
    "status": (
        '@lk.route("GET", "/a", status=600)\ndef a() -> dict: return {}',
        "(a): status=600: a route's success status is 200-399",
    ),
    "status-storage-first": (
        '@lk.route("POST", "/a", trigger="sqs", status=201)\ndef a(body: dict) -> None: ...',
        "(a): status= does not apply to a storage-first route",
    ),
    "duplicate-reads": (
        't = lk.Table("t", key="id")\n@lk.route("GET", "/a", reads=[t, t])\ndef a() -> dict: return {}',
        "(a): reads= lists Table('t') twice; list each resource once",
    ),
    "cloudfront-names": (
        f'service = lk.Service("{LONG}")\nsite = lk.Frontend("web/dist")',
        f"lk.Service('{LONG}'): the CloudFront Function is named SERVICE-STAGE-SiteSpaFallback, which with a "
        "20-character stage is over CloudFront's 64 characters; use a service name of at most 27 characters",
    ),
    "cognito-domain-and-stage": (
        f'users = lk.Cognito("users", domain="{"d" * 43}")',
        f"lk.Cognito('users'): domain='{'d' * 43}': the created prefix is DOMAIN-STAGE",
    ),
    "cognito-generated-prefix": (
        'users = lk.Cognito("cognito-users", callback_urls=["https://www.example.com/"])',
        "lk.Cognito('cognito-users'): callback_urls= need a Cognito domain",
    ),
}


@pytest.mark.parametrize(("source", "expected"), list(CASES.values()), ids=list(CASES))
def test_a_limit_is_a_build_error_naming_the_declaration_and_the_fix(
    tmp_path: Path, source: str, expected: str
) -> None:
    assert expected in build_problems(tmp_path, source, SITE)


def test_a_longer_integration_timeout_is_the_opt_in_and_reaches_the_template(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "app.py": HEADER
            + 'service = lk.Service("s", integration_timeout=50)\n'
            + '@lk.route("GET", "/slow", timeout=60, integration_timeout=60)\ndef slow() -> dict: return {}\n'
            + '@lk.route("GET", "/report", timeout=45)\ndef report() -> dict: return {}\n'
            + '@lk.route("GET", "/fast")\ndef fast() -> dict: return {}\n'
        },
    )
    paths = build_template(app)["Resources"]["Api"]["Properties"]["DefinitionBody"]["paths"]
    waits = {path: paths[path]["get"]["x-amazon-apigateway-integration"].get("timeoutInMillis") for path in paths}
    assert waits == {"/slow": 60000, "/report": 50000, "/fast": 50000}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[App, dict[str, Any]]:
    app = make_app(
        tmp_path_factory.mktemp("small"), {"app.py": HEADER + '@lk.route("GET", "/a")\ndef a() -> dict: ...'}
    )
    return app, build_template(app)


def padded(template: dict[str, Any], size: int) -> dict[str, Any]:
    """The template grown to `size` bytes by its description (what grows is irrelevant to CloudFormation)."""
    out = {**template, "Description": ""}
    out["Description"] = "x" * (size - template_bytes(out))
    assert template_bytes(out) == size
    return out


def test_a_template_over_cloudformations_size_limit_is_a_build_error(small: tuple[App, dict[str, Any]]) -> None:
    app, template = small
    (problem,) = stack_problems(app, padded(template, MAX_TEMPLATE_BYTES + 1))
    assert f"{app.package}: the template is 1,000,001 bytes; CloudFormation takes at most 1,000,000" in problem
    assert "split the service into packages of their own" in problem
    assert stack_problems(app, padded(template, MAX_TEMPLATE_BYTES)) == []
    assert stack_problems(app, padded(template, MAX_TEMPLATE_BODY_BYTES * 2)) == []  # deploy uploads it


def test_more_resources_than_a_stack_holds_is_a_build_error(small: tuple[App, dict[str, Any]]) -> None:
    app, template = small
    queue = {"Type": "AWS::SQS::Queue", "Properties": {}}
    crowded = {**template, "Resources": {f"Q{i}": queue for i in range(MAX_RESOURCES + 1)}}
    (problem,) = stack_problems(app, crowded)
    assert "the stack would hold 501 resources (CloudFormation allows 500" in problem
