"""What `lambdakit build` emits passes the field's validators, and every route survives the SAM transform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from lambdakit.cli import main
from lambdakit.declare.app import App
from lambdakit.derive.skips import API_SKIPS
from lambdakit.derive.template import build_template
from lambdakit.discovery import discover
from tests.apps import make_app, write_package
from tests.validate import cfn_lint, checkov, transform

SMALL = {
    "app.py": """
import lambdakit as lk
from pydantic import BaseModel, Field

service = lk.Service("small-shop")
items = lk.Table("items", key=("item_id", int), sort_key=("version", bytes))

class Item(BaseModel):
    name: str = Field(min_length=1)
    price: float = Field(ge=0)

@lk.route("GET", "/items/{item_id}", reads=[items])
def get_item(item_id: int) -> dict:
    return items.get(item_id=item_id, version=b"1") or {}

@lk.route("PUT", "/items/{item_id}", writes=[items], status=201)
def put_item(item_id: int, body: Item) -> Item:
    return body

@lk.route("GET", "/search", reads=[items])
def search(q: str, tags: list[str] | None = None, limit: int = 10, exact: bool = False) -> list:
    return []
""",
}


def routes_of(app: App) -> set[tuple[str, str]]:
    return {(s.route.path, s.route.method.lower()) for s in app.functions if s.route}


def transformed_routes(out: dict[str, Any]) -> set[tuple[str, str]]:
    apis = [r for r in out["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert len(apis) == 1
    paths = apis[0]["Properties"]["Body"]["paths"]
    return {(p, m) for p, ops in paths.items() for m in ops if m != "options"}


@pytest.fixture(scope="module")
def example() -> tuple[App, dict[str, Any]]:
    app = discover("example_app.shop")
    return app, build_template(app)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[App, dict[str, Any]]:
    app = make_app(tmp_path_factory.mktemp("small"), SMALL)
    return app, build_template(app)


@pytest.fixture(scope="module")
def usage() -> tuple[App, dict[str, Any]]:
    app = discover("tests.fixtures.usage_shop")
    return app, build_template(app)


@pytest.fixture(params=["example", "small", "usage"])
def built(request: pytest.FixtureRequest) -> tuple[App, dict[str, Any]]:
    return request.getfixturevalue(request.param)


def test_every_route_survives_the_transform(built: tuple[App, dict[str, Any]]) -> None:
    app, template = built
    out = transform(template)
    assert transformed_routes(out) == routes_of(app)
    for (path, method), spec in {(s.route.path, s.route.method.lower()): s for s in app.functions if s.route}.items():
        op = out["Resources"]["Api"]["Properties"]["Body"]["paths"][path][method]
        uri = op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        if not spec.storage_first:
            assert f"${{{spec.logical_id}.Arn}}" in uri


def test_sam_adds_no_managed_policies(built: tuple[App, dict[str, Any]]) -> None:
    out = transform(built[1])
    for name, res in out["Resources"].items():
        if res["Type"] == "AWS::IAM::Role":
            assert "ManagedPolicyArns" not in res["Properties"], name


def test_cfn_lint_is_clean_on_sam_and_transformed(built: tuple[App, dict[str, Any]]) -> None:
    _, template = built
    assert cfn_lint(template, "sam") == []
    assert cfn_lint(transform(template), "transformed") == []


def test_checkov_passes_on_the_sam_template(
    example: tuple[App, dict[str, Any]], small: tuple[App, dict[str, Any]], usage: tuple[App, dict[str, Any]]
) -> None:
    # One checkov run (it takes seconds) over all three apps' resources, prefixed apart.
    merged = {**example[1], "Resources": {**example[1]["Resources"]}}
    for prefix, (_, template) in (("Small", small), ("Usage", usage)):
        merged["Resources"].update(
            {prefix + k: v for k, v in template["Resources"].items() if v["Type"] != "AWS::Serverless::Api"}
        )
    assert checkov(merged) == []


def test_checkov_on_the_transformed_template_fails_only_justified_checks(example: tuple[App, dict[str, Any]]) -> None:
    # SAM copies Metadata to what it generates from a resource, but not to the Stage it adds for an Api:
    # the stage's checks are the Api's documented skips.
    justified = {check for check, _ in API_SKIPS}
    failed = checkov(transform(example[1]))
    assert [f for f in failed if not (f.split()[0] in justified and "AWS::ApiGateway::Stage" in f)] == []


def test_tables_are_on_demand_recoverable_encrypted_and_retained(small: tuple[App, dict[str, Any]]) -> None:
    table = small[1]["Resources"]["ItemsTable"]
    # kept when the stack is deleted or the table replaced; a failed first create deletes it
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["AttributeDefinitions"] == [
        {"AttributeName": "item_id", "AttributeType": "N"},
        {"AttributeName": "version", "AttributeType": "B"},
    ]


def test_functions_trace_log_and_name_their_resources(small: tuple[App, dict[str, Any]]) -> None:
    fn = small[1]["Resources"]["GetItemFunction"]["Properties"]
    assert fn["Handler"] == "lambdakit.entry.handler"
    assert fn["Tracing"] == "Active"
    assert fn["Role"] == {"Fn::GetAtt": ["GetItemRole", "Arn"]}
    assert fn["Environment"]["Variables"]["LK_ITEMS"] == {"Ref": "ItemsTable"}
    assert fn["Environment"]["Variables"]["LAMBDAKIT_FUNCTION"].endswith("app:get_item")
    assert fn["LoggingConfig"]["LogGroup"] == {"Ref": "GetItemLogGroup"}
    assert small[1]["Resources"]["GetItemLogGroup"]["Properties"]["RetentionInDays"] == 365


def test_request_models_come_from_pydantic(small: tuple[App, dict[str, Any]]) -> None:
    body = small[1]["Resources"]["Api"]["Properties"]["DefinitionBody"]
    schema = body["components"]["schemas"]["PutItemBody"]
    assert schema["required"] == ["name", "price"]
    assert schema["properties"]["price"] == {"minimum": 0, "type": "number"}
    op = body["paths"]["/items/{item_id}"]["put"]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PutItemBody"}
    params = {p["name"]: p for p in body["paths"]["/search"]["get"]["parameters"]}
    assert params["q"]["required"] is True and params["limit"]["required"] is False


def test_api_url_is_an_output(small: tuple[App, dict[str, Any]]) -> None:
    assert small[1]["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"].startswith("https://${Api}.execute-api.")


def test_build_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(main, ["build", "example_app.shop", "--out", "one"])
    second = CliRunner().invoke(main, ["build", "example_app.shop", "--out", "two"])
    assert first.exit_code == second.exit_code == 0, first.output
    assert (tmp_path / "one/template.yaml").read_bytes() == (tmp_path / "two/template.yaml").read_bytes()
    assert yaml.safe_load((tmp_path / "one/template.yaml").read_text())["Transform"] == "AWS::Serverless-2016-10-31"
    assert "public routes" in first.output and "create_order" in first.output
    assert (tmp_path / "one/src/lambdakit/entry.py").exists()
    assert (tmp_path / "one/src/example_app/shop/orders.py").exists()
    # the code folder is the artifact's tree: the dependencies pinned to the installed versions, no requirements.txt
    from importlib.metadata import version

    assert (tmp_path / f"one/src/pydantic-{version('pydantic')}.dist-info/METADATA").exists()
    assert not (tmp_path / "one/src/requirements.txt").exists()
    assert not (tmp_path / "one/src/lambdakit/cli.py").exists()


def test_package_without_a_service_gets_one_named_after_it(tmp_path: Path) -> None:
    name = write_package(
        tmp_path,
        {"app.py": "import lambdakit as lk\n@lk.route('GET', '/')\ndef root() -> dict: return {}\n"},
        name="unnamed_pkg",
    )
    assert discover(name).service.name == "unnamed_pkg"


def test_a_stack_over_cloudformations_resource_limit_is_a_build_error(tmp_path: Path) -> None:
    """About 170 routes make more than 500 resources once SAM expands them: refused, with the fix."""
    from lambdakit.build import build
    from lambdakit.discovery import BuildError, discover

    source = "import lambdakit as lk\n" + "".join(
        f'@lk.route("GET", "/r{i}")\ndef r{i}() -> dict[str, int]:\n    return {{}}\n' for i in range(170)
    )
    app = discover(write_package(tmp_path, {"__init__.py": source}))
    with pytest.raises(BuildError) as info:
        build(app, tmp_path / "out")
    (problem,) = info.value.problems
    assert "resources (CloudFormation allows 500" in problem and "split the service" in problem
