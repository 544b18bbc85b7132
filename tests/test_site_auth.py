"""Site sign-in at the edge: the Lambda@Edge handler driven with CloudFront's origin-request events, its RS256
check against moto's real Cognito tokens, the local hosted sign-in it talks to, and the config deploy bakes.

The handler is the shipped one (`lambdakit.edge.site_auth`), configured as `lambdakit local` configures it:
moto's pool and keys, the stand-in hosted sign-in answering its token calls in-process.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from lambdakit.declare.app import App
from lambdakit.derive import site_auth as derive
from lambdakit.discovery import BuildError, discover
from lambdakit.edge import jwt
from lambdakit.edge.rewrites import spa
from lambdakit.edge.site_auth import COOKIES, MAX_COOKIE_BYTES, SiteAuth
from lambdakit.local.auth import _moto_jwks
from lambdakit.local.backend import Backend
from lambdakit.local.gateway import HttpRequest
from lambdakit.local.hosted_signin import HostedSignIn
from lambdakit.local.pools import DEMO_PASSWORD, DEMO_USER
from lambdakit.testing.events import cloudfront_event
from tests.apps import write_package

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = """
import lambdakit as lk

service = lk.Service("club")
users = lk.Cognito("club-users")
site = lk.Frontend("web", auth={"/members": users})
"""
FILES = {"web/index.html": "<h1>Club</h1>", "web/members/index.html": "<h1>Members</h1>"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return discover(write_package(tmp_path_factory.mktemp("club"), {"__init__.py": MEMBERS, **FILES}))


@pytest.fixture(scope="module")
def backend(app: App) -> Iterator[Backend]:
    with Backend() as started:
        started.pools.declare(app.pools[0])
        started.pools.add_user(DEMO_USER, DEMO_PASSWORD, "club-users")
        yield started


@pytest.fixture(scope="module")
def hosted(app: App, backend: Backend) -> HostedSignIn:
    return HostedSignIn(app, backend.pools)


@pytest.fixture
def site(hosted: HostedSignIn) -> SiteAuth:
    return SiteAuth(hosted.config(), post=hosted.post)


def origin_request(uri: str, cookies: dict[str, str] | None = None, query: str = "") -> dict[str, Any]:
    """What CloudFront hands the protected behavior's origin request: the viewer's path in lambdakit's header
    (the SPA fallback has already rewritten `uri`), the whitelisted cookies, the query string."""
    headers: dict[str, str | list[str]] = {"x-lambdakit-viewer-uri": uri.split("?")[0]}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    rewritten = spa({"uri": uri.split("?")[0]}, areas=("/members",))["uri"]  # what the viewer request left
    event = cloudfront_event("origin-request", uri=rewritten, querystring=query, headers=headers)
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    return request


def set_cookies(answer: dict[str, Any]) -> dict[str, str]:
    """name -> the whole Set-Cookie line."""
    return {line["value"].split("=", 1)[0]: line["value"] for line in answer["headers"].get("set-cookie", [])}


def cookie_value(line: str) -> str:
    return line.split(";", 1)[0].split("=", 1)[1]


def location(answer: dict[str, Any]) -> str:
    assert answer["status"] == "302", answer
    return str(answer["headers"]["location"][0]["value"])


def sign_in(site: SiteAuth, hosted: HostedSignIn, path: str = "/members/") -> tuple[dict[str, str], str]:
    """The whole code flow as the browser walks it: cookies set by the callback, and where it sends the visitor."""
    first = site.handle(origin_request(path))
    authorize = urlsplit(location(first))
    params = dict(parse_qsl(authorize.query))
    form = urlencode({**params, "username": DEMO_USER, "password": DEMO_PASSWORD}).encode()
    posted = hosted.handle(HttpRequest("POST", authorize.path, [], [("Host", "localhost")], form))
    assert posted.status == 302, posted.body
    callback = urlsplit(posted.header("Location") or "")
    state = cookie_value(set_cookies(first)["lk_state"])
    done = site.handle(origin_request(callback.path, {"lk_state": state}, callback.query))
    return {name: cookie_value(line) for name, line in set_cookies(done).items()}, location(done)


def id_token(backend: Backend, username: str = DEMO_USER) -> str:
    return str(backend.pools.sign_in(username, DEMO_PASSWORD, "club-users")["IdToken"])


# -- RS256, by hand ----------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _retoken(token: str, header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None) -> str:
    head, body, signature = token.split(".")
    if header is not None:
        head = _b64(json.dumps(header).encode())
    if claims is not None:
        body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{signature}"


def test_rs256_accepts_motos_real_tokens_and_refuses_every_altered_one(hosted: HostedSignIn, backend: Backend) -> None:
    keys = jwt.keys_of(_moto_jwks())
    local = hosted.local_pool()
    token = id_token(backend)
    check = {"issuer": local.issuer, "client_id": local.client_id, "token_use": "id", "now": time.time()}
    claims = jwt.verify(token, keys, **check)  # type: ignore[arg-type]
    assert claims["email"] == DEMO_USER and claims["aud"] == local.client_id

    head, body, signature = token.split(".")
    payload = json.loads(jwt.b64url(body))
    raw_signature = bytearray(jwt.b64url(signature))
    raw_signature[-1] ^= 1
    too_big = _b64(bytes([0xFF]) * len(raw_signature))
    altered = {
        "claims changed": _retoken(token, claims={**payload, "email": "mallory@example.com"}),
        "one signature bit": f"{head}.{body}.{_b64(bytes(raw_signature))}",
        "signature too short": f"{head}.{body}.{_b64(bytes(raw_signature[1:]))}",
        "signature >= modulus": f"{head}.{body}.{too_big}",
        "alg none": _retoken(token, header={"alg": "none", "kid": "dummy"}).rsplit(".", 1)[0] + ".",
        "alg HS256": _retoken(token, header={"alg": "HS256", "kid": "dummy"}),
        "unknown kid": _retoken(token, header={"alg": "RS256", "kid": "other"}),
        "not base64url": token.replace(".", ".+", 1),
        "two parts": f"{head}.{body}",
    }
    for what, bad in altered.items():
        with pytest.raises(jwt.InvalidToken):
            jwt.verify(bad, keys, **check)  # type: ignore[arg-type]
            pytest.fail(what)
    with pytest.raises(jwt.InvalidToken, match="issuer"):
        jwt.verify(token, keys, **{**check, "issuer": local.issuer + "x"})  # type: ignore[arg-type]
    with pytest.raises(jwt.InvalidToken, match="client"):
        jwt.verify(token, keys, **{**check, "client_id": "another-client"})  # type: ignore[arg-type]
    with pytest.raises(jwt.InvalidToken, match="not an access token"):
        jwt.verify(token, keys, **{**check, "token_use": "access"})  # type: ignore[arg-type]
    with pytest.raises(jwt.ExpiredToken):
        jwt.verify(token, keys, **{**check, "now": payload["exp"]})  # type: ignore[arg-type]


def test_a_token_signed_with_another_key_is_refused(hosted: HostedSignIn, backend: Backend) -> None:
    from joserfc import jwt as jose
    from joserfc.jwk import RSAKey

    local = hosted.local_pool()
    claims = json.loads(jwt.b64url(id_token(backend).split(".")[1]))
    forged = jose.encode({"alg": "RS256", "kid": "dummy"}, claims, RSAKey.generate_key(2048))
    with pytest.raises(jwt.InvalidToken, match="signature"):
        jwt.verify(
            forged,
            jwt.keys_of(_moto_jwks()),
            issuer=local.issuer,
            client_id=local.client_id,
            token_use="id",
            now=time.time(),
        )


# -- the handler -------------------------------------------------------------------------------------------


def test_no_session_is_sent_to_the_hosted_sign_in_with_pkce_and_a_state_cookie(site: SiteAuth) -> None:
    answer = site.handle(origin_request("/members/profile", query="tab=2"))
    target = urlsplit(location(answer))
    assert target.path == "/_lambdakit/signin/oauth2/authorize"
    params = dict(parse_qsl(target.query))
    assert params["response_type"] == "code" and params["client_id"] == site.client_id
    assert params["redirect_uri"] == "/members/_auth/callback"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert set(params["scope"].split()) == {"openid", "email", "profile"}
    line = set_cookies(answer)["lk_state"]
    assert "Path=/members/_auth/" in line and "Max-Age=600" in line
    assert {"HttpOnly", "Secure", "SameSite=Lax"} <= {part.strip() for part in line.split(";")}
    state, _verifier, back = json.loads(jwt.b64url(cookie_value(line)))
    assert state == params["state"] and back == "/members/profile?tab=2"
    assert answer["headers"]["cache-control"][0]["value"] == "no-store"


def test_a_valid_session_reaches_the_bucket_without_lambdakits_cookies_or_the_query(
    site: SiteAuth, backend: Backend
) -> None:
    request = origin_request("/members/profile", {"lk_id": id_token(backend), "theme": "dark"}, query="tab=2")
    onward = site.handle(request)
    assert "status" not in onward  # the request, not a response
    assert onward["uri"] == "/members/index.html"  # a members' client-side route gets the area's own entry
    assert onward["headers"]["cookie"] == [{"key": "Cookie", "value": "theme=dark"}]
    assert "x-lambdakit-viewer-uri" not in onward["headers"]
    assert onward["querystring"] == ""  # S3 would read ?acl, ?versionId ... as operations
    file = site.handle(origin_request("/members/report.pdf", {"lk_id": id_token(backend)}))
    assert file["uri"] == "/members/report.pdf"  # a file keeps its path


@pytest.mark.parametrize("case", ["absent", "garbage", "forged", "another client", "another pool", "access token"])
def test_no_valid_id_token_is_sent_to_sign_in_never_an_error(
    case: str, site: SiteAuth, hosted: HostedSignIn, backend: Backend
) -> None:
    from joserfc import jwt as jose
    from joserfc.jwk import RSAKey

    good = id_token(backend)
    claims = json.loads(jwt.b64url(good.split(".")[1]))
    tokens = {
        "absent": None,
        "garbage": "not-a-token",
        "forged": jose.encode({"alg": "RS256", "kid": "dummy"}, claims, RSAKey.generate_key(2048)),
        "another client": _other_client_token(backend),
        "another pool": None,  # set below: the same key, another pool's issuer
        "access token": backend.pools.sign_in(DEMO_USER, DEMO_PASSWORD, "club-users")["AccessToken"],
    }
    token = tokens[case]
    cookies = {} if token is None else {"lk_id": token}
    checked = (
        site if case != "another pool" else SiteAuth({**hosted.config(), "issuer": "https://elsewhere"}, hosted.post)
    )
    if case == "another pool":
        cookies = {"lk_id": good}
    answer = checked.handle(origin_request("/members/", cookies))
    assert urlsplit(location(answer)).path == "/_lambdakit/signin/oauth2/authorize"


def _other_client_token(backend: Backend) -> str:
    local = backend.pools.get("club-users")
    idp = backend.client("cognito-idp")
    other = idp.create_user_pool_client(
        UserPoolId=local.pool_id, ClientName="other", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    result = idp.admin_initiate_auth(
        UserPoolId=local.pool_id,
        ClientId=other,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": DEMO_USER, "PASSWORD": DEMO_PASSWORD},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def test_the_code_flow_signs_in_and_comes_back_to_the_page(site: SiteAuth, hosted: HostedSignIn) -> None:
    cookies, back = sign_in(site, hosted, "/members/deep/link")
    assert back == "/members/deep/link"
    assert cookies["lk_state"] == ""  # the state is used once
    onward = site.handle(origin_request("/members/deep/link", {"lk_id": cookies["lk_id"]}))
    assert "status" not in onward


def test_the_session_cookies_are_http_only_secure_lax_scoped_and_fit(site: SiteAuth, hosted: HostedSignIn) -> None:
    first = site.handle(origin_request("/members/"))
    params = dict(parse_qsl(urlsplit(location(first)).query))
    form = urlencode({**params, "username": DEMO_USER, "password": DEMO_PASSWORD}).encode()
    callback = urlsplit(
        hosted.handle(HttpRequest("POST", "/_lambdakit/signin/oauth2/authorize", [], [], form)).header("Location") or ""
    )
    done = site.handle(
        origin_request(callback.path, {"lk_state": cookie_value(set_cookies(first)["lk_state"])}, callback.query)
    )
    lines = set_cookies(done)
    assert set(lines) == set(COOKIES)
    for name, line in lines.items():
        parts = {part.strip() for part in line.split(";")}
        assert {"HttpOnly", "Secure", "SameSite=Lax"} <= parts, name
        assert len(line) <= MAX_COOKIE_BYTES
    assert "Path=/members" in lines["lk_id"].split("; ") and "Path=/members" in lines["lk_access"].split("; ")
    assert "Path=/members/_auth/" in lines["lk_refresh"]  # the long-lived token goes nowhere but the refresh
    assert f"Max-Age={derive.SESSION_SECONDS}" in lines["lk_refresh"]


@pytest.mark.parametrize(
    "case", ["wrong state", "no state cookie", "broken state cookie", "no code", "cancelled", "code used"]
)
def test_a_callback_that_cannot_be_trusted_is_a_4xx_page_not_a_500(
    case: str, site: SiteAuth, hosted: HostedSignIn
) -> None:
    first = site.handle(origin_request("/members/"))
    params = dict(parse_qsl(urlsplit(location(first)).query))
    form = urlencode({**params, "username": DEMO_USER, "password": DEMO_PASSWORD}).encode()
    callback = urlsplit(
        hosted.handle(HttpRequest("POST", "/_lambdakit/signin/oauth2/authorize", [], [], form)).header("Location") or ""
    )
    query = dict(parse_qsl(callback.query))
    state = cookie_value(set_cookies(first)["lk_state"])
    cookies = {"lk_state": state}
    if case == "wrong state":
        query["state"] = "x" + query["state"][1:]
    elif case == "no state cookie":
        cookies = {}
    elif case == "broken state cookie":
        cookies = {"lk_state": "%%%"}
    elif case == "no code":
        del query["code"]
    elif case == "cancelled":
        query = {"error": "access_denied", "state": query["state"]}
    elif case == "code used":
        site.handle(origin_request(callback.path, cookies, urlencode(query)))
    answer = site.handle(origin_request(callback.path, cookies, urlencode(query)))
    assert 400 <= int(answer["status"]) < 500, answer
    assert answer["headers"]["content-type"][0]["value"] == "text/html; charset=utf-8"
    assert "set-cookie" not in answer["headers"]
    assert '<a href="/members/">' in answer["body"]


@pytest.mark.parametrize("failure", ["unreachable", "500", "not json"])
def test_a_token_endpoint_that_fails_is_a_page_not_a_500(failure: str, hosted: HostedSignIn) -> None:
    def post(url: str, form: object) -> tuple[int, bytes]:
        if failure == "unreachable":
            raise OSError("timed out")
        return (500, b"{}") if failure == "500" else (200, b"<html>")

    site = SiteAuth(hosted.config(), post=post)
    first = site.handle(origin_request("/members/"))
    state, _, _ = json.loads(jwt.b64url(cookie_value(set_cookies(first)["lk_state"])))
    query = urlencode({"code": "c", "state": state})
    answer = site.handle(
        origin_request("/members/_auth/callback", {"lk_state": cookie_value(set_cookies(first)["lk_state"])}, query)
    )
    assert answer["status"] == "400"


def test_an_expired_session_is_renewed_with_the_refresh_cookie(site: SiteAuth, hosted: HostedSignIn) -> None:
    cookies, _ = sign_in(site, hosted)
    later = SiteAuth(hosted.config(), post=hosted.post, clock=lambda: time.time() + 7200)
    expired = later.handle(origin_request("/members/page", {"lk_id": cookies["lk_id"]}, query="a=1"))
    target = urlsplit(location(expired))
    assert target.path == "/members/_auth/refresh" and dict(parse_qsl(target.query)) == {"to": "/members/page?a=1"}

    # moto's tokens say exp = now + 3600: the renewed one is valid at now, so check it at now
    renewed = site.handle(origin_request(target.path, {"lk_refresh": cookies["lk_refresh"]}, target.query))
    assert location(renewed) == "/members/page?a=1"
    lines = set_cookies(renewed)
    assert set(lines) == {"lk_id", "lk_access"}  # the refresh cookie stays as it was
    assert "status" not in site.handle(origin_request("/members/page", {"lk_id": cookie_value(lines["lk_id"])}))

    stale = site.handle(origin_request(target.path, {"lk_refresh": "not-a-refresh-token"}, target.query))
    assert urlsplit(location(stale)).path == "/_lambdakit/signin/oauth2/authorize"


def test_sign_out_clears_every_cookie_revokes_the_refresh_token_and_goes_to_the_pools_logout(
    site: SiteAuth, hosted: HostedSignIn
) -> None:
    cookies, _ = sign_in(site, hosted)
    answer = site.handle(origin_request("/members/_auth/signout", cookies))
    target = urlsplit(location(answer))
    assert target.path == "/_lambdakit/signin/logout"
    assert dict(parse_qsl(target.query)) == {"client_id": site.client_id, "logout_uri": "/"}
    lines = set_cookies(answer)
    assert set(lines) == set(COOKIES)
    assert all("Max-Age=0" in line and cookie_value(line) == "" for line in lines.values())
    assert "Path=/members/_auth/" in lines["lk_refresh"] and "Path=/members;" in lines["lk_id"]
    logout = hosted.handle(HttpRequest("GET", target.path, list(parse_qsl(target.query)), [("Host", "localhost")]))
    assert logout.status == 302 and logout.header("Location") == "/"
    refused = site.handle(
        origin_request("/members/_auth/refresh", {"lk_refresh": cookies["lk_refresh"]}, "to=/members/")
    )
    assert urlsplit(location(refused)).path == "/_lambdakit/signin/oauth2/authorize"  # revoked


@pytest.mark.parametrize(
    "to", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/elsewhere", "members", "/members\r\nX: y"]
)
def test_after_sign_in_the_visitor_stays_in_the_area(to: str) -> None:
    assert SiteAuth._back_to("/members", to) == "/members/"
    assert SiteAuth._back_to("", "/anything?x=1") == "/anything?x=1"


def test_a_path_outside_every_area_is_refused(site: SiteAuth, backend: Backend) -> None:
    answer = site.handle(origin_request("/elsewhere", {"lk_id": id_token(backend)}))
    assert answer["status"] == "403"


# -- the local hosted sign-in --------------------------------------------------------------------------------


def test_the_local_sign_in_form_is_plain_html_under_a_strict_csp(site: SiteAuth, hosted: HostedSignIn) -> None:
    target = urlsplit(location(site.handle(origin_request("/members/"))))
    page = hosted.handle(HttpRequest("GET", target.path, list(parse_qsl(target.query)), [("Host", "localhost")]))
    assert page.status == 200 and page.header("Content-Type") == "text/html; charset=utf-8"
    assert "script-src" not in (page.header("Content-Security-Policy") or "")
    assert (page.header("Content-Security-Policy") or "").startswith("default-src 'none'")
    assert b"<script" not in page.body and b"style=" not in page.body
    wrong = dict(parse_qsl(target.query), username=DEMO_USER, password="wrong")
    refused = hosted.handle(HttpRequest("POST", target.path, [], [], urlencode(wrong).encode()))
    assert refused.status == 400 and b'role="alert">Incorrect username or password.' in refused.body
    elsewhere = dict(parse_qsl(target.query), redirect_uri="https://evil.example/members/_auth/callback")
    assert (
        hosted.handle(HttpRequest("GET", target.path, list(elsewhere.items()), [("Host", "localhost")])).status == 400
    )


def test_the_local_token_endpoint_holds_codes_to_pkce_and_one_use(site: SiteAuth, hosted: HostedSignIn) -> None:
    target = urlsplit(location(site.handle(origin_request("/members/"))))
    params = dict(parse_qsl(target.query))
    form = urlencode({**params, "username": DEMO_USER, "password": DEMO_PASSWORD}).encode()
    code = dict(
        parse_qsl(
            urlsplit(hosted.handle(HttpRequest("POST", target.path, [], [], form)).header("Location") or "").query
        )
    )["code"]
    exchange = {"grant_type": "authorization_code", "client_id": site.client_id, "code": code}
    exchange.update(redirect_uri=params["redirect_uri"], code_verifier="not-the-verifier")
    status, body = hosted.post("/_lambdakit/signin/oauth2/token", exchange)
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"
    status, body = hosted.post("/_lambdakit/signin/oauth2/token", {**exchange, "client_id": "other"})
    assert status == 400 and json.loads(body)["error"] == "invalid_client"


# -- config, checks and the shipped artifact -----------------------------------------------------------------

OUTPUTS = {
    "SiteAuthUserPoolId": "eu-west-1_AbCdEf123",
    "SiteAuthClientId": "5site0client0id",
    "SiteAuthDomain": "club-users-1234.auth.eu-west-1.amazoncognito.com",
    "SiteUrl": "https://www.example.com",
}


def test_config_from_the_main_stacks_outputs_names_the_pool_its_keys_and_the_site(app: App) -> None:
    config = derive.config_from(app, OUTPUTS, _moto_jwks())
    assert config["issuer"] == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    assert config["client_id"] == "5site0client0id"
    assert config["authorize_url"] == "https://club-users-1234.auth.eu-west-1.amazoncognito.com/oauth2/authorize"
    assert config["token_url"].endswith(".amazoncognito.com/oauth2/token")
    assert config["site_url"] == "https://www.example.com" and config["areas"] == ["/members"]
    assert [k["kid"] for k in config["keys"]] == ["dummy"] and "d" not in config["keys"][0]  # public halves only
    assert derive.jwks_url(OUTPUTS) == (
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json"
    )
    site = SiteAuth(config)
    answer = site.handle(origin_request("/members/"))
    params = dict(parse_qsl(urlsplit(location(answer)).query))
    assert params["redirect_uri"] == "https://www.example.com/members/_auth/callback"
    with pytest.raises(ValueError, match="SiteAuthClientId"):
        derive.config_from(app, {k: v for k, v in OUTPUTS.items() if k != "SiteAuthClientId"}, _moto_jwks())
    with pytest.raises(ValueError, match="RS256"):
        derive.config_from(app, OUTPUTS, {"keys": []})


def test_the_shipped_handler_runs_on_the_standard_library_alone(app: App, tmp_path: Path) -> None:
    """The artifact's layout (lambdakit/edge/ and lambdakit_edge.json at its root), run by a Python that
    sees no site-packages: nothing beyond the standard library is imported."""
    edge = tmp_path / "lambdakit" / "edge"
    edge.mkdir(parents=True)
    (tmp_path / "lambdakit" / "__init__.py").write_text("")
    for name in ("__init__.py", "jwt.py", "site_auth.py"):
        shutil.copy(ROOT / "lambdakit" / "edge" / name, edge / name)
    config = derive.config_from(app, OUTPUTS, _moto_jwks())
    (tmp_path / "lambdakit_edge.json").write_text(
        json.dumps({"module": None, "event": "origin-request", "config": config})
    )
    event = cloudfront_event(
        "origin-request", uri="/members/index.html", headers={"x-lambdakit-viewer-uri": "/members/"}
    )
    script = (
        "import json, sys; from lambdakit.edge.site_auth import handler; "
        "answer = handler(json.loads(sys.stdin.read()), None); "
        "print(json.dumps([answer['status'], sorted(m for m in sys.modules if m.split('.')[0] == 'lambdakit')]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    run = subprocess.run(
        [sys.executable, "-S", "-E", "-s", "-c", script],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    status, modules = json.loads(run.stdout)
    assert status == "302" and modules == [
        "lambdakit",
        "lambdakit.edge",
        "lambdakit.edge.jwt",
        "lambdakit.edge.site_auth",
    ]
    # packaged before the main stack existed (no config yet): closed, not open, not a crash
    (tmp_path / "lambdakit_edge.json").write_text(
        json.dumps({"module": None, "event": "origin-request", "config": {"steps": []}})
    )
    run = subprocess.run(
        [sys.executable, "-S", "-E", "-s", "-c", script],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)[0] == "503"


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            'lk.Cognito(arn="arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_x")',
            "a pool the stack creates",
        ),
        ("users.scopes('orders/write')", ".scopes() is for routes"),
        ("{'/members': users, '/staff': lk.Cognito('staff')}", "the same lk.Cognito"),
        ("{'/api/secret': users}", "overlaps an API path"),
        ("{'/members/': users}", "give a path such as '/members'"),
        ("{'/members': users, '/members/vip': users}", "inside another protected path"),
        ("'users'", "give an lk.Cognito"),
        ("{}", "protects nothing"),
    ],
)
def test_a_wrong_auth_is_a_build_error_naming_the_fix(auth: str, message: str, tmp_path: Path) -> None:
    source = (
        "import lambdakit as lk\nservice = lk.Service('club')\nusers = lk.Cognito('club-users')\n"
        "@lk.route('GET', '/secret')\ndef secret() -> dict[str, str]:\n    return {}\n"
        f"site = lk.Frontend('web', auth={auth})\n"
    )
    with pytest.raises(BuildError) as failed:
        discover(write_package(tmp_path, {"__init__.py": source, **FILES}))
    assert any(message in problem and "auth=" in problem for problem in failed.value.problems), failed.value.problems


# -- through the test client: the local site runs the same handler on the protected behavior ---------------


def test_the_test_client_signs_in_through_the_local_site_and_out_again(tmp_path: Path) -> None:
    from lambdakit.testing.client import Client

    jar: dict[str, str] = {}

    def keep(result: Any) -> None:
        for line in result.set_cookies:
            name, value = line.split(";", 1)[0].split("=", 1)
            if "Max-Age=0" in line:
                jar.pop(name, None)
            else:
                jar[name] = value

    def get(client: Client, url: str) -> Any:
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        result = client.get(url, headers={"Cookie": cookie} if cookie else None)
        keep(result)
        return result

    package = write_package(tmp_path, {"__init__.py": MEMBERS, **FILES})
    with Client(package) as client:
        client.emulator.backend.pools.add_user(DEMO_USER, DEMO_PASSWORD, "club-users")
        assert get(client, "/").text == "<h1>Club</h1>"  # the public part needs no sign-in
        first = get(client, "/members/")
        assert first.status == 302 and "lk_state" in jar
        form = get(client, first.header("Location"))
        assert form.status == 200 and 'name="password"' in form.text
        authorize = urlsplit(first.header("Location"))
        fields = {**dict(parse_qsl(authorize.query)), "username": DEMO_USER, "password": DEMO_PASSWORD}
        posted = client.post(
            authorize.path, body=urlencode(fields), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert posted.status == 302
        callback = get(client, posted.header("Location"))
        assert callback.status == 302 and callback.header("Location") == "/members/"
        assert {"lk_id", "lk_access", "lk_refresh"} <= set(jar)
        page = get(client, "/members/")
        assert page.status == 200 and page.text == "<h1>Members</h1>"
        assert page.header("Strict-Transport-Security")  # the site's headers policy, as on every answer
        signed_out = get(client, "/members/_auth/signout")
        assert signed_out.status == 302 and "lk_id" not in jar
        assert (
            get(
                client,
                urlsplit(signed_out.header("Location")).path + "?" + urlsplit(signed_out.header("Location")).query,
            ).header("Location")
            == "/"
        )
        assert get(client, "/members/").status == 302


def test_a_whole_site_sign_in_guards_every_page_but_leaves_the_api_to_its_own_auth(tmp_path: Path) -> None:
    from lambdakit.testing.client import Client

    source = (
        "import lambdakit as lk\nservice = lk.Service('portal')\nusers = lk.Cognito('portal-users')\n"
        "site = lk.Frontend('web', auth=users)\n"
        "@lk.route('GET', '/hello')\ndef hello() -> dict[str, str]:\n    return {'hello': 'world'}\n"
    )
    package = write_package(tmp_path, {"__init__.py": source, "web/index.html": "<h1>Portal</h1>"})
    with Client(package) as client:
        client.emulator.backend.pools.add_user(DEMO_USER, DEMO_PASSWORD, "portal-users")
        for path in ("/", "/index.html", "/deep/route"):
            answer = client.get(path)
            assert answer.status == 302, path
            assert urlsplit(answer.header("Location") or "").path == "/_lambdakit/signin/oauth2/authorize"
        assert client.get("/api/hello").json == {"hello": "world"}  # the API keeps its own auth (public here)
        first = client.get("/deep/route")
        state = cookie_value(first.set_cookies[0])
        assert json.loads(jwt.b64url(state))[2] == "/deep/route"  # the viewer's path, not the SPA's index.html
        authorize = urlsplit(first.header("Location") or "")
        fields = {**dict(parse_qsl(authorize.query)), "username": DEMO_USER, "password": DEMO_PASSWORD}
        posted = client.post(authorize.path, body=urlencode(fields))
        assert (posted.header("Location") or "").startswith("/_auth/callback?")
        done = client.get(posted.header("Location") or "", headers={"Cookie": f"lk_state={state}"})
        assert done.status == 302 and done.header("Location") == "/deep/route"
        session = {line.split("=", 1)[0]: cookie_value(line) for line in done.set_cookies}
        page = client.get("/deep/route", headers={"Cookie": f"lk_id={session['lk_id']}"})
        assert page.status == 200 and page.text == "<h1>Portal</h1>"
