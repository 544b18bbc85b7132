"""`lk.Frontend`: a built single-page app on a private S3 bucket behind CloudFront, and what else it serves.

By default the service's own API is on the same distribution under `api_path`
(pattern 5: one domain, no CORS); `site.mount(path, package)` adds another
service of the repo, `site.mount(path, origin=URL)` any HTTPS origin.
Declarations only: `lambdakit.derive.site` plans the resources, the local
server serves the folder, `lambdakit.derive.site_checks` finds the mistakes.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from lambdakit.core import Record
from lambdakit.core.names import DeclarationError


class SecurityHeaders(Record):
    """The security headers every answer of the site carries (a CloudFront response headers policy).

    HSTS (two years, subdomains), `nosniff`, `X-Frame-Options`, a referrer policy, and a
    Content-Security-Policy when `csp=` gives one.
    """

    __match_args__ = ("csp", "hsts_seconds", "frame", "referrer")
    __slots__ = __match_args__
    csp: str | None
    hsts_seconds: int
    frame: str
    referrer: str

    def __init__(
        self,
        csp: str | None = None,
        *,
        hsts_seconds: int = 63072000,
        frame: str = "DENY",
        referrer: str = "strict-origin-when-cross-origin",
    ) -> None:
        self._set("csp", csp)
        self._set("hsts_seconds", hsts_seconds)
        self._set("frame", frame)
        self._set("referrer", referrer)
        if frame not in ("DENY", "SAMEORIGIN"):
            raise DeclarationError(f"lk.SecurityHeaders: frame={frame!r}; use 'DENY' or 'SAMEORIGIN'")
        if referrer not in REFERRER_POLICIES:
            raise DeclarationError(
                f"lk.SecurityHeaders: referrer={referrer!r}; use one of {', '.join(REFERRER_POLICIES)}"
            )
        if not isinstance(hsts_seconds, int) or hsts_seconds < 0:
            raise DeclarationError(f"lk.SecurityHeaders: hsts_seconds={hsts_seconds!r} must be whole seconds")
        if csp is not None and (not csp.strip() or len(csp) > 1783 or any(c in csp for c in "\r\n")):
            raise DeclarationError("lk.SecurityHeaders: csp= must be one line of at most 1783 characters")

    def headers(self) -> dict[str, str]:
        """The headers as a browser receives them."""
        out = {
            "Strict-Transport-Security": f"max-age={self.hsts_seconds}; includeSubDomains",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": self.frame,
            "Referrer-Policy": self.referrer,
        }
        if self.csp:
            out["Content-Security-Policy"] = self.csp
        return out


REFERRER_POLICIES = (
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
)


class Mount(Record):
    """`path` on the distribution served by another lambdakit `package`, or by any HTTPS `origin`."""

    __match_args__ = ("path", "package", "origin")
    __slots__ = __match_args__
    path: str
    package: str | None
    origin: str | None

    def __init__(self, path: str, package: str | None = None, origin: str | None = None) -> None:
        self._set("path", path)
        self._set("package", package)
        self._set("origin", origin)


_DEFAULT: Any = object()


class Frontend:
    """A built SPA (`folder` holds `index.html`, relative to the declaring module's folder) behind CloudFront."""

    def __init__(
        self,
        folder: str,
        *,
        domain: str | None = None,
        certificate: str | None = None,
        api_path: str | None = "/api",
        headers: SecurityHeaders | None = _DEFAULT,
        index: str = "index.html",
        auth: Any = None,
        ab_test: Any = None,
        rollout: Any = None,
        failover: Any = None,
    ) -> None:
        caller = sys._getframe(1).f_globals.get("__file__")  # the module that declares the site
        self.base = os.path.dirname(os.path.abspath(caller)) if caller else os.getcwd()
        self.folder = folder
        self.domain = domain
        self.certificate = certificate
        self.api_path = api_path
        self.headers = SecurityHeaders() if headers is _DEFAULT else headers
        self.index = index
        self.edge = {"auth": auth, "ab_test": ab_test, "rollout": rollout, "failover": failover}
        self.mounts: list[Mount] = []

    @property
    def root(self) -> str:
        """The folder served, as an absolute path."""
        return os.path.normpath(os.path.join(self.base, self.folder))

    def mount(self, path: str, package: str | None = None, *, origin: str | None = None) -> Frontend:
        """Serve `path` (and below) from another service of this repo, or from any HTTPS origin."""
        self.mounts.append(Mount(path, package, origin))
        return self
