"""Cognito user pools in moto for the declared `lk.Cognito`s: created on first use, users, and sign-in."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from lambdakit.declare.auth import Cognito
from lambdakit.derive.cognito import PASSWORD_POLICY
from lambdakit.runtime import aws

DEMO_USER = "demo@example.com"
DEMO_PASSWORD = "Demo-Passw0rd!"


@dataclass(frozen=True)
class LocalPool:
    """A user pool created in moto for a declared `lk.Cognito`: what verifying its tokens needs."""

    name: str
    pool_id: str
    client_id: str
    issuer: str


class UserPools:
    """The declared pools of a backend; each is created in moto when first used (moto's are slow to make)."""

    def __init__(self, region: str, account: str) -> None:
        self.region = region
        self.account = account
        self.declared: dict[str, Cognito] = {}
        self._created: dict[str, LocalPool] = {}

    def declare(self, pool: Cognito) -> None:
        self.declared.setdefault(pool.name, pool)

    def created(self, name: str) -> LocalPool | None:
        """The pool, if it exists in moto yet (no token can have been issued for one that does not)."""
        return self._created.get(name)

    def _pool(self, pool: Cognito) -> LocalPool:
        found = self._created.get(pool.name)
        if found is not None:
            return found
        idp = aws.client("cognito-idp")
        created = idp.create_user_pool(
            PoolName=pool.name,
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            Policies={"PasswordPolicy": PASSWORD_POLICY},
        )["UserPool"]
        client = idp.create_user_pool_client(
            UserPoolId=created["Id"],
            ClientName=f"{pool.name}-client",
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )["UserPoolClient"]
        local = LocalPool(
            pool.name,
            created["Id"],
            client["ClientId"],
            f"https://cognito-idp.{self.region}.amazonaws.com/{created['Id']}",
        )
        self._created[pool.name] = local
        return local

    def get(self, name: str | None = None) -> LocalPool:
        """A declared user pool (created in moto now if it is not yet); `name` may be omitted when there is one."""
        names = ", ".join(self.declared) or "none"
        if name is None:
            if len(self.declared) != 1:
                raise KeyError(f"name the user pool: there are {len(self.declared)} ({names})")
            name = next(iter(self.declared))
        if name not in self.declared:
            raise KeyError(f"no user pool {name!r}; the declared ones are: {names}")
        return self._pool(self.declared[name])

    def add_user(
        self,
        username: str,
        password: str = DEMO_PASSWORD,
        pool: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None:
        """Create a confirmed user with a permanent password (idempotent)."""
        local = self.get(pool)
        idp = aws.client("cognito-idp")
        attrs = [
            {"Name": k, "Value": v}
            for k, v in {"email": username, "email_verified": "true", **(attributes or {})}.items()
        ]
        with contextlib.suppress(idp.exceptions.UsernameExistsException):
            idp.admin_create_user(
                UserPoolId=local.pool_id, Username=username, MessageAction="SUPPRESS", UserAttributes=attrs
            )
        idp.admin_set_user_password(UserPoolId=local.pool_id, Username=username, Password=password, Permanent=True)

    def sign_in(
        self, username: str, password: str, pool: str | None = None, scopes: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Cognito's tokens for a user: `IdToken`, `AccessToken` (with `scopes` when asked), `ExpiresIn`."""
        local = self.get(pool)
        idp = aws.client("cognito-idp")
        result: dict[str, Any] = idp.admin_initiate_auth(
            UserPoolId=local.pool_id,
            ClientId=local.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )["AuthenticationResult"]
        if scopes:
            result["AccessToken"] = self._scoped_access_token(local, username, scopes)
        return result

    def _scoped_access_token(self, local: LocalPool, username: str, scopes: tuple[str, ...]) -> str:
        """An access token carrying custom scopes, as Cognito's OAuth flows issue; signed by moto's key."""
        import uuid

        from moto.cognitoidp.models import cognitoidp_backends

        user_pool = cognitoidp_backends[self.account][self.region].user_pools[local.pool_id]
        token, _ = user_pool.create_jwt(
            local.client_id, username, "access", extra_data={"scope": " ".join(scopes), "origin_jti": str(uuid.uuid4())}
        )
        return str(token)
