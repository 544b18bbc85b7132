"""`lk.Identity` reaches handlers from the request context of each authorizer kind, and is never faked.

The request contexts are the shapes API Gateway sends a REST proxy integration:
Cognito puts the token's claims (as strings) in `requestContext.authorizer.claims`,
a Lambda authorizer its principalId and context in `requestContext.authorizer`,
IAM the signer in `requestContext.identity`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

import boto3
import pytest

from lambdakit.declare.app import App
from lambdakit.discovery import discover
from lambdakit.local.lambda_authorizer import authorize, method_arn
from lambdakit.runtime.loader import handler_for
from lambdakit.testing.events import LambdaContext, rest_event
from tests.apps import make_app

SOURCE = """
import lambdakit as lk

pool = lk.Cognito("rt-users")
CALLS = []

@lk.authorizer
def key(token: str) -> lk.Identity | None:
    return None

def _show(identity):
    CALLS.append(identity)
    return {"subject": identity.subject, "username": identity.username, "claims": identity.claims,
            "scopes": list(identity.scopes), "context": identity.context, "kind": identity.kind}

@lk.route("POST", "/orders", auth=pool)
def create(body: dict, identity: lk.Identity) -> dict:
    return _show(identity)

@lk.route("GET", "/partner", auth=key)
def partner(identity: lk.Identity) -> dict:
    return _show(identity)

@lk.route("GET", "/internal", auth="iam")
def internal(identity: lk.Identity) -> dict:
    return _show(identity)

@lk.route("GET", "/hello", auth=lk.PUBLIC)
def hello(identity: lk.Identity | None = None) -> dict:
    return {"who": identity.subject if identity else None}
"""

# An ID token's claims as the Cognito authorizer passes them on (AWS's documented sample shape).
ID_CLAIMS = {
    "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
    "email_verified": "true",
    "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
    "cognito:username": "7d8ca528-4931",
    "origin_jti": "a1b2",
    "aud": "6an6jbhc8qh494sh33d1ope8d3",
    "event_id": "cd5c1cab-e2ea-11e7-9614-c1a21c8b3f9a",
    "token_use": "id",
    "auth_time": "1583349317",
    "exp": "Wed Mar 04 20:15:17 UTC 2020",
    "iat": "Wed Mar 04 19:15:17 UTC 2020",
    "jti": "c3d4",
    "email": "ana@example.com",
    "cognito:groups": "staff",
}
ACCESS_CLAIMS = {
    "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
    "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ex",
    "client_id": "6an6jbhc8qh494sh33d1ope8d3",
    "token_use": "access",
    "scope": "orders/write openid",
    "auth_time": "1583349317",
    "exp": "Wed Mar 04 20:15:17 UTC 2020",
    "iat": "Wed Mar 04 19:15:17 UTC 2020",
    "jti": "e5f6",
    "username": "7d8ca528-4931",
}
# A SigV4 caller (an assumed role) as requestContext.identity carries it.
IAM_IDENTITY = {
    "accessKey": "ASIAIOSFODNN7EXAMPLE",
    "accountId": "123456789012",
    "caller": "AROAEXAMPLEID:ci",
    "user": "AROAEXAMPLEID:ci",
    "userArn": "arn:aws:sts::123456789012:assumed-role/deployer/ci",
    "principalOrgId": "o-exampleorgid",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return make_app(tmp_path_factory.mktemp("ident"), {"app.py": SOURCE})


@pytest.fixture
def calls(app: App) -> list[Any]:
    found: list[Any] = sys.modules[app.function("create").module].CALLS
    found.clear()
    return found


def call(app: App, name: str, event: dict[str, Any]) -> tuple[int, Any]:
    out = handler_for(app.function(name))(event, LambdaContext())
    return out["statusCode"], json.loads(out["body"]) if out["body"] else None


def test_cognito_id_token_claims_reach_the_handler(app: App) -> None:
    event = rest_event("POST", "/orders", body={}, authorizer={"claims": ID_CLAIMS})
    status, body = call(app, "create", event)
    assert status == 200
    assert body == {
        "subject": ID_CLAIMS["sub"],
        "username": "7d8ca528-4931",
        "claims": ID_CLAIMS,
        "scopes": [],
        "context": {},
        "kind": "cognito",
    }


def test_cognito_access_token_scopes(app: App) -> None:
    status, body = call(app, "create", rest_event("POST", "/orders", body={}, authorizer={"claims": ACCESS_CLAIMS}))
    assert status == 200 and body["scopes"] == ["orders/write", "openid"] and body["username"] == "7d8ca528-4931"
    assert body["claims"]["client_id"] == ACCESS_CLAIMS["client_id"]


def test_client_credentials_token_has_no_username(app: App) -> None:
    claims = {
        "sub": "6an6jbhc8qh494sh33d1ope8d3",
        "token_use": "access",
        "scope": "shop/catalog.write",
        "client_id": "6an6jbhc8qh494sh33d1ope8d3",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/x",
    }
    status, body = call(app, "create", rest_event("POST", "/orders", body={}, authorizer={"claims": claims}))
    assert status == 200 and body["username"] is None and body["subject"] == claims["sub"]


def test_lambda_authorizer_context_from_another_tool_stays_flat(app: App) -> None:
    # Powertools' apiGatewayProxyEventPrincipalId.json: a context not packed by lambdakit.
    authorizer = {"user_id": "fake_username", "principalId": "fake", "integrationLatency": 451}
    status, body = call(app, "partner", rest_event("GET", "/partner", authorizer=authorizer))
    assert status == 200
    assert body == {
        "subject": "fake",
        "username": None,
        "claims": {"user_id": "fake_username"},
        "scopes": [],
        "context": {"user_id": "fake_username"},
        "kind": "lambda",
    }


def test_lambdakit_authorizer_context_is_unpacked(app: App) -> None:
    authorizer = {
        "principalId": "partner-7",
        "integrationLatency": 12,
        "lk_username": "Acme",
        "lk_scopes": "orders:read",
        "lk_claims": json.dumps({"tier": 2, "regions": ["eu"]}),
        "lk_context": json.dumps({"plan": "gold"}),
    }
    status, body = call(app, "partner", rest_event("GET", "/partner", authorizer=authorizer))
    assert status == 200
    assert body == {
        "subject": "partner-7",
        "username": "Acme",
        "claims": {"tier": 2, "regions": ["eu"]},
        "scopes": ["orders:read"],
        "context": {"plan": "gold"},
        "kind": "lambda",
    }


def test_iam_caller_reaches_the_handler(app: App) -> None:
    status, body = call(app, "internal", rest_event("GET", "/internal", identity=IAM_IDENTITY))
    assert status == 200
    assert body["subject"] == IAM_IDENTITY["userArn"] and body["kind"] == "iam"
    assert body["username"] == "AROAEXAMPLEID:ci" and body["claims"]["accountId"] == "123456789012"
    assert "cognitoIdentityId" not in body["claims"]  # nulls are dropped, values kept as sent


@pytest.mark.parametrize(
    ("name", "event"),
    [
        ("create", rest_event("POST", "/orders", body={})),
        ("create", rest_event("POST", "/orders", body={}, authorizer={"claims": None, "scopes": None})),
        ("partner", rest_event("GET", "/partner", authorizer={})),
        ("internal", rest_event("GET", "/internal")),
    ],
)
def test_no_identity_is_401_and_the_function_is_not_called(
    app: App, calls: list[Any], name: str, event: dict[str, Any]
) -> None:
    status, body = call(app, name, event)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert calls == []


def test_optional_identity_on_a_public_route(app: App) -> None:
    assert call(app, "hello", rest_event("GET", "/hello")) == (200, {"who": None})
    assert call(app, "hello", rest_event("GET", "/hello", identity=IAM_IDENTITY)) == (
        200,
        {"who": IAM_IDENTITY["userArn"]},
    )


# -- the example's partner route, end to end against moto ---------------------------------------------


@pytest.fixture
def shop_tables(moto_env: None) -> dict[str, Any]:
    ddb = boto3.resource("dynamodb")
    return {
        name: ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        )
        for name, key in (("partners", "key_hash"), ("orders", "order_id"))
    }


def test_example_partner_key_to_partner_order(shop_tables: dict[str, Any]) -> None:
    app = discover("example_app.shop")
    shop_tables["partners"].put_item(
        Item={
            "key_hash": hashlib.sha256(b"pk_live_123").hexdigest(),
            "partner_id": "acme",
            "name": "Acme",
            "tier": "gold",
            "scopes": {"orders:read"},
        }
    )
    shop_tables["orders"].put_item(
        Item={
            "order_id": "o-1",
            "sku": "A-1",
            "qty": 2,
            "customer_id": "c-1",
            "created_at": "2026-01-01T00:00:00.000+00:00",
        }
    )
    route, authorizer = app.function("partner_order"), app.function("partner_key")
    event = rest_event(
        "GET",
        "/partner/orders/o-1",
        resource="/partner/orders/{order_id}",
        headers={"Authorization": "Bearer pk_live_123", "x-api-key": "k"},
    )
    arn = method_arn("GET", "/partner/orders/o-1")
    decision = authorize(authorizer, event, arn, handler_for(authorizer))
    assert decision.status == 200 and decision.authorizer is not None
    event["requestContext"]["authorizer"] = decision.authorizer
    out = handler_for(route)(event, LambdaContext())
    assert out["statusCode"] == 200 and json.loads(out["body"])["order_id"] == "o-1"

    wrong = rest_event("GET", "/partner/orders/o-1", headers={"Authorization": "Bearer pk_wrong"})
    assert authorize(authorizer, wrong, arn).status == 401
