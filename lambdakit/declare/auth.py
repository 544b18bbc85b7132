"""Who may call a route: a Cognito pool, a Lambda authorizer, IAM (SigV4), or anyone."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Union

from lambdakit.core.names import DeclarationError, camel, check_name

if TYPE_CHECKING:
    from .functions import FunctionSpec


class Public:
    """`lk.PUBLIC`: no authorization; listed as public in every build summary."""

    def __repr__(self) -> str:
        return "lk.PUBLIC"


PUBLIC = Public()
IAM = "iam"

#: Scopes Cognito defines itself; they need no resource server.
STANDARD_SCOPES = ("aws.cognito.signin.user.admin", "email", "openid", "phone", "profile")
# Cognito's own limits: a resource server identifier may hold '/', a scope name may not.
# Patterns, compiled (and cached by `re`) on first use: most functions never check a scope or a domain,
# and compiling them at import would cost every cold start ~0.1 ms each.
_SERVER = r"^[\x21\x23-\x5B\x5D-\x7E]{1,256}$"
_SCOPE = r"^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}$"
_DOMAIN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_RESERVED_IN_DOMAIN = ("aws", "amazon", "cognito")


def split_scope(scope: str) -> tuple[str, str] | None:
    """`orders/write` -> (`orders`, `write`): the resource server and the scope name; None for a standard scope."""
    if scope in STANDARD_SCOPES:
        return None
    server, _, name = scope.rpartition("/")
    return server, name


def _check_scope(pool: str, scope: object) -> str:
    if not isinstance(scope, str):
        raise DeclarationError(f"Cognito({pool!r}).scopes: {scope!r} is not a string")
    parts = split_scope(scope)
    if parts is not None and not (re.match(_SERVER, parts[0]) and re.match(_SCOPE, parts[1])):
        raise DeclarationError(
            f"Cognito({pool!r}).scopes({scope!r}): a custom scope is RESOURCE_SERVER/NAME (e.g. 'orders/write'), "
            f"without spaces or quotes; the standard scopes are {', '.join(STANDARD_SCOPES)}"
        )
    return scope


class Cognito:
    """A Cognito user pool: created by the stack (`Cognito("name")`) or existing (`Cognito(arn=...)`).

    A pool the stack creates has secure defaults: email is the username, a strong
    password policy, optional TOTP MFA, threat protection enforced, no identity pool
    (so no unauthenticated identities), and a public app client for SRP sign-in.
    """

    kind = "cognito"

    def __init__(
        self,
        name: str | None = None,
        *,
        arn: str | None = None,
        domain: str | None = None,
        callback_urls: tuple[str, ...] = (),
        logout_urls: tuple[str, ...] = (),
        password_auth: bool = False,
        self_signup: bool = True,
        threat_protection: bool = True,
    ) -> None:
        if (name is None) == (arn is None):
            raise DeclarationError("lk.Cognito: give a name (a pool the stack creates) or arn= (an existing pool)")
        if (arn is not None and not arn.startswith("arn:")) or (arn is not None and ":userpool/" not in arn):
            raise DeclarationError(f"lk.Cognito(arn={arn!r}): expected arn:aws:cognito-idp:REGION:ACCOUNT:userpool/ID")
        self.name = check_name("user pool", name) if name is not None else arn.rsplit("/", 1)[-1].replace("_", "-")  # type: ignore[union-attr]
        self.arn = arn
        where = f"lk.Cognito({self.name!r})"
        if arn is not None and (domain or callback_urls or logout_urls or password_auth):
            raise DeclarationError(
                f"{where}: domain=, callback_urls=, logout_urls= and password_auth= configure a "
                "pool the stack creates; an existing pool (arn=) keeps its own settings"
            )
        if domain is not None and (not re.match(_DOMAIN, domain) or any(w in domain for w in _RESERVED_IN_DOMAIN)):
            raise DeclarationError(
                f"{where}: domain={domain!r} is not a Cognito domain prefix: use 1-63 lower-case letters, digits "
                "and '-', not starting or ending with '-', without 'aws', 'amazon' or 'cognito'"
            )
        for url in (*callback_urls, *logout_urls):
            if not isinstance(url, str) or not (url.startswith("https://") or url.startswith("http://localhost")):
                raise DeclarationError(
                    f"{where}: {url!r}: Cognito accepts https:// URLs (http://localhost for development)"
                )
        self.domain = domain
        self.callback_urls = tuple(callback_urls)
        self.logout_urls = tuple(logout_urls)
        self.password_auth = password_auth
        self.self_signup = self_signup
        self.threat_protection = threat_protection
        self.required_scopes: tuple[str, ...] = ()

    def scopes(self, *scopes: str) -> Cognito:
        """The same pool, requiring these OAuth scopes (in an access token) on the route."""
        if not scopes:
            raise DeclarationError(f"Cognito({self.name!r}).scopes(): name at least one scope, e.g. 'orders/write'")
        narrowed = copy.copy(self)
        narrowed.required_scopes = tuple(dict.fromkeys(_check_scope(self.name, s) for s in scopes))
        return narrowed

    @property
    def logical_id(self) -> str:
        return camel(self.name) + "UserPool"

    @property
    def authorizer_id(self) -> str:
        return camel(self.name) + "Authorizer"

    def same_pool(self, other: object) -> bool:
        return isinstance(other, Cognito) and other.name == self.name and other.arn == self.arn

    def __repr__(self) -> str:
        scopes = f".scopes({', '.join(map(repr, self.required_scopes))})" if self.required_scopes else ""
        return f"Cognito({self.name!r}){scopes}"


Auth = Union[Cognito, "FunctionSpec", str, Public, None]


def describe(auth: Auth) -> str:
    """How the build summary and `lambdakit routes` show a route's auth."""
    from .functions import FunctionSpec

    if auth is None or isinstance(auth, Public):
        return "PUBLIC"
    if isinstance(auth, Cognito):
        return f"cognito:{auth.name}" + (f" {' '.join(auth.required_scopes)}" if auth.required_scopes else "")
    if isinstance(auth, FunctionSpec):
        kind = "REQUEST" if auth.identity_sources else "TOKEN"
        return f"authorizer:{auth.name} ({kind})"
    return str(auth)


def auth_of(where: str, auth: object) -> Auth:
    """A declaration's `auth=` as what it names, or a DeclarationError saying what `auth=` takes."""
    from .functions import FunctionSpec, problems_of

    if isinstance(auth, (Cognito, Public)):
        return auth
    if auth == IAM:
        return IAM
    spec = getattr(auth, "__lambdakit__", None)
    if isinstance(spec, FunctionSpec) and spec.kind == "authorizer":
        return spec
    if callable(auth) and spec is None and problems_of(auth):
        raise DeclarationError(
            f"{where}: auth={getattr(auth, '__name__', auth)}: its @lk.authorizer declaration has a mistake "
            "(reported on its own); fix it there"
        )
    if callable(auth) and spec is None:
        raise DeclarationError(
            f"{where}: auth={getattr(auth, '__name__', auth)} is a plain function; decorate it "
            "with @lk.authorizer to make it a Lambda authorizer"
        )
    raise DeclarationError(
        f"{where}: auth={auth!r} is not an authorizer; use an lk.Cognito, an @lk.authorizer function, "
        '"iam" or lk.PUBLIC'
    )
