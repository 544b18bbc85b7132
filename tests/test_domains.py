"""Pattern 2: a service's API on a custom domain of its own, or under a base path of a domain several share.

The templates of each way go through the SAM translator, cfn-lint (SAM and transformed) and checkov;
declarations API Gateway or ACM would refuse are build errors naming the fix; the example's services
build, and the site reaches the mounted catalog on its domain, in the template and locally.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdakit.declare.app import App
from lambdakit.derive.domains import certificate_region_problems, shared_domain_template
from lambdakit.derive.edge import edge_template
from lambdakit.derive.plan import plan_of
from lambdakit.derive.template import build_template
from lambdakit.discovery import BuildError, discover, discover_all
from tests.apps import make_app, write_package
from tests.validate import cfn_lint, checkov, transform

ROOT = Path(__file__).resolve().parents[1]
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
ROUTE = '\n\n@lk.route("GET", "/items")\ndef items() -> list[str]:\n    return []\n'


def app_with(root: Path, service: str, extra: str = "") -> App:
    return make_app(root, {"__init__.py": f"import lambdakit as lk\n\nservice = lk.Service({service})\n{extra}{ROUTE}"})


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="module")
def ways(tmp_path_factory: pytest.TempPathFactory) -> dict[str, App]:
    root = tmp_path_factory.mktemp("domains")
    return {
        "own": app_with(root, '"catalog", domain="catalog.example.com"'),
        "given": app_with(root, f'"catalog", domain="catalog.example.com", certificate="{CERT}"'),
        "single": app_with(root, '"orders", domain="api.example.com", base_path="orders"'),
        "multi": app_with(root, '"billing", domain="api.example.com", base_path="api/billing"'),
        "cdn": app_with(root, '"partners", cdn=True, domain="partners.example.com"'),
    }


# -- a domain of its own -------------------------------------------------------------------------------


def test_an_own_domain_is_a_regional_custom_domain_in_the_services_stack(ways: dict[str, App]) -> None:
    template = build_template(ways["own"])
    resources = template["Resources"]
    params = template["Parameters"]
    assert params["ApiDomainName"]["Default"] == "catalog.example.com"  # a stage overrides it from deploy/
    assert params["HostedZoneId"]["Type"] == "AWS::Route53::HostedZone::Id"
    certificate = resources["ApiCertificate"]
    assert certificate["Type"] == "AWS::CertificateManager::Certificate"
    assert certificate["Properties"]["ValidationMethod"] == "DNS"
    assert certificate["Properties"]["DomainValidationOptions"] == [
        {"DomainName": {"Ref": "ApiDomainName"}, "HostedZoneId": {"Ref": "HostedZoneId"}}
    ]
    domain = resources["ApiCustomDomain"]
    assert domain["Type"] == "AWS::ApiGateway::DomainName"
    assert domain["Properties"] == {
        "DomainName": {"Ref": "ApiDomainName"},
        "RegionalCertificateArn": {"Ref": "ApiCertificate"},
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "SecurityPolicy": "TLS_1_2",
    }
    mapping = resources["ApiCustomDomainMapping"]
    assert mapping["Type"] == "AWS::ApiGateway::BasePathMapping"
    assert mapping["Properties"] == {
        "DomainName": {"Ref": "ApiCustomDomain"},
        "RestApiId": {"Ref": "Api"},
        "Stage": {"Ref": "Api.Stage"},
    }  # no BasePath: the domain's root is the API's stage
    records = of_type(template, "AWS::Route53::RecordSet")
    assert sorted(r["Properties"]["Type"] for r in records.values()) == ["A", "AAAA"]
    for record in records.values():
        assert record["Properties"]["Name"] == {"Ref": "ApiDomainName"}
        assert record["Properties"]["AliasTarget"] == {
            "DNSName": {"Fn::GetAtt": "ApiCustomDomain.RegionalDomainName"},
            "HostedZoneId": {"Fn::GetAtt": "ApiCustomDomain.RegionalHostedZoneId"},
        }
    assert template["Outputs"]["ApiDomainUrl"]["Value"] == {"Fn::Sub": "https://${ApiDomainName}/"}
    assert shared_domain_template(ways["own"]) is None  # nothing outside the service's stack
    transformed = transform(template)
    assert transformed["Resources"]["ApiCustomDomainMapping"]["Properties"]["Stage"] == {"Ref": "ApiapiStage"}


def test_a_given_certificate_is_used_as_is(ways: dict[str, App]) -> None:
    template = build_template(ways["given"])
    assert "ApiCertificate" not in template["Resources"]
    assert template["Resources"]["ApiCustomDomain"]["Properties"]["RegionalCertificateArn"] == CERT
    app = ways["given"]
    assert certificate_region_problems(app, "eu-west-1") == []
    (problem,) = certificate_region_problems(app, "us-east-1")  # checked at deploy, once the region is known
    assert "certificate= is in eu-west-1, the stage deploys to us-east-1" in problem


# -- a shared domain, by base path ---------------------------------------------------------------------


def test_a_base_path_service_holds_only_its_mapping(ways: dict[str, App]) -> None:
    single, multi = build_template(ways["single"]), build_template(ways["multi"])
    for template in (single, multi):
        kinds = {v["Type"] for v in template["Resources"].values()}
        assert not kinds & {
            "AWS::CertificateManager::Certificate",
            "AWS::ApiGateway::DomainName",
            "AWS::Route53::RecordSet",
        }
        assert "HostedZoneId" not in template["Parameters"]
        assert template["Parameters"]["ApiDomainName"]["Default"] == "api.example.com"
    assert single["Resources"]["ApiCustomDomainMapping"] == {
        "Type": "AWS::ApiGateway::BasePathMapping",
        "Properties": {
            "DomainName": {"Ref": "ApiDomainName"},  # by name: the domain is the shared stack's
            "RestApiId": {"Ref": "Api"},
            "Stage": {"Ref": "Api.Stage"},
            "BasePath": "orders",
        },
    }
    # A BasePathMapping takes one level; API Gateway maps `api/billing` with an ApiGatewayV2 ApiMapping.
    assert multi["Resources"]["ApiCustomDomainMapping"] == {
        "Type": "AWS::ApiGatewayV2::ApiMapping",
        "Properties": {
            "DomainName": {"Ref": "ApiDomainName"},
            "ApiMappingKey": "api/billing",
            "ApiId": {"Ref": "Api"},
            "Stage": {"Ref": "Api.Stage"},
        },
    }
    assert multi["Outputs"]["ApiDomainUrl"]["Value"] == {"Fn::Sub": "https://${ApiDomainName}/api/billing/"}


def test_the_shared_domain_lives_in_a_stack_of_its_own_that_every_service_on_it_deploys_alike(
    ways: dict[str, App],
) -> None:
    stack = shared_domain_template(ways["single"], plan_of(ways["single"]))
    other = shared_domain_template(ways["multi"])
    assert stack is not None and other is not None
    assert stack == other  # the same stack from each service: the first creates it, the others change nothing
    assert stack.key == "domain" and stack.region is None
    assert stack.name == "lambdakit-domain-api-example-com-{stage}"
    template = stack.template
    assert set(template["Resources"]) == {
        "ApiCertificate",
        "ApiCustomDomain",
        "ApiCustomDomainRecordA",
        "ApiCustomDomainRecordAAAA",
    }
    assert template["Resources"]["ApiCustomDomain"]["Properties"]["SecurityPolicy"] == "TLS_1_2"  # multi-level needs it
    # Its output fills the service's parameter of the same name at deploy.
    assert template["Outputs"]["ApiDomainName"]["Value"] == {"Ref": "ApiCustomDomain"}
    assert set(template["Parameters"]) == {"ApiDomainName", "HostedZoneId"}
    assert "orders" not in json.dumps(template) and "billing" not in json.dumps(template)


# -- cdn=True and a site: the distribution's domain is a parameter too --------------------------------


def test_a_cdn_domain_is_the_apidomainname_parameter_in_both_templates(ways: dict[str, App]) -> None:
    app = ways["cdn"]
    template = build_template(app)
    config = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == [{"Ref": "ApiDomainName"}]
    assert template["Parameters"]["ApiDomainName"]["Default"] == "partners.example.com"
    assert "ApiCustomDomain" not in template["Resources"]  # no Regional domain: CloudFront's is the one
    edge = edge_template(app, plan_of(app))
    assert edge is not None
    assert edge["Parameters"]["ApiDomainName"]["Default"] == "partners.example.com"
    (certificate,) = of_type(edge, "AWS::CertificateManager::Certificate").values()
    assert certificate["Properties"]["DomainName"] == {"Ref": "ApiDomainName"}


# -- the validators --------------------------------------------------------------------------------------


#: What each way is linted as: the SAM template, the transformed one, or both (each lint takes seconds).
LINTED = {"own": ("sam", "transformed"), "multi": ("sam", "transformed"), "single": ("transformed",), "cdn": ("sam",)}


def test_every_way_passes_the_translator_and_cfn_lint(ways: dict[str, App]) -> None:
    problems: list[str] = []
    for name, forms in LINTED.items():
        template = build_template(ways[name])
        transformed = transform(template)  # the translator accepts each of them
        if "sam" in forms:
            problems += cfn_lint(template, name)
        if "transformed" in forms:
            problems += cfn_lint(transformed, f"{name} transformed")
    stack = shared_domain_template(ways["single"])
    assert stack is not None
    problems += cfn_lint(stack.template, "shared domain")
    assert problems == []


def test_every_way_passes_checkov(ways: dict[str, App]) -> None:
    """One checkov run (it takes seconds) over every way's resources and the example catalog's, prefixed apart."""
    merged: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}
    for name, app in {**ways, "examplecatalog": discover("example_app.catalog")}.items():
        merged["Resources"].update({name.title() + k: v for k, v in build_template(app)["Resources"].items()})
    stack = shared_domain_template(ways["single"])
    assert stack is not None
    merged["Resources"].update({"Shared" + k: v for k, v in stack.template["Resources"].items()})
    assert checkov(merged) == []


# -- mistakes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ('"s", base_path="orders"', "base_path='orders' needs domain="),
        ('"s", domain="api.example.com", base_path="/orders"', "no leading or trailing '/' (e.g. 'orders')"),
        ('"s", domain="api.example.com", base_path="orders/"', "no leading or trailing '/'"),
        ('"s", domain="api.example.com", base_path="api//orders"', "with no empty part"),
        ('"s", domain="api.example.com", base_path="api/or ders"', "letters, digits and $-_.+!*'()"),
        ('"s", domain="api.example.com", base_path="a" * 301', "at most 300"),
        ('"s", domain="api.example.com", base_path=""', "give a path such as 'orders'"),
        ('"s", cdn=True, domain="api.example.com", base_path="orders"', "mount the service on a site"),
        ('"s", domain="API.example.com"', "is not a domain name"),
        ('"s", domain="api.example.com", certificate="nope"', "is not an ACM certificate ARN"),
        (f'"s", certificate="{CERT}"', "certificate= without domain="),
    ],
)
def test_bad_domain_declarations_are_build_errors(tmp_path: Path, service: str, expected: str) -> None:
    with pytest.raises(BuildError) as info:
        app_with(tmp_path, service)
    assert any(expected in p and "lk.Service('s')" in p for p in info.value.problems), info.value.problems


def test_a_domain_without_routes_is_refused(tmp_path: Path) -> None:
    name = write_package(
        tmp_path, {"__init__.py": 'import lambdakit as lk\nservice = lk.Service("s", domain="a.example.com")\n'}
    )
    with pytest.raises(BuildError, match="the service has no routes"):
        discover(name)


def _service(root: Path, base_path: str, certificate: str | None = None) -> str:
    extra = f", certificate={certificate!r}" if certificate else ""
    declared = f'lk.Service("svc", domain="api.example.com", base_path={base_path!r}{extra})'
    source = f"import lambdakit as lk\n\nservice = {declared}\n"
    return write_package(root, {"__init__.py": source + ROUTE})


def test_two_services_on_one_shared_domain_with_one_base_path_do_not_build_together(tmp_path: Path) -> None:
    first, second, third = _service(tmp_path, "orders"), _service(tmp_path, "orders"), _service(tmp_path, "billing")
    assert len(discover_all([first, third])) == 2
    with pytest.raises(BuildError) as info:
        discover_all([first, second, third])
    (problem,) = info.value.problems
    assert f"in {second}: api.example.com/orders is already the base path of lk.Service('svc') in {first}" in problem
    # a site mounting both finds the same clash
    site = write_package(
        tmp_path,
        {
            "__init__.py": 'import lambdakit as lk\n\nsite = lk.Frontend("web")\n'
            f'site.mount("/a", {first!r})\nsite.mount("/b", {second!r})\n',
            "web/index.html": "<!doctype html>",
        },
    )
    with pytest.raises(BuildError, match="is already the base path of"):
        discover(site)


def test_services_on_one_shared_domain_agree_on_its_certificate(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"differs from .* for api\.example\.com"):
        discover_all([_service(tmp_path, "orders"), _service(tmp_path, "billing", CERT)])


# -- the example: several services, the site mounting the catalog on its domain --------------------------


@pytest.fixture(scope="module")
def example() -> dict[str, App]:
    shop, catalog, reviews = discover_all(["example_app.shop", "example_app.catalog", "example_app.reviews"])
    return {"shop": shop, "catalog": catalog, "reviews": reviews}


def test_the_examples_reviews_share_a_domain_by_base_path_and_the_site_reaches_them_there(
    example: dict[str, App],
) -> None:
    """The example's third way: a service of the shop's account on a domain several services share."""
    from lambdakit.derive.domains import shared_domain_template

    reviews, shop = example["reviews"], example["shop"]
    template = build_template(reviews)
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::ApiGateway::DomainName" not in kinds and "AWS::CertificateManager::Certificate" not in kinds
    shared = shared_domain_template(reviews, plan_of(reviews))
    assert shared is not None and shared.name == "lambdakit-domain-api-example-com-{stage}"
    assert {r["Type"] for r in shared.template["Resources"].values()} >= {
        "AWS::ApiGateway::DomainName",
        "AWS::CertificateManager::Certificate",
    }
    config = build_template(shop)["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    origin = {o["Id"]: o for o in config["Origins"]}["mount-api-reviews"]
    assert origin["DomainName"] == {"Ref": "MountApiReviewsDomain"} and origin["OriginPath"] == "/reviews"
    from lambdakit.testing import Client

    with Client("example_app.shop") as client:
        added = client.post("/api/reviews/products/ANVIL-1/reviews", json={"stars": 5, "text": "Heavy. Good."})
        assert added.status == 201, added.text
        listed = client.get("/api/reviews/products/ANVIL-1/reviews")
        assert listed.status == 200 and [r["text"] for r in listed.json] == ["Heavy. Good."]
        assert client.post("/api/reviews/products/ANVIL-1/reviews", json={"stars": 9, "text": "x"}).status == 422


def test_the_examples_services_build_each_its_own_stack(example: dict[str, App]) -> None:
    shop, catalog = example["shop"], example["catalog"]
    assert shop.site is not None and catalog.site is None
    assert catalog.service.domain == "catalog.example.com" and catalog.service.base_path is None
    catalog_template = build_template(catalog)
    assert "ApiCustomDomain" in catalog_template["Resources"]
    shop_template = build_template(shop)
    assert not {f.name for f in catalog.functions} & {f.logical_id for f in plan_of(shop).functions}
    assert "ProductsTable" not in shop_template["Resources"]  # the catalog's data stays in the catalog's stack
    assert shop_template["Parameters"]["SiteDomainName"]["Default"] == "www.example.com"
    from lambdakit.derive.summary import summary

    assert "API at https://catalog.example.com/ (its certificate, custom domain and DNS records in this stack)" in (
        summary(catalog)
    )


def test_the_site_reaches_the_mounted_catalog_at_its_domain(example: dict[str, App]) -> None:
    shop = example["shop"]
    assert shop.mounted["/api/catalog"].service.name == "catalog"
    template = build_template(shop)
    config = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    catalog = origins["mount-api-catalog"]
    # Its custom domain, not an import: the catalog's stack is in another account.
    assert catalog["DomainName"] == {"Ref": "MountApiCatalogDomain"}
    assert "OriginPath" not in catalog  # the domain's mapping puts the stage back, not the path
    assert template["Parameters"]["MountApiCatalogDomain"]["Default"] == "catalog.example.com"
    assert origins["mount-api-shipping"]["DomainName"] == "api.carrier.example.net"


def test_locally_the_site_serves_the_mounted_catalog(example: dict[str, App]) -> None:
    from lambdakit.testing import Client

    with Client("example_app.shop") as shop:
        shop.backend.seed(json.loads((ROOT / "example_app/catalog/seed.json").read_text()))
        answer = shop.get("/api/catalog/products/ANVIL-1")
        assert answer.status == 200 and answer.json["name"] == "Anvil, 50 kg"
        assert shop.get("/api/catalog/products/NOPE").status == 404


def test_each_service_has_its_stage_settings_and_the_catalog_its_own_accounts() -> None:
    from lambdakit.deploy.stages import read

    accounts = {}
    for service in ("shop", "catalog", "reviews"):
        path = ROOT / "deploy" / f"{service}.toml"
        stages = {stage: read(path, stage) for stage in ("dev", "prod")}
        assert all(s.account and s.region for s in stages.values())
        accounts[service] = {stages["dev"].account, stages["prod"].account}
    assert not accounts["shop"] & accounts["catalog"]
    prod = read(ROOT / "deploy/catalog.toml", "prod")
    dev_shop = read(ROOT / "deploy/shop.toml", "dev")
    assert prod.domain is None  # prod uses the declared catalog.example.com
    assert dev_shop.parameters["MountApiCatalogDomain"] == read(ROOT / "deploy/catalog.toml", "dev").domain
