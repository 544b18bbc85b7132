"""The site (patterns 3, 4, 5): its template resource by resource through the three validators, its
CloudFront Functions under Node, and `lambdakit local` / the test client serving it on one origin."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lambdakit.build import EDGE_TEMPLATE, build
from lambdakit.derive import cloudfront_functions
from lambdakit.derive.site import (
    ALL_VIEWER_EXCEPT_HOST,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    CLOUDFRONT_ZONE,
    cache_control,
    edge_template,
)
from lambdakit.derive.template import build_template
from lambdakit.discovery import BuildError, discover
from lambdakit.local.site import spa_twin, strip_twin
from lambdakit.testing.client import Client
from lambdakit.testing.events import cloudfront_function_event
from tests.apps import write_package
from tests.validate import cfn_lint, checkov, transform

INDEX = "<!doctype html><title>shop</title><script src=/assets/app.3f9a1c2b.js></script>"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"

API = """
import lambdakit as lk

@lk.route("GET", "/products/{sku}")
def get_product(sku: str) -> dict[str, str]:
    if sku == "nope":
        raise lk.NotFound(f"no product {sku}")
    return {"sku": sku}

@lk.route("POST", "/orders", status=201)
def create_order(body: dict[str, int]) -> dict[str, int]:
    return body
"""


def site_files(extra: str = "") -> dict[str, str]:
    return {
        "web/dist/index.html": INDEX,
        "web/dist/assets/app.3f9a1c2b.js": "console.log('shop')",
        "web/dist/robots.txt": "User-agent: *",
        "web/dist/.well-known/thing.json": "{}",
    }


def package(root: Path, init: str, files: dict[str, str] | None = None) -> str:
    return write_package(root, {"__init__.py": init, **site_files(), **(files or {})})


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("sites")
    catalog = write_package(
        root,
        {
            "__init__.py": 'import lambdakit as lk\nservice = lk.Service("catalog")\n'
            '@lk.route("GET", "/items")\ndef items() -> list[str]:\n    return ["a"]\n'
        },
    )
    return {
        "spa": package(root, 'import lambdakit as lk\nsite = lk.Frontend("web/dist", api_path=None)\n'),
        "shop": package(
            root,
            'import lambdakit as lk\nservice = lk.Service("shop")\n'
            'site = lk.Frontend("web/dist", headers=lk.SecurityHeaders(csp="default-src \'self\'"))\n'
            f'site.mount("/api/catalog", {catalog!r})\n'
            'site.mount("/api/partners", origin="https://partners.example.net/v1")\n' + API,
        ),
        "domain": package(
            root,
            'import lambdakit as lk\nservice = lk.Service("dom")\n'
            'site = lk.Frontend("web/dist", domain="www.example.com")\n' + API,
        ),
        "given_cert": package(
            root,
            'import lambdakit as lk\nservice = lk.Service("given")\n'
            f'site = lk.Frontend("web/dist", domain="www.example.com", certificate={CERT!r}, headers=None)\n' + API,
        ),
        "cdn": write_package(
            root,
            {
                "__init__.py": "import lambdakit as lk\n"
                'service = lk.Service("partners", cdn=True, domain="partners.example.com")\n' + API
            },
        ),
        "catalog": catalog,
    }


def template_of(name: str) -> dict[str, Any]:
    return build_template(discover(name))


def resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def distribution(template: dict[str, Any]) -> dict[str, Any]:
    (found,) = resources(template, "AWS::CloudFront::Distribution").values()
    config: dict[str, Any] = found["Properties"]["DistributionConfig"]
    return config


# -- the template, resource by resource ------------------------------------------------------


def test_the_bucket_is_private_encrypted_versioned_and_tls_only(apps: dict[str, str]) -> None:
    template = template_of(apps["spa"])
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "WebsiteConfiguration" not in props  # a REST origin, never a public website endpoint
    (policy,) = resources(template, "AWS::S3::BucketPolicy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["TlsOnly"]["Effect"] == "Deny"
    assert statements["TlsOnly"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    read = statements["DistributionReadsFiles"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    assert "SiteDistribution" in json.dumps(read["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert statements["DistributionSeesMissingFiles"]["Action"] == "s3:ListBucket"  # a missing file is a 404


def test_cloudfront_reads_the_bucket_through_origin_access_control(apps: dict[str, str]) -> None:
    template = template_of(apps["spa"])
    (oac,) = resources(template, "AWS::CloudFront::OriginAccessControl").values()
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    (origin,) = distribution(template)["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": "SiteBucket.RegionalDomainName"}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": "SiteOriginAccess.Id"}


def test_the_distribution_is_https_http3_and_has_no_distribution_wide_error_pages(apps: dict[str, str]) -> None:
    config = distribution(template_of(apps["shop"]))
    assert "CustomErrorResponses" not in config  # they would turn the API's 403/404 into index.html
    assert config["HttpVersion"] == "http2and3" and config["IPV6Enabled"] is True
    assert config["DefaultRootObject"] == "index.html"
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https" and default["Compress"] is True
    assert default["CachePolicyId"] == CACHING_OPTIMIZED and default["AllowedMethods"] == ["GET", "HEAD"]
    (association,) = default["FunctionAssociations"]
    assert association == {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": "SiteSpaFallback.FunctionARN"}}
    assert default["ResponseHeadersPolicyId"] == {"Ref": "SiteHeaders"}


def test_api_behaviors_come_most_specific_first_with_every_method_and_no_cache(apps: dict[str, str]) -> None:
    template = template_of(apps["shop"])
    behaviors = distribution(template)["CacheBehaviors"]
    assert [b["PathPattern"] for b in behaviors] == [
        "/api/partners",
        "/api/partners/*",
        "/api/catalog",
        "/api/catalog/*",
        "/api",
        "/api/*",
    ]
    for behavior in behaviors:
        assert behavior["CachePolicyId"] == CACHING_DISABLED
        assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST  # Host to execute-api is a 403
        assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
        assert behavior["ViewerProtocolPolicy"] == "https-only"
        assert behavior["ResponseHeadersPolicyId"] == {"Ref": "SiteHeaders"}
    own = [b for b in behaviors if b["PathPattern"].startswith("/api") and b["TargetOriginId"] == "api"]
    assert own and all("FunctionAssociations" not in b for b in own)  # /api/x is stage api, route /x: as is
    mounted = [b for b in behaviors if b["TargetOriginId"] != "api"]
    assert all(len(b["FunctionAssociations"]) == 1 for b in mounted)  # their prefix is stripped
    origins = {o["Id"]: o for o in distribution(template)["Origins"]}
    assert origins["api"]["DomainName"] == {"Fn::Sub": "${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert "OriginPath" not in origins["api"]
    assert origins["mount-api-catalog"]["OriginPath"] == "/api"
    assert "ImportValue" in json.dumps(origins["mount-api-catalog"]["DomainName"])
    assert origins["mount-api-partners"]["DomainName"] == "partners.example.net"
    assert origins["mount-api-partners"]["OriginPath"] == "/v1"
    assert all(
        o["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only" for k, o in origins.items() if k != "site"
    )
    assert template["Parameters"]["Stage"]["Default"] == "dev"


def test_a_mounted_service_exports_the_domain_the_site_imports(apps: dict[str, str]) -> None:
    outputs = template_of(apps["catalog"])["Outputs"]
    assert outputs["ApiDomain"]["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-ApiDomain"}}
    imported = distribution(template_of(apps["shop"]))["Origins"]
    catalog = next(o for o in imported if o["Id"] == "mount-api-catalog")
    service = discover(apps["catalog"]).service.name
    assert catalog["DomainName"] == {"Fn::ImportValue": {"Fn::Sub": f"{service}-${{Stage}}-ApiDomain"}}


def test_security_headers_are_a_response_headers_policy_with_the_csp(apps: dict[str, str]) -> None:
    (policy,) = resources(template_of(apps["shop"]), "AWS::CloudFront::ResponseHeadersPolicy").values()
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert config["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert config["ContentTypeOptions"] == {"Override": True}
    assert config["FrameOptions"]["FrameOption"] == "DENY"
    assert config["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    assert config["ContentSecurityPolicy"]["ContentSecurityPolicy"] == "default-src 'self'"
    no_headers = template_of(apps["given_cert"])
    assert not resources(no_headers, "AWS::CloudFront::ResponseHeadersPolicy")
    assert "ResponseHeadersPolicyId" not in distribution(no_headers)["DefaultCacheBehavior"]


def test_a_domain_gets_a_us_east_1_certificate_and_alias_records(apps: dict[str, str], tmp_path: Path) -> None:
    app = discover(apps["domain"])
    template = build_template(app)
    config = distribution(template)
    assert config["Aliases"] == [{"Ref": "SiteDomainName"}]  # the declared domain is its default; a stage overrides
    assert template["Parameters"]["SiteDomainName"]["Default"] == "www.example.com"
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": {"Ref": "SiteCertificateArn"},
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert "us-east-1" in template["Parameters"]["SiteCertificateArn"]["AllowedPattern"]
    records = resources(template, "AWS::Route53::RecordSet")
    assert sorted(r["Properties"]["Type"] for r in records.values()) == ["A", "AAAA"]
    for record in records.values():
        assert record["Properties"]["AliasTarget"]["HostedZoneId"] == CLOUDFRONT_ZONE
        assert record["Properties"]["Name"] == {"Ref": "SiteDomainName"}
    from lambdakit.derive.plan import plan_of

    site = plan_of(app).site
    assert site is not None
    edge = edge_template(app, site)
    assert edge is not None
    (certificate,) = [r for r in edge["Resources"].values() if r["Type"] == "AWS::CertificateManager::Certificate"]
    assert certificate["Properties"]["ValidationMethod"] == "DNS"
    assert certificate["Properties"]["DomainName"] == {"Ref": "SiteDomainName"}  # the same parameter, deploy fills both
    assert edge["Parameters"]["SiteDomainName"]["Default"] == "www.example.com"
    build(app, tmp_path)
    assert (tmp_path / EDGE_TEMPLATE).exists()  # `build` writes the us-east-1 template beside the main one
    assert cfn_lint(edge, "edge") == []


def test_a_given_certificate_is_used_and_no_edge_template_is_written(apps: dict[str, str], tmp_path: Path) -> None:
    app = discover(apps["given_cert"])
    config = distribution(build_template(app))
    assert config["ViewerCertificate"]["AcmCertificateArn"] == CERT
    build(app, tmp_path)
    assert not (tmp_path / EDGE_TEMPLATE).exists()


def test_cdn_puts_cloudfront_before_the_regional_api(apps: dict[str, str]) -> None:
    template = template_of(apps["cdn"])
    config = distribution(template)
    assert not resources(template, "AWS::S3::Bucket")
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "api" and default["CachePolicyId"] == CACHING_DISABLED
    (origin,) = config["Origins"]
    assert origin["OriginPath"] == "/api"  # the stage: /orders reaches the API as /api/orders
    assert config["Aliases"] == [{"Ref": "ApiDomainName"}]  # cdn=True: the service's domain (deploy/'s domain =)
    assert template["Parameters"]["ApiDomainName"]["Default"] == "partners.example.com"
    assert template["Resources"]["Api"]["Properties"]["EndpointConfiguration"] == {"Type": "REGIONAL"}


@pytest.mark.parametrize("name", ["spa", "shop", "domain", "given_cert", "cdn"])
def test_every_site_template_passes_the_validators(apps: dict[str, str], name: str) -> None:
    template = template_of(apps[name])
    assert cfn_lint(template) == []
    assert cfn_lint(transform(template), "transformed") == []


def test_checkov_passes_every_site_template(apps: dict[str, str]) -> None:
    for name in ("spa", "shop", "domain", "given_cert", "cdn"):
        assert checkov(template_of(apps[name])) == [], name


def test_the_site_folder_is_not_in_the_functions_artifact(apps: dict[str, str], tmp_path: Path) -> None:
    app = discover(apps["shop"])
    build(app, tmp_path)
    shipped = [p.name for p in (tmp_path / "src").rglob("*")]
    assert "index.html" not in shipped and "app.3f9a1c2b.js" not in shipped
    assert "__init__.py" in shipped


# -- the CloudFront Functions, as shipped ----------------------------------------------------

NODE = shutil.which("node")

DEEP_LINKS = ["/", "/orders", "/orders/o-1", "/products/A-1/reviews", "/a.b/c"]
FILES = ["/index.html", "/assets/app.3f9a1c2b.js", "/robots.txt", "/favicon.ico", "/.well-known/thing.json"]


def run_node(code: str, event: dict[str, Any]) -> dict[str, Any]:
    assert NODE is not None
    script = code + "\nprocess.stdout.write(JSON.stringify(handler(" + json.dumps(event) + ")));"
    out = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=30, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.mark.skipif(NODE is None, reason="Node runs CloudFront Functions' JavaScript")
@pytest.mark.parametrize("uri", DEEP_LINKS + FILES)
def test_the_spa_fallback_under_node(uri: str) -> None:
    event = cloudfront_function_event(uri=uri)
    result = run_node(cloudfront_functions.spa_fallback(), event)
    expected = "/index.html" if uri in DEEP_LINKS else uri
    assert result["uri"] == expected
    assert result == spa_twin("index.html")(event)  # the Python twin local uses without Node agrees


@pytest.mark.skipif(NODE is None, reason="Node runs CloudFront Functions' JavaScript")
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/api/catalog", "/"),
        ("/api/catalog/items", "/items"),
        ("/api/catalog/items/a-1", "/items/a-1"),
        ("/api/catalogue/items", "/api/catalogue/items"),
    ],
)
def test_the_prefix_strip_under_node(uri: str, expected: str) -> None:
    event = cloudfront_function_event(uri=uri)
    result = run_node(cloudfront_functions.strip_prefix("/api/catalog"), event)
    assert result["uri"] == expected and result == strip_twin("/api/catalog")(event)


def test_function_code_fits_cloudfront_limits() -> None:
    for code in (cloudfront_functions.spa_fallback(), cloudfront_functions.strip_prefix("/api/" + "x" * 200)):
        assert len(code.encode()) < 10 * 1024
        assert "=>" not in code and "let " not in code and "const " not in code  # ES5.1: what both runtimes run


# -- served locally on one origin -------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(apps: dict[str, str]) -> Any:
    with Client(apps["shop"]) as client:
        yield client


def test_the_spa_and_its_deep_links_get_index_html(shop: Client) -> None:
    for path in ("/", "/orders/o-1", "/products/A-1"):
        answer = shop.get(path)
        assert answer.status == 200 and answer.text == INDEX, path
        assert answer.header("Content-Type") == "text/html; charset=utf-8"
        assert answer.header("Cache-Control") == "no-cache"


def test_assets_are_served_with_their_cache_rules_and_missing_ones_are_404(shop: Client) -> None:
    asset = shop.get("/assets/app.3f9a1c2b.js")
    assert asset.status == 200 and asset.text == "console.log('shop')"
    assert asset.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert shop.get("/robots.txt").header("Cache-Control") == "no-cache"
    assert shop.get("/assets/gone.js").status == 404  # a file path is never the SPA
    assert shop.get("/../secrets.txt").status == 404
    assert shop.get("/assets/app.3f9a1c2b.js", headers={"If-None-Match": asset.header("ETag") or ""}).status == 304


def test_the_api_answers_under_api_path_and_its_404_stays_json(shop: Client) -> None:
    assert shop.get("/api/products/A-1").json == {"sku": "A-1"}
    missing = shop.get("/api/products/nope")
    assert missing.status == 404 and missing.json["error"]["message"] == "no product nope"
    assert shop.post("/api/orders", json={"qty": 2}).status == 201
    unknown = shop.get("/api/no/such/route")
    assert unknown.status == 403 and unknown.json["error"]["code"] == "not_found"  # API Gateway's answer


def test_a_mounted_package_keeps_its_paths_below_the_mount(shop: Client) -> None:
    assert shop.get("/api/catalog/items").json == ["a"]
    assert shop.get("/api/catalog/nothing").status == 403


def test_every_answer_carries_the_security_headers(shop: Client) -> None:
    for path in ("/", "/assets/app.3f9a1c2b.js", "/api/products/A-1", "/api/products/nope", "/assets/gone.js"):
        answer = shop.get(path)
        assert answer.header("Strict-Transport-Security") == "max-age=63072000; includeSubDomains", path
        assert answer.header("X-Content-Type-Options") == "nosniff"
        assert answer.header("X-Frame-Options") == "DENY"
        assert answer.header("Content-Security-Policy") == "default-src 'self'"


def test_writes_to_the_site_are_refused(shop: Client) -> None:
    assert shop.post("/index.html", body=b"x").status == 403


def test_local_runs_the_shipped_code_under_node_when_present(shop: Client) -> None:
    assert shop.emulator.site is not None
    assert shop.emulator.site.functions.engine == ("node" if NODE else "python")


def test_cache_rules() -> None:
    assert cache_control("assets/index-B2xT9qLm.js") == "public, max-age=31536000, immutable"
    assert cache_control("assets/app.3f9a1c2b.css") == "public, max-age=31536000, immutable"
    assert cache_control("index.html") == "no-cache"
    assert cache_control("assets/logo.png") == "no-cache"
    assert cache_control("assets/background-image.png") == "no-cache"  # words, not a hash


# -- mistakes are build errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "expected"),
    [
        ('site = lk.Frontend("missing")', "holds no index.html"),
        ('site = lk.Frontend("web/dist", api_path="api/")', "api_path="),
        ('site = lk.Frontend("web/dist", domain="WWW.Example.com")', "is not a domain name"),
        (
            'site = lk.Frontend("web/dist", domain="www.example.com", '
            'certificate="arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012")',
            "us-east-1 only",
        ),
        ('site = lk.Frontend("web/dist", certificate="nope")', "not an ACM certificate ARN"),
        ('site = lk.Frontend("web/dist").mount("/api/x", origin="http://plain.example.com")', "https://"),
        ('site = lk.Frontend("web/dist").mount("/api/x", "pkg", origin="https://a.example.com")', "not both"),
        ('site = lk.Frontend("web/dist").mount("/api", origin="https://a.example.com")', "served twice"),
        ('site = lk.Frontend("web/dist").mount("/x", "no_such_package_here")', "does not build"),
        ('site = lk.Frontend("web/dist", rollout=object())', "rollout= takes lk.Rollout(...)"),
        ('service = lk.Service("s", cdn=True)\nsite = lk.Frontend("web/dist")', "already puts the API"),
        ('service = lk.Service("s", base_path="orders")', "needs domain="),
    ],
)
def test_site_mistakes_are_build_errors(tmp_path: Path, declaration: str, expected: str) -> None:
    name = package(tmp_path, "import lambdakit as lk\n" + declaration + "\n" + API)
    with pytest.raises(BuildError) as info:
        discover(name)
    assert any(expected in problem for problem in info.value.problems), info.value.problems


def test_mount_paths_that_would_share_resource_names_are_refused(tmp_path: Path) -> None:
    name = package(
        tmp_path,
        'import lambdakit as lk\nsite = lk.Frontend("web/dist")\n'
        'site.mount("/api/catalog", origin="https://a.example.com")\n'
        'site.mount("/api-catalog", origin="https://b.example.com")\n' + API,
    )
    with pytest.raises(BuildError) as info:
        discover(name)
    assert any("differ only in their separators" in p for p in info.value.problems)


def test_a_mounted_service_with_an_underscore_is_imported_by_its_stack_name(tmp_path: Path) -> None:
    inner = write_package(
        tmp_path,
        {
            "__init__.py": 'import lambdakit as lk\nservice = lk.Service("my_cat")\n'
            '@lk.route("GET", "/x")\ndef x() -> dict[str, str]:\n    return {}\n'
        },
    )
    outer = package(
        tmp_path, f'import lambdakit as lk\nsite = lk.Frontend("web/dist")\nsite.mount("/api/cat", {inner!r})\n' + API
    )
    origins = distribution(template_of(outer))["Origins"]
    mounted = next(o for o in origins if o["Id"] == "mount-api-cat")
    assert mounted["DomainName"] == {"Fn::ImportValue": {"Fn::Sub": "my-cat-${Stage}-ApiDomain"}}


def test_dotfiles_in_the_folder_are_not_served(tmp_path: Path) -> None:
    name = package(
        tmp_path,
        'import lambdakit as lk\nsite = lk.Frontend("web/dist")\n' + API,
        {"web/dist/.env": "SECRET=1", "web/dist/.git/config": "x"},
    )
    with Client(name) as client:
        assert client.get("/.env").status == 404
        assert client.get("/.git/config").text == INDEX  # no dot in `config`: a client-side route, as on AWS
        assert client.get("/.well-known/thing.json").status == 200


def test_deploy_refuses_a_stage_that_makes_cloudfront_names_too_long(apps: dict[str, str]) -> None:
    from lambdakit.deploy import name_problems

    app = discover(apps["shop"])
    assert name_problems(app, "prod") == []
    (problem,) = name_problems(app, "a" * 60)
    assert "too long for the site's CloudFront names" in problem
    assert name_problems(app, "bad stage!")[0].startswith("stack name")


def test_head_on_a_file_gives_its_length_without_the_body(shop: Client) -> None:
    answer = shop.request("HEAD", "/assets/app.3f9a1c2b.js")
    assert answer.status == 200 and answer.body == b""
    assert answer.header("Content-Length") == str(len("console.log('shop')"))
