"""Import a package, collect its declarations into an `App`, and report every mistake at once."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import traceback
from types import ModuleType
from typing import Any

from lambdakit.declare.auth import Cognito
from lambdakit.declare.functions import PROBLEMS, REGISTRY, FunctionSpec
from lambdakit.core.names import DeclarationError, normalized
from lambdakit.declare.resources import Queue, Resource, Stream, Table
from lambdakit.declare.service import App, Service


class BuildError(Exception):
    """One or more declaration mistakes, each naming the file, the function and the fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _import_error(name: str, exc: BaseException) -> str:
    """Name the user's line that failed: the innermost frame outside importlib and lambdakit."""
    lambdakit_dir = os.path.dirname(__file__)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "importlib" not in f.filename and not f.filename.startswith(lambdakit_dir)]
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else name
    if isinstance(exc, DeclarationError):
        message = str(exc)
        return message if message.startswith(where.split(":")[0]) else f"{where}: {message}"
    return f"{where}: importing {name} failed: {type(exc).__name__}: {exc}"


def import_package(package: str) -> list[ModuleType]:
    """Import the package (or module) and all its submodules, from the current directory first."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        root = importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name and package.startswith(exc.name):
            raise BuildError([
                f"{package}: no such module or package; run lambdakit from the folder that holds it, "
                f"or give its dotted import path (e.g. example_app)"
            ]) from None
        raise BuildError([_import_error(package, exc)]) from None
    except Exception as exc:
        raise BuildError([_import_error(package, exc)]) from None
    modules = [root]
    problems: list[str] = []
    if hasattr(root, "__path__"):
        for info in sorted(pkgutil.walk_packages(root.__path__, package + "."), key=lambda i: i.name):
            try:
                modules.append(importlib.import_module(info.name))
            except Exception as exc:
                problems.append(_import_error(info.name, exc))
    if problems:
        raise BuildError(problems)
    return modules


def discover(package: str) -> App:
    """The `App` a package declares; raises `BuildError` listing every mistake."""
    modules = import_package(package)
    problems: list[str] = []
    services: list[tuple[str, Service]] = []
    declared: dict[int, tuple[str, Any]] = {}
    for module in modules:
        for var, value in sorted(vars(module).items()):
            if isinstance(value, Service) and all(value is not s for _, s in services):
                services.append((f"{module.__file__} ({var})", value))
            elif isinstance(value, (Resource, Cognito)) and id(value) not in declared:
                declared[id(value)] = (f"{module.__file__} ({var})", value)
    owner = _parent_service(package)
    if owner is not None:
        # Building part of a service would drop its settings (a default auth above all): refuse, naming the whole.
        raise BuildError([f"{package} is part of service {owner[1].name!r} declared in {owner[0]}; build the "
                          f"service's package instead: lambdakit build {owner[2]}"])
    if len(services) > 1:
        where = ", ".join(f"{m} ({s.name})" for m, s in services)
        problems.append(f"{package} declares {len(services)} services: {where}; one package holds one "
                        "service: move each into its own package")
    service = services[0][1] if services else Service(package.rsplit(".", 1)[-1].replace(".", "-"))

    names = {m.__name__ for m in modules}
    problems += [message for module, message in PROBLEMS if module in names]
    functions = [spec for spec in REGISTRY if spec.module in names]
    app = App(service=service, package=package, functions=functions)
    resources = [value for _, value in declared.values()]
    app.tables = sorted((r for r in resources if isinstance(r, Table)), key=lambda r: r.name)
    app.queues = sorted((r for r in resources if isinstance(r, Queue)), key=lambda r: r.name)
    app.streams = sorted((r for r in resources if isinstance(r, Stream)), key=lambda r: r.name)
    app.pools = sorted((r for r in resources if isinstance(r, Cognito) and not r.required_scopes),
                       key=lambda r: r.name)
    problems += _check(app, declared)
    from lambdakit.derive.authorizers import problems as auth_problems

    problems += auth_problems(app)
    if problems:
        raise BuildError(problems)
    return app


def _parent_service(package: str) -> tuple[str, Service, str] | None:
    """The service a parent package declares, if `package` is only a part of it: (where, service, parent)."""
    parts = package.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        parent = ".".join(parts[:depth])
        module = sys.modules.get(parent)
        for var, value in sorted(vars(module).items()) if module else ():
            if isinstance(value, Service):
                return f"{module.__file__} ({var})", value, parent  # type: ignore[union-attr]
    return None


def _check(app: App, declared: dict[int, tuple[str, Any]]) -> list[str]:
    from lambdakit.core.binding import http_plan, message_type

    problems: list[str] = []
    owners: dict[str, str] = {}

    def claim(kind: str, name: str, where: str) -> None:
        key = normalized(name)
        if key in owners:
            problems.append(f"{where}: {kind} name {name!r} clashes with {owners[key]} (names must differ once "
                            "case, '-' and '_' are ignored); rename one")
        else:
            owners[key] = f"{kind} {name!r}"

    # The service names the stack, not a resource: USAGE.md's own `Service("orders")` beside
    # `Table("orders")` must build, so the service stays out of the clash check.
    for res in [*app.tables, *app.queues, *app.streams]:
        claim(res.kind, res.name, declared[id(res)][0])
    routes: dict[tuple[str, str], FunctionSpec] = {}
    for spec in app.functions:
        claim("function", spec.name, spec.where)
        for res in spec.resources + ((spec.source,) if spec.kind == "consumer" and spec.source else ()):
            if id(res) not in declared:
                problems.append(
                    f"{spec.where}: {res!r} is not declared at module level in {app.package}; assign it to a "
                    f"module-level name (e.g. `{res.name.replace('-', '_')} = lk.{type(res).__name__}("
                    f"{res.name!r}, ...)`) so lambdakit can create it"
                )
        try:
            if spec.kind == "http" and spec.route is not None:
                key = (spec.route.method, _shape(spec.route.path))
                if key in routes:
                    problems.append(f"{spec.where}: {spec.route.method} {spec.route.path} is already served by "
                                    f"{routes[key].where}; change one method or path")
                else:
                    routes[key] = spec
                plan = http_plan(spec.func, spec.route.path_params, spec.where)
                if spec.storage_first:
                    extra = [p.name for p in plan.params if p.source not in ("body",)]
                    if plan.body is None or extra:
                        problems.append(
                            f"{spec.where}: a storage-first route stores the request body and nothing else; "
                            "its function takes exactly one body parameter (a pydantic model, dict or list)"
                        )
                auth = app.effective_auth(spec)
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
    # Storage first (issue 3): key fields the gateway reads, one consumer per queue, FIFO limits.
    from lambdakit.derive.storage import check as storage_check

    problems += storage_check(app)
    return problems


def _shape(path: str) -> str:
    """Paths that differ only in parameter names are the same route to API Gateway."""
    import re

    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/") or "/")
