"""`lambdakit openapi`: a valid OpenAPI 3.1 document of every route, checked with openapi-spec-validator and
fuzzed with schemathesis against `lambdakit local` (no 5xx, bodies conform, every status documented)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from openapi_spec_validator import validate

from lambdakit.build import build, openapi_text
from lambdakit.cli import main
from lambdakit.derive.openapi import document as gateway_document
from lambdakit.derive.plan import plan_of
from lambdakit.derive.public_openapi import document
from lambdakit.discovery import discover
from lambdakit.testing.client import Client
from tests.apps import write_package
from tests.servers import ROOT, local_server
from tests.test_parameters import APP as TYPED_APP

AUTH_APP = '''
"""Auth of every kind, and storage first."""
from typing import Any

from pydantic import BaseModel, Field

import lambdakit as lk

service = lk.Service("guarded", throttle=(10, 20))
users = lk.Cognito("guarded-users")


class Job(BaseModel):
    name: str = Field(min_length=1)
    size: int = Field(gt=0)


@lk.authorizer(ttl=0)
def partner(token: str) -> lk.Identity | None:
    return lk.Identity(subject="p") if token == "ok" else None


@lk.route("POST", "/jobs", trigger="sqs", auth=users)
def queue_job(body: Job) -> None: ...


@lk.route("POST", "/events", trigger="kinesis")
def stream_event(body: dict[str, Any]) -> None: ...


@lk.route("GET", "/jobs/{name}", auth=partner, api_key=True)
def get_job(name: str) -> Job:
    """One job.

    By its name.
    """
    if name == "gone":
        raise lk.Conflict("it went")
    return Job(name=name, size=1)


@lk.route("GET", "/signed", auth="iam")
def signed(identity: lk.Identity) -> dict[str, str]:
    return {"who": identity.subject}


@lk.route("DELETE", "/jobs/{name}", auth=users.scopes("jobs/admin"))
def delete_job(name: str) -> None: ...
'''


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_package(tmp_path_factory.mktemp("oa_typed"), {"__init__.py": TYPED_APP})


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_package(tmp_path_factory.mktemp("oa_auth"), {"__init__.py": AUTH_APP})


def doc_of(package: str) -> dict[str, Any]:
    return document(plan_of(discover(package)))


@pytest.mark.parametrize("package", ["example_app.shop", "typed", "guarded"])
def test_the_document_is_valid_openapi_3_1(package: str, request: pytest.FixtureRequest) -> None:
    name = package if "." in package else request.getfixturevalue(package)
    doc = doc_of(name)
    validate(doc)  # raises on any error
    assert doc["openapi"] == "3.1.0"
    text = json.dumps(doc)
    assert '"$schema"' not in text and '"$defs"' not in text  # definitions live in components


def test_parameters_are_typed_with_their_constraints(typed: str) -> None:
    op = doc_of(typed)["paths"]["/items/{item_id}"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["item_id"]["in"] == "path" and params["item_id"]["required"] is True
    assert params["item_id"]["schema"]["type"] == "integer" and params["item_id"]["schema"]["minimum"] == 1
    assert params["item_id"]["schema"]["exclusiveMaximum"] == 10**38  # DynamoDB's 38 digits, documented
    assert params["color"]["schema"] == {"$ref": "#/components/schemas/Color", "default": "red"}
    assert params["kind"]["schema"]["enum"] == ["a", "b"] and params["kind"]["schema"]["default"] == "a"
    assert params["size"]["schema"]["enum"] == [1, 2, 3]
    assert params["on"]["schema"] == {"type": "string", "format": "date"}
    assert params["at"]["schema"] == {"type": "string", "format": "date-time"}
    assert params["ref"]["schema"] == {"type": "string", "format": "uuid"}
    assert params["q"]["schema"] == {"type": "string", "minLength": 2, "maxLength": 5}
    assert params["tags"]["schema"]["type"] == "array" and params["tags"]["schema"]["items"]["type"] == "integer"
    assert params["tags"]["explode"] is True and params["tags"]["style"] == "form"
    assert params["ratio"]["schema"] == {"type": "number", "default": 0.5}
    assert params["flag"]["schema"] == {"type": "boolean", "default": False}
    assert all(not params[name]["required"] for name in params if name != "item_id")
    components = doc_of(typed)["components"]["schemas"]
    assert components["Color"]["enum"] == ["red", "blue"] and components["Level"]["enum"] == [1, 2]


def test_responses_are_documented_from_the_return_annotation(typed: str) -> None:
    paths = doc_of(typed)["paths"]
    ok = paths["/wrong/{k}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}
    many = paths["/many"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert many == {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
    gone = paths["/gone"]["delete"]["responses"]
    assert "204" in gone and "content" not in gone["204"]
    free = paths["/free"]["get"]["responses"]["200"]
    assert free["content"] == {"*/*": {}}  # lk.Response: the function decides


def test_every_status_a_route_answers_is_documented_with_the_error_schema(guarded: str) -> None:
    paths = doc_of(guarded)["paths"]
    statuses = {(m.upper(), p): set(op["responses"]) for p, ops in paths.items() for m, op in ops.items()}
    assert statuses[("POST", "/jobs")] == {"202", "400", "401", "403", "413", "415", "429", "500", "503"}
    assert statuses[("POST", "/events")] == {"202", "400", "413", "415", "429", "500", "503"}
    assert statuses[("GET", "/jobs/{name}")] == {"200", "401", "403", "404", "409", "429", "500"}
    assert statuses[("GET", "/signed")] == {"200", "401", "403", "429", "500"}
    assert statuses[("DELETE", "/jobs/{name}")] == {"204", "401", "403", "404", "429", "500"}
    error = paths["/jobs"]["post"]["responses"]["415"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    stored = paths["/jobs"]["post"]["responses"]["202"]["content"]["application/json"]["schema"]
    assert stored == {"$ref": "#/components/schemas/Queued"}


def test_security_schemes_tags_and_summaries(guarded: str) -> None:
    doc = doc_of(guarded)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["GuardedUsersAuthorizer"]["scheme"] == "bearer"
    assert schemes["PartnerAuthorizer"] == {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": "checked by the Lambda authorizer 'partner'",
    }
    assert schemes["sigv4"]["type"] == "apiKey" and schemes["api_key"]["name"] == "x-api-key"
    paths = doc["paths"]
    assert paths["/jobs/{name}"]["get"]["security"] == [{"PartnerAuthorizer": [], "api_key": []}]
    assert paths["/jobs/{name}"]["delete"]["security"] == [{"GuardedUsersAuthorizer": ["jobs/admin"]}]
    assert paths["/events"]["post"]["security"] == []
    assert paths["/jobs/{name}"]["get"]["summary"] == "One job." and paths["/jobs/{name}"]["get"]["description"]
    assert doc["tags"] == [{"name": guarded, "description": "Auth of every kind, and storage first."}]
    assert {op["tags"][0] for ops in paths.values() for op in ops.values()} == {guarded}


def test_the_gateway_body_stays_in_api_gateways_dialect(guarded: str) -> None:
    """The template's body: OpenAPI 3.0 with draft-4 models; the same statuses as the public document."""
    plan = plan_of(discover(guarded))
    body = gateway_document(plan)
    assert body["openapi"] == "3.0.1"
    assert body["components"]["schemas"]["QueueJobBody"]["$schema"].startswith("http://json-schema.org/draft-04")
    public = document(plan)
    for path, ops in public["paths"].items():
        for method, op in ops.items():
            assert set(op["responses"]) <= set(body["paths"][path][method]["responses"]), (method, path)


def test_the_cli_prints_writes_json_and_yaml(guarded: str, tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(main, ["openapi", guarded])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output) == doc_of(guarded)
    out = tmp_path / "api.yaml"
    written = runner.invoke(main, ["openapi", guarded, "--out", str(out)])
    assert written.exit_code == 0 and yaml.safe_load(out.read_text()) == doc_of(guarded)
    forced = runner.invoke(main, ["openapi", guarded, "--format", "yaml"])
    assert yaml.safe_load(forced.output)["openapi"] == "3.1.0"
    assert "OpenAPI 3.1" in runner.invoke(main, ["openapi", "--help"]).output


def test_build_writes_the_same_document(guarded: str, tmp_path: Path) -> None:
    build(discover(guarded), tmp_path)
    assert (tmp_path / "openapi.json").read_text() == openapi_text(discover(guarded))


def test_what_the_local_gateway_answers_is_documented(typed: str) -> None:
    """Good and bad requests through the test client: each status is among the operation's responses."""
    doc = doc_of(typed)
    requests = [
        ("GET", "/items/3", "/items/{item_id}"),
        ("GET", "/items/0?color=green", "/items/{item_id}"),
        ("GET", "/need", "/need"),
        ("GET", "/wrong/type", "/wrong/{k}"),
        ("DELETE", "/gone", "/gone"),
    ]
    with Client(typed) as client:
        for method, path, template in requests:
            answer = client.request(method, path)
            documented = doc["paths"][template][method.lower()]["responses"]
            assert str(answer.status) in documented, (method, path, answer)


@pytest.mark.skipif(shutil.which("st", path=str(Path(sys.executable).parent)) is None, reason="schemathesis")
@pytest.mark.parametrize("package", ["example_app.shop", "typed", "guarded"])
def test_schemathesis_finds_nothing_against_lambdakit_local(
    package: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    name = package if "." in package else request.getfixturevalue(package)
    app = discover(name)
    module_root = ROOT if "." in package else Path(sys.modules[name].__file__ or "").parents[1]
    spec = tmp_path / "openapi.json"
    spec.write_text(openapi_text(app))
    api = (app.site.api_path or "") if app.site is not None else ""  # behind a site, the API is under api_path
    with local_server(name, tmp_path / "server.log", path=module_root) as root:
        url = root + api
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "st"),
                "run",
                str(spec),
                "--url",
                url,
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_headers_conformance,response_schema_conformance",
                "--max-examples",
                "25",
                "--seed",
                "20261201",
                "--workers",
                "1",
                # the typed app's deliberately broken answers (see test_parameters) are found, as they must be
                "--exclude-path-regex",
                "^/(wrong|many|gone)",
                "--generation-database",
                "none",
            ],
            cwd=tmp_path,  # schemathesis keeps its crash cache in the working folder
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
