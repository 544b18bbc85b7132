"""A Cognito user pool with secure defaults, its app clients, and what OAuth scopes on routes need.

A Cognito authorizer checks scopes only in access tokens, and Cognito puts custom
scopes (`orders/write`) only into tokens issued by its OAuth endpoints for a client
allowed to ask for them. So each scope a route requires makes: a resource server
defining it, a domain serving `/oauth2/token`, a machine client (client
credentials) allowed those scopes, and, when the pool has callback URLs, the
user client's code flow allowed them too.
"""

from __future__ import annotations

import re
from typing import Any

from lambdakit.core.names import camel
from lambdakit.declare.app import App
from lambdakit.declare.auth import Cognito, split_scope
from lambdakit.derive.stage import KEPT, STAGE_PARAMETER

#: What a user pool asks of a password; `lambdakit local` creates its pools with the same rules.
PASSWORD_POLICY: dict[str, Any] = {
    "MinimumLength": 12,
    "RequireLowercase": True,
    "RequireUppercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}

ACCESS_TOKEN_MINUTES = 60
REFRESH_TOKEN_DAYS = 30
USER_CLIENT_SCOPES = ("email", "openid", "profile")


def scopes_used(app: App, pool: Cognito) -> tuple[str, ...]:
    """Every scope a route of `app` requires from `pool`, sorted."""
    found: set[str] = set()
    for spec in app.functions:
        auth = app.effective_auth(spec) if spec.route is not None else None
        if isinstance(auth, Cognito) and auth.same_pool(pool):
            found.update(auth.required_scopes)
    return tuple(sorted(found))


def resource_servers(scopes: tuple[str, ...]) -> dict[str, list[str]]:
    """Custom scopes grouped by resource server identifier, in a stable order."""
    servers: dict[str, list[str]] = {}
    for scope in scopes:
        parts = split_scope(scope)
        if parts is not None:
            servers.setdefault(parts[0], []).append(parts[1])
    return dict(sorted(servers.items()))


def needs_domain(pool: Cognito, scopes: tuple[str, ...]) -> bool:
    return bool(pool.domain or pool.callback_urls or resource_servers(scopes))


def domain_prefix(pool: Cognito) -> Any:
    """The declared prefix and the stage (`DOMAIN-STAGE`), else the pool name plus the stack's UUID.

    Prefix domains are unique per region across all accounts: a declared one used as is would collide
    between the stages of one region (dev, then prod). The generated one is unique per stack already;
    at 26 + 1 + 36 characters it fills Cognito's 63, so it takes no stage.
    """
    if pool.domain:
        return {"Fn::Sub": f"{pool.domain}-${{{STAGE_PARAMETER}}}"}
    base = pool.name.lower().replace("_", "-")[:26].strip("-")
    return {"Fn::Join": ["-", [base, {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]]}


def _ids(pool: Cognito) -> dict[str, str]:
    return {
        "client": pool.logical_id + "Client",
        "machine": pool.logical_id + "MachineClient",
        "domain": pool.logical_id + "Domain",
    }


def resource_server_id(pool: Cognito, identifier: str) -> str:
    import hashlib

    # Identifiers may be URLs; a short stable hash keeps the logical id alphanumeric and unique.
    tag = "".join(ch for ch in camel(identifier.replace("/", "-").replace(".", "-").replace(":", "-")) if ch.isalnum())[
        :40
    ]
    return f"{pool.logical_id}{tag}Server{hashlib.sha256(identifier.encode()).hexdigest()[:6]}"


def _tokens() -> dict[str, Any]:
    return {
        "AccessTokenValidity": ACCESS_TOKEN_MINUTES,
        "IdTokenValidity": ACCESS_TOKEN_MINUTES,
        "RefreshTokenValidity": REFRESH_TOKEN_DAYS,
        "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
        "EnableTokenRevocation": True,
        "PreventUserExistenceErrors": "ENABLED",
    }


def pool_resources(pool: Cognito, scopes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The pool and its user client; for scopes or hosted sign-in, the domain, resource servers, machine client."""
    ids = _ids(pool)
    servers = resource_servers(scopes)
    server_ids = [resource_server_id(pool, identifier) for identifier in servers]
    custom = [f"{identifier}/{name}" for identifier, names in servers.items() for name in names]
    flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    if pool.password_auth:
        flows.insert(0, "ALLOW_USER_PASSWORD_AUTH")
    client: dict[str, Any] = {
        "UserPoolId": {"Ref": pool.logical_id},
        "GenerateSecret": False,
        "ExplicitAuthFlows": flows,
        **_tokens(),
    }
    if pool.callback_urls:
        client.update(
            AllowedOAuthFlows=["code"],
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthScopes=sorted({*USER_CLIENT_SCOPES, *scopes}),
            CallbackURLs=list(pool.callback_urls),
            SupportedIdentityProviders=["COGNITO"],
        )
        if pool.logout_urls:
            client["LogoutURLs"] = list(pool.logout_urls)
    props: dict[str, Any] = {
        "UsernameAttributes": ["email"],
        "UsernameConfiguration": {"CaseSensitive": False},
        "AutoVerifiedAttributes": ["email"],
        "MfaConfiguration": "OPTIONAL",
        "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": not pool.self_signup},
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
        "Policies": {"PasswordPolicy": {**PASSWORD_POLICY, "TemporaryPasswordValidityDays": 3}},
        # The stack keeps the pool (KEPT: deleting the stack or replacing the pool retains it). Cognito's own
        # deletion protection would also refuse the one delete KEPT allows, the rollback of a failed first
        # create, leaving the stack ROLLBACK_FAILED with the pool behind: so it is off.
        "DeletionProtection": "INACTIVE",
    }
    if pool.threat_protection:
        # Threat protection (adaptive authentication, compromised credentials) exists only on the Plus tier.
        props["UserPoolTier"] = "PLUS"
        props["UserPoolAddOns"] = {"AdvancedSecurityMode": "ENFORCED"}
    else:
        props["UserPoolTier"] = "ESSENTIALS"
    out: dict[str, Any] = {
        pool.logical_id: {
            "Type": "AWS::Cognito::UserPool",
            **KEPT,
            "Properties": props,
        },
    }
    if needs_domain(pool, scopes):
        out[ids["domain"]] = {
            "Type": "AWS::Cognito::UserPoolDomain",
            "Properties": {"Domain": domain_prefix(pool), "UserPoolId": {"Ref": pool.logical_id}},
        }
    for identifier, server_id in zip(servers, server_ids, strict=True):
        out[server_id] = {
            "Type": "AWS::Cognito::UserPoolResourceServer",
            "Properties": {
                "UserPoolId": {"Ref": pool.logical_id},
                "Identifier": identifier,
                "Name": re.sub(r"[^\w\s+=,.@-]", "-", identifier)[:256],  # a URL identifier is not a valid name
                "Scopes": [
                    {"ScopeName": name, "ScopeDescription": f"{identifier}/{name}"} for name in servers[identifier]
                ],
            },
        }
    user_client: dict[str, Any] = {"Type": "AWS::Cognito::UserPoolClient", "Properties": client}
    if pool.callback_urls and server_ids:
        user_client["DependsOn"] = server_ids  # the client may name a scope only once its server exists
    out[ids["client"]] = user_client
    if custom:
        out[ids["machine"]] = {
            "Type": "AWS::Cognito::UserPoolClient",
            "DependsOn": server_ids,
            "Properties": {
                "UserPoolId": {"Ref": pool.logical_id},
                "GenerateSecret": True,
                "AllowedOAuthFlows": ["client_credentials"],
                "AllowedOAuthFlowsUserPoolClient": True,
                "AllowedOAuthScopes": custom,
                "SupportedIdentityProviders": ["COGNITO"],
                "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
                **_tokens(),
            },
        }
    return out


def pool_outputs(pool: Cognito, scopes: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a client needs to sign in: pool and client ids, and the token endpoint when there is one."""
    ids = _ids(pool)
    out: dict[str, Any] = {
        pool.logical_id + "Id": {"Value": {"Ref": pool.logical_id}},
        pool.logical_id + "ClientId": {"Value": {"Ref": ids["client"]}},
    }
    if resource_servers(scopes):
        out[pool.logical_id + "MachineClientId"] = {"Value": {"Ref": ids["machine"]}}
    if needs_domain(pool, scopes):
        out[pool.logical_id + "TokenUrl"] = {
            "Value": {
                "Fn::Join": [
                    "",
                    [
                        "https://",
                        domain_prefix(pool),
                        ".auth.",
                        {"Ref": "AWS::Region"},
                        ".amazoncognito.com/oauth2/token",
                    ],
                ]
            }
        }
    return out
