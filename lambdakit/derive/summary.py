"""The tables `lambdakit build` and `lambdakit routes` print: what each function is and touches."""

from __future__ import annotations

from lambdakit.declare.app import App
from lambdakit.declare.auth import describe
from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.resources import Queue


def trigger(spec: FunctionSpec) -> str:
    if spec.kind == "authorizer":
        return "authorizer (REQUEST)" if spec.identity_sources else "authorizer (TOKEN)"
    if spec.source is None:
        return "http"
    kind = "sqs" if isinstance(spec.source, Queue) else "kinesis"
    return f"{kind} (storage first)" if spec.kind == "http" else f"{kind}:{spec.source.name}"


def rows(app: App) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for spec in app.functions:
        route = f"{spec.route.method} {spec.route.path}" if spec.route else "-"
        if spec.route and spec.route.cache:
            route += f" (cached {spec.route.cache}s)"
        auth = describe(app.effective_auth(spec)) if spec.route else "-"
        if spec.route and spec.route.api_key:
            auth += " +api-key"
        out.append(
            (
                spec.name,
                trigger(spec),
                route,
                auth,
                ", ".join(r.name for r in spec.reads) or "-",
                ", ".join(r.name for r in spec.writes) or "-",
            )
        )
    return out


def table(headers: tuple[str, ...], body: list[tuple[str, ...]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    return "\n".join(lines)


def summary(app: App) -> str:
    text = table(("function", "trigger", "route", "auth", "reads", "writes"), rows(app))
    public = [
        f"{s.route.method} {s.route.path}"
        for s in app.functions
        if s.route and describe(app.effective_auth(s)) == "PUBLIC"
    ]
    text += "\n\npublic routes (no auth): " + (", ".join(public) if public else "none")
    return text + _domain(app) + _site(app)


def _domain(app: App) -> str:
    """Where the API's custom domain is, and which stack holds it (derive/domains.py)."""
    from lambdakit.derive.domains import domain_plan

    plan = domain_plan(app)
    if plan is None:
        return ""
    if plan.base_path is None:
        return f"\n\nAPI at https://{plan.domain}/ (its certificate, custom domain and DNS records in this stack)"
    stack = plan.stack_name.replace("{stage}", "STAGE")
    return (
        f"\n\nAPI at https://{plan.domain}/{plan.base_path}/ (this stack maps the path; the domain is the shared "
        f"stack {stack}, deployed first: its template is template-domain.yaml)"
    )


def _site(app: App) -> str:
    """What the distribution serves, path by path, as CloudFront matches them."""
    from lambdakit.derive.plan import plan_of

    site = plan_of(app).site
    if site is None:
        return ""
    where = site.domain or "its *.cloudfront.net domain"
    lines = [f"\n\nsite on CloudFront at {where}:"]
    for behavior in site.behaviors:
        origin = behavior.origin
        served = {"api": "this service's API", "mount": f"the API of {origin.domain}", "http": origin.domain}
        if site.frontend is not None:  # a behavior of its own on the bucket (an `@lk.edge` path, a protected area)
            served["s3"] = f"{site.frontend.folder} (the private S3 bucket, as /*)"
        target = served.get(origin.kind, origin.kind)
        if origin.kind == "mount":
            mounted = app.mounted.get(behavior.path or "")
            target = f"service {mounted.service.name}" if mounted is not None else target
            if origin.parameter is not None:  # reached at its custom domain (a parameter per stage)
                target += f" at {origin.parameter[1]}{origin.path}"
        lines.append(f"  {behavior.path}, {behavior.path}/*  -> {target}")
    if site.frontend is not None:
        lines.append(f"  /*  -> {site.frontend.folder} (private S3 bucket; paths without a dot get index.html)")
    else:
        lines.append("  /*  -> this service's API (cdn=True)")
    signed = [s.name for s in app.functions if s.route is not None and app.effective_auth(s) == "iam"]
    if signed and any(b.origin.kind == "api" for b in site.behaviors):
        lines.append(
            f'  note: {", ".join(signed)} take SigV4 (auth="iam"), which signs the Host header that CloudFront '
            "replaces: sign requests to the API's own URL (ApiUrl), not the site's"
        )
    if site.creates_certificate:
        lines.append(f"  certificate for {site.domain}: created in us-east-1 (template-us-east-1.yaml)")
    for fn in site.edge:  # Lambda@Edge: docs/edge.md
        where_on = ", ".join(fn.behaviors)
        lines.append(f"  Lambda@Edge {fn.name} on {fn.event} of {where_on}: in us-east-1 (template-us-east-1.yaml)")
    return "\n".join(lines)
