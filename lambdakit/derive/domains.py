"""A service's API on a custom domain: a domain of its own (`domain=`), or a path of one several share (`base_path=`).

Pure functions of the app. With `lk.Service(domain=...)` alone the service's
stack holds the whole Regional custom domain: its certificate (in the stack's
region, DNS-validated in the `HostedZoneId` zone), the API Gateway DomainName
(REGIONAL, TLS 1.2), the mapping of its root to the API's stage, and the
Route 53 alias records. With `base_path=` the domain belongs to no service:
it lives in a stack of its own, named by the domain (`shared_domain_template`),
which deploy creates before any service on it and no destroy of a service
removes; each service's stack holds only its mapping. Either way the domain is
the template parameter `ApiDomainName`, whose default is the declared domain,
so one build deploys to every stage (a stage overrides it from deploy/).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lambdakit.declare.app import App
from lambdakit.derive.stacks import Stack

API_DOMAIN_PARAMETER = "ApiDomainName"
ZONE_PARAMETER = "HostedZoneId"  # the same parameter as the site's (derive/site.py): deploy fills it once
CERTIFICATE = "ApiCertificate"
DOMAIN = "ApiCustomDomain"
MAPPING = "ApiCustomDomainMapping"
RECORD = "ApiCustomDomainRecord"  # + A / AAAA
DOMAIN_URL_OUTPUT = "ApiDomainUrl"
#: The key of the shared domain's stack among a service's extra stacks (`template-domain.yaml`).
SHARED_STACK_KEY = "domain"
#: CloudFormation's limit on a stack name, and the longest stage deploy accepts (derive/stage.py).
_MAX_STACK_NAME = 128
_MAX_STAGE = 20

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DOMAIN_PATTERN = _DOMAIN.pattern
_CERTIFICATE = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
#: One segment of a base path: what API Gateway accepts in a mapping (letters, digits and $-_.+!*'()).
_SEGMENT = re.compile(r"^[A-Za-z0-9$_.+!*'()-]+$")
MAX_BASE_PATH = 300


@dataclass(frozen=True)
class DomainPlan:
    """Where callers reach a service's Regional API: `domain` (declared), below `base_path` when it is shared."""

    domain: str
    base_path: str | None  # None: the domain is the service's own, its root mapped to the API's stage
    certificate: str | None  # an existing ACM ARN (in the stack's region); None: lambdakit creates one

    @property
    def shared(self) -> bool:
        return self.base_path is not None

    @property
    def multi_level(self) -> bool:
        """`api/orders`: API Gateway maps it with an ApiGatewayV2 ApiMapping (a BasePathMapping takes one level)."""
        return self.base_path is not None and "/" in self.base_path

    @property
    def stack_name(self) -> str:
        """The shared domain's stack, one per domain and stage (deploy formats `{stage}`)."""
        return f"lambdakit-domain-{self.domain.replace('.', '-')}-{{stage}}"

    @property
    def url(self) -> dict[str, str]:
        path = f"{self.base_path}/" if self.base_path else ""
        return {"Fn::Sub": f"https://${{{API_DOMAIN_PARAMETER}}}/{path}"}


def domain_plan(app: App) -> DomainPlan | None:
    """The service's Regional API domain; None without `domain=`, or with `cdn=True` (the distribution's domain)."""
    service = app.service
    if service.domain is None or service.cdn:
        return None
    return DomainPlan(service.domain, service.base_path, service.certificate)


# -- the parameters ---------------------------------------------------------------------------------


def domain_parameter(domain: str, what: str, how: str = "deploy sets it from the stage's settings") -> dict[str, Any]:
    """A declared domain as a template parameter: the declaration is its default, a stage overrides it."""
    return {
        "Type": "String",
        "Default": domain,
        "AllowedPattern": DOMAIN_PATTERN,
        "ConstraintDescription": "a lower-case domain name, e.g. api.example.com",
        "Description": f"The domain of {what} (declared: {domain}); {how}",
    }


def zone_parameter(domain: str) -> dict[str, Any]:
    return {"Type": "AWS::Route53::HostedZone::Id", "Description": f"The Route 53 hosted zone that holds {domain}"}


# -- the resources ----------------------------------------------------------------------------------


def _custom_domain(plan: DomainPlan) -> dict[str, Any]:
    """The certificate, the API Gateway DomainName and its alias records: the service's own, or the shared stack's."""
    out: dict[str, Any] = {}
    certificate: Any = plan.certificate
    if certificate is None:
        out[CERTIFICATE] = {
            "Type": "AWS::CertificateManager::Certificate",
            "Properties": {
                "DomainName": {"Ref": API_DOMAIN_PARAMETER},
                "ValidationMethod": "DNS",
                "DomainValidationOptions": [
                    {"DomainName": {"Ref": API_DOMAIN_PARAMETER}, "HostedZoneId": {"Ref": ZONE_PARAMETER}}
                ],
            },
        }
        certificate = {"Ref": CERTIFICATE}
    out[DOMAIN] = {
        "Type": "AWS::ApiGateway::DomainName",
        "Properties": {
            "DomainName": {"Ref": API_DOMAIN_PARAMETER},
            "RegionalCertificateArn": certificate,
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "SecurityPolicy": "TLS_1_2",  # multi-level base paths need it too
        },
    }
    for kind in ("A", "AAAA"):
        out[RECORD + kind] = {
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneId": {"Ref": ZONE_PARAMETER},
                "Name": {"Ref": API_DOMAIN_PARAMETER},
                "Type": kind,
                "AliasTarget": {
                    "DNSName": {"Fn::GetAtt": f"{DOMAIN}.RegionalDomainName"},
                    "HostedZoneId": {"Fn::GetAtt": f"{DOMAIN}.RegionalHostedZoneId"},
                },
            },
        }
    return out


def _mapping(plan: DomainPlan, api_id: str) -> dict[str, Any]:
    """The API's stage on the domain: at its root (own domain), or at `base_path` (a shared one, by name)."""
    domain = {"Ref": API_DOMAIN_PARAMETER} if plan.shared else {"Ref": DOMAIN}
    stage = {"Ref": api_id + ".Stage"}  # SAM's stage; the reference also orders the mapping after it
    if plan.multi_level:
        return {
            "Type": "AWS::ApiGatewayV2::ApiMapping",
            "Properties": {
                "DomainName": domain,
                "ApiMappingKey": plan.base_path,
                "ApiId": {"Ref": api_id},
                "Stage": stage,
            },
        }
    props: dict[str, Any] = {"DomainName": domain, "RestApiId": {"Ref": api_id}, "Stage": stage}
    if plan.base_path:
        props["BasePath"] = plan.base_path
    return {"Type": "AWS::ApiGateway::BasePathMapping", "Properties": props}


def resources(app: App, api_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The domain's resources, outputs and parameters in the service's main template (empty without a domain)."""
    plan = domain_plan(app)
    if plan is None:
        return {}, {}, {}
    params: dict[str, Any] = {API_DOMAIN_PARAMETER: domain_parameter(plan.domain, f"service {app.service.name}'s API")}
    out: dict[str, Any] = {}
    if not plan.shared:
        params[ZONE_PARAMETER] = zone_parameter(plan.domain)
        out.update(_custom_domain(plan))
    out[MAPPING] = _mapping(plan, api_id)
    outputs = {DOMAIN_URL_OUTPUT: {"Description": "The API's URL on its custom domain", "Value": plan.url}}
    return out, outputs, params


def shared_domain_template(app: App, plan: Any = None) -> Stack | None:
    """The stack of the domain a `base_path=` service is mounted on, shared by every service mapped on it.

    The template depends on the domain (and certificate=) alone, so every service on it deploys the same
    one: the first creates it, the others find nothing to change. Its `ApiDomainName` output fills the
    service's parameter of that name."""
    found = domain_plan(app)
    if found is None or not found.shared:
        return None
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"lambdakit: the custom domain {found.domain}, shared by the services mapped on it by base path",
        "Parameters": {
            API_DOMAIN_PARAMETER: domain_parameter(found.domain, "the shared API domain"),
            ZONE_PARAMETER: zone_parameter(found.domain),
        },
        "Resources": _custom_domain(found),
        "Outputs": {
            API_DOMAIN_PARAMETER: {
                "Description": "The domain's name (the services map on it)",
                "Value": {"Ref": DOMAIN},
            },
            "ApiDomainRegionalName": {"Value": {"Fn::GetAtt": f"{DOMAIN}.RegionalDomainName"}},
        },
    }
    return Stack(SHARED_STACK_KEY, template, None, found.stack_name)


# -- a mounted service reached at its domain --------------------------------------------------------


def mount_parameter(path: str) -> str:
    """The site's parameter holding the domain of the service mounted at `path` (`/api/catalog` -> ...)."""
    from lambdakit.core.names import camel

    return "Mount" + camel(path.strip("/").replace("/", "-")) + "Domain"


# -- the checks -------------------------------------------------------------------------------------


def problems(app: App) -> list[str]:
    """What API Gateway, ACM or CloudFormation would refuse about the service's domain settings."""
    service = app.service
    where = f"lk.Service({service.name!r})"
    found: list[str] = []
    if service.domain is not None and not (isinstance(service.domain, str) and _DOMAIN.match(service.domain)):
        found.append(f"{where}: domain={service.domain!r} is not a domain name (lower case, e.g. 'api.example.com')")
    if service.base_path is not None:
        found += base_path_problems(where, service.base_path)
        if service.domain is None:
            found.append(
                f"{where}: base_path={service.base_path!r} needs domain=: it is a path of a custom domain "
                "(e.g. lk.Service(..., domain='api.example.com', base_path='orders'))"
            )
        if service.cdn:
            found.append(
                f"{where}: base_path= with cdn=True: the distribution's domain is the service's own; mount the "
                "service on a site with site.mount(path, package) instead"
            )
    plan = domain_plan(app)
    if plan is not None:
        if not any(s.kind == "http" for s in app.functions):
            found.append(f"{where}: domain= puts the API on a custom domain, but the service has no routes")
        if plan.shared and len(plan.stack_name.replace("{stage}", "")) + _MAX_STAGE > _MAX_STACK_NAME:
            found.append(f"{where}: domain={plan.domain!r} is too long to name its shared stack ({plan.stack_name})")
        if service.certificate is not None and not _CERTIFICATE.match(service.certificate):
            found.append(f"{where}: certificate={service.certificate!r} is not an ACM certificate ARN")
    return found


def base_path_problems(where: str, base_path: object) -> list[str]:
    """API Gateway's rules for a mapping's path: segments of letters, digits and $-_.+!*'(), no empty one."""
    if not isinstance(base_path, str) or not base_path:
        return [f"{where}: base_path={base_path!r}: give a path such as 'orders' or 'api/orders'"]
    if base_path.startswith("/") or base_path.endswith("/"):
        return [f"{where}: base_path={base_path!r}: no leading or trailing '/' (e.g. {base_path.strip('/')!r})"]
    if len(base_path) > MAX_BASE_PATH:
        return [f"{where}: base_path= is {len(base_path)} characters; API Gateway takes at most {MAX_BASE_PATH}"]
    segments = base_path.split("/")
    if any(not _SEGMENT.match(s) for s in segments):
        return [
            f"{where}: base_path={base_path!r}: each part between '/' is letters, digits and $-_.+!*'() "
            "(API Gateway refuses others), with no empty part"
        ]
    return []


def certificate_region_problems(app: App, region: str) -> list[str]:
    """At deploy, once the stage's region is known: a Regional domain takes a certificate of its own region."""
    plan = domain_plan(app)
    if plan is None or plan.certificate is None:
        return []
    found = _CERTIFICATE.match(plan.certificate)
    if found is None or found.group(1) == region:
        return []
    return [
        f"lk.Service({app.service.name!r}): certificate= is in {found.group(1)}, the stage deploys to {region}: "
        "a Regional API domain takes a certificate of its own region (request one there, or leave certificate= "
        "out and lambdakit creates it)"
    ]


def shared_domain_problems(apps: Iterable[App]) -> list[str]:
    """Across the services built together: two on one shared domain with the same base path, or disagreeing on
    its certificate (they deploy one stack for it, which must be the same from each)."""
    found: list[str] = []
    paths: dict[tuple[str, str], str] = {}
    certificates: dict[str, tuple[str | None, str]] = {}
    seen: set[str] = set()
    for app in apps:
        if app.package in seen:  # one service, met as itself and as a site's mount
            continue
        seen.add(app.package)
        plan = domain_plan(app)
        if plan is None or plan.base_path is None:
            continue
        name = f"lk.Service({app.service.name!r}) in {app.package}"
        key = (plan.domain, plan.base_path)
        if key in paths:
            found.append(
                f"{name}: {plan.domain}/{plan.base_path} is already the base path of {paths[key]}; give each "
                "service on a shared domain its own base_path"
            )
        else:
            paths[key] = name
        if plan.domain in certificates and certificates[plan.domain][0] != plan.certificate:
            found.append(
                f"{name}: certificate={plan.certificate!r} differs from {certificates[plan.domain][1]}'s for "
                f"{plan.domain}; the services on a shared domain deploy one stack for it: give them the same one"
            )
        certificates.setdefault(plan.domain, (plan.certificate, name))
    return found
