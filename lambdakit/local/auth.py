"""What API Gateway checks before a route runs, done for real: Cognito JWTs, SigV4 signatures, authorizer caching.

- Cognito: the token's RS256 signature against moto's published keys (moto's
  Cognito signs with the private half), then `iss`, `exp`, `token_use` and the
  app client, as API Gateway's Cognito authorizer does: an ID token on routes
  without scopes, an access token holding one of the route's scopes otherwise.
- IAM: the SigV4 signature recomputed with botocore's own signer from the
  local credentials, so a signature made with anything else is refused.
- Lambda authorizers: `lambdakit.runtime.authorizer.authorize` runs the
  function and judges its policy against the method ARN; this module adds
  API Gateway's result cache (keyed by the identity sources, for `ttl`
  seconds), so a policy too narrow for the routes sharing it fails locally too.

A refusal is a `Refusal`: the gateway response type and message API Gateway uses.
"""

from __future__ import annotations

import gzip
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambdakit.declare.auth import Cognito
from lambdakit.local.backend import Backend

UNAUTHORIZED = "Unauthorized"


class Refusal(Exception):
    """API Gateway answered for the route: `kind` is the gateway response type (UNAUTHORIZED, ...)."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


# -- Cognito -----------------------------------------------------------------


def _moto_jwks() -> dict[str, Any]:
    import moto.cognitoidp

    folder = Path(moto.cognitoidp.__file__).parent / "resources"
    packed = folder / "jwks-public.json.gz"
    if packed.exists():
        return dict(json.loads(gzip.decompress(packed.read_bytes())))
    return dict(json.loads((folder / "jwks-public.json").read_text()))


def _stringified(claims: Mapping[str, Any]) -> dict[str, str]:
    """API Gateway hands a Cognito authorizer's claims to the integration as strings."""
    out = {}
    for key, value in claims.items():
        out[key] = (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, (list, dict))
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
    return out


class CognitoVerifier:
    """Verifies tokens of the pools the backend created, with moto's public keys."""

    def __init__(self, backend: Backend, clock: Callable[[], float] = time.time) -> None:
        from joserfc.jwk import KeySet

        self.backend = backend
        self.clock = clock
        self.keys = KeySet.import_key_set(_moto_jwks())  # type: ignore[arg-type]

    def verify(self, header: str | None, pool: Cognito) -> dict[str, Any]:
        """`requestContext.authorizer` for a valid token; raises `Refusal` (401) as API Gateway would."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        token = (header or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Refusal(401, "UNAUTHORIZED", UNAUTHORIZED)
        try:
            claims = dict(jwt.decode(token, self.keys, algorithms=["RS256"]).claims)
        except (JoseError, ValueError, TypeError):
            raise Refusal(401, "UNAUTHORIZED", UNAUTHORIZED) from None
        local = self.backend.pools.created(pool.name)
        if local is None or claims.get("iss") != local.issuer:
            raise Refusal(401, "UNAUTHORIZED", UNAUTHORIZED)
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= self.clock():
            raise Refusal(401, "UNAUTHORIZED", "The incoming token has expired")
        if pool.required_scopes:  # an access token holding one of the route's scopes
            granted = set(str(claims.get("scope", "")).split())
            if (
                claims.get("token_use") != "access"
                or claims.get("client_id") != local.client_id
                or not granted & set(pool.required_scopes)
            ):
                raise Refusal(401, "UNAUTHORIZED", UNAUTHORIZED)
        elif claims.get("token_use") != "id" or claims.get("aud") != local.client_id:
            raise Refusal(401, "UNAUTHORIZED", UNAUTHORIZED)
        return {"claims": _stringified(claims)}


# -- IAM (SigV4) ---------------------------------------------------------------

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)


def verify_sigv4(
    method: str,
    raw_path: str,
    raw_query: str,
    header: Callable[[str], str | None],
    body: bytes,
    credentials: Mapping[str, str],
    account: str,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """`requestContext.identity` for a request signed with known credentials; raises `Refusal` (403) otherwise.

    `header(name)` looks a request header up, ignoring case.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = header("Authorization") or ""
    if not authorization:
        raise Refusal(403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
    scheme, _, rest = authorization.partition(" ")
    fields = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    credential, signed, signature = (
        fields.get("Credential", ""),
        fields.get("SignedHeaders", ""),
        fields.get("Signature", ""),
    )
    parts = credential.split("/")
    if scheme != "AWS4-HMAC-SHA256" or len(parts) != 5 or not signed or not signature:
        raise Refusal(
            403,
            "INCOMPLETE_SIGNATURE",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            f"(AWS4-HMAC-SHA256); got {scheme or 'nothing'}",
        )
    access_key, day, region, service, _ = parts
    secret = credentials.get(access_key)
    if secret is None:
        known = ", ".join(sorted(credentials))
        raise Refusal(
            403,
            "UNRECOGNIZED_CLIENT",
            f"The security token included in the request is invalid. (lambdakit local accepts signatures "
            f"made with AWS_ACCESS_KEY_ID={known} and its secret)",
        )
    stamp = header("X-Amz-Date") or ""
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise Refusal(403, "INVALID_SIGNATURE", "the request has no valid X-Amz-Date header") from None
    if not stamp.startswith(day):
        raise Refusal(
            403,
            "INVALID_SIGNATURE",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 "
            f"version of date from HTTP: '{day}' != '{stamp[:8]}'",
        )
    if abs(clock() - when) > 300:
        raise Refusal(403, "INVALID_SIGNATURE", f"Signature expired: {stamp} is not within 5 minutes of now")
    names = signed.split(";")
    request = AWSRequest(
        method=method,
        url=f"http://{header('Host') or 'localhost'}{raw_path}" + (f"?{raw_query}" if raw_query else ""),
        headers={name: header(name) or "" for name in names},
        data=body,
    )
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(access_key, secret), service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if service != "execute-api" or not hmac.compare_digest(expected, signature):
        raise Refusal(403, "INVALID_SIGNATURE", SIGNATURE_MISMATCH)
    return {
        "accessKey": access_key,
        "accountId": account,
        "caller": access_key,
        "user": "local",
        "userArn": f"arn:aws:iam::{account}:user/local",
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "principalOrgId": None,
    }


# -- Lambda authorizers: API Gateway's result cache -------------------------------


class AuthorizerCache:
    """Policies an authorizer returned, by authorizer and identity-source values, for its `ttl`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[tuple[str, tuple[str | None, ...]], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, tuple[str | None, ...]]) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] <= self.clock():
                self._entries.pop(key, None)
                return None
            return found[1]

    def put(self, key: tuple[str, tuple[str | None, ...]], ttl: int, response: Any) -> None:
        if ttl > 0:
            with self._lock:
                self._entries[key] = (self.clock() + ttl, response)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
