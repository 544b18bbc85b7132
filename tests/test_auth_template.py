"""Auth and API protections in the template: checked through the SAM transform, cfn-lint and checkov.

checkov's CKV_AWS_59 (open API methods) cannot see routes in a DefinitionBody,
so each operation's security, the schemes and the authorizer permissions are
asserted here on the transformed template, against expectations written out by
hand rather than recomputed with the code under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lambdakit.cli import main
from lambdakit.core.names import DeclarationError
from lambdakit.declare.app import App
from lambdakit.derive.template import build_template, resource_path
from lambdakit.discovery import BuildError, discover
from tests.apps import make_app, write_package
from tests.validate import cfn_lint, checkov, transform

STAFF_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"

GUARDED = {
    "app.py": f"""
import lambdakit as lk

members = lk.Cognito("members", callback_urls=("https://shop.example.com/callback",))
staff = lk.Cognito(arn="{STAFF_ARN}")
orders = lk.Table("guarded-orders", key="order_id")
keys = lk.Table("partner-keys", key="key_hash")

service = lk.Service(
    "guarded", auth=members, throttle=(50, 100),
    usage_plans=(lk.UsagePlan("gold", quota=5000, period="DAY", rate=5, burst=10, keys=("acme", "globex")),
                 lk.UsagePlan("free", quota=100, period="DAY")),
)

@lk.authorizer(ttl=300, reads=[keys])
def partner(token: str) -> lk.Identity | None:
    return None

@lk.authorizer(ttl=0, identity_sources=("header:X-Api-Key", "query:key"))
def device(req: lk.Request, x_api_key: str, key: str | None = None) -> lk.Identity | None:
    return None

@lk.authorizer(ttl=60, identity_sources=("header:X-Tenant", "query:sig"))
def tenant(x_tenant: str, sig: str) -> lk.Identity | None:
    return None

@lk.authorizer
def unused(token: str) -> lk.Identity | None:
    return None

@lk.route("GET", "/orders/{{order_id}}", reads=[orders], cache=30)
def get_order(order_id: str, identity: lk.Identity, fields: str | None = None) -> dict:
    return {{}}

@lk.route("POST", "/orders", writes=[orders], auth=members.scopes("orders/write", "openid"), throttle=(2.5, 5))
def create_order(body: dict, identity: lk.Identity) -> dict:
    return body

@lk.route("DELETE", "/orders/{{order_id}}", writes=[orders],
          auth=members.scopes("https://api.example.com/orders.admin"))
def delete_order(order_id: str) -> None:
    return None

@lk.route("GET", "/staff/report", auth=staff.scopes("reports/read"))
def report() -> dict:
    return {{}}

@lk.route("GET", "/partner/orders/{{order_id}}", reads=[orders], auth=partner, api_key=True)
def partner_order(order_id: str, identity: lk.Identity) -> dict:
    return {{}}

@lk.route("GET", "/devices/{{device_id}}", auth=device, cache=10)
def device_status(device_id: str, identity: lk.Identity) -> dict:
    return {{}}

@lk.route("POST", "/tenants/{{tenant_id}}/events", auth=tenant)
def tenant_event(tenant_id: str, body: dict) -> None:
    return None

@lk.route("GET", "/internal/stats", auth="iam")
def stats(identity: lk.Identity) -> dict:
    return {{}}

@lk.route("GET", "/health", auth=lk.PUBLIC)
def health() -> dict:
    return {{}}

@lk.route("GET", "/catalogue", auth=lk.PUBLIC, cache=300, api_key=True)
def catalogue(page: int = 1) -> list:
    return []

@lk.route("POST", "/inbox", trigger="sqs", auth="iam")
def inbox(body: dict) -> None:
    return None
"""
}

MEMBERS, STAFF = "MembersAuthorizer", "UsEast1AbCdEf123Authorizer"

# What each operation must require, written out: (path, method) -> OpenAPI security.
EXPECTED_SECURITY: dict[tuple[str, str], list[dict[str, list[str]]]] = {
    ("/orders/{order_id}", "get"): [{MEMBERS: []}],  # the service default
    ("/orders", "post"): [{MEMBERS: ["orders/write", "openid"]}],
    ("/orders/{order_id}", "delete"): [{MEMBERS: ["https://api.example.com/orders.admin"]}],
    ("/staff/report", "get"): [{STAFF: ["reports/read"]}],
    ("/partner/orders/{order_id}", "get"): [{"PartnerAuthorizer": [], "api_key": []}],
    ("/devices/{device_id}", "get"): [{"DeviceAuthorizer": []}],
    ("/tenants/{tenant_id}/events", "post"): [{"TenantAuthorizer": []}],
    ("/internal/stats", "get"): [{"sigv4": []}],
    ("/health", "get"): [],
    ("/catalogue", "get"): [{"api_key": []}],
    ("/inbox", "post"): [{"sigv4": []}],
}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> tuple[App, dict[str, Any], dict[str, Any]]:
    app = make_app(tmp_path_factory.mktemp("guarded"), GUARDED)
    template = build_template(app)
    return app, template, transform(template)


@pytest.fixture(scope="module")
def example() -> tuple[App, dict[str, Any], dict[str, Any]]:
    app = discover("example_app.shop")
    template = build_template(app)
    return app, template, transform(template)


@pytest.fixture(scope="module")
def catalog() -> tuple[App, dict[str, Any], dict[str, Any]]:
    """The example's catalog service (its own package and stack), which holds the scoped writes."""
    app = discover("example_app.catalog")
    template = build_template(app)
    return app, template, transform(template)


@pytest.fixture(scope="module")
def checkov_failures(
    guarded: tuple[App, dict[str, Any], dict[str, Any]], example: tuple[App, dict[str, Any], dict[str, Any]]
) -> list[str]:
    """One checkov run (it takes seconds) over both SAM templates, the example's resources prefixed apart."""
    merged = {**guarded[1], "Resources": dict(guarded[1]["Resources"])}
    merged["Resources"].update({"Shop" + k: v for k, v in example[1]["Resources"].items()})
    return checkov(merged)


def body_of(transformed: dict[str, Any]) -> dict[str, Any]:
    return dict(transformed["Resources"]["Api"]["Properties"]["Body"])


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


# -- validators --------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["guarded", "example"])
def test_cfn_lint_is_clean_on_sam_and_transformed(which: str, request: pytest.FixtureRequest) -> None:
    _, template, transformed = request.getfixturevalue(which)
    assert cfn_lint(template, "sam") == []
    assert cfn_lint(transformed, "transformed") == []


def test_checkov_finds_nothing(checkov_failures: list[str]) -> None:
    assert checkov_failures == []


def test_every_checkov_skip_says_why(guarded: tuple[App, dict[str, Any], dict[str, Any]]) -> None:
    for name, res in guarded[1]["Resources"].items():
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV_") and len(skip["comment"]) > 20, name


# -- auth per route (what CKV_AWS_59 cannot see) ------------------------------------------------------


def test_each_operation_requires_exactly_its_auth(guarded: tuple[App, dict[str, Any], dict[str, Any]]) -> None:
    paths = body_of(guarded[2])["paths"]
    found = {(p, m): op["security"] for p, ops in paths.items() for m, op in ops.items()}
    assert found == EXPECTED_SECURITY


def test_example_protects_writes_and_leaves_catalogue_reads_public(
    example: tuple[App, dict[str, Any], dict[str, Any]],
) -> None:
    paths = body_of(example[2])["paths"]
    users = "ShopUsersAuthorizer"
    assert paths["/orders"]["post"]["security"] == [{users: []}]
    assert paths["/orders/{order_id}"]["delete"]["security"] == [{users: []}]
    assert paths["/orders/import"]["post"]["security"] == [{users: []}]
    assert paths["/partner/orders/{order_id}"]["get"]["security"] == [{"PartnerKeyAuthorizer": [], "api_key": []}]


def test_example_catalog_takes_scoped_writes_and_leaves_reads_public(
    catalog: tuple[App, dict[str, Any], dict[str, Any]],
) -> None:
    paths = body_of(catalog[2])["paths"]
    assert paths["/products/{sku}"]["put"]["security"] == [{"CatalogClientsAuthorizer": ["catalog/products.write"]}]
    assert paths["/products/{sku}"]["get"]["security"] == [] and paths["/products"]["get"]["security"] == []


def test_security_schemes(guarded: tuple[App, dict[str, Any], dict[str, Any]]) -> None:
    schemes = body_of(guarded[2])["components"]["securitySchemes"]
    assert set(schemes) == {
        MEMBERS,
        STAFF,
        "PartnerAuthorizer",
        "DeviceAuthorizer",
        "TenantAuthorizer",
        "sigv4",
        "api_key",
    }  # `unused` is used by no route: no scheme, no permission
    assert schemes[MEMBERS]["x-amazon-apigateway-authorizer"] == {
        "type": "cognito_user_pools",
        "providerARNs": [{"Fn::GetAtt": ["MembersUserPool", "Arn"]}],
    }
    assert schemes[STAFF]["x-amazon-apigateway-authorizer"]["providerARNs"] == [STAFF_ARN]
    assert schemes[MEMBERS]["name"] == "Authorization" and schemes[MEMBERS]["in"] == "header"

    token = schemes["PartnerAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert token["type"] == "token" and token["identitySource"] == "method.request.header.Authorization"
    assert token["authorizerResultTtlInSeconds"] == 300
    assert "${PartnerFunction.Arn}" in token["authorizerUri"]["Fn::Sub"]

    uncached = schemes["DeviceAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert uncached["type"] == "request" and uncached["authorizerResultTtlInSeconds"] == 0
    assert "identitySource" not in uncached  # the function sees every request; `key` may be absent
    cached = schemes["TenantAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert cached["identitySource"] == "method.request.header.X-Tenant, method.request.querystring.sig"
    assert cached["authorizerResultTtlInSeconds"] == 60

    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert schemes["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}


def test_authorizers_may_be_invoked_by_this_api_only(guarded: tuple[App, dict[str, Any], dict[str, Any]]) -> None:
    permissions = of_type(guarded[2], "AWS::Lambda::Permission")
    for name in ("Partner", "Device", "Tenant"):
        perm = permissions[f"{name}AuthorizerPermission"]["Properties"]
        assert perm["Principal"] == "apigateway.amazonaws.com" and perm["Action"] == "lambda:InvokeFunction"
        assert perm["FunctionName"] == {"Fn::GetAtt": [f"{name}Function", "Arn"]}
        assert perm["SourceArn"]["Fn::Sub"].endswith(":${Api}/authorizers/*")
    assert "UnusedAuthorizerPermission" not in permissions
    assert not any("Unused" in name for name in permissions)


def test_an_authorizer_has_its_own_least_privilege_role(guarded: tuple[App, dict[str, Any], dict[str, Any]]) -> None:
    role = guarded[2]["Resources"]["PartnerRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {a for st in statements for a in st["Action"]}
    assert {"dynamodb:GetItem", "logs:PutLogEvents"} <= actions
    assert not any(a.startswith(("dynamodb:Put", "dynamodb:Delete", "dynamodb:Update", "execute-api")) for a in actions)
    for st in statements:
        assert st["Resource"] != "*" or st["Sid"] == "Tracing"
    assert guarded[2]["Resources"]["PartnerFunction"]["Properties"]["Role"] == {"Fn::GetAtt": ["PartnerRole", "Arn"]}


# -- Cognito --------------------------------------------------------------------------------------------


def test_pool_has_secure_defaults(guarded: tuple[App, dict[str, Any], dict[str, Any]]) -> None:
    pools = of_type(guarded[2], "AWS::Cognito::UserPool")
    assert list(pools) == ["MembersUserPool"]  # the existing pool (arn=) is referenced, never created
    props = pools["MembersUserPool"]["Properties"]
    assert props["UsernameAttributes"] == ["email"]
    assert props["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 3,
    }
    assert props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"} and props["UserPoolTier"] == "PLUS"
    assert pools["MembersUserPool"]["DeletionPolicy"] == "RetainExceptOnCreate"
    assert not of_type(guarded[2], "AWS::Cognito::IdentityPool")  # no identity pool: no unauthenticated identities
    client = guarded[2]["Resources"]["MembersUserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False and "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_scopes_get_resource_servers_and_clients_allowed_to_ask_for_them(
    guarded: tuple[App, dict[str, Any], dict[str, Any]],
) -> None:
    out = guarded[2]
    servers = {
        r["Properties"]["Identifier"]: (k, r) for k, r in of_type(out, "AWS::Cognito::UserPoolResourceServer").items()
    }
    assert set(servers) == {"orders", "https://api.example.com"}  # none for `openid` (standard) or the staff pool
    assert [s["ScopeName"] for s in servers["orders"][1]["Properties"]["Scopes"]] == ["write"]
    assert [s["ScopeName"] for s in servers["https://api.example.com"][1]["Properties"]["Scopes"]] == ["orders.admin"]
    assert all(r["Properties"]["UserPoolId"] == {"Ref": "MembersUserPool"} for _, r in servers.values())
    server_ids = sorted(k for k, _ in servers.values())

    machine = out["Resources"]["MembersUserPoolMachineClient"]
    assert sorted(machine["DependsOn"]) == server_ids
    assert machine["Properties"]["AllowedOAuthFlows"] == ["client_credentials"]
    assert machine["Properties"]["GenerateSecret"] is True
    assert machine["Properties"]["AllowedOAuthScopes"] == ["https://api.example.com/orders.admin", "orders/write"]

    user = out["Resources"]["MembersUserPoolClient"]  # has callback URLs: the code flow may ask for the scopes too
    assert sorted(user["DependsOn"]) == server_ids
    assert user["Properties"]["AllowedOAuthFlows"] == ["code"]
    assert set(user["Properties"]["AllowedOAuthScopes"]) >= {
        "orders/write",
        "https://api.example.com/orders.admin",
        "openid",
    }
    domain = of_type(out, "AWS::Cognito::UserPoolDomain")
    assert list(domain) == ["MembersUserPoolDomain"]
    assert {"MembersUserPoolTokenUrl", "MembersUserPoolMachineClientId", "MembersUserPoolClientId"} <= set(
        out["Outputs"]
    )


def test_example_pool_allows_password_sign_in_for_the_docs(
    example: tuple[App, dict[str, Any], dict[str, Any]], catalog: tuple[App, dict[str, Any], dict[str, Any]]
) -> None:
    flows = example[2]["Resources"]["ShopUsersUserPoolClient"]["Properties"]["ExplicitAuthFlows"]
    assert "ALLOW_USER_PASSWORD_AUTH" in flows and "ALLOW_USER_SRP_AUTH" in flows
    machine = catalog[2]["Resources"]["CatalogClientsUserPoolMachineClient"]["Properties"]
    assert machine["AllowedOAuthScopes"] == ["catalog/products.write"]


# -- throttling, caching, usage plans ------------------------------------------------------------------


def stage_of(transformed: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    stages = of_type(transformed, "AWS::ApiGateway::Stage")
    assert list(stages) == ["ApiapiStage"]  # SAM's name for stage "api" of `Api`
    return "ApiapiStage", stages["ApiapiStage"]["Properties"]


def test_method_settings_escape_paths_and_carry_cache_and_throttle(
    guarded: tuple[App, dict[str, Any], dict[str, Any]],
) -> None:
    _, stage = stage_of(guarded[2])
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}
    assert settings[("/*", "*")]["ThrottlingRateLimit"] == 50 and settings[("/*", "*")]["ThrottlingBurstLimit"] == 100
    assert settings[("/*", "*")]["CachingEnabled"] is False
    get_order = settings[("/~1orders~1{order_id}", "GET")]
    assert get_order["CachingEnabled"] is True and get_order["CacheTtlInSeconds"] == 30
    assert get_order["CacheDataEncrypted"] is True
    assert (get_order["ThrottlingRateLimit"], get_order["ThrottlingBurstLimit"]) == (50, 100)
    create = settings[("/~1orders", "POST")]
    assert (create["ThrottlingRateLimit"], create["ThrottlingBurstLimit"]) == (2.5, 5)
    assert settings[("/~1devices~1{device_id}", "GET")]["CacheTtlInSeconds"] == 10
    assert settings[("/~1catalogue", "GET")]["CacheTtlInSeconds"] == 300
    assert set(settings) == {
        ("/*", "*"),
        ("/~1orders~1{order_id}", "GET"),
        ("/~1orders", "POST"),
        ("/~1devices~1{device_id}", "GET"),
        ("/~1catalogue", "GET"),
    }
    assert stage["CacheClusterEnabled"] is True


def test_example_stage(
    example: tuple[App, dict[str, Any], dict[str, Any]], catalog: tuple[App, dict[str, Any], dict[str, Any]]
) -> None:
    _, stage = stage_of(catalog[2])
    assert {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}[("/~1products~1{sku}", "GET")][
        "CacheTtlInSeconds"
    ] == 60
    _, stage = stage_of(example[2])
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}
    assert settings[("/~1orders", "POST")]["ThrottlingRateLimit"] == 20
    assert settings[("/*", "*")]["ThrottlingRateLimit"] == 100


def test_resource_path_escaping() -> None:
    assert resource_path("/orders/{id}") == "/~1orders~1{id}"
    assert resource_path("/") == "/~1"
    assert resource_path("/a~b/{c+}") == "/~1a~0b~1{c+}"


def test_cached_routes_key_on_path_query_and_the_callers_credentials(
    guarded: tuple[App, dict[str, Any], dict[str, Any]],
) -> None:
    paths = body_of(guarded[2])["paths"]

    def keys(path: str) -> list[str]:
        return list(paths[path]["get"]["x-amazon-apigateway-integration"]["cacheKeyParameters"])

    assert keys("/orders/{order_id}") == [
        "method.request.path.order_id",
        "method.request.querystring.fields",
        "method.request.header.Authorization",
    ]
    assert {"name": "Authorization", "in": "header", "required": False, "schema": {"type": "string"}} in paths[
        "/orders/{order_id}"
    ]["get"]["parameters"]
    assert keys("/devices/{device_id}") == [
        "method.request.path.device_id",
        "method.request.header.X-Api-Key",
        "method.request.querystring.key",
    ]
    assert keys("/catalogue") == ["method.request.querystring.page"]  # public: the same answer for everyone
    assert "cacheKeyParameters" not in paths["/health"]["get"]["x-amazon-apigateway-integration"]


def test_usage_plans_and_keys(guarded: tuple[App, dict[str, Any], dict[str, Any]]) -> None:
    out = guarded[2]
    stage_id, _ = stage_of(out)
    plans = of_type(out, "AWS::ApiGateway::UsagePlan")
    assert set(plans) == {"GoldUsagePlan", "FreeUsagePlan"}
    gold = plans["GoldUsagePlan"]["Properties"]
    assert gold["ApiStages"] == [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": stage_id}}]
    assert gold["Quota"] == {"Limit": 5000, "Period": "DAY"}
    assert gold["Throttle"] == {"RateLimit": 5, "BurstLimit": 10}
    assert "Throttle" not in plans["FreeUsagePlan"]["Properties"]
    api_keys = of_type(out, "AWS::ApiGateway::ApiKey")
    assert set(api_keys) == {"GoldAcmeApiKey", "GoldGlobexApiKey"}
    assert all("Value" not in k["Properties"] and k["Properties"]["Enabled"] for k in api_keys.values())
    links = of_type(out, "AWS::ApiGateway::UsagePlanKey")
    assert {(v["Properties"]["KeyId"]["Ref"], v["Properties"]["UsagePlanId"]["Ref"]) for v in links.values()} == {
        ("GoldAcmeApiKey", "GoldUsagePlan"),
        ("GoldGlobexApiKey", "GoldUsagePlan"),
    }


def test_api_key_routes_without_plans_get_a_default_plan(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "app.py": """
import lambdakit as lk
service = lk.Service("keyed")

@lk.route("GET", "/feed", api_key=True)
def feed() -> list:
    return []
"""
        },
    )
    out = transform(build_template(app))
    plans = of_type(out, "AWS::ApiGateway::UsagePlan")
    assert list(plans) == ["DefaultUsagePlan"]
    assert plans["DefaultUsagePlan"]["Properties"]["ApiStages"][0]["Stage"] == {"Ref": "ApiapiStage"}
    assert cfn_lint(out, "transformed") == []


# -- the summary and `lambdakit routes` ---------------------------------------------------------------


def test_routes_show_each_routes_auth_and_list_the_public_ones(
    guarded: tuple[App, dict[str, Any], dict[str, Any]],
) -> None:
    result = CliRunner().invoke(main, ["routes", guarded[0].package])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines() if line and not line.startswith("-")}
    assert "cognito:members " in rows["get_order"] + " "
    assert "cognito:members orders/write openid" in rows["create_order"]
    assert "cognito:us-east-1-AbCdEf123 reports/read" in rows["report"]
    assert "authorizer:partner (TOKEN) +api-key" in rows["partner_order"]
    assert "authorizer:device (REQUEST)" in rows["device_status"]
    assert " iam " in rows["stats"] and " iam " in rows["inbox"]
    assert "PUBLIC +api-key" in rows["catalogue"]
    public = result.output.split("public routes (no auth):")[1].strip()
    assert public == "GET /health, GET /catalogue"


# -- declaration mistakes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "@lk.authorizer\ndef a(token: str, extra: str) -> lk.Identity | None: ...",
            "a TOKEN authorizer takes exactly one parameter",
        ),
        (
            "@lk.authorizer(identity_sources=('header:X-Key',))\ndef a(api_key: str) -> lk.Identity | None: ...",
            "parameter 'api_key' is not an identity source",
        ),
        ("@lk.route('GET', '/x', throttle=(0, 5))\ndef x() -> dict: ...", "throttle=(0, 5)"),
        (
            "u = lk.Cognito('cognito-users')\n@lk.route('GET', '/x', auth=u.scopes('a/b'))\ndef x() -> dict: ...",
            "give domain=",
        ),
    ],
)
def test_build_reports_auth_mistakes(tmp_path: Path, source: str, message: str) -> None:
    name = write_package(tmp_path, {"app.py": "import lambdakit as lk\n" + source + "\n"})
    with pytest.raises(BuildError) as info:
        discover(name)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda lk: lk.Cognito("p").scopes(), "name at least one scope"),
        (lambda lk: lk.Cognito("p").scopes("has space/x"), "RESOURCE_SERVER/NAME"),
        (lambda lk: lk.Cognito("p").scopes("noslash"), "RESOURCE_SERVER/NAME"),
        (lambda lk: lk.Cognito("p", domain="My_Domain"), "domain prefix"),
        (lambda lk: lk.Cognito("p", callback_urls=("http://example.com",)), "https://"),
        (lambda lk: lk.Cognito(arn=STAFF_ARN, password_auth=True), "existing pool"),
        (lambda lk: lk.UsagePlan("p", period="YEAR"), "period="),
        (lambda lk: lk.UsagePlan("p", rate=5), "together"),
        (lambda lk: lk.UsagePlan("p", quota=0), "quota=0"),
        (lambda lk: lk.UsagePlan("p", keys=("a", "a")), "twice"),
    ],
)
def test_declarations_refuse_mistakes(make: Any, message: str) -> None:
    import lambdakit

    with pytest.raises(DeclarationError) as info:
        make(lambdakit)
    assert message in str(info.value)
