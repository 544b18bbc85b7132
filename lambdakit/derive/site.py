"""The site's plan and resources: a private bucket read by CloudFront through OAC, and the distribution's behaviors.

A pure function of the app (`site_plan`), read by the template (`resources`),
the local server (`lambdakit.local.site`) and deploy (the upload). Behaviors
are ordered most specific first, as CloudFront evaluates them; the S3 default
behavior alone runs the SPA fallback, so an API path never gets index.html,
and there are no distribution-wide error pages to rewrite an API's 403/404.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lambdakit.core.names import camel
from lambdakit.declare.app import App
from lambdakit.declare.edge_routing import Failover
from lambdakit.declare.site import Frontend, Mount, SecurityHeaders
from lambdakit.derive import cloudfront_functions, failover, routing, site_auth
from lambdakit.derive.domains import API_DOMAIN_PARAMETER, domain_parameter, mount_parameter
from lambdakit.derive.routing import RoutingPlan
from lambdakit.derive.skips import skips
from lambdakit.derive.stage import STAGE_PARAMETER  # every main template declares it (derive/template.py)

if TYPE_CHECKING:
    from lambdakit.derive.edge import EdgeFunctionPlan, Step

# Managed policies (ids are fixed by AWS).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"  # the hosted zone of every distribution, for alias records
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]

BUCKET = "SiteBucket"
BUCKET_POLICY = "SiteBucketPolicy"
ORIGIN_ACCESS = "SiteOriginAccess"
DISTRIBUTION = "SiteDistribution"
HEADERS = "SiteHeaders"
SPA_FUNCTION = "SiteSpaFallback"
CERTIFICATE_PARAMETER = "SiteCertificateArn"
SITE_DOMAIN_PARAMETER = "SiteDomainName"
ZONE_PARAMETER = "HostedZoneId"


@dataclass(frozen=True)
class Origin:
    """Where a behavior's requests go: the bucket (`s3`), this stack's API (`api`), or an HTTPS host."""

    id: str
    kind: str
    domain: Any  # a CloudFormation expression or a host name
    path: str = ""  # OriginPath, prepended by CloudFront
    port: int = 443
    #: a mounted service on its custom domain: the domain is this template parameter, its default the declared
    #: domain, and the domain's mapping (not the path) selects the API's stage
    parameter: tuple[str, str, str] | None = None  # (name, default, what it is)


@dataclass(frozen=True)
class Behavior:
    """A path on the distribution (`None`: the default behavior) and what serves it."""

    path: str | None
    origin: Origin
    strip: str | None = None  # the prefix a CloudFront Function removes before the origin sees the path
    function_id: str | None = None

    @property
    def patterns(self) -> tuple[str, ...]:
        """`/api/*` does not match a bare `/api`: both are listed."""
        return () if self.path is None else (self.path, self.path + "/*")


@dataclass(frozen=True)
class SitePlan:
    frontend: Frontend | None  # None for `lk.Service(cdn=True)`: the API alone behind CloudFront
    domain: str | None
    certificate: str | None  # an existing ARN; None with a domain: lambdakit creates one in us-east-1
    headers: SecurityHeaders | None
    default: Behavior
    behaviors: tuple[Behavior, ...]  # most specific first
    routing: RoutingPlan | None = None  # ab_test= / rollout=: the site router replaces the SPA fallback
    failover: Failover | None = None  # failover=: the default behavior reads an origin group
    edge: tuple[EdgeFunctionPlan, ...] = ()  # the Lambda@Edge functions on the behaviors (derive/edge.py)

    @property
    def origins(self) -> tuple[Origin, ...]:
        seen: dict[str, Origin] = {}
        for behavior in (self.default, *self.behaviors):
            seen.setdefault(behavior.origin.id, behavior.origin)
        return tuple(seen.values())

    @property
    def functions(self) -> dict[str, str]:
        """CloudFront Function logical id -> its code."""
        out = {}
        if self.routing is not None:
            out[routing.ROUTER] = self.routing.router_code()
            out[routing.ROUTER_COOKIES] = self.routing.cookies_code()
        elif self.frontend is not None:
            keep = bool(site_auth.areas(self.frontend))  # the sign-in reads the viewer's own path
            out[SPA_FUNCTION] = cloudfront_functions.spa_fallback(
                self.frontend.index, keep_viewer_uri=keep, areas=site_auth.entry_areas(self.frontend)
            )
        for behavior in self.behaviors:
            if behavior.function_id is not None and behavior.strip is not None:
                out[behavior.function_id] = cloudfront_functions.strip_prefix(behavior.strip)
        used = {f for b in (self.default, *self.behaviors) for _, f in self.function_associations(b)}
        return {function_id: code for function_id, code in out.items() if function_id in used}

    def function_associations(self, behavior: Behavior) -> list[tuple[str, str]]:
        """(event, CloudFront Function id) on a behavior, but for the events a Lambda@Edge function takes
        (CloudFront allows one function per event): on a viewer request, it runs lambdakit's step itself."""
        from lambdakit.derive.edge import taken_events

        if behavior.origin.kind == "s3":
            found = default_functions(self)
        else:
            found = [("viewer-request", behavior.function_id)] if behavior.function_id is not None else []
        taken = taken_events(self, behavior)
        return [(event, function_id) for event, function_id in found if event not in taken]

    @property
    def creates_certificate(self) -> bool:
        return self.domain is not None and self.certificate is None

    @property
    def domain_parameter(self) -> str:
        """The parameter holding the domain (default: the declared one), which a stage overrides: the site's,
        or with cdn=True the service's own (deploy/'s `site_domain =` and `domain =`)."""
        return SITE_DOMAIN_PARAMETER if self.frontend is not None else API_DOMAIN_PARAMETER

    @property
    def mounts_packages(self) -> bool:
        return any(b.origin.kind == "mount" for b in self.behaviors)


def api_domain(api_id: str) -> dict[str, str]:
    return {"Fn::Sub": f"${{{api_id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"}


def site_plan(app: App, api_id: str, has_api: bool) -> SitePlan | None:
    """The distribution of a service with a `Frontend`, or with `cdn=True`; None for neither."""
    site = app.site
    stage = "/" + app.service.stage
    api = Origin("api", "api", api_domain(api_id))
    if site is None:
        if not app.service.cdn:
            return None
        default = Behavior(None, Origin("api", "api", api_domain(api_id), stage))
        added = tuple(edge_behaviors(app, default, []))
        return with_edge(
            app, SitePlan(None, app.service.domain, app.service.certificate, SecurityHeaders(), default, added)
        )
    behaviors: list[Behavior] = []
    if site.api_path is not None and has_api:
        if site.api_path == stage:  # `/api/orders` is the stage `api`, route `/orders`: forwarded as is
            behaviors.append(Behavior(site.api_path, api))
        else:
            behaviors.append(_stripped(site.api_path, Origin("api", "api", api.domain, stage)))
    for mount in site.mounts:
        behaviors.append(_stripped(mount.path, _mount_origin(app, mount)))
    default = Behavior(None, Origin("site", "s3", {"Fn::GetAtt": f"{BUCKET}.RegionalDomainName"}))
    behaviors += site_auth.area_behaviors(site, default, behaviors)  # auth={"/members": users}: on the bucket
    behaviors += edge_behaviors(app, default, behaviors)  # an `@lk.edge` path no behavior serves gets its own
    behaviors.sort(key=lambda b: (-len(b.path or ""), b.path))
    failover = site.edge.get("failover")
    plan = SitePlan(
        site,
        site.domain,
        site.certificate,
        site.headers,
        default,
        tuple(behaviors),
        routing.routing_of(site),
        failover if isinstance(failover, Failover) else None,
    )
    return with_edge(app, plan)


def edge_behaviors(app: App, default: Behavior, behaviors: list[Behavior]) -> list[Behavior]:
    """A behavior for each `@lk.edge` path that none serves yet, with the default behavior's settings."""
    from lambdakit.derive.edge import new_behavior_paths

    existing = [b.path for b in behaviors if b.path is not None]
    return [replace(default, path=path) for path in new_behavior_paths(app, existing)]


def with_edge(app: App, plan: SitePlan) -> SitePlan:
    """The plan with the Lambda@Edge functions on its behaviors (derive/edge.py)."""
    from lambdakit.derive.edge import plan_edge

    return replace(plan, edge=plan_edge(app, plan))


def viewer_steps(site: SitePlan, behavior: Behavior) -> tuple[Step, ...]:
    """lambdakit's own viewer-request steps on a behavior, by name (`lambdakit.edge.rewrites.STEPS`): what its
    CloudFront Function does, and what a Lambda@Edge viewer-request function there runs after the user's code."""
    if behavior.origin.kind == "s3" and site.frontend is not None:
        # the site router (ab_test=, rollout=) reads a KeyValueStore, which Lambda@Edge cannot: no Python step
        spa: dict[str, Any] = {"index": site.frontend.index}
        if site_auth.areas(site.frontend):  # the sign-in reads the viewer's path; an area has its entry file
            spa.update(areas=list(site_auth.entry_areas(site.frontend)), keep_viewer_uri=True)
        return (("spa", spa),) if site.routing is None else ()
    if behavior.strip is not None:
        return (("strip", {"prefix": behavior.strip}),)
    return ()


def _stripped(path: str, origin: Origin) -> Behavior:
    return Behavior(path, origin, strip=path, function_id="Site" + camel(path.strip("/").replace("/", "-")) + "Path")


def _mount_origin(app: App, mount: Mount) -> Origin:
    oid = "mount-" + mount.path.strip("/").replace("/", "-")
    if mount.origin is not None:
        parts = urlsplit(mount.origin)
        return Origin(oid, "http", parts.hostname or "", parts.path.rstrip("/"), parts.port or 443)
    mounted = app.mounted.get(mount.path)
    service = mounted.service.name if mounted is not None else str(mount.package)
    service = service.replace("_", "-")  # the stack is SERVICE-STAGE with `_` as `-` (deploy.stack_name)
    stage = mounted.service.stage if mounted is not None else "api"
    regional = mounted.service.domain if mounted is not None and not mounted.service.cdn else None
    if regional is not None:  # on its custom domain, reachable from any account: the domain's mapping holds the stage
        base_path = mounted.service.base_path if mounted is not None else None
        what = f"service {mounted.service.name if mounted else mount.package} (mounted at {mount.path})"
        parameter = (mount_parameter(mount.path), regional, what)
        return Origin(oid, "mount", {"Ref": parameter[0]}, f"/{base_path}" if base_path else "", parameter=parameter)
    # The mounted service's stack (same account and region) exports its API's domain; see `outputs`.
    domain = {"Fn::ImportValue": {"Fn::Sub": f"{service}-${{{STAGE_PARAMETER}}}-ApiDomain"}}
    return Origin(oid, "mount", domain, "/" + stage)


# -- resources --------------------------------------------------------------------------------------

BUCKET_SKIPS = (
    (
        "CKV_AWS_18",
        "Every read goes through CloudFront; S3 server access logs would repeat CloudFront's view of the same "
        "requests for a bucket nobody else can read.",
    ),
    ("CKV_AWS_144", "The site is rebuilt from its folder by every deploy; a replica region is not part of it."),
    (
        "CKV_AWS_145",
        "SSE-S3 (AES-256): the site's files are what every visitor downloads; a KMS key would add a key policy "
        "for CloudFront and per-request KMS cost without hiding anything.",
    ),
    ("CKV2_AWS_62", "Nothing reacts to uploads: deploy writes the files and invalidates what changed."),
)
DISTRIBUTION_SKIPS = (
    (
        "CKV_AWS_86",
        "CloudFront standard logs need an ACL-enabled bucket; enable real-time or standard logging per site "
        "when you need request logs (CloudWatch metrics are on by default).",
    ),
    ("CKV_AWS_68", "A WAF web ACL is billed per ACL and rule; attach one to the distribution when the site needs it."),
    ("CKV2_AWS_47", "See CKV_AWS_68: no WAF by default, so no WAF rule set to check."),
    ("CKV_AWS_310", "One origin per path: the bucket is regional and durable, and a replica is not part of the site."),
    (
        "CKV_AWS_374",
        "Served worldwide: a geo restriction is a product decision, not a default.",
    ),
)
DEFAULT_CERTIFICATE_SKIPS = (
    (
        "CKV_AWS_174",
        "Without domain= the distribution uses CloudFront's *.cloudfront.net certificate, whose minimum TLS "
        "version cannot be set; give domain= to get TLSv1.2_2021.",
    ),
    ("CKV2_AWS_42", "No domain= given: the *.cloudfront.net certificate is the only one that fits."),
)


def resources(app: App, site: SitePlan) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The site's resources, outputs and parameters in the main template."""
    out: dict[str, Any] = {}
    params: dict[str, Any] = {}
    if site.frontend is not None:
        out[BUCKET] = _bucket()
        if site.failover is not None:  # the replica's half is derive/failover.py's replica_template
            out[BUCKET]["Metadata"] = skips(tuple(s for s in BUCKET_SKIPS if s[0] != "CKV_AWS_144"))
            out[BUCKET]["Properties"]["ReplicationConfiguration"], replicating = failover.replication(BUCKET)
            out.update(replicating)
            params.update(failover.parameters())
        out[BUCKET_POLICY] = _bucket_policy()
        out[ORIGIN_ACCESS] = {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-site"},
                    "Description": "CloudFront reads the site bucket, signed (SigV4)",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        }
    for function_id, code in site.functions.items():
        out[function_id] = {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": {"Fn::Sub": f"${{AWS::StackName}}-{function_id}"},
                "AutoPublish": True,
                "FunctionCode": code,
                "FunctionConfig": {
                    "Comment": "lambdakit: " + _FUNCTION_COMMENTS.get(function_id, "path prefix"),
                    "Runtime": cloudfront_functions.RUNTIME,
                },
            },
        }
    if site.routing is not None:
        found, routing_outputs = routing.resources(site.routing)
        out.update(found)
        if site.routing.rollout is not None:
            out[routing.ROUTER]["Properties"]["FunctionConfig"].update(routing.store_association())
    if site.headers is not None:
        out[HEADERS] = _headers_policy(site.headers)
    if site.creates_certificate:
        params[CERTIFICATE_PARAMETER] = {
            "Type": "String",
            "AllowedPattern": "^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/.+$",
            "Description": f"The us-east-1 certificate of {site.domain} (the us-east-1 stack's output of this name)",
        }
    for origin in site.origins:
        if origin.parameter is not None:
            name, default, what = origin.parameter
            params[name] = domain_parameter(default, what, f"set it per stage in [stages.STAGE.parameters] as {name}")
    if site.domain is not None:
        what = "the site" if site.frontend is not None else f"service {app.service.name}'s distribution"
        params[site.domain_parameter] = domain_parameter(site.domain, what)
        params[ZONE_PARAMETER] = {
            "Type": "AWS::Route53::HostedZone::Id",
            "Description": f"The Route 53 hosted zone that holds {site.domain}",
        }
        for kind in ("A", "AAAA"):
            out["SiteRecord" + kind] = {
                "Type": "AWS::Route53::RecordSet",
                "Properties": {
                    "HostedZoneId": {"Ref": ZONE_PARAMETER},
                    "Name": {"Ref": site.domain_parameter},
                    "Type": kind,
                    "AliasTarget": {
                        "DNSName": {"Fn::GetAtt": f"{DISTRIBUTION}.DomainName"},
                        "HostedZoneId": CLOUDFRONT_ZONE,
                    },
                },
            }
    from lambdakit.derive.edge import parameters as edge_parameters

    params.update(edge_parameters(site))
    out[DISTRIBUTION] = _distribution(site)
    outputs: dict[str, Any] = {
        "SiteUrl": {
            "Description": "The site's URL",
            "Value": {"Fn::Sub": f"https://${{{site.domain_parameter}}}"}
            if site.domain
            else {"Fn::Sub": f"https://${{{DISTRIBUTION}.DomainName}}"},
        },
        "SiteDistributionId": {"Value": {"Ref": DISTRIBUTION}},
        "SiteDistributionDomain": {"Value": {"Fn::GetAtt": f"{DISTRIBUTION}.DomainName"}},
    }
    if site.frontend is not None:
        outputs["SiteBucketName"] = {"Value": {"Ref": BUCKET}}
    if site.routing is not None:
        outputs.update(routing_outputs)
    return out, outputs, params


_FUNCTION_COMMENTS = {
    SPA_FUNCTION: "SPA fallback",
    routing.ROUTER: "site router (variant, release, SPA fallback)",
    routing.ROUTER_COOKIES: "site router's sticky cookies",
}


def _bucket() -> dict[str, Any]:
    return {
        "Type": "AWS::S3::Bucket",
        # CloudFormation cannot delete a bucket that holds files: deleting the stack keeps it (empty it and
        # delete it by hand); a failed first create still removes it.
        "DeletionPolicy": "RetainExceptOnCreate",
        "UpdateReplacePolicy": "Retain",
        "Metadata": skips(BUCKET_SKIPS),
        "Properties": {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "expire-old-releases",
                        "Status": "Enabled",
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                    }
                ]
            },
        },
    }


bucket_resource = _bucket  # the replica bucket has the same settings (derive/failover.py)


def default_functions(site: SitePlan) -> list[tuple[str, str]]:
    """(event, CloudFront Function id) on the default behavior: the site router, or the SPA fallback."""
    if site.routing is not None:
        return [("viewer-request", routing.ROUTER), ("viewer-response", routing.ROUTER_COOKIES)]
    return [("viewer-request", SPA_FUNCTION)]


def _bucket_policy() -> dict[str, Any]:
    distribution = {
        "Fn::Sub": f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{DISTRIBUTION}}}"
    }
    return read_by_cloudfront(BUCKET, {"StringEquals": {"AWS:SourceArn": distribution}})


def read_by_cloudfront(bucket_id: str, condition: dict[str, Any]) -> dict[str, Any]:
    """The policy of a site bucket (the primary, or its failover replica): TLS only, and CloudFront (OAC,
    under `condition`) reads the files and sees which are missing."""
    bucket = {"Fn::GetAtt": f"{bucket_id}.Arn"}
    objects = {"Fn::Sub": f"${{{bucket_id}.Arn}}/*"}
    cloudfront = {"Service": "cloudfront.amazonaws.com"}
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket, objects],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Sid": "DistributionReadsFiles",
                        "Effect": "Allow",
                        "Principal": cloudfront,
                        "Action": "s3:GetObject",
                        "Resource": objects,
                        "Condition": condition,
                    },
                    {  # without it S3 answers a missing file with 403, not 404
                        "Sid": "DistributionSeesMissingFiles",
                        "Effect": "Allow",
                        "Principal": cloudfront,
                        "Action": "s3:ListBucket",
                        "Resource": bucket,
                        "Condition": condition,
                    },
                ],
            },
        },
    }


def _headers_policy(headers: SecurityHeaders) -> dict[str, Any]:
    config: dict[str, Any] = {
        "StrictTransportSecurity": {
            "AccessControlMaxAgeSec": headers.hsts_seconds,
            "IncludeSubdomains": True,
            "Override": True,
        },
        "ContentTypeOptions": {"Override": True},
        "FrameOptions": {"FrameOption": headers.frame, "Override": True},
        "ReferrerPolicy": {"ReferrerPolicy": headers.referrer, "Override": True},
    }
    if headers.csp:
        config["ContentSecurityPolicy"] = {"ContentSecurityPolicy": headers.csp, "Override": True}
    return {
        "Type": "AWS::CloudFront::ResponseHeadersPolicy",
        "Properties": {
            "ResponseHeadersPolicyConfig": {
                "Name": {"Fn::Sub": "${AWS::StackName}-site-headers"},
                "Comment": "lambdakit: security headers on every answer",
                "SecurityHeadersConfig": config,
            }
        },
    }


def _origin(origin: Origin) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": origin.id, "DomainName": origin.domain}
    if origin.path:
        out["OriginPath"] = origin.path
    if origin.kind == "s3":
        out["S3OriginConfig"] = {"OriginAccessIdentity": ""}  # OAC, not the legacy OAI
        out["OriginAccessControlId"] = {"Fn::GetAtt": f"{ORIGIN_ACCESS}.Id"}
    else:
        out["CustomOriginConfig"] = {
            "OriginProtocolPolicy": "https-only",
            "HTTPSPort": origin.port,
            "OriginSSLProtocols": ["TLSv1.2"],
        }
    return out


def _behavior(site: SitePlan, behavior: Behavior) -> dict[str, Any]:
    out: dict[str, Any] = {"TargetOriginId": behavior.origin.id, "Compress": True}
    if behavior.origin.kind == "s3":
        out.update(
            ViewerProtocolPolicy="redirect-to-https",
            AllowedMethods=["GET", "HEAD"],
            CachedMethods=["GET", "HEAD"],
            CachePolicyId=CACHING_OPTIMIZED,
        )
        if site.failover is not None:  # GET and HEAD only: an origin group refuses other methods
            out["TargetOriginId"] = failover.GROUP
    else:  # an API: every method, nothing cached, every viewer header but Host (execute-api needs its own)
        out.update(
            ViewerProtocolPolicy="https-only",
            AllowedMethods=ALL_METHODS,
            CachedMethods=["GET", "HEAD"],
            CachePolicyId=CACHING_DISABLED,
            OriginRequestPolicyId=ALL_VIEWER_EXCEPT_HOST,
        )
    if site.function_associations(behavior):
        out["FunctionAssociations"] = [
            {"EventType": event, "FunctionARN": {"Fn::GetAtt": f"{function_id}.FunctionARN"}}
            for event, function_id in site.function_associations(behavior)
        ]
    from lambdakit.derive.edge import associations

    if associations(site, behavior):  # Lambda@Edge: version ARNs from the us-east-1 stack
        out["LambdaFunctionAssociations"] = associations(site, behavior)
    if site.headers is not None:
        out["ResponseHeadersPolicyId"] = {"Ref": HEADERS}
    if site_auth.protected(site, behavior):  # nothing cached; the sign-in once it exists, else 503
        out = site_auth.guard(out)
    return out


def _distribution(site: SitePlan) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Enabled": True,
        "Comment": {"Fn::Sub": "${AWS::StackName}"},
        "HttpVersion": "http2and3",
        "IPV6Enabled": True,
        "Origins": [_origin(o) for o in site.origins],
        "DefaultCacheBehavior": _behavior(site, site.default),
    }
    if site.failover is not None:
        config["Origins"][0].update(failover.PRIMARY_CONNECTION)
        config["Origins"].append(failover.replica_origin(ORIGIN_ACCESS))
        config["OriginGroups"] = failover.origin_group(site.default.origin.id)
    if site.frontend is not None:
        config["DefaultRootObject"] = site.frontend.index
    ordered = [{**_behavior(site, b), "PathPattern": pattern} for b in site.behaviors for pattern in b.patterns]
    if ordered:
        config["CacheBehaviors"] = ordered
    found_skips: tuple[tuple[str, str], ...] = DISTRIBUTION_SKIPS
    if site.failover is not None:
        found_skips = tuple(s for s in found_skips if s[0] != "CKV_AWS_310")
    if site.domain is not None:
        certificate = site.certificate or {"Ref": CERTIFICATE_PARAMETER}
        config["Aliases"] = [{"Ref": site.domain_parameter}]
        config["ViewerCertificate"] = {
            "AcmCertificateArn": certificate,
            "SslSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
        }
    else:
        config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}
        found_skips += DEFAULT_CERTIFICATE_SKIPS
    return {
        "Type": "AWS::CloudFront::Distribution",
        "Metadata": skips(found_skips),
        "Properties": {"DistributionConfig": config},
    }


def edge_template(app: App, site: SitePlan) -> dict[str, Any] | None:
    """The us-east-1 template: moved to `lambdakit.derive.edge`, which adds the Lambda@Edge functions."""
    from lambdakit.derive import edge

    return edge.edge_template(app, site)


# -- what deploy uploads, and local serves the same way -------------------------------------------

#: A content hash in a file name (`app.3f9a1c2b.js`, `index-B2xT9qLm.css`): 8 or more characters, one a digit.
_HASHED = r"[.-](?=[A-Za-z0-9_]*[0-9])[A-Za-z0-9_]{8,}\.[A-Za-z0-9]+$"

#: The one dot folder a site publishes (`security.txt`, app links); other dotfiles stay on the machine.
WEB_DOT_FOLDERS = frozenset({".well-known"})


def published(key: str) -> bool:
    """Whether a file of the site's folder is part of the site (`.env`, `.git/`, `.DS_Store` are not)."""
    *folders, name = key.split("/")
    return not name.startswith(".") and all(not f.startswith(".") or f in WEB_DOT_FOLDERS for f in folders)


IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def cache_control(key: str) -> str:
    """Hashed assets never change under their name: cached a year. Everything else (index.html, robots.txt)
    is revalidated on every visit, so a release shows at once."""
    import re

    return IMMUTABLE if re.search(_HASHED, key.rsplit("/", 1)[-1]) else REVALIDATE


def content_type(key: str) -> str:
    import mimetypes

    found, _ = mimetypes.guess_type(key)
    if found is None:
        return "application/octet-stream"
    return found + "; charset=utf-8" if found.startswith("text/") or found in _TEXT else found


_TEXT = ("application/javascript", "application/json", "image/svg+xml", "application/manifest+json")
