"""Cognito's hosted sign-in, stood in for on the local site's own origin, under `/_lambdakit/signin/`.

What the site's sign-in (`lambdakit.edge.site_auth`) talks to, run locally against the local pool in
moto, so `lambdakit local` and the test client sign visitors in as the deployed site does:

- `GET  /oauth2/authorize`: a plain sign-in form (no script, a strict CSP), after the client, the
  redirect URI (a callback of a protected area) and the PKCE challenge are checked;
- `POST /oauth2/authorize`: the password checked by Cognito (moto's `admin_initiate_auth`), then a
  302 back to the callback with a one-time code (five minutes);
- `POST /oauth2/token`: the code (with its PKCE verifier) or a refresh token exchanged for moto's
  real tokens (RS256, moto's keys), with Cognito's error shape (`invalid_grant` ...);
- `POST /oauth2/revoke`: the refresh token refused from then on; `GET /logout`: back to the site.

The edge handler reaches the token endpoint through `post` (in-process, no network): `edge_handler()`
is the handler `lambdakit local` runs on each protected behavior's origin request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from lambdakit.declare.app import App
from lambdakit.derive.site_auth import LOCAL_SIGNIN, declared, local_config
from lambdakit.edge.site_auth import AUTH_PATH, make_handler
from lambdakit.local.gateway import HttpRequest, HttpResponse
from lambdakit.local.pools import LocalPool, UserPools

CODE_SECONDS = 300
CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
_FIELDS = ("response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method")


@dataclass(frozen=True)
class _Code:
    tokens: dict[str, Any]
    client_id: str
    redirect_uri: str
    challenge: str
    expires: float


class HostedSignIn:
    """The stand-in for one app's pool domain; `handle(request)` answers the paths under `LOCAL_SIGNIN`."""

    def __init__(self, app: App, pools: UserPools, clock: Callable[[], float] = time.time) -> None:
        found = declared(app.site)
        if found is None:
            raise ValueError(f"{app.package}: the site declares no auth=")
        self.app = app
        self.pool, self.areas = found
        self.pools = pools
        self.clock = clock
        self._codes: dict[str, _Code] = {}
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    @staticmethod
    def serves(path: str) -> bool:
        return path == LOCAL_SIGNIN or path.startswith(LOCAL_SIGNIN + "/")

    def local_pool(self) -> LocalPool:
        self.pools.declare(self.pool)
        return self.pools.get(self.pool.name)

    def config(self) -> dict[str, Any]:
        """The edge handler's config for this machine (`lambdakit.derive.site_auth.local_config`)."""
        from lambdakit.local.auth import _moto_jwks

        local = self.local_pool()
        return local_config(self.app, issuer=local.issuer, client=local.client_id, jwks=_moto_jwks())

    def edge_handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        """The shipped site-auth handler, configured for this machine, its token calls answered in-process.

        Configured on its first request: the local pool is made in moto then, not when the app starts."""
        built: list[Callable[[dict[str, Any], Any], dict[str, Any]]] = []

        def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
            if not built:
                built.append(make_handler(self.config(), post=self.post, clock=self.clock))
            return built[0](event, context)

        return handle

    # -- the endpoints ----------------------------------------------------------------------
    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path[len(LOCAL_SIGNIN) :]
        method = request.method.upper()
        if path == "/oauth2/authorize" and method in ("GET", "HEAD"):
            return self._authorize(request, dict(request.query))
        if path == "/oauth2/authorize" and method == "POST":
            return self._sign_in(request, dict(parse_qsl(request.body.decode("utf-8", "replace"))))
        if path in ("/oauth2/token", "/oauth2/revoke") and method == "POST":
            status, body = self.post(path, dict(parse_qsl(request.body.decode("utf-8", "replace"))))
            return HttpResponse(status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body)
        if path == "/logout" and method in ("GET", "HEAD"):
            return self._logout(request, dict(request.query))
        return _json(404, {"error": "not_found", "error_description": f"no hosted sign-in endpoint {path or '/'}"})

    def post(self, url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
        """The token and revoke endpoints, as the edge handler calls them (`url` may be a path)."""
        path = urlsplit(url).path.removeprefix(LOCAL_SIGNIN)
        if path == "/oauth2/revoke":
            with self._lock:
                self._revoked.add(form.get("token", ""))
            return 200, b""
        if path != "/oauth2/token":
            return 404, json.dumps({"error": "not_found"}).encode()
        grant = form.get("grant_type")
        if form.get("client_id") != self.local_pool().client_id:
            return _grant_error("invalid_client", "unknown client_id")
        if grant == "authorization_code":
            return self._exchange(form)
        if grant == "refresh_token":
            return self._refresh(form.get("refresh_token", ""))
        return _grant_error("unsupported_grant_type", f"grant_type {grant!r}")

    # -- steps ------------------------------------------------------------------------------
    def _problem(self, request: HttpRequest, params: Mapping[str, str]) -> str | None:
        """What Cognito would refuse about an authorize request, or None."""
        if params.get("response_type") != "code":
            return "response_type must be code"
        if params.get("client_id") != self.local_pool().client_id:
            return "client_id is not the site's app client"
        target = urlsplit(params.get("redirect_uri", ""))
        callbacks = {f"{area}{AUTH_PATH}/callback" for area in self.areas}
        if target.path not in callbacks or (target.netloc and target.netloc != (request.header("Host") or "")):
            return f"redirect_uri is not a callback URL of the site's app client ({', '.join(sorted(callbacks))})"
        if params.get("code_challenge") and params.get("code_challenge_method") != "S256":
            return "code_challenge_method must be S256"
        return None

    def _authorize(self, request: HttpRequest, params: Mapping[str, str], error: str = "") -> HttpResponse:
        problem = self._problem(request, params)
        if problem is not None:
            return _page(400, "Sign-in refused", f"<p>{html.escape(problem)}</p>")
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
            for name in _FIELDS
            if name in params
        )
        alert = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        form = (
            f'<form method="post" action="{LOCAL_SIGNIN}/oauth2/authorize">{hidden}'
            '<p><label for="username">Email</label> '
            '<input id="username" name="username" type="email" autocomplete="username" required></p>'
            '<p><label for="password">Password</label> '
            '<input id="password" name="password" type="password" autocomplete="current-password" required></p>'
            '<p><button type="submit">Sign in</button></p></form>'
            "<p><small>lambdakit local: Cognito's hosted sign-in, stood in for (pool "
            f"{html.escape(self.pool.name)}).</small></p>"
        )
        return _page(400 if error else 200, "Sign in", alert + form)

    def _sign_in(self, request: HttpRequest, form: Mapping[str, str]) -> HttpResponse:
        params = {name: form[name] for name in _FIELDS if name in form}
        problem = self._problem(request, params)
        if problem is not None:
            return _page(400, "Sign-in refused", f"<p>{html.escape(problem)}</p>")
        from botocore.exceptions import ClientError, ParamValidationError

        try:
            tokens = self.pools.sign_in(form.get("username", ""), form.get("password", ""), self.pool.name)
        except (ClientError, ParamValidationError):
            return self._authorize(request, params, "Incorrect username or password.")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                {
                    "id_token": tokens["IdToken"],
                    "access_token": tokens["AccessToken"],
                    "refresh_token": tokens.get("RefreshToken", ""),
                    "expires_in": int(tokens.get("ExpiresIn", 3600)),
                    "token_type": "Bearer",
                },
                params["client_id"],
                params["redirect_uri"],
                params.get("code_challenge", ""),
                self.clock() + CODE_SECONDS,
            )
        query = {"code": code, **({"state": params["state"]} if params.get("state") else {})}
        return HttpResponse(302, [("Location", f"{params['redirect_uri']}?{urlencode(query)}")], b"")

    def _exchange(self, form: Mapping[str, str]) -> tuple[int, bytes]:
        with self._lock:
            found = self._codes.pop(form.get("code", ""), None)  # one use, whatever follows
        if found is None or found.expires <= self.clock() or found.redirect_uri != form.get("redirect_uri"):
            return _grant_error("invalid_grant", "the code is unknown, used or expired, or for another redirect_uri")
        if found.challenge:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not hmac.compare_digest(digest, found.challenge):
                return _grant_error("invalid_grant", "code_verifier does not match the code_challenge")
        return 200, json.dumps(found.tokens).encode()

    def _refresh(self, refresh_token: str) -> tuple[int, bytes]:
        with self._lock:
            revoked = refresh_token in self._revoked
        if not refresh_token or revoked:
            return _grant_error("invalid_grant", "Refresh Token has been revoked")
        from lambdakit.runtime import aws

        local = self.local_pool()
        try:
            result = aws.client("cognito-idp").admin_initiate_auth(
                UserPoolId=local.pool_id,
                ClientId=local.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )["AuthenticationResult"]
        except Exception:  # moto fails an unknown refresh token in several ways; Cognito says invalid_grant
            return _grant_error("invalid_grant", "Invalid Refresh Token")
        tokens = {
            "id_token": result["IdToken"],
            "access_token": result["AccessToken"],
            "expires_in": int(result.get("ExpiresIn", 3600)),
            "token_type": "Bearer",
        }
        return 200, json.dumps(tokens).encode()

    def _logout(self, request: HttpRequest, params: Mapping[str, str]) -> HttpResponse:
        target = urlsplit(params.get("logout_uri", ""))
        if params.get("client_id") != self.local_pool().client_id or target.path != "/":
            return _page(400, "Sign-out refused", "<p>client_id or logout_uri is not the site's</p>")
        if target.netloc and target.netloc != (request.header("Host") or ""):
            return _page(400, "Sign-out refused", "<p>logout_uri is not on this site</p>")
        return HttpResponse(302, [("Location", params["logout_uri"]), ("Cache-Control", "no-store")], b"")


def _page(status: int, title: str, content: str) -> HttpResponse:
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body><main><h1>{html.escape(title)}</h1>{content}</main></body></html>"
    )
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", CSP),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return HttpResponse(status, headers, body.encode())


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(body).encode())


def _grant_error(code: str, description: str) -> tuple[int, bytes]:
    return 400, json.dumps({"error": code, "error_description": description}).encode()
