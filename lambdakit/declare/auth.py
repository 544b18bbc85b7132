"""Who may call a route: a Cognito pool, a Lambda authorizer, IAM (SigV4), or anyone."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Union

from .names import DeclarationError, camel, check_name

if TYPE_CHECKING:
    from .functions import FunctionSpec


class Public:
    """`lk.PUBLIC`: no authorization; listed as public in every build summary."""

    def __repr__(self) -> str:
        return "lk.PUBLIC"


PUBLIC = Public()
IAM = "iam"


class Cognito:
    """A Cognito user pool: created by the stack (`Cognito("name")`) or existing (`Cognito(arn=...)`)."""

    kind = "cognito"

    def __init__(self, name: str | None = None, *, arn: str | None = None, domain: str | None = None,
                 callback_urls: tuple[str, ...] = ()) -> None:
        if (name is None) == (arn is None):
            raise DeclarationError("lk.Cognito: give a name (a pool the stack creates) or arn= (an existing pool)")
        if (arn is not None and not arn.startswith("arn:")) or (arn is not None and ":userpool/" not in arn):
            raise DeclarationError(f"lk.Cognito(arn={arn!r}): expected arn:aws:cognito-idp:REGION:ACCOUNT:userpool/ID")
        self.name = check_name("user pool", name) if name is not None else arn.rsplit("/", 1)[-1].replace("_", "-")  # type: ignore[union-attr]
        self.arn = arn
        self.domain = domain
        self.callback_urls = tuple(callback_urls)
        self.required_scopes: tuple[str, ...] = ()

    def scopes(self, *scopes: str) -> Cognito:
        """The same pool, requiring these OAuth scopes on the route."""
        narrowed = copy.copy(self)
        narrowed.required_scopes = tuple(scopes)
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
        return f"Cognito({self.name!r})"


Auth = Union[Cognito, "FunctionSpec", str, Public, None]


def describe(auth: Auth) -> str:
    """How the build summary and `lambdakit routes` show a route's auth."""
    from .functions import FunctionSpec

    if auth is None or isinstance(auth, Public):
        return "PUBLIC"
    if isinstance(auth, Cognito):
        return f"cognito:{auth.name}" + (f" {' '.join(auth.required_scopes)}" if auth.required_scopes else "")
    if isinstance(auth, FunctionSpec):
        return f"authorizer:{auth.name}"
    return str(auth)
