"""The Lambda@Edge artifact: only what the function imports, reproducible, and its handler answering the published
CloudFront sample events in a fresh `python -S` that has nothing but the unzipped artifact (no pydantic, no
Powertools, no site-packages)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambdakit.declare.app import App
from lambdakit.derive.edge import EdgeFunctionPlan, edge_functions
from lambdakit.derive.plan import plan_of
from lambdakit.discovery import discover
from lambdakit.packaging.edge import edge_artifact
from tests.edge_apps import ORIGIN_RESPONSE_SAMPLE, VIEWER_REQUEST_SAMPLE, edge_package

EDGE = """
from typing import TYPE_CHECKING

import lambdakit as lk

from . import rules
from .headers import secure

if TYPE_CHECKING:
    import yaml  # only for the type checker: not part of the artifact


@lk.edge("viewer-request")
def redirect(request: dict) -> dict:
    target = rules.MOVED.get(request["uri"])
    if target is not None:
        return {"status": "301", "statusDescription": "Moved Permanently",
                "headers": {"location": [{"key": "Location", "value": target}]}}
    if request["uri"] == "/broken":
        return None
    return request


@lk.edge("origin-response")
def harden(request: dict, response: dict) -> dict:
    return secure(response)
"""
FILES = {
    "rules.py": 'MOVED = {"/catalogue": "/products"}\n',
    "headers.py": (
        "import json\n\n\ndef secure(response: dict) -> dict:\n"
        '    response["headers"]["x-edge"] = [{"key": "X-Edge", "value": json.dumps("on")}]\n'
        "    return response\n"
    ),
    "unused.py": "import yaml\n",
}

RUNNER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from lambdakit.edge.handler import handler
out = []
for event in json.load(sys.stdin):
    try:
        out.append({"ok": handler(event, None)})
    except Exception as exc:
        out.append({"error": type(exc).__name__})
try:
    import pydantic
    out.append({"pydantic": True})
except ImportError:
    out.append({"pydantic": False})
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return discover(edge_package(tmp_path_factory.mktemp("artifact"), EDGE, FILES))


def plan(app: App, name: str) -> EdgeFunctionPlan:
    return next(fn for fn in edge_functions(app, plan_of(app)) if fn.name == name)


def run_artifact(path: Path, events: list[dict[str, Any]], tmp: Path) -> list[dict[str, Any]]:
    """Unzip the artifact alone and invoke its handler as Lambda would, in `python -S -I` (no site-packages)."""
    folder = tmp / (path.stem + "-task")
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder)
    proc = subprocess.run(
        [sys.executable, "-S", "-I", "-c", RUNNER, str(folder)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        cwd=tmp,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result: list[dict[str, Any]] = json.loads(proc.stdout)
    assert result[-1] == {"pydantic": False}  # nothing but the artifact and the standard library
    return result[:-1]


def event(sample: dict[str, Any], **request: Any) -> dict[str, Any]:
    out = copy.deepcopy(sample)
    out["Records"][0]["cf"]["request"].update(request)
    return out


def test_the_artifact_holds_only_what_the_function_imports(app: App, tmp_path: Path) -> None:
    artifact = edge_artifact(app, plan(app, "redirect"), tmp_path)
    names = set(zipfile.ZipFile(artifact.path).namelist())
    package = app.package
    assert {f"{package}/edge.py", f"{package}/rules.py", f"{package}/headers.py"} <= names
    assert f"{package}/__init__.py" not in names  # it declares the service: a namespace package at the edge
    assert f"{package}/unused.py" not in names
    assert not any(name.startswith(f"{package}/web/") for name in names)
    assert {"lambdakit/__init__.py", "lambdakit/edge/__init__.py", "lambdakit/edge/handler.py"} <= names
    assert not any(name.startswith(("lambdakit/declare/", "lambdakit/runtime/", "lambdakit/core/")) for name in names)
    config = json.loads(zipfile.ZipFile(artifact.path).read("lambdakit_edge.json"))
    assert config == {
        "module": f"{package}.edge",
        "function": "redirect",
        "event": "viewer-request",
        "config": {"steps": [["spa", {"index": "index.html"}]]},
    }
    assert artifact.size < 64 * 1024


def test_the_artifact_is_reproducible(app: App, tmp_path: Path) -> None:
    first = edge_artifact(app, plan(app, "harden"), tmp_path / "a")
    second = edge_artifact(app, plan(app, "harden"), tmp_path / "b")
    assert first.sha256 == second.sha256 and first.path.read_bytes() == second.path.read_bytes()


def test_the_viewer_request_handler_answers_the_published_sample(app: App, tmp_path: Path) -> None:
    artifact = edge_artifact(app, plan(app, "redirect"), tmp_path)
    moved, passed, routed, broken, malformed = run_artifact(
        artifact.path,
        [
            event(VIEWER_REQUEST_SAMPLE, uri="/catalogue"),
            event(VIEWER_REQUEST_SAMPLE, uri="/app.3f9a1c2b.js"),
            event(VIEWER_REQUEST_SAMPLE, uri="/orders/o-1"),
            event(VIEWER_REQUEST_SAMPLE, uri="/broken"),
            {"Records": []},
        ],
        tmp_path,
    )
    assert moved["ok"]["status"] == "301"
    assert moved["ok"]["headers"]["location"] == [{"key": "Location", "value": "/products"}]
    assert passed["ok"]["uri"] == "/app.3f9a1c2b.js"  # a file: the SPA fallback leaves it
    assert passed["ok"]["headers"] == VIEWER_REQUEST_SAMPLE["Records"][0]["cf"]["request"]["headers"]
    assert routed["ok"]["uri"] == "/index.html"  # lambdakit's SPA fallback ran after the user's function
    assert broken == {"error": "TypeError"}  # None is no request: Lambda reports the error (CloudFront: 503)
    assert malformed == {"error": "IndexError"}


def test_the_origin_response_handler_answers_the_published_sample(app: App, tmp_path: Path) -> None:
    artifact = edge_artifact(app, plan(app, "harden"), tmp_path)
    (answer,) = run_artifact(artifact.path, [ORIGIN_RESPONSE_SAMPLE], tmp_path)
    response = answer["ok"]
    assert response["status"] == "200"
    assert response["headers"]["x-edge"] == [{"key": "X-Edge", "value": '"on"'}]
    assert response["headers"]["server"] == [{"key": "Server", "value": "ExampleCustomOriginServer"}]


def test_the_example_shops_function_runs_from_its_artifact(tmp_path: Path) -> None:
    app = discover("example_app.shop")
    fn = next(f for f in edge_functions(app, plan_of(app)) if f.name == "not_found_page")
    artifact = edge_artifact(app, fn, tmp_path)
    names = zipfile.ZipFile(artifact.path).namelist()
    assert "example_app/shop/edge.py" in names and "example_app/shop/__init__.py" not in names
    missing = copy.deepcopy(ORIGIN_RESPONSE_SAMPLE)
    missing["Records"][0]["cf"]["request"]["uri"] = "/assets/<gone>.js"
    missing["Records"][0]["cf"]["response"].update(status="404", statusDescription="Not Found")
    found, gone = run_artifact(artifact.path, [ORIGIN_RESPONSE_SAMPLE, missing], tmp_path)
    assert found["ok"] == ORIGIN_RESPONSE_SAMPLE["Records"][0]["cf"]["response"]
    assert gone["ok"]["status"] == "404"
    assert gone["ok"]["headers"]["content-type"][0]["value"] == "text/html; charset=utf-8"
    assert "/assets/&lt;gone&gt;.js does not exist" in gone["ok"]["body"]
