"""RS256 JSON Web Tokens checked with the standard library alone, for the site's sign-in at the edge.

Lambda@Edge ships no `cryptography` and an edge artifact should carry nothing it can do without: an
RS256 signature is `pow(signature, e, n)` compared with the PKCS#1 v1.5 encoding of the SHA-256
digest (RFC 8017, 8.2.2 and 9.2). Everything a token says is refused unless proven: only `RS256`
(never `none`, never an HMAC algorithm keyed with the public key), only a `kid` of the pool's keys,
then the claims Cognito's tokens carry (`exp`, `iss`, `token_use`, and the app client in `aud` for an
ID token, `client_id` for an access token). Comparisons of secrets-derived values are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

#: DER of DigestInfo(sha256, NULL): what precedes the digest in a PKCS#1 v1.5 SHA-256 signature.
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
MIN_KEY_BITS = 2048
MAX_TOKEN_CHARS = 16384  # Cognito's tokens are 1-2 KB; a cookie holds at most 4 KB
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class InvalidToken(Exception):
    """The token is not one the pool issued for this client, or no longer valid; the reason is for logs only."""


class ExpiredToken(InvalidToken):
    """A token the pool issued for this client, every check passed but `exp`: a refresh token may renew it."""


def b64url(text: str) -> bytes:
    """base64url without padding (RFC 7515), strictly: any other character is an error."""
    if not text or not _B64URL.issuperset(text) or len(text) % 4 == 1:
        raise InvalidToken("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _uint(text: str) -> int:
    return int.from_bytes(b64url(text), "big")


class RsaKey:
    """One public key of a JWKS: modulus, exponent and the signature length they imply."""

    __slots__ = ("e", "n", "size")

    def __init__(self, n: int, e: int) -> None:
        if n.bit_length() < MIN_KEY_BITS or e < 3 or e % 2 == 0:
            raise ValueError(f"an RS256 key needs a modulus of at least {MIN_KEY_BITS} bits and an odd exponent")
        self.n, self.e, self.size = n, e, (n.bit_length() + 7) // 8

    def verifies(self, signing_input: bytes, signature: bytes) -> bool:
        """RSASSA-PKCS1-v1_5 with SHA-256: the whole encoded message compared, in constant time."""
        if len(signature) != self.size:
            return False
        value = int.from_bytes(signature, "big")
        if value >= self.n:
            return False
        encoded = pow(value, self.e, self.n).to_bytes(self.size, "big")
        digest = hashlib.sha256(signing_input).digest()
        padding = b"\xff" * (self.size - 3 - len(SHA256_DIGEST_INFO) - len(digest))
        expected = b"\x00\x01" + padding + b"\x00" + SHA256_DIGEST_INFO + digest
        return hmac.compare_digest(encoded, expected)


def keys_of(jwks: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> dict[str, RsaKey]:
    """The RS256 signing keys of a JWKS (`{"keys": [...]}` or the list itself), by `kid`."""
    entries = jwks.get("keys", ()) if isinstance(jwks, Mapping) else jwks
    found: dict[str, RsaKey] = {}
    for entry in entries:
        if entry.get("kty") != "RSA" or entry.get("alg", "RS256") != "RS256" or entry.get("use", "sig") != "sig":
            continue
        found[str(entry["kid"])] = RsaKey(_uint(str(entry["n"])), _uint(str(entry["e"])))
    return found


def _same(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def verify(
    token: str,
    keys: Mapping[str, RsaKey],
    *,
    issuer: str,
    client_id: str,
    token_use: str,
    now: float,
) -> dict[str, Any]:
    """The claims of a valid Cognito token; raises `InvalidToken` for anything else."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise InvalidToken("not a JWS compact serialization")
    head, body, signature = token.split(".")
    try:
        header = json.loads(b64url(head))
        claims = json.loads(b64url(body))
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken("header or claims are not JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("header or claims are not JSON objects")
    if header.get("alg") != "RS256" or "crit" in header:
        raise InvalidToken(f"algorithm {header.get('alg')!r} is not RS256")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken("unknown key id")
    if not key.verifies(f"{head}.{body}".encode("ascii"), b64url(signature)):
        raise InvalidToken("bad signature")
    not_before = claims.get("nbf")
    if not_before is not None and (not isinstance(not_before, (int, float)) or not_before > now):
        raise InvalidToken("not valid yet")
    if not _same(claims.get("iss"), issuer):
        raise InvalidToken("another issuer")
    if not _same(claims.get("token_use"), token_use):
        raise InvalidToken(f"not an {token_use} token")
    audience = claims.get("aud") if token_use == "id" else claims.get("client_id")
    if not _same(audience, client_id):
        raise InvalidToken("issued to another app client")
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        raise InvalidToken("no expiry")
    if expires <= now:
        raise ExpiredToken("expired")
    return claims
