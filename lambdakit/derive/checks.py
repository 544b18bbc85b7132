"""Build checks: the mistakes in an `App` that AWS would reject at deploy time or that would fail at run time.

A pure function of the app. Each message names the file and function (or the
declaration) and the fix; discovery reports them all at once.
"""

from __future__ import annotations

from lambdakit.core.binding import http_plan, message_type
from lambdakit.core.names import DeclarationError, normalized
from lambdakit.core.paths import shape
from lambdakit.declare.app import App
from lambdakit.declare.auth import Cognito, Public
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive.authorizers import problems as auth_problems
from lambdakit.derive.operations import type_problems
from lambdakit.derive.site_checks import certificate_problems, domain_problems
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
                key = (spec.route.method, shape(spec.route.path))
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
    return problems


#: API Gateway stops waiting for a Lambda integration after 29 seconds (its default integration timeout).
API_TIMEOUT = 29


def _limits(app: App) -> list[str]:
    """Lambda's memory and timeout bounds, and API Gateway's wait, on each function's effective settings."""
    from lambdakit.derive.plan import memory_of, timeout_of

    found = []
    for spec in app.functions:
        memory, timeout = memory_of(app, spec), timeout_of(app, spec)
        if isinstance(memory, bool) or not isinstance(memory, int) or not 128 <= memory <= 10240:
            found.append(f"{spec.where}: memory={memory!r}: Lambda gives 128-10240 MB (whole MB)")
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 900:
            found.append(f"{spec.where}: timeout={timeout!r}: Lambda runs a function 1-900 seconds")
        elif spec.kind == "http" and not spec.storage_first and timeout > API_TIMEOUT:
            found.append(
                f"{spec.where}: timeout={timeout}: API Gateway answers 504 after {API_TIMEOUT} s, so the caller "
                f"would never see the answer; keep it <= {API_TIMEOUT}, or make the route storage first "
                '(trigger="sqs") and do the long work in its consumer'
            )
    return found


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
    elif service.certificate is not None:
        found.append(f"{where}: certificate= is for cdn=True (a Regional API domain is not built yet)")
    refused = (("domain", service.domain if not service.cdn else None), ("base_path", service.base_path))
    for option, value in refused:
        if value is not None:
            found.append(
                f"{where}: {option}={value!r}: Regional API custom domains and shared base paths are not built "
                f"yet (the template would carry no domain); use cdn=True with domain=, or remove {option}= for now"
            )
    if service.cdn:
        found += domain_problems(where, service.domain)
    return found
