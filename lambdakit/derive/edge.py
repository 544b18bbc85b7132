"""Lambda@Edge: the edge functions of a site, their associations on its behaviors, and the us-east-1 template.

Pure functions of the app and its site plan. CloudFront runs Lambda@Edge only from
us-east-1 and only as a numbered version, so every edge function (the user's `@lk.edge`
ones and the built-in site auth) goes into a second template, deployed in us-east-1
before the main stack, beside CloudFront's certificate. Each version's ARN leaves that
stack as the output `<LogicalId>VersionArn`, and the main template takes it as the
parameter of the same name (CloudFormation exports cross no region), which the
behavior's `LambdaFunctionAssociations` reference.

CloudFront allows one function per event type on a behavior, CloudFront Function and
Lambda@Edge together. Where lambdakit's own CloudFront Function holds a behavior's viewer
request (the SPA fallback, a path prefix) and a user's viewer-request function is declared
there too, the Lambda@Edge function takes the event and runs lambdakit's step after the
user's code (`steps`, by name from `lambdakit.edge.rewrites.STEPS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambdakit.declare.app import App
from lambdakit.derive.skips import skips

if TYPE_CHECKING:
    from lambdakit.derive.plan import Plan
    from lambdakit.derive.site import Behavior, SitePlan

EDGE_HANDLER = "lambdakit.edge.handler.handler"
SITE_AUTH_HANDLER = "lambdakit.edge.site_auth.handler"
SITE_AUTH_ID = "SiteAuth"
DEFAULT_PATH = "/*"
#: The alias SAM publishes each version under (CloudFront itself takes the numbered version, never an alias).
ALIAS = "live"
CERTIFICATE_ID = "SiteCertificate"
CERTIFICATE_OUTPUT = "SiteCertificateArn"  # the main template's parameter of the same name


@dataclass(frozen=True)
class Limits:
    """What Lambda@Edge allows a function of one kind of event (viewer or origin)."""

    memory: int  # MB, at most
    timeout: int  # seconds, at most
    package: int  # zipped bytes, at most
    generated: int  # bytes of a response the function generates, at most


VIEWER_LIMITS = Limits(memory=128, timeout=5, package=1024 * 1024, generated=40 * 1024)
ORIGIN_LIMITS = Limits(memory=10240, timeout=30, package=50 * 1024 * 1024, generated=1024 * 1024)


def limits(event: str) -> Limits:
    return VIEWER_LIMITS if event.startswith("viewer-") else ORIGIN_LIMITS


Step = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class EdgeFunctionPlan:
    """One Lambda@Edge function on one or more behaviors of the site."""

    logical_id: str  # "Edge" + CamelName (user's), "SiteAuth" (the built-in)
    name: str  # the user's function name, or "site-auth"
    event: str  # viewer-request | viewer-response | origin-request | origin-response
    path: str  # "/*": the default behavior; else the behavior's path as in SitePlan
    memory: int
    timeout: int
    handler: str  # the handler inside the edge artifact
    module: str | None  # the user's module (None for built-ins)
    function: str | None  # the user's function name in module (None for built-ins)
    deploy_config: bool  # True: its config comes from the main stack's outputs at deploy (site auth)
    include_body: bool = False
    #: every behavior it runs on (`path` is the first): the built-in site auth guards several
    paths: tuple[str, ...] = ()
    #: lambdakit's own viewer-request steps it runs after the user's function (it took their behavior's event)
    steps: tuple[Step, ...] = ()

    @property
    def version_output(self) -> str:
        """The us-east-1 output, and main-template parameter, holding the version ARN."""
        return self.logical_id + "VersionArn"

    @property
    def behaviors(self) -> tuple[str, ...]:
        return self.paths or (self.path,)

    @property
    def limits(self) -> Limits:
        return limits(self.event)

    @property
    def artifact_name(self) -> str:
        """The zip `package` writes beside the templates, and the edge template's CodeUri before it does."""
        return f"edge-{self.logical_id}.zip"


# -- paths and behaviors ----------------------------------------------------------------------------------

_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+)+(/\*)?$")


def behavior_path(path: str) -> str | None:
    """The behavior a declared `path=` names: "/*" the default, "/members/*" and "/members" the same one.

    None for a path CloudFront's behaviors cannot be (wildcards elsewhere, a trailing slash).
    """
    if path == DEFAULT_PATH:
        return DEFAULT_PATH
    if not isinstance(path, str) or not _PATH.match(path):
        return None
    return path.removesuffix("/*")


def key_of(behavior: Behavior) -> str:
    """A behavior as edge plans name it: "/*" for the default, else its path."""
    return behavior.path if behavior.path is not None else DEFAULT_PATH


def under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent + "/")


def new_behavior_paths(app: App, existing: list[str]) -> list[str]:
    """Paths of `@lk.edge` functions that no behavior serves yet: each becomes a behavior of its own, with the
    default behavior's settings (the bucket, the SPA fallback). One under an existing behavior is an error
    (it would take that behavior's paths away from it), reported by `edge_checks`, not made."""
    found: list[str] = []
    for spec in app.edge_functions:
        path = behavior_path(spec.path)
        if path is None or path == DEFAULT_PATH or path in found:
            continue
        if not any(under(path, other) for other in existing):
            found.append(path)
    return found


def plan_edge(app: App, site: SitePlan) -> tuple[EdgeFunctionPlan, ...]:
    """The edge functions of a site whose behaviors are planned (the user's, then the built-ins)."""
    from lambdakit.derive.site import viewer_steps

    by_key = {key_of(b): b for b in (site.default, *site.behaviors)}
    found: list[EdgeFunctionPlan] = []
    for spec in app.edge_functions:
        key = behavior_path(spec.path)
        behavior = by_key.get(key or "")
        steps = viewer_steps(site, behavior) if behavior is not None and spec.event == "viewer-request" else ()
        found.append(
            EdgeFunctionPlan(
                logical_id=spec.logical_id,
                name=spec.name,
                event=spec.event,
                path=key or spec.path,
                memory=spec.memory,
                timeout=spec.timeout,
                handler=EDGE_HANDLER,
                module=spec.module,
                function=spec.function,
                deploy_config=False,
                include_body=bool(spec.include_body),
                paths=(key or spec.path,),
                steps=steps,
            )
        )
    from lambdakit.derive.site_auth import protected_keys

    # The site's own pages (all, or a members' area's) need a signed-in visitor; the API behaviors are left to
    # the API's own auth.
    guarded = protected_keys(site)
    if guarded:
        found.append(
            EdgeFunctionPlan(
                logical_id=SITE_AUTH_ID,
                name="site-auth",
                event="origin-request",
                path=guarded[0],
                memory=128,
                timeout=5,
                handler=SITE_AUTH_HANDLER,
                module=None,
                function=None,
                deploy_config=True,
                paths=guarded,
            )
        )
    return tuple(found)


def edge_functions(app: App, plan: Plan | SitePlan | None) -> tuple[EdgeFunctionPlan, ...]:
    """Every Lambda@Edge function of the app's site, each once (what `package` builds an artifact for)."""
    site = _site_of(plan)
    return site.edge if site is not None else ()


def on_behavior(site: SitePlan, behavior: Behavior) -> tuple[EdgeFunctionPlan, ...]:
    """The edge functions CloudFront runs on `behavior`, in CloudFront's order of events."""
    from lambdakit.declare.edge import EVENTS

    key = key_of(behavior)
    found = [fn for fn in site.edge if key in fn.behaviors and fn.event in EVENTS]
    return tuple(sorted(found, key=lambda fn: EVENTS.index(fn.event)))


def taken_events(site: SitePlan, behavior: Behavior) -> set[str]:
    """The events a Lambda@Edge function holds on the behavior (so no CloudFront Function may)."""
    return {fn.event for fn in on_behavior(site, behavior)}


def associations(site: SitePlan, behavior: Behavior) -> list[dict[str, Any]]:
    """The behavior's `LambdaFunctionAssociations`: each version ARN is a parameter filled from us-east-1."""
    out = []
    for fn in on_behavior(site, behavior):
        if fn.deploy_config:  # configured at deploy: its owner renders its association (derive/site_auth.guard)
            continue
        association: dict[str, Any] = {"EventType": fn.event, "LambdaFunctionARN": {"Ref": fn.version_output}}
        if fn.include_body:
            association["IncludeBody"] = True
        out.append(association)
    return out


def parameters(site: SitePlan) -> dict[str, Any]:
    """The main template's parameters: each edge function's version ARN, the us-east-1 output of that name."""
    return {
        fn.version_output: {
            "Type": "String",
            "AllowedPattern": "^arn:aws[a-z-]*:lambda:us-east-1:[0-9]{12}:function:[A-Za-z0-9_-]+:[0-9]+$",
            "Description": f"The numbered version of the Lambda@Edge function {fn.name} "
            f"(the us-east-1 stack's {fn.version_output})",
        }
        for fn in site.edge
        if not fn.deploy_config  # its owner declares its parameter (derive/site_auth.version_parameter)
    }


# -- the us-east-1 template -------------------------------------------------------------------------------

FUNCTION_SKIPS = (
    ("CKV_AWS_115", "Lambda@Edge functions cannot have reserved concurrency."),
    ("CKV_AWS_116", "Lambda@Edge functions cannot have a dead-letter queue: CloudFront invokes them synchronously."),
    ("CKV_AWS_117", "Lambda@Edge functions cannot run in a VPC."),
    ("CKV_AWS_173", "Lambda@Edge functions have no environment variables (lambdakit sets none)."),
    ("CKV_AWS_50", "Lambda@Edge functions do not support X-Ray tracing."),
    ("CKV_AWS_272", "Code signing is a per-account setup; lambdakit builds the artifact reproducibly instead."),
)


def _site_of(plan: Plan | SitePlan | None) -> SitePlan | None:
    from lambdakit.derive.site import SitePlan

    if plan is None or isinstance(plan, SitePlan):
        return plan
    return plan.site


def _function(app: App, fn: EdgeFunctionPlan) -> dict[str, Any]:
    where = ", ".join(fn.behaviors)
    return {
        "Type": "AWS::Serverless::Function",
        "Metadata": skips(FUNCTION_SKIPS),
        "Properties": {
            "Description": f"lambdakit {app.service.name}: Lambda@Edge {fn.name} ({fn.event} on {where})",
            "CodeUri": fn.artifact_name,
            "Handler": fn.handler,
            "Runtime": app.service.runtime,
            "Architectures": ["x86_64"],  # Lambda@Edge runs x86_64 only, whatever the service's architecture
            "MemorySize": fn.memory,
            "Timeout": fn.timeout,
            "Role": {"Fn::GetAtt": f"{fn.logical_id}Role.Arn"},
            # A numbered version per code change (CloudFront takes no $LATEST, no alias); SAM keeps old
            # versions (DeletionPolicy Retain) since replicas of them may still serve.
            "AutoPublishAlias": ALIAS,
        },
    }


def _role(fn: EdgeFunctionPlan) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": f"Lambda@Edge {fn.name}: writes its logs, nothing else",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
        },
    }


def _logs_policy(fn: EdgeFunctionPlan) -> dict[str, Any]:
    # A replica runs, and logs, in the region of the edge location that served the request, into the log group
    # /aws/lambda/us-east-1.NAME there: which regions is not known in advance, so the region is a wildcard and the
    # log group is named exactly. /aws/lambda/NAME in us-east-1 holds the logs of direct (test) invocations.
    replica = f"arn:${{AWS::Partition}}:logs:*:${{AWS::AccountId}}:log-group:/aws/lambda/us-east-1.${{{fn.logical_id}}}"
    direct = f"arn:${{AWS::Partition}}:logs:us-east-1:${{AWS::AccountId}}:log-group:/aws/lambda/${{{fn.logical_id}}}"
    groups = [{"Fn::Sub": replica}, {"Fn::Sub": direct}]
    streams = [{"Fn::Sub": replica + ":log-stream:*"}, {"Fn::Sub": direct + ":log-stream:*"}]
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "logs",
            "Roles": [{"Ref": f"{fn.logical_id}Role"}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "LogGroups", "Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": groups},
                    {
                        "Sid": "LogEvents",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": streams,
                    },
                ],
            },
        },
    }


def certificate(app: App, site: SitePlan) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """CloudFront's certificate for `domain=` (moved here from derive/site.py): resources, outputs, parameters."""
    from lambdakit.derive.domains import domain_parameter
    from lambdakit.derive.site import ZONE_PARAMETER

    if not site.creates_certificate:
        return {}, {}, {}
    parameters = {
        # the main template's parameter of the same name: deploy passes the stage's domain to both
        site.domain_parameter: domain_parameter(site.domain or "", "the distribution"),  # creates_certificate: set
        ZONE_PARAMETER: {
            "Type": "AWS::Route53::HostedZone::Id",
            "Description": f"The Route 53 hosted zone that holds {site.domain}",
        },
    }
    domain = {"Ref": site.domain_parameter}
    resources = {
        CERTIFICATE_ID: {
            "Type": "AWS::CertificateManager::Certificate",
            "Properties": {
                "DomainName": domain,
                "ValidationMethod": "DNS",
                "DomainValidationOptions": [{"DomainName": domain, "HostedZoneId": {"Ref": ZONE_PARAMETER}}],
            },
        }
    }
    outputs = {CERTIFICATE_OUTPUT: {"Description": "The site's certificate", "Value": {"Ref": CERTIFICATE_ID}}}
    return resources, outputs, parameters


def edge_template(app: App, plan: Plan | SitePlan | None) -> dict[str, Any] | None:
    """The us-east-1 template: CloudFront's certificate and every Lambda@Edge function; None when it has neither."""
    site = _site_of(plan)
    if site is None:
        return None
    resources, outputs, params = certificate(app, site)
    for fn in site.edge:
        resources[fn.logical_id] = _function(app, fn)
        resources[f"{fn.logical_id}Role"] = _role(fn)
        resources[f"{fn.logical_id}Logs"] = _logs_policy(fn)
        outputs[fn.version_output] = {
            "Description": f"The numbered version CloudFront runs for {fn.name}",
            "Value": {"Ref": f"{fn.logical_id}.Version"},
        }
    if not resources:
        return None
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09"}
    if site.edge:
        template["Transform"] = "AWS::Serverless-2016-10-31"
    template["Description"] = f"lambdakit service {app.service.name}: what CloudFront needs in us-east-1"
    if params:
        template["Parameters"] = params
    template["Resources"] = resources
    template["Outputs"] = outputs
    return template
