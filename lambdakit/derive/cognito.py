"""A Cognito user pool with secure defaults, and its app client."""

from __future__ import annotations

from typing import Any

from lambdakit.declare.auth import Cognito


def pool_resources(pool: Cognito) -> dict[str, Any]:
    client: dict[str, Any] = {
        "UserPoolId": {"Ref": pool.logical_id},
        "GenerateSecret": False,
        "PreventUserExistenceErrors": "ENABLED",
        "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "AccessTokenValidity": 60,
        "IdTokenValidity": 60,
        "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes"},
    }
    if pool.callback_urls:
        client.update(AllowedOAuthFlows=["code"], AllowedOAuthFlowsUserPoolClient=True,
                      AllowedOAuthScopes=["openid", "email"], CallbackURLs=list(pool.callback_urls),
                      SupportedIdentityProviders=["COGNITO"])
    return {
        pool.logical_id: {
            "Type": "AWS::Cognito::UserPool",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "UsernameAttributes": ["email"],
                "AutoVerifiedAttributes": ["email"],
                "MfaConfiguration": "OPTIONAL",
                "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
                "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
                "Policies": {"PasswordPolicy": {
                    "MinimumLength": 12, "RequireLowercase": True, "RequireUppercase": True,
                    "RequireNumbers": True, "RequireSymbols": True, "TemporaryPasswordValidityDays": 3}},
                "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
            },
        },
        pool.logical_id + "Client": {"Type": "AWS::Cognito::UserPoolClient", "Properties": client},
    }
