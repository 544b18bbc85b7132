"""CORS (`lk.Service(cors=...)`): the template's preflights and headers, the local gateway, the runtime, mistakes.

One small app is written five times, differing only in `cors=`: a list of two
origins, one origin, `"*"`, `lk.CORS(..., credentials=True, expose=...)` and
none. Expected headers and VTL are written out by hand, not recomputed with
the code under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import lambdakit as lk
from lambdakit.core.names import DeclarationError
from lambdakit.declare.app import App
from lambdakit.derive.template import build_template
from lambdakit.discovery import BuildError, discover
from lambdakit.local.backend import Backend
from lambdakit.runtime.loader import handler_for
from lambdakit.testing import Client, Result
from lambdakit.testing.events import LambdaContext, rest_event
from tests.apps import make_app, write_package
from tests.validate import cfn_lint, checkov, transform

ORIGINS = ("https://www.example.com", "http://localhost:5173")
ALLOWED, SECOND, OTHER = ORIGINS[0], ORIGINS[1], "https://evil.example"

# `{p}` names what must differ between the apps sharing one moto backend (pool, storage-first queue).
SOURCE = """
import lambdakit as lk
from pydantic import BaseModel

members = lk.Cognito("{p}-members")
service = lk.Service("{p}", cors={cors})

class Note(BaseModel):
    text: str

@lk.route("GET", "/notes/{{note_id}}")
def get_note(note_id: str, limit: int = 10) -> lk.Response:
    if note_id == "missing":
        raise lk.NotFound(f"no note {{note_id}}")
    return lk.Response({{"note_id": note_id, "limit": limit}}, headers={{"X-Total": "1"}})

@lk.route("DELETE", "/notes/{{note_id}}")
def delete_note(note_id: str) -> None:
    return None

@lk.route("POST", "/notes", auth=members)
def create_note(body: Note) -> dict:
    return body.model_dump()

@lk.route("POST", "/inbox", trigger="sqs")
def {p}_inbox(body: Note) -> None:
    return None
"""

CORS_OF = {
    "corslist": repr(list(ORIGINS)),
    "corsone": repr([ALLOWED]),
    "corsstar": '"*"',
    "corscred": f"lk.CORS({list(ORIGINS)!r}, credentials=True, expose=['X-Total'])",
    "corsnone": "None",
}

# What each path's preflight allows: the methods of its routes, and OPTIONS.
METHODS = {"/inbox": "OPTIONS,POST", "/notes": "OPTIONS,POST", "/notes/{note_id}": "DELETE,GET,OPTIONS"}
ALLOW_HEADERS = "Authorization,Content-Type,X-Amz-Date,X-Amz-Security-Token,X-Api-Key"
PROXY_FUNCTIONS = ("GetNoteFunction", "DeleteNoteFunction", "CreateNoteFunction")

# The response-template VTL that names an allowed origin (API Gateway cannot test a header in a mapping).
OVERRIDE = (
    '#set($lkOrigin = $input.params().header.get("Origin"))'
    '#if("$!lkOrigin" == "")#set($lkOrigin = $input.params().header.get("origin"))#end'
    '#if($lkOrigin == "https://www.example.com" || $lkOrigin == "http://localhost:5173")'
    "#set($context.responseOverride.header.Access-Control-Allow-Origin = $lkOrigin)#end"
)
OVERRIDE_ONE = (
    '#set($lkOrigin = $input.params().header.get("Origin"))'
    '#if("$!lkOrigin" == "")#set($lkOrigin = $input.params().header.get("origin"))#end'
    '#if($lkOrigin == "https://www.example.com")'
    "#set($context.responseOverride.header.Access-Control-Allow-Origin = $lkOrigin)#end"
)
OVERRIDE_CRED = OVERRIDE.removesuffix("#end") + (
    '#set($context.responseOverride.header.Access-Control-Allow-Credentials = "true")#end'
)

Built = dict[str, tuple[App, dict[str, Any]]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Each app and its SAM template."""
    out: Built = {}
    for p, cors in CORS_OF.items():
        app = make_app(tmp_path_factory.mktemp(p), {"app.py": SOURCE.format(p=p, cors=cors)})
        out[p] = (app, build_template(app, code_uri="src"))
    return out


def body_of(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"]["Api"]["Properties"]["DefinitionBody"])


def functions_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def integration_responses(template: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return dict(body_of(template)["paths"][path][method]["x-amazon-apigateway-integration"]["responses"])


# -- the template --------------------------------------------------------------------------------------


def test_every_path_gets_a_public_mock_preflight_answering_204(built: Built) -> None:
    paths = body_of(built["corslist"][1])["paths"]
    assert set(paths) == set(METHODS)
    for path, methods in METHODS.items():
        preflight = paths[path]["options"]
        assert preflight["security"] == [], path  # browsers send preflights without credentials
        integration = preflight["x-amazon-apigateway-integration"]
        assert integration["type"] == "mock"
        assert integration["requestTemplates"] == {"application/json": '{"statusCode": 200}'}
        assert set(integration["responses"]) == {"default"}
        answer = integration["responses"]["default"]
        assert answer["statusCode"] == "204"
        assert answer["responseParameters"] == {
            "method.response.header.Vary": "'Origin'",
            "method.response.header.Access-Control-Allow-Methods": f"'{methods}'",
            "method.response.header.Access-Control-Allow-Headers": f"'{ALLOW_HEADERS}'",
            "method.response.header.Access-Control-Max-Age": "'600'",
        }
        assert answer["responseTemplates"] == {"application/json": OVERRIDE}
        # Every header an integration response sets (or overrides) is declared by the method response.
        declared = set(preflight["responses"]["204"]["headers"])
        assert declared == {
            "Access-Control-Allow-Origin",
            "Vary",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Access-Control-Max-Age",
        }
        assert set(preflight["responses"]) == {"204"}
    # The routes' own operations keep their auth: only the preflights are public.
    assert paths["/notes"]["post"]["security"] == [{"CorslistMembersAuthorizer": []}]


def test_preflights_follow_the_declaration(built: Built) -> None:
    one = body_of(built["corsone"][1])["paths"]["/notes"]["options"]["x-amazon-apigateway-integration"]
    assert one["responses"]["default"]["responseTemplates"] == {"application/json": OVERRIDE_ONE}

    star = body_of(built["corsstar"][1])["paths"]["/notes/{note_id}"]["options"]
    answer = star["x-amazon-apigateway-integration"]["responses"]["default"]
    assert answer["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == "'*'"
    assert "method.response.header.Vary" not in answer["responseParameters"]
    assert "responseOverride" not in json.dumps(answer["responseTemplates"])  # nothing to choose
    assert "Vary" not in star["responses"]["204"]["headers"]

    cred = body_of(built["corscred"][1])["paths"]["/notes"]["options"]
    answer = cred["x-amazon-apigateway-integration"]["responses"]["default"]
    assert answer["responseTemplates"] == {"application/json": OVERRIDE_CRED}
    assert answer["responseParameters"]["method.response.header.Access-Control-Expose-Headers"] == "'X-Total'"
    assert {"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} <= set(
        cred["responses"]["204"]["headers"]
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "corslist",  # several origins: a gateway response cannot test Origin, so it echoes it
            {"Access-Control-Allow-Origin": "method.request.header.Origin", "Vary": "'Origin'"},
        ),
        ("corsone", {"Access-Control-Allow-Origin": "'https://www.example.com'", "Vary": "'Origin'"}),
        ("corsstar", {"Access-Control-Allow-Origin": "'*'"}),
        (
            "corscred",  # an echoed origin never gets credentials: any site could read errors with cookies
            {"Access-Control-Allow-Origin": "method.request.header.Origin", "Vary": "'Origin'"},
        ),
    ],
)
def test_the_gateways_own_errors_carry_the_origin(built: Built, name: str, expected: dict[str, str]) -> None:
    responses = body_of(built[name][1])["x-amazon-apigateway-gateway-responses"]
    assert {"UNAUTHORIZED", "MISSING_AUTHENTICATION_TOKEN", "BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        responses
    )
    for kind, response in responses.items():
        wanted = {"gatewayresponse.header.Content-Type": "'application/json'"}
        wanted.update({f"gatewayresponse.header.{k}": v for k, v in expected.items()})
        assert response["responseParameters"] == wanted, kind


def test_storage_first_answers_start_by_naming_the_origin(built: Built) -> None:
    plain = integration_responses(built["corsnone"][1], "/inbox", "post")
    listed = integration_responses(built["corslist"][1], "/inbox", "post")
    assert set(listed) == set(plain) and "default" in listed
    for key, response in listed.items():
        (template,) = plain[key]["responseTemplates"].values()
        assert response["responseTemplates"] == {"application/json": OVERRIDE + template}, key
        assert response["statusCode"] == plain[key]["statusCode"]
        assert response["responseParameters"]["method.response.header.Vary"] == "'Origin'"
    assert "message_id" in listed["default"]["responseTemplates"]["application/json"]  # the body is still there
    operation = body_of(built["corslist"][1])["paths"]["/inbox"]["post"]
    assert "202" in operation["responses"]
    for status, response in operation["responses"].items():
        assert set(response["headers"]) == {"Access-Control-Allow-Origin", "Vary"}, status

    star = integration_responses(built["corsstar"][1], "/inbox", "post")["default"]
    assert star["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == "'*'"


def test_every_proxy_function_is_told_the_cors_rules(built: Built) -> None:
    functions = functions_of(built["corslist"][1])
    for name in PROXY_FUNCTIONS:
        variables = functions[name]["Properties"]["Environment"]["Variables"]
        assert json.loads(variables["LAMBDAKIT_CORS"]) == {
            "origins": list(ORIGINS),
            "credentials": False,
            "expose": [],
        }, name
    cred = functions_of(built["corscred"][1])["GetNoteFunction"]["Properties"]["Environment"]["Variables"]
    assert json.loads(cred["LAMBDAKIT_CORS"]) == {"origins": list(ORIGINS), "credentials": True, "expose": ["X-Total"]}
    star = functions_of(built["corsstar"][1])["GetNoteFunction"]["Properties"]["Environment"]["Variables"]
    assert json.loads(star["LAMBDAKIT_CORS"])["origins"] == ["*"]


def test_without_cors_there_is_no_preflight_and_no_cors_anywhere(built: Built) -> None:
    template = built["corsnone"][1]
    body = body_of(template)
    assert set(body["paths"]) == set(METHODS)
    assert all("options" not in ops for ops in body["paths"].values())
    for response in body["x-amazon-apigateway-gateway-responses"].values():
        assert response["responseParameters"] == {"gatewayresponse.header.Content-Type": "'application/json'"}
    for name, function in functions_of(template).items():
        assert "LAMBDAKIT_CORS" not in function["Properties"]["Environment"]["Variables"], name
    text = json.dumps(template)
    assert "Access-Control" not in text and "lkOrigin" not in text


@pytest.fixture(scope="module")
def transformed(built: Built) -> dict[str, dict[str, Any]]:
    return {name: transform(template) for name, (_, template) in built.items() if name != "corsnone"}


@pytest.mark.parametrize("name", ["corslist", "corsone", "corsstar", "corscred"])
def test_cfn_lint_is_clean_on_sam_and_transformed(
    built: Built, transformed: dict[str, dict[str, Any]], name: str
) -> None:
    assert cfn_lint(built[name][1], "sam") == []
    assert cfn_lint(transformed[name], "transformed") == []
    # The transform kept the preflights: API Gateway imports what the SAM template says.
    body = transformed[name]["Resources"]["Api"]["Properties"]["Body"]
    assert all(ops["options"]["x-amazon-apigateway-integration"]["type"] == "mock" for ops in body["paths"].values())


def test_checkov_finds_nothing(built: Built) -> None:
    """One checkov run (it takes seconds) over the list, one-origin and "*" templates, prefixed apart."""
    merged: dict[str, Any] = {**built["corslist"][1], "Resources": {}}
    for name in ("corslist", "corsone", "corsstar"):
        merged["Resources"].update({name.title() + k: v for k, v in built[name][1]["Resources"].items()})
    assert checkov(merged) == []


# -- locally, through the test client ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    """One moto backend for the module's clients (each app names its own pool and queue)."""
    started = Backend().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def clients(built: Built, backend: Backend) -> Iterator[dict[str, Client]]:
    made = {name: Client(built[name][0], backend=backend) for name in ("corslist", "corsstar", "corscred")}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(scope="module")
def listed(clients: dict[str, Client]) -> Client:
    return clients["corslist"]


def preflight(client: Client, path: str, origin: str, method: str = "GET") -> Result:
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method})


@pytest.mark.parametrize(
    ("path", "asked", "methods"),
    [
        ("/notes/n-1", "GET", "DELETE,GET,OPTIONS"),
        ("/notes", "POST", "OPTIONS,POST"),  # the Cognito route: no token, still no 401
        ("/inbox", "POST", "OPTIONS,POST"),  # storage first: nothing is stored
    ],
)
@pytest.mark.parametrize("origin", ORIGINS)
def test_a_preflight_from_an_allowed_origin_is_answered_without_a_function(
    listed: Client, path: str, asked: str, methods: str, origin: str
) -> None:
    before = len(listed.invocations)
    answer = preflight(listed, path, origin, asked)
    assert answer.status == 204, answer
    assert answer.body == b""
    assert answer.header("Access-Control-Allow-Origin") == origin
    assert answer.header("Access-Control-Allow-Methods") == methods
    assert answer.header("Access-Control-Allow-Headers") == ALLOW_HEADERS
    assert answer.header("Access-Control-Max-Age") == "600"
    assert answer.header("Vary") == "Origin"
    assert answer.header("Access-Control-Allow-Credentials") is None
    assert len(listed.invocations) == before


def test_a_preflight_from_another_origin_names_no_origin(listed: Client) -> None:
    before = len(listed.invocations)
    for path in ("/notes/n-1", "/notes"):
        answer = preflight(listed, path, OTHER)
        assert answer.status == 204, answer
        assert answer.header("Access-Control-Allow-Origin") is None
        assert answer.header("Vary") == "Origin"
        assert answer.header("Access-Control-Allow-Methods") is not None
    assert len(listed.invocations) == before


def test_options_where_no_route_serves_is_the_gateways_403(listed: Client) -> None:
    answer = preflight(listed, "/nowhere", ALLOWED)
    assert answer.status == 403
    assert answer.json["error"]["code"] == "not_found"
    assert answer.json["error"]["message"].startswith("no route for OPTIONS /nowhere")
    assert set(answer.json) == {"error", "request_id"}
    assert answer.header("Access-Control-Allow-Methods") is None


# (method, path, request keywords, status, who answers)
REAL_REQUESTS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/notes/n-1", {}, 200, "function"),
    ("GET", "/notes/missing", {}, 404, "function"),
    ("GET", "/notes/n-1?limit=many", {}, 422, "function"),
    ("DELETE", "/notes/n-1", {}, 204, "function"),
    ("POST", "/notes", {"json": {"text": "hi"}}, 401, "gateway"),  # no token: the Cognito authorizer refuses
    ("GET", "/nowhere", {}, 403, "gateway"),
    ("POST", "/inbox", {"json": {"text": "hi"}}, 202, "storage"),
    ("POST", "/inbox", {"json": {"nope": 1}}, 400, "gateway"),  # the body validator refuses
]


def _send(client: Client, method: str, path: str, origin: str | None, kwargs: dict[str, Any]) -> Result:
    headers = {"Origin": origin} if origin is not None else {}
    return client.request(method, path, headers=headers, **kwargs)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "by"), REAL_REQUESTS, ids=[f"{r[0]} {r[1]} {r[3]}" for r in REAL_REQUESTS]
)
def test_every_answer_to_an_allowed_origin_names_it(
    listed: Client, method: str, path: str, kwargs: dict[str, Any], status: int, by: str
) -> None:
    for origin in ORIGINS:
        answer = _send(listed, method, path, origin, kwargs)
        assert answer.status == status, answer
        assert answer.header("Access-Control-Allow-Origin") == origin
        assert answer.header("Vary") == "Origin"
        assert answer.header("Access-Control-Allow-Credentials") is None
        if status >= 400:
            assert set(answer.json) == {"error", "request_id"}  # the one error shape, CORS or not


def test_the_answers_are_the_routes_own(listed: Client) -> None:
    """The headers are added, nothing else changes: bodies, codes, the function's own headers."""
    found = _send(listed, "GET", "/notes/n-1", ALLOWED, {})
    assert found.json == {"note_id": "n-1", "limit": 10} and found.header("X-Total") == "1"
    assert _send(listed, "GET", "/notes/missing", ALLOWED, {}).json["error"]["code"] == "not_found"
    invalid = _send(listed, "GET", "/notes/n-1?limit=many", ALLOWED, {}).json["error"]
    assert invalid["code"] == "validation_error" and "limit" in invalid["message"]
    before = len(listed.invocations)
    refused = _send(listed, "POST", "/notes", ALLOWED, {"json": {"text": "hi"}})
    assert refused.json["error"]["code"] == "unauthorized"
    assert len(listed.invocations) == before  # the gateway refused: create_note did not run
    signed_in = listed.post("/notes", json={"text": "hi"}, token=listed.token(), headers={"Origin": ALLOWED})
    assert signed_in.status == 200 and signed_in.json == {"text": "hi"}
    assert signed_in.header("Access-Control-Allow-Origin") == ALLOWED
    stored = _send(listed, "POST", "/inbox", ALLOWED, {"json": {"text": "hi"}})
    assert stored.json["message_id"]
    assert listed.invocations[-1].trigger == "store" and listed.invocations[-1].status == "202"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "by"), REAL_REQUESTS, ids=[f"{r[0]} {r[1]} {r[3]}" for r in REAL_REQUESTS]
)
@pytest.mark.parametrize("origin", [OTHER, None], ids=["other-origin", "no-origin"])
def test_answers_to_another_origin(
    listed: Client, method: str, path: str, kwargs: dict[str, Any], status: int, by: str, origin: str | None
) -> None:
    answer = _send(listed, method, path, origin, kwargs)
    assert answer.status == status, answer
    assert answer.header("Vary") == "Origin"
    if by == "gateway":
        # A gateway response cannot test the Origin: with several origins it echoes the caller's
        # (`method.request.header.Origin` in the template); its body is only the error.
        assert answer.header("Access-Control-Allow-Origin") == origin
    else:
        assert answer.header("Access-Control-Allow-Origin") is None


def test_any_origin_gets_a_star_everywhere(clients: dict[str, Client]) -> None:
    star = clients["corsstar"]
    before = len(star.invocations)
    answer = preflight(star, "/notes/n-1", OTHER)
    assert answer.status == 204
    assert answer.header("Access-Control-Allow-Origin") == "*"
    assert answer.header("Access-Control-Allow-Methods") == "DELETE,GET,OPTIONS"
    assert answer.header("Vary") is None
    assert len(star.invocations) == before
    for method, path, kwargs, status, _ in REAL_REQUESTS:
        for origin in (OTHER, ALLOWED, None):
            answer = _send(star, method, path, origin, kwargs)
            assert answer.status == status, (method, path, answer)
            assert answer.header("Access-Control-Allow-Origin") == "*", (method, path, origin)
            assert answer.header("Vary") is None, (method, path, origin)
            assert answer.header("Access-Control-Allow-Credentials") is None


def test_credentials_and_exposed_headers(clients: dict[str, Client]) -> None:
    cred = clients["corscred"]
    answer = preflight(cred, "/notes", SECOND, "POST")
    assert answer.status == 204
    assert answer.header("Access-Control-Allow-Origin") == SECOND
    assert answer.header("Access-Control-Allow-Credentials") == "true"

    found = _send(cred, "GET", "/notes/n-1", ALLOWED, {})
    assert found.status == 200
    assert found.header("Access-Control-Allow-Origin") == ALLOWED
    assert found.header("Access-Control-Allow-Credentials") == "true"
    assert found.header("Access-Control-Expose-Headers") == "X-Total"
    assert found.header("X-Total") == "1"
    stored = _send(cred, "POST", "/inbox", ALLOWED, {"json": {"text": "hi"}})
    assert stored.status == 202
    assert stored.header("Access-Control-Allow-Credentials") == "true"
    assert stored.header("Access-Control-Expose-Headers") == "X-Total"
    refused = _send(cred, "POST", "/notes", ALLOWED, {"json": {"text": "hi"}})
    assert refused.status == 401
    assert refused.header("Access-Control-Allow-Origin") == ALLOWED
    assert refused.header("Access-Control-Allow-Credentials") is None  # echoed by the gateway: no credentials

    stranger = _send(cred, "GET", "/notes/n-1", OTHER, {})
    assert stranger.status == 200
    assert stranger.header("Access-Control-Allow-Origin") is None
    assert stranger.header("Access-Control-Allow-Credentials") is None
    assert stranger.header("Vary") == "Origin"


# -- the Lambda handler alone, as deployed ---------------------------------------------------------------------


def _handle(app: App, name: str, event: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = handler_for(app.function(name))(event, LambdaContext())
    return answer


def test_the_deployed_handler_names_an_allowed_origin_only(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    app = built["corsnone"][0]  # what matters is the environment the template gives the function
    resource = "/notes/{note_id}"
    event = rest_event("GET", "/notes/n-1", resource=resource, headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in _handle(app, "get_note", event)["headers"]  # no LAMBDAKIT_CORS

    monkeypatch.setenv("LAMBDAKIT_CORS", lk.CORS(list(ORIGINS)).to_json())
    allowed = _handle(app, "get_note", event)
    assert allowed["statusCode"] == 200
    assert json.loads(allowed["body"]) == {"note_id": "n-1", "limit": 10}
    assert allowed["headers"]["Access-Control-Allow-Origin"] == ALLOWED
    assert allowed["headers"]["Vary"] == "Origin"
    assert allowed["headers"]["X-Total"] == "1"

    http2 = rest_event("GET", "/notes/n-1", resource=resource, headers={"origin": SECOND})  # lower-case names
    assert _handle(app, "get_note", http2)["headers"]["Access-Control-Allow-Origin"] == SECOND

    missing = _handle(
        app, "get_note", rest_event("GET", "/notes/missing", resource=resource, headers={"Origin": ALLOWED})
    )
    assert missing["statusCode"] == 404
    assert missing["headers"]["Access-Control-Allow-Origin"] == ALLOWED

    other = _handle(app, "get_note", rest_event("GET", "/notes/n-1", resource=resource, headers={"Origin": OTHER}))
    assert other["statusCode"] == 200
    assert "Access-Control-Allow-Origin" not in other["headers"]
    assert other["headers"]["Vary"] == "Origin"


def test_the_deployed_handler_with_credentials_and_any_origin(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    app = built["corsnone"][0]
    event = rest_event("GET", "/notes/n-1", resource="/notes/{note_id}", headers={"Origin": ALLOWED})
    monkeypatch.setenv("LAMBDAKIT_CORS", lk.CORS([ALLOWED], credentials=True, expose=["X-Total"]).to_json())
    headers = _handle(app, "get_note", event)["headers"]
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert headers["Access-Control-Expose-Headers"] == "X-Total"
    monkeypatch.setenv("LAMBDAKIT_CORS", lk.CORS("*").to_json())
    headers = _handle(app, "get_note", event)["headers"]
    assert headers["Access-Control-Allow-Origin"] == "*" and "Vary" not in headers


# -- declaration mistakes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: lk.Service("x", cors=["https://a.example/"]), "'https://a.example/' is not an origin"),
        (lambda: lk.Service("x", cors=["https://a.example/"]), "without a path or trailing slash"),
        (lambda: lk.Service("x", cors=["a.example"]), "'a.example' is not an origin; write it as the browser sends it"),
        (lambda: lk.Service("x", cors=[]), "cors=[]: origins= is empty"),
        (lambda: lk.Service("x", cors=["*", "https://a.example"]), "'*' allows every origin; list origins or give '*'"),
        (lambda: lk.Service("x", cors=5), "cors= takes a list of origins, '*' or lk.CORS(...), not 5"),
        (lambda: lk.CORS("*", credentials=True), "credentials=True with '*'"),
        (lambda: lk.CORS(["https://a.example"], max_age=-1), "max_age=-1; give seconds between 0 and 86400"),
        (lambda: lk.CORS(["https://a.example"], headers=["X Trace"]), "'X Trace' is not an HTTP header name"),
        (lambda: lk.CORS(["https://a.example"], expose=["X Total"]), "'X Total' is not an HTTP header name"),
    ],
)
def test_declarations_refuse_mistakes(make: Callable[[], object], message: str) -> None:
    with pytest.raises(DeclarationError) as info:
        make()
    assert message in str(info.value)
    assert str(info.value).startswith(("lk.Service('x'): ", "lk.CORS: "))


def test_valid_origins_are_accepted() -> None:
    cors = lk.CORS(["https://a.example:8443", "http://localhost:5173", "http://[::1]:3000"], max_age=0)
    assert cors.origins == ("https://a.example:8443", "http://localhost:5173", "http://[::1]:3000")
    assert lk.CORS("https://a.example").origins == ("https://a.example",)


def test_a_bad_cors_in_a_package_is_a_build_error_naming_the_file(tmp_path: Path) -> None:
    name = write_package(
        tmp_path, {"app.py": 'import lambdakit as lk\nservice = lk.Service("x", cors=["a.example"])\n'}
    )
    with pytest.raises(BuildError) as info:
        discover(name)
    (problem,) = info.value.problems
    assert "app.py:2" in problem and "'a.example' is not an origin" in problem


OPTIONS_ROUTE = """
import lambdakit as lk
service = lk.Service("x"{cors})

@lk.route("OPTIONS", "/x")
def x() -> dict:
    return {{}}
"""


def test_an_options_route_under_cors_is_a_build_error(tmp_path: Path) -> None:
    name = write_package(tmp_path, {"app.py": OPTIONS_ROUTE.format(cors=', cors=["https://a.example"]')})
    with pytest.raises(BuildError) as info:
        discover(name)
    text = "\n".join(info.value.problems)
    assert "app.py" in text and "(x)" in text
    assert "OPTIONS /x is the CORS preflight, which API Gateway answers itself" in text
    assert "remove this route or cors=" in text
    # Without cors= the same route is the user's own.
    assert discover(write_package(tmp_path, {"app.py": OPTIONS_ROUTE.format(cors="")})).function("x") is not None
