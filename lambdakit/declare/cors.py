"""`lk.CORS`: which browser origins may call the API from another domain.

`lk.Service(cors=["https://www.example.com"])` (or `cors="*"` for a public
read API, or `cors=lk.CORS(...)` for credentials and max-age) makes API
Gateway answer preflights itself (no Lambda runs) and puts
`Access-Control-Allow-Origin` on every answer to an allowed origin: the
functions', the storage-first integrations' and the gateway's own errors.
"""

from __future__ import annotations

import re
from typing import Any

from lambdakit.core import Record
from lambdakit.core.names import DeclarationError

#: What a browser sends as `Origin`: a scheme, a host and maybe a port; no path, no trailing slash.
_ORIGIN = re.compile(
    r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*)(:\d{1,5})?$"
)

#: Request headers every preflight allows: what lambdakit's auth kinds and JSON bodies need.
BASE_HEADERS = ("Authorization", "Content-Type", "X-Amz-Date", "X-Amz-Security-Token", "X-Api-Key")


class CORS(Record):
    """The origins allowed (`"*"` for any), whether they may send credentials, and how long a preflight holds."""

    __match_args__ = ("origins", "credentials", "max_age", "headers", "expose")
    __slots__ = __match_args__
    origins: tuple[str, ...]
    credentials: bool
    max_age: int
    headers: tuple[str, ...]
    expose: tuple[str, ...]

    def __init__(
        self,
        origins: str | tuple[str, ...] | list[str],
        *,
        credentials: bool = False,
        max_age: int = 600,
        headers: tuple[str, ...] | list[str] = (),
        expose: tuple[str, ...] | list[str] = (),
    ) -> None:
        self._set("origins", (origins,) if isinstance(origins, str) else tuple(origins))
        self._set("credentials", credentials)
        self._set("max_age", max_age)
        self._set("headers", (headers,) if isinstance(headers, str) else tuple(headers))
        self._set("expose", (expose,) if isinstance(expose, str) else tuple(expose))
        problem = self.problem()
        if problem:
            raise DeclarationError(f"lk.CORS: {problem}")

    @property
    def any_origin(self) -> bool:
        return self.origins == ("*",)

    @property
    def allow_headers(self) -> str:
        return ",".join(dict.fromkeys((*BASE_HEADERS, *self.headers)))

    def allows(self, origin: str | None) -> bool:
        return origin is not None and (self.any_origin or origin in self.origins)

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """The headers an answer to `origin` carries: the origin allowed (or `*`), and why caches must vary."""
        headers = {"Access-Control-Allow-Origin": "*"} if self.any_origin else {"Vary": "Origin"}
        if self.expose:
            headers["Access-Control-Expose-Headers"] = ",".join(self.expose)
        if not self.any_origin and self.allows(origin):
            assert origin is not None
            headers["Access-Control-Allow-Origin"] = origin
            if self.credentials:
                headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def preflight_headers(self, origin: str | None, methods: tuple[str, ...]) -> dict[str, str]:
        """The answer to a preflight: the methods of the path, the headers allowed, how long it holds."""
        return {
            **self.response_headers(origin),
            "Access-Control-Allow-Methods": ",".join(methods),
            "Access-Control-Allow-Headers": self.allow_headers,
            "Access-Control-Max-Age": str(self.max_age),
        }

    def gateway_headers(self, origin: str | None) -> dict[str, str]:
        """What API Gateway's own errors carry. Gateway responses map headers without conditions, so with
        several origins they echo the caller's `Origin` (the body is only the error), and never with
        credentials: those would let any site read the error with the visitor's cookies."""
        single = self.any_origin or len(self.origins) == 1
        if single:
            headers = {"Access-Control-Allow-Origin": self.origins[0]}
        elif origin is not None:
            headers = {"Access-Control-Allow-Origin": origin}
        else:
            headers = {}
        if self.credentials and single:
            headers["Access-Control-Allow-Credentials"] = "true"
        if not self.any_origin:
            headers["Vary"] = "Origin"
        return headers

    def to_json(self) -> str:
        """What the runtime needs to answer (`LAMBDAKIT_CORS`): origins, credentials, exposed headers."""
        import json

        return json.dumps({"origins": list(self.origins), "credentials": self.credentials, "expose": list(self.expose)})

    def problem(self) -> str | None:
        if not self.origins:
            return "origins= is empty; list the origins allowed, or leave cors= out"
        if "*" in self.origins and len(self.origins) > 1:
            return "'*' allows every origin; list origins or give '*' alone"
        for origin in self.origins:
            if origin != "*" and not _ORIGIN.match(origin):
                return (
                    f"{origin!r} is not an origin; write it as the browser sends it, scheme and host in lower "
                    "case (and port) without a path or trailing slash, e.g. 'https://www.example.com'"
                )
            if origin.endswith(":443" if origin.startswith("https://") else ":80"):
                return f"{origin!r} names the default port, which browsers leave out of Origin; drop it"
        if self.credentials and self.any_origin:
            return "credentials=True with '*': browsers refuse credentials for any origin; list the origins"
        if isinstance(self.max_age, bool) or not isinstance(self.max_age, int) or not 0 <= self.max_age <= 86400:
            return f"max_age={self.max_age!r}; give seconds between 0 and 86400"
        for header in (*self.headers, *self.expose):
            if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", header):
                return f"{header!r} is not an HTTP header name"
        return None


def cors_of(value: Any, where: str) -> CORS | None:
    """`cors=` as given (a list of origins, `"*"`, an `lk.CORS` or None) as an `lk.CORS`."""
    if value is None or isinstance(value, CORS):
        return value
    if isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
        try:
            return CORS(value)
        except DeclarationError as exc:
            raise DeclarationError(f"{where}: cors={value!r}: {str(exc).removeprefix('lk.CORS: ')}") from None
    raise DeclarationError(f"{where}: cors= takes a list of origins, '*' or lk.CORS(...), not {value!r}")
