"""Build checks: the mistakes in an `App` that AWS would reject at deploy time or that would fail at run time.

A pure function of the app. Each message names the file and function (or the
declaration) and the fix; discovery reports them all at once.
"""

from __future__ import annotations

from lambdakit.core.binding import http_plan
from lambdakit.core.messages import message_type
from lambdakit.core.names import DeclarationError, normalized
from lambdakit.core.paths import segments
from lambdakit.declare.app import App
from lambdakit.declare.auth import Cognito, Public
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive.authorizers import problems as auth_problems
from lambdakit.derive.edge_checks import edge_problems
from lambdakit.derive.limits import problems as _limits
from lambdakit.derive.operations import type_problems
from lambdakit.derive.routing import app_problems as routing_problems
from lambdakit.derive.site_checks import certificate_problems
from lambdakit.derive.storage import check as storage_check


def problems(app: App) -> list[str]:
    """Every mistake the declarations hold that AWS would reject at deploy time, or that would fail at run time."""
    problems: list[str] = []
    owners: dict[str, str] = {}

    def claim(kind: str, name: str, where: str) -> None:
        key = normalized(name)
        if key in owners:
            problems.append(
                f"{where}: {kind} name {name!r} clashes with {owners[key]} (names must differ once "
                "case, '-' and '_' are ignored); rename one"
            )
        else:
            owners[key] = f"{kind} {name!r}"

    # The service names the stack, not a resource: USAGE.md's own `Service("orders")` beside
    # `Table("orders")` must build, so the service stays out of the clash check.
    for res in [*app.tables, *app.queues, *app.streams]:
        claim(res.kind, res.name, app.origins[id(res)])
    routes: dict[tuple[str, str], FunctionSpec] = {}
    for spec in app.functions:
        claim("function", spec.name, spec.where)
        for res in spec.resources + ((spec.source,) if spec.kind == "consumer" and spec.source else ()):
            if not app.declared(res):
                problems.append(
                    f"{spec.where}: {res!r} is not declared at module level in {app.package}; assign it to a "
                    f"module-level name (e.g. `{res.name.replace('-', '_')} = lk.{type(res).__name__}("
                    f"{res.name!r}, ...)`) so lambdakit can create it"
                )
        try:
            if spec.kind == "http" and spec.route is not None:
                key = (spec.route.method, _shape(spec.route.path))
                if key in routes:
                    problems.append(
                        f"{spec.where}: {spec.route.method} {spec.route.path} is already served by "
                        f"{routes[key].where}; change one method or path"
                    )
                else:
                    routes[key] = spec
                plan = http_plan(spec.func, spec.route.path_params, spec.where)
                problems += type_problems(spec)
                if spec.storage_first:
                    extra = [p.name for p in plan.params if p.source not in ("body",)]
                    if plan.body is None or extra:
                        problems.append(
                            f"{spec.where}: a storage-first route stores the request body and nothing else; "
                            "its function takes exactly one body parameter (a pydantic model, dict or list)"
                        )
                auth = app.effective_auth(spec)
                if plan.wants_identity and (auth is None or isinstance(auth, Public)):
                    name = next(p.name for p in plan.params if p.source == "identity")
                    problems.append(
                        f"{spec.where}: {name}: lk.Identity needs a caller, but the route is public, so it would "
                        f"answer 401 to every request; give the route auth=, or make it `{name}: lk.Identity | None`"
                    )
                if isinstance(auth, FunctionSpec) and auth not in app.functions:
                    problems.append(f"{spec.where}: authorizer {auth.name!r} is not in {app.package}")
                if isinstance(auth, Cognito) and not any(auth.same_pool(p) for p in app.pools):
                    problems.append(f"{spec.where}: {auth!r} is not declared at module level in {app.package}")
            elif spec.kind == "consumer":
                message_type(spec.func, spec.where)
        except DeclarationError as exc:
            problems.append(str(exc))
        if spec.source is not None and spec.kind == "http":
            claim(spec.source.kind, spec.source.name + "-" + spec.source.kind, spec.where)
    problems += _limits(app)
    problems += _service_problems(app)
    # Storage first: key fields the gateway reads, one consumer per queue, FIFO limits.
    problems += storage_check(app)
    problems += auth_problems(app)
    problems += edge_problems(app)  # what Lambda@Edge forbids
    problems += routing_problems(app)  # the site router owns the default behavior's viewer events
    return problems


def _service_problems(app: App) -> list[str]:
    """Service settings lambdakit accepts but cannot build yet are refused, not ignored."""
    service = app.service
    where = f"lk.Service({service.name!r})"
    found = []
    if service.cors is not None:
        found += [
            f"{s.where}: OPTIONS {s.route.path} is the CORS preflight, which API Gateway answers itself "
            f"under {where}'s cors=; remove this route or cors="
            for s in app.functions
            if s.route is not None and s.route.method == "OPTIONS"
        ]
    if service.cdn:
        if app.site is not None:
            found.append(f"{where}: cdn=True with an lk.Frontend: the site already puts the API behind CloudFront")
        if not any(s.kind == "http" for s in app.functions):
            found.append(f"{where}: cdn=True puts the API behind CloudFront, but the service has no routes")
        found += certificate_problems(where, service.certificate, service.domain)
    elif service.certificate is not None and service.domain is None:
        found.append(f"{where}: certificate= without domain=; name the domain the certificate is for")
    from lambdakit.derive.domains import problems as domain_settings_problems

    found += domain_settings_problems(app)  # domain=, base_path= and certificate= of a Regional API domain
    return found


def _shape(path: str) -> str:
    """The template with its parameter names erased: two routes of one shape are one route to API Gateway."""
    return "/" + "/".join("{+}" if s.greedy else "{}" if s.name else s.text for s in segments(path))
