"""Every `@lk.edge` declaration Lambda@Edge forbids is a build error naming the function and the limit."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from lambdakit.derive.edge import edge_functions
from lambdakit.derive.plan import plan_of
from lambdakit.discovery import BuildError, discover
from lambdakit.packaging.edge import edge_artifact
from tests.apps import write_package
from tests.edge_apps import SITE, edge_package

VIEWER = (
    'import lambdakit as lk\n\n@lk.edge("viewer-request"{args})\ndef fn(request: dict) -> dict:\n    return request\n'
)
ORIGIN = (
    'import lambdakit as lk\n\n@lk.edge("origin-response"{args})\n'
    "def fn(request: dict, response: dict) -> dict:\n    return response\n"
)


def problems(tmp_path: Path, edge_module: str, init: str = SITE, extra: dict[str, str] | None = None) -> str:
    with pytest.raises(BuildError) as info:
        discover(edge_package(tmp_path, edge_module, extra, init))
    return "\n".join(info.value.problems)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (
            VIEWER.format(args=', env={"A": "1"}'),
            "env= is not for Lambda@Edge: Lambda@Edge has no environment variables",
        ),
        (VIEWER.format(args=', environment={"A": "1"}'), "environment= is not for Lambda@Edge: Lambda@Edge has no"),
        (VIEWER.format(args=', layers=["arn"]'), "layers= is not for Lambda@Edge: Lambda@Edge has no layers"),
        (VIEWER.format(args=", reads=[]"), "reads= is not for Lambda@Edge: an edge function gets no IAM grants"),
        (VIEWER.format(args=", writes=[]"), "writes= is not for Lambda@Edge: an edge function gets no IAM grants"),
        (VIEWER.format(args=', architecture="arm64"'), "Lambda@Edge runs on x86_64 only"),
        (
            VIEWER.format(args=", retries=2"),
            "@lk.edge takes event, path=, memory=, timeout=, include_body=, name=; not retries=",
        ),
        (VIEWER.format(args=", memory=256"), "memory=256: Lambda@Edge gives a viewer-request function 128 MB exactly"),
        (
            ORIGIN.format(args=", memory=20000"),
            "memory=20000: Lambda@Edge gives an origin-response function 128-10240 MB",
        ),
        (VIEWER.format(args=", timeout=6"), "timeout=6: Lambda@Edge runs a viewer-request function 1-5 seconds"),
        (ORIGIN.format(args=", timeout=31"), "timeout=31: Lambda@Edge runs an origin-response function 1-30 seconds"),
        (ORIGIN.format(args=", include_body=True"), "include_body=True is for request events"),
        (VIEWER.format(args=', path="members"'), "path='members': give '/*' (the default behavior) or a path"),
        (VIEWER.format(args=', path="/*.jpg"'), "path='/*.jpg': give '/*'"),
        (VIEWER.format(args=', path="/api/orders/*"'), "path='/api/orders/*' is inside the behavior /api/*"),
        (VIEWER.format(args=', path="/api/partners/x"'), "is inside the behavior /api/partners/* (another origin)"),
        (VIEWER.replace('"viewer-request"', '"viewer_request"').format(args=""), "event 'viewer_request' is not a"),
        (
            ORIGIN.replace("request: dict, response: dict", "response: dict").format(args=""),
            "an origin-response function takes (request, response) and returns the response; this one takes 1",
        ),
        (
            VIEWER.replace("request: dict", "request: dict, extra: dict").format(args=""),
            "a viewer-request function takes (request) and returns it or a response; this one takes 2",
        ),
        (
            VIEWER.format(args="")
            + '\n@lk.edge("viewer-request")\ndef other(request: dict) -> dict:\n    return request\n',
            "already runs on viewer-request of /*; CloudFront allows one function per event type on a behavior",
        ),
        (
            VIEWER.format(args=', name="Same"')
            + '\n@lk.edge("origin-request", name="same")\ndef g(request: dict) -> dict:\n'
            "    return request\n",
            "edge function name 'same' clashes with",
        ),
    ],
)
def test_each_forbidden_declaration_is_a_build_error(tmp_path: Path, module: str, expected: str) -> None:
    found = problems(tmp_path, module)
    assert expected in found
    assert "edge.py:" in found  # each names the file and line of the function


def test_edge_functions_need_a_distribution(tmp_path: Path) -> None:
    found = problems(tmp_path, VIEWER.format(args=""), init='import lambdakit as lk\nservice = lk.Service("plain")\n')
    assert "@lk.edge runs on a CloudFront distribution, and" in found
    assert "declare an lk.Frontend (or lk.Service(cdn=True))" in found


def test_a_cloudfront_function_lambdakit_cannot_run_in_python_blocks_the_event(tmp_path: Path) -> None:
    init = SITE.replace(
        'lk.Frontend("web/dist")', 'lk.Frontend("web/dist", ab_test=lk.ABTest({"web/dist": 50, "web/dist-b": 50}))'
    )
    found = problems(tmp_path, VIEWER.format(args=""), init, {"web/dist-b/index.html": "<h1>b</h1>"})
    assert "lambdakit's CloudFront Function SiteRouter already runs on viewer-request of /*" in found


def test_a_package_over_the_viewer_limit_is_refused(tmp_path: Path) -> None:
    blob = base64.b64encode(os.urandom(1_100_000)).decode()  # random: deflate cannot bring it under 1 MB
    module = "from . import big\n" + VIEWER.format(args="")
    name = edge_package(tmp_path, module, {"big.py": f"DATA = {blob!r}\n"})
    app = discover(name)
    (fn,) = edge_functions(app, plan_of(app))
    with pytest.raises(BuildError) as info:
        edge_artifact(app, fn, tmp_path / "out")
    message = info.value.problems[0]
    assert "edge.py:" in message and "(fn)" in message
    assert "its Lambda@Edge package is 1." in message and "a viewer-request function's may be 1 MB" in message
    assert f"{name} " in message  # what fills it


def test_a_third_party_import_is_refused(tmp_path: Path) -> None:
    app = discover(edge_package(tmp_path, "import yaml\n" + VIEWER.format(args="")))
    (fn,) = edge_functions(app, plan_of(app))
    with pytest.raises(BuildError) as info:
        edge_artifact(app, fn, tmp_path / "out")
    assert "edge.py imports yaml, which is neither the standard library nor" in info.value.problems[0]


def test_lambdakit_declarations_in_an_edge_module_are_refused(tmp_path: Path) -> None:
    app = discover(edge_package(tmp_path, "from lambdakit.declare.resources import Table\n" + VIEWER.format(args="")))
    (fn,) = edge_functions(app, plan_of(app))
    with pytest.raises(BuildError) as info:
        edge_artifact(app, fn, tmp_path / "out")
    assert (
        "imports lambdakit.declare.resources: an edge function's module may use `import lambdakit as lk`"
        in (info.value.problems[0])
    )


def test_two_decorators_on_one_function_are_refused(tmp_path: Path) -> None:
    module = (
        'import lambdakit as lk\n\n@lk.edge("viewer-request")\n@lk.route("GET", "/x")\n'
        "def fn(request: dict) -> dict:\n    return request\n"
    )
    with pytest.raises(BuildError) as info:
        discover(write_package(tmp_path, {"__init__.py": SITE, "edge.py": module, "web/dist/index.html": "x"}))
    assert "a function takes one lambdakit decorator; it has two" in "\n".join(info.value.problems)
