"""`@lk.authorizer` functions run as API Gateway Lambda authorizers, with the event shapes AWS sends.

TOKEN events are `{"type", "authorizationToken", "methodArn"}`; REQUEST events
carry the request (Powertools' `apiGatewayAuthorizerRequestEvent.json` shape).
The answer is an IAM policy, `Exception("Unauthorized")` (API Gateway's 401), or
an explicit Deny; nothing else may escape.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from lambdakit.declare.app import App
from lambdakit.local.lambda_authorizer import authorize, authorizer_context, evaluate, method_arn
from lambdakit.runtime.authorizer import api_wildcard, strip_bearer
from lambdakit.runtime.loader import handler_for, load
from lambdakit.testing.events import LambdaContext, rest_event
from tests.apps import make_app

SOURCE = """
import lambdakit as lk

CALLS = []

def _identity(token):
    CALLS.append(token)
    if token == "boom":
        raise RuntimeError("key store down")
    if token == "blocked":
        raise lk.Forbidden("suspended partner")
    if token == "revoked":
        raise lk.Unauthorized("revoked")
    if token == "weird":
        return {"sub": "not an Identity"}
    if token != "k-good":
        return None
    return lk.Identity(subject="partner-7", username="Acme Ltd",
                       claims={"partner_id": "partner-7", "tier": 2, "regions": ["eu", "us"], "beta": True,
                               "name": "Acme \u00e9t\u00e9"},
                       scopes=("orders:read", "orders:write"), context={"limits": {"rps": 5}, "plan": "gold"})

@lk.authorizer(ttl=0)
def fresh(token: str) -> lk.Identity | None:
    return _identity(token)

@lk.authorizer(ttl=300)
def cached(token: str) -> lk.Identity | None:
    return _identity(token)

@lk.authorizer(ttl=0, identity_sources=("header:X-Api-Key", "query:key"))
def keyed(req: lk.Request, x_api_key: str, key: str | None = None) -> lk.Identity | None:
    CALLS.append((x_api_key, key, req.path, req.headers.get("x-api-key"), req.query))
    return _identity(x_api_key) if x_api_key != "anon" else None

@lk.authorizer(ttl=120, identity_sources=("header:Authorization", "query:tenant"))
def tenant_auth(authorization: str, tenant: str) -> lk.Identity | None:
    CALLS.append((authorization, tenant))
    return lk.Identity(subject=f"{tenant}:{authorization}")

@lk.route("GET", "/orders/{order_id}", auth=cached)
def get_order(order_id: str, identity: lk.Identity) -> dict:
    return {"order": order_id, "subject": identity.subject, "username": identity.username,
            "claims": identity.claims, "scopes": list(identity.scopes), "context": identity.context,
            "kind": identity.kind}

@lk.route("GET", "/devices", auth=keyed)
def devices(identity: lk.Identity) -> dict:
    return {"subject": identity.subject}
"""

ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/api/GET/orders/1"
OTHER = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/api/POST/orders"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return make_app(tmp_path_factory.mktemp("authz"), {"app.py": SOURCE})


@pytest.fixture(autouse=True)
def plain_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Log through a stdlib logger here: Powertools' logger binds the stdout of the test that creates it,
    which would steal the output other modules' tests read with capsys."""
    from lambdakit.runtime import log

    monkeypatch.setattr(log, "logger", lambda: logging.getLogger("lambdakit.test.authorizer"))


@pytest.fixture
def calls(app: App) -> list[Any]:
    found: list[Any] = sys.modules[app.function("fresh").module].CALLS
    found.clear()
    return found


def token_event(token: str | None, arn: str = ARN) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "TOKEN", "methodArn": arn}
    if token is not None:
        event["authorizationToken"] = token
    return event


def request_event(headers: dict[str, str], query: dict[str, str] | None = None) -> dict[str, Any]:
    """Powertools' apiGatewayAuthorizerRequestEvent.json, with the given headers and query."""
    return {
        "version": "1.0",
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request",
        "identitySource": "user1,123",
        "authorizationToken": "user1,123",
        "resource": "/request",
        "path": "/request",
        "httpMethod": "GET",
        "headers": {"X-AMZ-Date": "20170718T062915Z", "Accept": "*/*", "User-Agent": "...", **headers},
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "pathParameters": {},
        "stageVariables": {"StageVar1": "stageValue1"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef123",
            "httpMethod": "GET",
            "identity": {"apiKey": "...", "sourceIp": "test-invoke-source-ip"},
            "path": "/request",
            "protocol": "HTTP/1.1",
            "requestId": "EXqgWgXxSK4EJug=",
            "resourcePath": "/request",
            "stage": "test",
        },
    }


def run(app: App, name: str, event: dict[str, Any]) -> dict[str, Any]:
    return dict(handler_for(app.function(name))(event, LambdaContext()))


def refused(app: App, name: str, event: dict[str, Any]) -> str:
    """The message of what the handler raised; API Gateway answers 401 only for exactly "Unauthorized"."""
    with pytest.raises(Exception) as info:
        run(app, name, event)
    assert type(info.value) is Exception
    return str(info.value)


# -- TOKEN ------------------------------------------------------------------------------------------


def test_good_token_allows_the_method_with_the_identity_as_context(app: App, calls: list[Any]) -> None:
    out = run(app, "fresh", token_event("Bearer k-good"))
    assert calls == ["k-good"]  # the prefix is gone
    assert out["principalId"] == "partner-7"
    assert out["policyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}],
    }
    context = out["context"]
    assert set(context) == {"lk_claims", "lk_context", "lk_scopes", "lk_username"}
    assert all(isinstance(v, str) for v in context.values())  # API Gateway takes strings, numbers, booleans only
    assert json.loads(context["lk_claims"]) == {
        "partner_id": "partner-7",
        "tier": 2,
        "regions": ["eu", "us"],
        "beta": True,
        "name": "Acme \u00e9t\u00e9",
    }
    assert json.loads(context["lk_context"]) == {"limits": {"rps": 5}, "plan": "gold"}
    assert context["lk_scopes"] == "orders:read orders:write" and context["lk_username"] == "Acme Ltd"


@pytest.mark.parametrize("header", ["Bearer k-good", "bearer k-good", "BEARER   k-good ", "k-good"])
def test_the_function_gets_the_token_without_its_bearer_prefix(app: App, calls: list[Any], header: str) -> None:
    assert run(app, "fresh", token_event(header))["principalId"] == "partner-7"
    assert calls == ["k-good"]


def test_cached_decision_allows_the_whole_api(app: App) -> None:
    out = run(app, "cached", token_event("Bearer k-good"))
    wildcard = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/api/*/*"
    assert out["policyDocument"]["Statement"][0]["Resource"] == wildcard
    # API Gateway reuses a cached policy for any route sharing the authorizer: it must allow them all.
    assert evaluate(out, OTHER) == "Allow"
    uncached = run(app, "fresh", token_event("Bearer k-good"))
    assert evaluate(uncached, ARN) == "Allow" and evaluate(uncached, OTHER) == "ImplicitDeny"


@pytest.mark.parametrize("name", ["fresh", "cached"])
def test_unknown_token_is_unauthorized(app: App, calls: list[Any], name: str) -> None:
    assert refused(app, name, token_event("Bearer nope")) == "Unauthorized"
    assert calls == ["nope"]


@pytest.mark.parametrize("token", [None, "", "Bearer", "Bearer   ", "   "])
def test_missing_token_is_unauthorized_without_calling_the_function(
    app: App, calls: list[Any], token: str | None
) -> None:
    assert refused(app, "fresh", token_event(token)) == "Unauthorized"
    assert calls == []


def logged_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]


def test_an_error_in_the_function_is_unauthorized_and_logged(
    app: App, calls: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    assert refused(app, "cached", token_event("Bearer boom")) == "Unauthorized"
    (record,) = logged_errors(caplog)
    assert "cached" in record.getMessage() and record.method_arn == ARN  # type: ignore[attr-defined]
    assert record.exc_info is not None and "key store down" in str(record.exc_info[1])


def test_a_wrong_return_value_is_unauthorized_and_logged(app: App, caplog: pytest.LogCaptureFixture) -> None:
    assert refused(app, "fresh", token_event("weird")) == "Unauthorized"
    (record,) = logged_errors(caplog)
    assert record.exc_info is not None and "return an lk.Identity" in str(record.exc_info[1])


def test_none_and_forbidden_are_answers_not_errors(app: App, caplog: pytest.LogCaptureFixture) -> None:
    refused(app, "fresh", token_event("nope"))
    run(app, "fresh", token_event("blocked"))
    assert logged_errors(caplog) == []


def test_raising_unauthorized_is_unauthorized(app: App) -> None:
    assert refused(app, "fresh", token_event("revoked")) == "Unauthorized"


def test_forbidden_is_an_explicit_deny(app: App) -> None:
    out = run(app, "fresh", token_event("blocked"))
    assert out["policyDocument"]["Statement"] == [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ARN}]
    assert "context" not in out and evaluate(out, ARN) == "Deny"


def test_lambda_entry_runs_the_authorizer(app: App) -> None:
    out = load(app.function("fresh").target)(token_event("Bearer k-good"), LambdaContext())
    assert out["principalId"] == "partner-7"


# -- REQUEST ----------------------------------------------------------------------------------------


def test_request_authorizer_binds_identity_sources_by_name(app: App, calls: list[Any]) -> None:
    out = run(app, "keyed", request_event({"x-api-key": "k-good"}, {"key": "abc"}))  # header case differs
    assert calls[0] == ("k-good", "abc", "/request", "k-good", {"key": ["abc"]})
    assert out["principalId"] == "partner-7"
    assert out["policyDocument"]["Statement"][0]["Resource"] == (
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request"
    )


def test_request_authorizer_optional_source_may_be_missing(app: App, calls: list[Any]) -> None:
    run(app, "keyed", request_event({"X-Api-Key": "k-good"}))
    assert calls[0][:2] == ("k-good", None)


def test_request_authorizer_without_a_required_source_is_unauthorized(app: App, calls: list[Any]) -> None:
    assert refused(app, "keyed", request_event({}, {"key": "abc"})) == "Unauthorized"
    assert refused(app, "keyed", request_event({"X-Api-Key": ""})) == "Unauthorized"
    assert calls == []
    assert refused(app, "keyed", request_event({"X-Api-Key": "anon"})) == "Unauthorized"


def test_request_authorizer_gets_the_authorization_header_without_bearer(app: App, calls: list[Any]) -> None:
    out = run(app, "tenant_auth", request_event({"Authorization": "Bearer t0k"}, {"tenant": "acme"}))
    assert calls == [("t0k", "acme")] and out["principalId"] == "acme:t0k"
    assert out["policyDocument"]["Statement"][0]["Resource"].endswith("abcdef123/test/*/*")  # ttl=120: cached
    assert "lk_username" not in out["context"] and out["context"]["lk_scopes"] == ""


# -- what the local gateway uses -----------------------------------------------------------------------


def test_authorize_passes_the_identity_intact_to_the_route(app: App) -> None:
    route = app.function("get_order")
    event = rest_event("GET", "/orders/1", resource="/orders/{order_id}", headers={"Authorization": "Bearer k-good"})
    decision = authorize(
        app.function("cached"),
        event,
        method_arn("GET", "/orders/1", api_id="abcdef123"),
        handler_for(app.function("cached")),
    )
    assert decision.status == 200 and decision.authorizer is not None
    assert decision.authorizer["principalId"] == "partner-7"
    event["requestContext"]["authorizer"] = decision.authorizer
    out = handler_for(route)(event, LambdaContext())
    assert out["statusCode"] == 200
    assert json.loads(out["body"]) == {
        "order": "1",
        "subject": "partner-7",
        "username": "Acme Ltd",
        "claims": {
            "partner_id": "partner-7",
            "tier": 2,
            "regions": ["eu", "us"],
            "beta": True,
            "name": "Acme \u00e9t\u00e9",
        },
        "scopes": ["orders:read", "orders:write"],
        "context": {"limits": {"rps": 5}, "plan": "gold"},
        "kind": "lambda",
    }


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer nope"}, 401),
        ({"Authorization": "blocked"}, 403),
        ({"Authorization": "boom"}, 401),
        ({"Authorization": "k-good"}, 200),
    ],
)
def test_authorize_answers_like_api_gateway(app: App, calls: list[Any], headers: dict[str, str], status: int) -> None:
    event = rest_event("GET", "/orders/1", resource="/orders/{order_id}", headers=headers)
    assert authorize(app.function("fresh"), event, ARN).status == status
    assert calls == ([] if not headers else [strip_bearer(headers["Authorization"])])


def test_authorize_checks_cached_identity_sources_before_calling(app: App, calls: list[Any]) -> None:
    spec = app.function("tenant_auth")
    missing = rest_event("GET", "/t", headers={"Authorization": "x"})  # no ?tenant=
    assert authorize(spec, missing, ARN).status == 401 and calls == []
    present = rest_event("GET", "/t", headers={"Authorization": "x"}, query={"tenant": "acme"})
    decision = authorize(spec, present, ARN)
    assert decision.status == 200 and decision.authorizer is not None and decision.authorizer["principalId"] == "acme:x"


def test_authorize_runs_uncached_request_authorizers_on_every_request(app: App, calls: list[Any]) -> None:
    event = rest_event("GET", "/devices", headers={"X-Api-Key": "k-good"})
    assert authorize(app.function("keyed"), event, ARN).status == 200
    assert authorize(app.function("keyed"), rest_event("GET", "/devices"), ARN).status == 401
    assert len([c for c in calls if isinstance(c, tuple)]) == 1  # the second was refused before the function ran


def test_policy_evaluation() -> None:
    allow = {
        "principalId": "p",
        "policyDocument": {
            "Statement": [
                {"Effect": "Allow", "Action": "execute-api:*", "Resource": ["arn:aws:execute-api:*:*:abc/api/GET/*"]},
                {
                    "Effect": "Deny",
                    "Action": "execute-api:Invoke",
                    "Resource": "arn:aws:execute-api:*:*:abc/api/GET/admin",
                },
            ]
        },
    }
    assert evaluate(allow, "arn:aws:execute-api:us-east-1:1:abc/api/GET/orders/1") == "Allow"
    assert evaluate(allow, "arn:aws:execute-api:us-east-1:1:abc/api/GET/admin") == "Deny"
    assert evaluate(allow, "arn:aws:execute-api:us-east-1:1:abc/api/POST/orders") == "ImplicitDeny"
    assert api_wildcard(ARN) == "arn:aws:execute-api:us-east-1:123456789012:abcdef123/api/*/*"
    assert authorizer_context({"principalId": "p", "context": {"a": "1", "n": 2}}) == {
        "a": "1",
        "n": 2,
        "principalId": "p",
        "integrationLatency": 0,
    }


def test_authorizer_spec_is_not_a_route(app: App, tmp_path: Path) -> None:
    spec = app.function("fresh")
    assert spec.kind == "authorizer" and spec.route is None
    assert sys.modules[spec.module].fresh("k-good").subject == "partner-7"  # still the plain function
