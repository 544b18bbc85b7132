"""AWS's limits on what lambdakit builds, checked at build: each a message naming the declaration and the fix.

A pure function of the app (and, for the size, of the template). What the
decorators can check alone (status codes, a resource listed twice) they check
where they are declared; what depends on the service's defaults, on names
built from the stack name, or on the whole template is checked here. The
stage is not known at build (a template serves every stage), so names built
from it are checked for the longest stage the stage rule allows.
"""

from __future__ import annotations

import json
from typing import Any

from lambdakit.declare.app import App
from lambdakit.derive.stage import MAX_STAGE_LENGTH

#: Lambda's memory (MB, whole) and timeout (s) bounds.
MIN_MEMORY, MAX_MEMORY = 128, 10240
MAX_TIMEOUT = 900
#: API Gateway stops waiting for a Lambda integration after 29 seconds (its default integration timeout).
API_TIMEOUT = 29
#: CloudFormation refuses a template body over this many bytes even from S3.
MAX_TEMPLATE_BYTES = 1_000_000
#: ... and one sent inline (TemplateBody) over this many: deploy uploads a larger one and passes its URL.
MAX_TEMPLATE_BODY_BYTES = 51_200
#: CloudFront's limit on the names lambdakit builds as STACK-NAME (CloudFront Functions, origin access control).
MAX_CLOUDFRONT_NAME = 64
#: Cognito's limit on a domain prefix.
MAX_COGNITO_PREFIX = 63
_RESERVED_IN_COGNITO_DOMAIN = ("aws", "amazon", "cognito")


def problems(app: App) -> list[str]:
    """Lambda's and API Gateway's bounds on each function, and the names built from the service's."""
    return [*_function_limits(app), *_integration_limits(app), *name_problems(app)]


def _function_limits(app: App) -> list[str]:
    """Lambda's memory and timeout bounds, and API Gateway's wait, on each function's effective settings."""
    from lambdakit.derive.plan import integration_timeout_of, memory_of, timeout_of

    found = []
    for spec in app.functions:
        memory, timeout = memory_of(app, spec), timeout_of(app, spec)
        if isinstance(memory, bool) or not isinstance(memory, int) or not MIN_MEMORY <= memory <= MAX_MEMORY:
            found.append(f"{spec.where}: memory={memory!r}: Lambda gives {MIN_MEMORY}-{MAX_MEMORY} MB (whole MB)")
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT:
            found.append(f"{spec.where}: timeout={timeout!r}: Lambda runs a function 1-{MAX_TIMEOUT} seconds")
            continue
        if spec.kind != "http" or spec.storage_first:
            continue
        waits = integration_timeout_of(app, spec)
        if not _valid_integration_timeout(waits):
            continue  # reported on its own
        if waits is None and timeout > API_TIMEOUT:
            found.append(
                f"{spec.where}: timeout={timeout}: API Gateway answers 504 after {API_TIMEOUT} s, so the caller "
                f"would never see the answer; keep it <= {API_TIMEOUT}, make the route storage first "
                '(trigger="sqs") and do the long work in its consumer, or let API Gateway wait longer with '
                f"integration_timeout={timeout} on the route or its lk.Service (above {API_TIMEOUT} s only after "
                "a Service Quotas increase of the Regional API integration timeout)"
            )
        elif waits is not None and timeout > waits:
            found.append(
                f"{spec.where}: timeout={timeout}: API Gateway answers 504 after integration_timeout={waits} s, "
                f"so the caller would never see the answer; keep timeout <= {waits}, or raise integration_timeout"
            )
    return found


def _valid_integration_timeout(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_TIMEOUT)


def _integration_limits(app: App) -> list[str]:
    """`integration_timeout=` on the service and its routes: whole seconds API Gateway can wait for Lambda."""
    service = app.service
    declared = [(f"lk.Service({service.name!r})", service.integration_timeout)]
    declared += [(s.where, s.route.integration_timeout) for s in app.functions if s.route is not None]
    return [
        f"{where}: integration_timeout={value!r}: whole seconds, 1-{API_TIMEOUT} (API Gateway's default limit), "
        f"up to {MAX_TIMEOUT} (Lambda's) for Regional APIs after a Service Quotas increase"
        for where, value in declared
        if not _valid_integration_timeout(value)
    ]


def name_problems(app: App) -> list[str]:
    """Names built from declared names (and the stack name, for the longest stage) that AWS caps."""
    from lambdakit.derive.cognito import needs_domain, scopes_used
    from lambdakit.derive.plan import plan_of

    found = []
    service = app.service
    stack = len(service.name) + 1 + MAX_STAGE_LENGTH  # SERVICE-STAGE
    site = plan_of(app).site
    if site is not None:
        names = {"site": "the origin access control", **{fid: "the CloudFront Function" for fid in site.functions}}
        for suffix, what in names.items():
            if stack + 1 + len(suffix) > MAX_CLOUDFRONT_NAME:
                room = MAX_CLOUDFRONT_NAME - 1 - len(suffix) - 1 - MAX_STAGE_LENGTH
                found.append(
                    f"lk.Service({service.name!r}): {what} is named SERVICE-STAGE-{suffix}, which with a "
                    f"{MAX_STAGE_LENGTH}-character stage is over CloudFront's {MAX_CLOUDFRONT_NAME} characters; "
                    f"use a service name of at most {max(room, 1)} characters"
                    + (" or a shorter mount path" if suffix not in ("site", "SiteSpaFallback") else "")
                )
    for pool in app.pools:
        if pool.arn is not None:
            continue
        where = f"lk.Cognito({pool.name!r})"
        if pool.domain and len(pool.domain) + 1 + MAX_STAGE_LENGTH > MAX_COGNITO_PREFIX:
            found.append(
                f"{where}: domain={pool.domain!r}: the created prefix is DOMAIN-STAGE (prefixes are unique per "
                f"region across all accounts, so each stage has its own), at most {MAX_COGNITO_PREFIX} characters "
                f"with a {MAX_STAGE_LENGTH}-character stage: use a domain= of at most "
                f"{MAX_COGNITO_PREFIX - 1 - MAX_STAGE_LENGTH} characters"
            )
        scopes = scopes_used(app, pool)
        generated = needs_domain(pool, scopes) and not pool.domain
        # A pool whose scopes need a domain is reported by derive/authorizers.py; hosted sign-in needs one too.
        if generated and not scopes and any(w in pool.name.lower() for w in _RESERVED_IN_COGNITO_DOMAIN):
            found.append(
                f"{where}: callback_urls= need a Cognito domain, whose prefix lambdakit makes from the pool's name, "
                "and a prefix may not contain 'aws', 'amazon' or 'cognito'; give domain='your-prefix'"
            )
    return found


def template_bytes(template: dict[str, Any]) -> int:
    """The size CloudFormation counts of a template sent as compact JSON."""
    return len(json.dumps(template, separators=(",", ":")).encode())


def template_size_problems(where: str, size: int) -> list[str]:
    """Over CloudFormation's 1,000,000 bytes, a template cannot be deployed at all (over 51,200 it is uploaded)."""
    if size <= MAX_TEMPLATE_BYTES:
        return []
    return [
        f"{where}: the template is {size:,} bytes; CloudFormation takes at most {MAX_TEMPLATE_BYTES:,} (even "
        "uploaded to S3): split the service into packages of their own, each its own stack, or trim what "
        "grows it (request and response models, routes)"
    ]
