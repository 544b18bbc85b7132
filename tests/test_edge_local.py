"""Edge functions run locally on every request the site serves, in CloudFront's order and with its event shapes:
viewer request (answers short-circuit), origin request, the origin, origin response, viewer response; a function
that raises is CloudFront's 503, an answer CloudFront would refuse its 502. Driven through the test client (which
goes through the same emulator as `lambdakit local`) and once through `lambdakit local` over HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit.testing.client import Client
from tests.edge_apps import edge_package
from tests.servers import ROOT, local_server

EDGE = """
import json

import lambdakit as lk

SEEN: list[dict] = []  # every event the functions got, for the tests to read


@lk.edge("viewer-request")
def viewer(request: dict) -> dict:
    SEEN.append({"viewer-request": json.loads(json.dumps(request))})
    uri = request["uri"]
    if uri == "/old":
        return {"status": "301", "statusDescription": "Moved Permanently",
                "headers": {"location": [{"key": "Location", "value": "/new"}]}}
    if uri == "/boom":
        raise RuntimeError("boom")
    if uri == "/invalid":
        return {"status": "not a status"}
    if uri == "/big":
        return {"status": "200", "body": "x" * (41 * 1024)}
    if uri == "/host":
        request["headers"]["host"] = [{"key": "Host", "value": "elsewhere.example"}]
    request["headers"]["x-seen"] = [{"key": "X-Seen", "value": "yes"}]
    return request


@lk.edge("origin-response")
def origin_response(request: dict, response: dict) -> dict:
    SEEN.append({"origin-response": json.loads(json.dumps({"request": request, "response": response}))})
    response["headers"]["x-origin-status"] = [{"key": "X-Origin-Status", "value": response["status"]}]
    if response["status"] == "404":
        response["body"] = "<h1>not here</h1>"
        response["headers"]["content-type"] = [{"key": "Content-Type", "value": "text/html"}]
    return response


@lk.edge("viewer-response", path="/members/*")
def members(request: dict, response: dict) -> dict:
    response["headers"]["x-members"] = [{"key": "X-Members", "value": "1"}]
    return response


@lk.edge("origin-request", path="/api/*")
def api_origin(request: dict) -> dict:
    SEEN.append({"origin-request": json.loads(json.dumps(request))})
    if request["uri"] == "/api/teapot":
        return {"status": "418", "body": json.dumps({"tea": True}),
                "headers": {"content-type": [{"key": "Content-Type", "value": "application/json"}]}}
    request["headers"]["x-from-edge"] = [{"key": "X-From-Edge", "value": "1"}]
    return request
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> str:
    return edge_package(tmp_path_factory.mktemp("edge_local"), EDGE)


@pytest.fixture(scope="module")
def client(package: str) -> Iterator[Client]:
    with Client(package) as running:
        yield running


@pytest.fixture
def seen(package: str) -> list[dict]:
    import importlib

    found: list[dict] = importlib.import_module(package + ".edge").SEEN
    found.clear()
    return found


def test_a_viewer_request_function_sees_cloudfronts_request_and_lambdakits_step_runs_after_it(
    client: Client, seen: list[dict]
) -> None:
    page = client.get("/orders/o-1?tab=items", headers={"Accept-Language": "fr"})
    assert page.status == 200 and "edge shop" in page.text  # the SPA fallback ran after the user's function
    request = seen[0]["viewer-request"]
    assert request["uri"] == "/orders/o-1" and request["querystring"] == "tab=items" and request["method"] == "GET"
    assert request["headers"]["accept-language"] == [{"key": "Accept-Language", "value": "fr"}]
    assert set(request) == {"clientIp", "headers", "method", "querystring", "uri"}
    asset = client.get("/app.3f9a1c2b.js")
    assert asset.status == 200 and asset.text == "console.log('shop')"


def test_an_answer_at_the_viewer_request_goes_straight_back(client: Client, seen: list[dict]) -> None:
    moved = client.get("/old")
    assert moved.status == 301 and moved.header("Location") == "/new"
    assert moved.header("X-Origin-Status") is None  # no origin, so no origin response
    assert [next(iter(s)) for s in seen] == ["viewer-request"]
    assert moved.header("Strict-Transport-Security")  # the response headers policy still applies


def test_the_origin_response_function_sees_the_origins_answer(client: Client, seen: list[dict]) -> None:
    missing = client.get("/gone.txt")
    assert missing.status == 404 and missing.text == "<h1>not here</h1>"
    assert missing.header("X-Origin-Status") == "404" and missing.header("Content-Type") == "text/html"
    event = seen[-1]["origin-response"]
    assert event["request"]["origin"]["s3"]["domainName"]  # origin events carry the origin
    assert event["response"]["status"] == "404" and event["response"]["statusDescription"] == "Not Found"
    assert event["request"]["headers"]["x-seen"] == [{"key": "X-Seen", "value": "yes"}]  # the viewer's change went on


def test_a_viewer_response_function_runs_on_answers_below_400_only(client: Client) -> None:
    page = client.get("/members/index.html")
    assert page.status == 200 and "members" in page.text and page.header("X-Members") == "1"
    missing = client.get("/members/nope.txt")
    assert missing.status == 404 and missing.header("X-Members") is None
    assert client.get("/").header("X-Members") is None  # only its own behavior


def test_an_origin_request_function_changes_or_answers_for_the_api(client: Client, seen: list[dict]) -> None:
    hello = client.get("/api/hello")
    assert hello.status == 200 and hello.json == {"hello": "world"}
    request = seen[-1]["origin-request"]
    assert request["uri"] == "/api/hello" and "custom" in request["origin"]
    teapot = client.get("/api/teapot")
    assert teapot.status == 418 and teapot.json == {"tea": True}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/boom", 503, "LambdaExecutionError"),
        ("/invalid", 502, "LambdaValidationError"),
        ("/big", 502, "LambdaValidationError"),
        ("/host", 502, "LambdaValidationError"),
    ],
)
def test_a_failing_function_is_cloudfronts_error(client: Client, path: str, status: int, code: str) -> None:
    answer = client.get(path)
    assert answer.status == status
    assert code in answer.text
    if path == "/big":
        assert "a viewer-request function may generate 40 KB" in answer.text


def test_the_example_shops_edge_function_runs_under_lambdakit_local(tmp_path: Path) -> None:
    with local_server("example_app.shop", tmp_path / "local.log", path=ROOT) as url:
        try:
            urllib.request.urlopen(url + "/assets/missing.js", timeout=10)
        except urllib.error.HTTPError as exc:
            status, body, kind = exc.code, exc.read().decode(), exc.headers["Content-Type"]
        with urllib.request.urlopen(url + "/", timeout=10) as page:
            assert page.status == 200
    assert status == 404 and kind == "text/html; charset=utf-8"
    assert "/assets/missing.js does not exist" in body and "<Error>" not in body
