"""The router and the failover on this machine: the test client (as `lambdakit local`) serves variants and
releases from the shipped code (Node, or the Python twin), sets the cookies, follows `lambdakit promote` and
`lambdakit rollback --stage local` without a restart, and fails over when the primary is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdakit.cli import main
from lambdakit.derive.failover import fails_over
from lambdakit.local import cloudfront_functions
from lambdakit.local.routing import PRIMARY_ENV
from lambdakit.testing.client import Client
from tests.apps import write_package

ROLLOUT_AB = (
    'import lambdakit as lk\nservice = lk.Service("shop")\n'
    'site = lk.Frontend("web/a", ab_test=lk.ABTest({"web/a": 50, "web/b": 50}), rollout=lk.Rollout(percent=20))\n'
    '@lk.route("GET", "/ping")\ndef ping() -> dict[str, str]:\n    return {"ok": "yes"}\n'
)


@pytest.fixture(params=["node", "python"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":  # no Node on the PATH: the twins answer
        monkeypatch.setattr(cloudfront_functions.shutil, "which", lambda name: None)
    elif cloudfront_functions.shutil.which("node") is None:
        pytest.skip("Node runs CloudFront Functions' JavaScript")
    return str(request.param)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    monkeypatch.chdir(tmp_path)  # .lambdakit/local/ is the working folder's
    package = write_package(tmp_path, {"__init__.py": ROLLOUT_AB, **build("v1")})
    yield tmp_path / package, package


def build(version: str) -> dict[str, str]:
    return {f"web/{v}/index.html": f"<title>{v} {version}</title>" for v in ("a", "b")} | {
        f"web/{v}/app.{version}0000001.js": f"/* {v} {version} */" for v in ("a", "b")
    }


def rebuild(folder: Path, version: str) -> None:
    for name, text in build(version).items():
        (folder / name).write_text(text)


def visit(client: Client, path: str, variant: str, draw: int) -> str:
    answer = client.get(path, headers={"Cookie": f"lk-variant=web-{variant}; lk-release={draw}"})
    assert answer.status == 200, answer.text
    return answer.text


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_rollout_is_deployed_promoted_and_rolled_back_locally(engine: str, project: tuple[Path, str]) -> None:
    folder, package = project
    with Client(package) as client:
        assert client.emulator.site is not None and client.emulator.site.functions.engine == engine
        first = client.get("/orders/o-1")  # a new visitor: a variant drawn, and its cookie
        assert first.status == 200 and "v1" in first.text
        assert len(first.set_cookies) == 1 and first.set_cookies[0].startswith("lk-variant=web-")
        assert "; Secure; SameSite=Lax; Path=/; Max-Age=31536000" in first.set_cookies[0]
        # one release, no candidate: nothing to draw for, so no release cookie yet
        assert visit(client, "/", "b", 5) == "<title>b v1</title>"  # one release: everyone on it
        assert client.get("/api/ping").json == {"ok": "yes"}  # the API's behavior has no router
    rebuild(folder, "v2")
    with Client(package) as client:  # a restart (or a reload) takes the new build: the candidate
        fresh = client.get("/")  # with a candidate out, a new visitor draws for both
        assert sorted(c.split("=")[0] for c in fresh.set_cookies) == ["lk-release", "lk-variant"]
        assert visit(client, "/", "a", 5) == "<title>a v2</title>"  # draw 5 < 20%: the candidate
        assert visit(client, "/cart", "b", 19) == "<title>b v2</title>"
        assert visit(client, "/", "a", 20) == "<title>a v1</title>"  # the others: stable
        assert visit(client, "/app.v10000001.js", "a", 90) == "/* a v1 */"  # assets of the visitor's release
        assert "promote (local): release" in cli("promote", package, "--stage", "local")
        assert visit(client, "/", "a", 90) == "<title>a v2</title>"  # no restart: the next request sees it
        rebuild(folder, "v3")
    with Client(package) as client:
        assert visit(client, "/", "b", 0) == "<title>b v3</title>"
        assert "serves everyone" in cli("rollback", package, "--stage", "local")
        assert visit(client, "/", "b", 0) == "<title>b v2</title>"  # the candidate dropped: back on stable


def test_nothing_to_promote_is_a_clear_error(project: tuple[Path, str]) -> None:
    _, package = project
    with Client(package):
        pass
    result = CliRunner().invoke(main, ["promote", package, "--stage", "local"])
    assert result.exit_code == 2 and "no candidate release to promote: everyone is on release" in result.output


def test_promote_without_rollout_is_refused(tmp_path: Path) -> None:
    package = write_package(
        tmp_path, {"__init__.py": 'import lambdakit as lk\nsite = lk.Frontend("web")\n', "web/index.html": "x"}
    )
    result = CliRunner().invoke(main, ["rollback", package, "--stage", "local"])
    assert result.exit_code == 2 and "has no lk.Frontend(rollout=lk.Rollout(...))" in result.output


FAILOVER = (
    'import lambdakit as lk\nsite = lk.Frontend("web", failover=lk.Failover(region="us-west-2"))\n'
    '@lk.route("POST", "/orders")\ndef order() -> dict[str, str]:\n    return {"ok": "yes"}\n'
)


def test_the_site_fails_over_when_the_primary_is_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = write_package(tmp_path, {"__init__.py": FAILOVER, "web/index.html": "<title>shop</title>"})
    with Client(package) as client:
        answer = client.get("/orders/o-1")
        assert answer.status == 200 and answer.header("x-lambdakit-origin") is None
        monkeypatch.setenv(PRIMARY_ENV, "down")
        answer = client.get("/orders/o-1")
        assert answer.status == 200 and answer.text == "<title>shop</title>"
        assert answer.header("x-lambdakit-origin") == "replica"
        assert client.get("/missing.png").status == 404  # the replica's answer, after the primary's 503
        assert client.post("/api/orders", json={}).json == {"ok": "yes"}  # the API has no origin group
        assert client.emulator.site is not None
        client.emulator.site.routing.primary_down = False  # what a console switch would do
        assert client.get("/").header("x-lambdakit-origin") is None


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("GET", 503, True),
        ("HEAD", 500, True),
        ("GET", 502, True),
        ("GET", 504, True),  # also what CloudFront makes of a primary that does not answer in time
        ("GET", 404, False),  # a missing file is an answer: no failover loop on it
        ("GET", 403, False),  # a broken bucket policy must show, not hide behind the replica
        ("GET", 200, False),
        ("POST", 503, False),  # origin groups fail over GET, HEAD and OPTIONS only
    ],
)
def test_the_failover_decision(method: str, status: int, expected: bool) -> None:
    assert fails_over(method, status) is expected
