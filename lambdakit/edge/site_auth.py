"""The site's sign-in, at the edge: a Lambda@Edge origin-request handler on each protected behavior.

`lambdakit.edge.site_auth.handler`, standard library only. A request with a valid ID token cookie goes
on to the bucket (without lambdakit's cookies, without a query string S3 would read). Anything else
is sent through Cognito's code flow with PKCE (a public app client: no secret to bake into a package
CloudFront copies worldwide):

- no session -> 302 to the pool's `/oauth2/authorize`, with a random `state` and PKCE verifier kept in a
  short-lived cookie with the path to come back to;
- `AREA/_auth/callback?code&state` -> the state checked against that cookie, the code exchanged at the
  token endpoint, the ID token verified, then cookies set and a 302 back;
- an expired (but otherwise valid) ID token -> `AREA/_auth/refresh`, where the refresh cookie lives
  (sent nowhere else), then back;
- `AREA/_auth/signout` -> cookies cleared, the refresh token revoked, 302 to the pool's `/logout`.

A forged, foreign or broken token is treated as no session: back to sign-in, never a 500. The
viewer's own path is read from `x-lambdakit-viewer-uri`, which lambdakit's viewer-request function
sets before its SPA fallback rewrites the URI; a members' area's client-side routes then get the
area's own entry file (`/members/index.html`). Lambda@Edge has no environment: the pool's keys,
issuer, app client and endpoints come from `lambdakit_edge.json` (`config`), baked in at deploy.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lambdakit.edge import jwt

#: `post(url, form) -> (status, body)`: the token endpoint's transport (urllib on AWS; in-process locally).
Post = Callable[[str, Mapping[str, str]], tuple[int, bytes]]

VIEWER_URI_HEADER = "x-lambdakit-viewer-uri"
ID_COOKIE = "lk_id"
ACCESS_COOKIE = "lk_access"
REFRESH_COOKIE = "lk_refresh"
STATE_COOKIE = "lk_state"
COOKIES = (ID_COOKIE, ACCESS_COOKIE, REFRESH_COOKIE, STATE_COOKIE)
AUTH_PATH = "/_auth"
MAX_COOKIE_BYTES = 4096  # what every browser keeps of one cookie, name and attributes included
STATE_SECONDS = 600
TOKEN_TIMEOUT = 3.0  # seconds, within the function's 5 s (EDGE's SiteAuth plan)


def urllib_post(url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
    """A form POST over HTTPS: what Cognito's token and revoke endpoints take (urllib imported here: most
    requests only check a cookie, and http.client and ssl would cost every cold start)."""
    import urllib.error
    import urllib.request

    data = urllib.parse.urlencode(dict(form)).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TOKEN_TIMEOUT) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _header(request: Mapping[str, Any], name: str) -> list[str]:
    return [str(h.get("value", "")) for h in request.get("headers", {}).get(name, ())]


def cookies_of(request: Mapping[str, Any]) -> dict[str, str]:
    """The request's cookies (every `Cookie` header); the first of a repeated name wins, as browsers send it."""
    found: dict[str, str] = {}
    for line in _header(request, "cookie"):
        for pair in line.split(";"):
            name, _, value = pair.strip().partition("=")
            if name and name not in found:
                found[name] = value.strip()
    return found


def _page(status: int, title: str, message: str, link: str | None = None) -> dict[str, Any]:
    """A small HTML answer (no script, nothing cached): what the visitor sees when sign-in cannot go on."""
    import html

    again = f'<p><a href="{html.escape(link)}">Sign in again</a></p>' if link else ""
    body = (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>'
        f"{html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{again}</html>"
    )
    return {
        "status": str(status),
        "statusDescription": title,
        "headers": {
            "content-type": [{"key": "Content-Type", "value": "text/html; charset=utf-8"}],
            "cache-control": [{"key": "Cache-Control", "value": "no-store"}],
        },
        "body": body,
    }


def _redirect(location: str, cookies: Sequence[str] = ()) -> dict[str, Any]:
    headers: dict[str, list[dict[str, str]]] = {
        "location": [{"key": "Location", "value": location}],
        "cache-control": [{"key": "Cache-Control", "value": "no-store"}],
    }
    if cookies:
        headers["set-cookie"] = [{"key": "Set-Cookie", "value": c} for c in cookies]
    return {"status": "302", "statusDescription": "Found", "headers": headers}


class SiteAuth:
    """One protected site: `handle(request)` is the origin-request answer (the request to go on, or a response)."""

    def __init__(
        self, config: Mapping[str, Any], post: Post = urllib_post, clock: Callable[[], float] = time.time
    ) -> None:
        self.issuer = str(config["issuer"])
        self.client_id = str(config["client_id"])
        self.keys = jwt.keys_of(config["keys"])
        self.authorize_url = str(config["authorize_url"])
        self.token_url = str(config["token_url"])
        self.logout_url = str(config["logout_url"])
        self.revoke_url = str(config.get("revoke_url") or "")
        self.site_url = str(config.get("site_url") or "").rstrip("/")  # "": same-origin redirects (local)
        self.scopes = " ".join(config.get("scopes") or ("openid", "email", "profile"))
        self.areas = sorted((str(a).rstrip("/") for a in config["areas"]), key=len, reverse=True)
        self.secure = bool(config.get("secure", True))
        self.session_seconds = int(config.get("session_seconds", 30 * 86400))
        self.post = post
        self.clock = clock

    # -- the answer -------------------------------------------------------------------------
    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        viewer = next(iter(_header(request, VIEWER_URI_HEADER)), "")
        uri = viewer or str(request.get("uri", "/"))
        area = self._area(uri)
        if area is None:  # a protected behavior reached outside every protected area: refuse, never serve
            return _page(403, "Forbidden", "This page is not part of the site's signed-in areas.")
        query = urllib.parse.parse_qs(str(request.get("querystring") or ""), keep_blank_values=True)
        endpoint = uri[len(area) :]
        cookies = cookies_of(request)
        if endpoint == AUTH_PATH + "/callback":
            return self._callback(area, query, cookies)
        if endpoint == AUTH_PATH + "/refresh":
            return self._refresh(area, self._back_to(area, _first(query, "to")), cookies)
        if endpoint == AUTH_PATH + "/signout":
            return self._sign_out(area, cookies)
        back = self._back_to(area, self._viewer_path(uri, request))
        try:
            self._verified(cookies.get(ID_COOKIE, ""))
        except jwt.ExpiredToken:
            return _redirect(f"{area}{AUTH_PATH}/refresh?" + urllib.parse.urlencode({"to": back}))
        except jwt.InvalidToken:
            return self._sign_in(area, back)
        return self._onward(request)  # the SPA fallback gave an area's client-side routes its own entry file

    # -- steps ------------------------------------------------------------------------------
    def _sign_in(self, area: str, back: str) -> dict[str, Any]:
        state, verifier = _b64(secrets.token_bytes(32)), _b64(secrets.token_bytes(32))
        challenge = _b64(hashlib.sha256(verifier.encode("ascii")).digest())
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self._callback_url(area),
                "scope": self.scopes,
                "state": state,
                "code_challenge_method": "S256",
                "code_challenge": challenge,
            }
        )
        kept = _b64(json.dumps([state, verifier, back], separators=(",", ":")).encode())
        cookie = self._cookie(STATE_COOKIE, kept, area + AUTH_PATH + "/", STATE_SECONDS)
        return _redirect(f"{self.authorize_url}?{query}", [cookie])

    def _callback(self, area: str, query: dict[str, list[str]], cookies: Mapping[str, str]) -> dict[str, Any]:
        retry = (area or "") + "/"
        if _first(query, "error"):
            return _page(401, "Not signed in", "The sign-in was cancelled or refused.", retry)
        started = _state(cookies.get(STATE_COOKIE, ""))
        state, code = _first(query, "state"), _first(query, "code")
        if started is None or not state or not code or not hmac.compare_digest(started[0].encode(), state.encode()):
            return _page(400, "Sign-in expired", "This sign-in was not started here, or it took too long.", retry)
        _, verifier, back = started
        form = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "code": code,
            "redirect_uri": self._callback_url(area),
            "code_verifier": verifier,
        }
        tokens = self._tokens(form)
        if tokens is None:
            return _page(400, "Sign-in failed", "The sign-in could not be completed.", retry)
        return self._signed_in(area, tokens, self._back_to(area, back), fresh=True)

    def _refresh(self, area: str, back: str, cookies: Mapping[str, str]) -> dict[str, Any]:
        refresh = cookies.get(REFRESH_COOKIE, "")
        tokens = None
        if refresh:
            tokens = self._tokens(
                {"grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": refresh}
            )
        if tokens is None:
            return self._sign_in(area, back)
        tokens.setdefault("refresh_token", refresh)  # Cognito keeps the refresh token it was given
        return self._signed_in(area, tokens, back, fresh=False)

    def _signed_in(self, area: str, tokens: dict[str, Any], back: str, fresh: bool) -> dict[str, Any]:
        expires = int(tokens.get("expires_in") or 3600)
        cookies = [self._cookie(ID_COOKIE, tokens["id_token"], area or "/", self.session_seconds)]
        access = self._cookie(ACCESS_COOKIE, str(tokens.get("access_token") or ""), area or "/", expires)
        if tokens.get("access_token") and len(access) <= MAX_COOKIE_BYTES:
            cookies.append(access)  # not needed at the edge: left out rather than cut when too large
        if fresh:
            refresh = str(tokens.get("refresh_token") or "")
            if refresh:
                cookies.append(self._cookie(REFRESH_COOKIE, refresh, area + AUTH_PATH + "/", self.session_seconds))
            cookies.append(self._cookie(STATE_COOKIE, "", area + AUTH_PATH + "/", 0))
        if any(len(c) > MAX_COOKIE_BYTES for c in cookies):
            return _page(502, "Sign-in failed", "The pool's tokens are too large to keep in a cookie.")
        return _redirect(back, cookies)

    def _sign_out(self, area: str, cookies: Mapping[str, str]) -> dict[str, Any]:
        refresh = cookies.get(REFRESH_COOKIE)
        if refresh and self.revoke_url:
            with contextlib.suppress(OSError):  # best effort: the cookies go whatever Cognito answers
                self.post(self.revoke_url, {"token": refresh, "client_id": self.client_id})
        auth = area + AUTH_PATH + "/"
        cleared = [
            self._cookie(ID_COOKIE, "", area or "/", 0),
            self._cookie(ACCESS_COOKIE, "", area or "/", 0),
            self._cookie(REFRESH_COOKIE, "", auth, 0),
            self._cookie(STATE_COOKIE, "", auth, 0),
        ]
        query = urllib.parse.urlencode({"client_id": self.client_id, "logout_uri": self.site_url + "/"})
        return _redirect(f"{self.logout_url}?{query}", cleared)

    def _onward(self, request: dict[str, Any]) -> dict[str, Any]:
        """The request for the origin: lambdakit's cookies and header removed; no query string for S3."""
        headers = request.setdefault("headers", {})
        headers.pop(VIEWER_URI_HEADER, None)
        kept = [
            pair.strip()
            for line in _header(request, "cookie")
            for pair in line.split(";")
            if pair.strip() and pair.strip().partition("=")[0] not in COOKIES
        ]
        if kept:
            headers["cookie"] = [{"key": "Cookie", "value": "; ".join(kept)}]
        else:
            headers.pop("cookie", None)
        if "s3" in (request.get("origin") or {}):
            request["querystring"] = ""
        return request

    # -- helpers ----------------------------------------------------------------------------
    def _verified(self, token: str) -> dict[str, Any]:
        if not token:
            raise jwt.InvalidToken("no token")
        return jwt.verify(
            token, self.keys, issuer=self.issuer, client_id=self.client_id, token_use="id", now=self.clock()
        )

    def _tokens(self, form: Mapping[str, str]) -> dict[str, Any] | None:
        """The token endpoint's answer, its ID token verified; None when Cognito refuses or cannot be reached."""
        try:
            status, body = self.post(self.token_url, form)
            tokens = json.loads(body) if status == 200 else None
        except (OSError, ValueError):
            return None
        if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
            return None
        try:
            self._verified(tokens["id_token"])
        except jwt.InvalidToken:
            return None
        return tokens

    def _area(self, uri: str) -> str | None:
        for area in self.areas:
            if not area or uri == area or uri.startswith(area + "/"):
                return area
        return None

    def _callback_url(self, area: str) -> str:
        return f"{self.site_url}{area}{AUTH_PATH}/callback"

    def _cookie(self, name: str, value: str, path: str, max_age: int) -> str:
        secure = "; Secure" if self.secure else ""
        return f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly{secure}; SameSite=Lax"

    @staticmethod
    def _viewer_path(uri: str, request: Mapping[str, Any]) -> str:
        if uri.endswith("/index.html"):  # rewritten by an SPA fallback that kept no viewer URI: its folder
            uri = uri[: -len("index.html")]
        query = str(request.get("querystring") or "")
        return uri + ("?" + query if query else "")

    @staticmethod
    def _back_to(area: str, path: str) -> str:
        """Where to send the visitor after sign-in: a path of this area only (never another site)."""
        plain = path.split("?", 1)[0]
        local = path.startswith("/") and not path.startswith("//") and "\\" not in path and len(path) <= 2048
        if (
            local
            and all(" " < ch < "\x7f" for ch in path)
            and (not area or plain == area or plain.startswith(area + "/"))
        ):
            return path
        return area + "/"


def _first(query: Mapping[str, list[str]], name: str) -> str:
    values = query.get(name) or [""]
    return values[0]


def _state(value: str) -> tuple[str, str, str] | None:
    try:
        found = json.loads(jwt.b64url(value)) if value else None
    except (jwt.InvalidToken, ValueError, UnicodeDecodeError):
        return None
    if isinstance(found, list) and len(found) == 3 and all(isinstance(part, str) and part for part in found):
        return found[0], found[1], found[2]
    return None


def make_handler(
    config: Mapping[str, Any], post: Post = urllib_post, clock: Callable[[], float] = time.time
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda@Edge handler for `config`; `lambdakit local` passes its own `post` (no network)."""
    site = SiteAuth(config, post, clock)

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return site.handle(event["Records"][0]["cf"]["request"])

    return handle


_loaded: list[Callable[[dict[str, Any], Any], dict[str, Any]]] = []


def _unconfigured(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _page(503, "Service Unavailable", "The site's sign-in is being set up: try again in a few minutes.")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The shipped entry point: the config is read once from `lambdakit_edge.json` at the artifact's root.

    A package built before the main stack existed has no config yet: it fails closed (503), never serves."""
    if not _loaded:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "lambdakit_edge.json"), encoding="utf-8") as handle:
            config = json.load(handle).get("config")
        _loaded.append(make_handler(config) if isinstance(config, dict) and "issuer" in config else _unconfigured)
    return _loaded[0](event, context)
