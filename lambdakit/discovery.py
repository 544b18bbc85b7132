"""Import a package, collect its declarations into an `App`, and report every mistake at once."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Iterable
from types import ModuleType

from lambdakit.core.names import DeclarationError
from lambdakit.declare.app import App
from lambdakit.declare.auth import Cognito
from lambdakit.declare.edge import EdgeSpec, edge_spec_of
from lambdakit.declare.functions import FunctionSpec, problems_of, spec_of
from lambdakit.declare.resources import Queue, Resource, Stream, Table
from lambdakit.declare.service import Service
from lambdakit.declare.site import Frontend


class BuildError(Exception):
    """One or more declaration mistakes, each naming the file, the function and the fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _import_error(name: str, exc: BaseException) -> str:
    """Name the user's line that failed: the innermost frame outside importlib and lambdakit."""
    lambdakit_dir = os.path.dirname(__file__)
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in f.filename and not f.filename.startswith(lambdakit_dir)
    ]
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
            raise BuildError(
                [
                    f"{package}: no such module or package; run lambdakit from the folder that holds it, "
                    f"or give its dotted import path (e.g. example_app)"
                ]
            ) from None
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
    from lambdakit.derive.checks import problems as check

    modules = import_package(package)
    owner = _parent_service(package)
    if owner is not None:
        # Building part of a service would drop its settings (a default auth above all): refuse, naming the whole.
        raise BuildError(
            [
                f"{package} is part of service {owner[1].name!r} declared in {owner[0]}; build the "
                f"service's package instead: lambdakit build {owner[2]}"
            ]
        )
    app, problems = collect(package, modules)
    problems += _mounted(app)
    problems += check(app)
    if not problems:  # a site and the services it mounts are built together: one base path each on a shared domain
        from lambdakit.derive.domains import shared_domain_problems

        problems += shared_domain_problems([app, *app.mounted.values()])
    if problems:
        raise BuildError(problems)
    return app


def discover_all(packages: Iterable[str]) -> list[App]:
    """The apps of several packages (the services of one repo), with the checks that span them: no two
    services on one shared domain with the same base path. Raises `BuildError` listing every mistake."""
    from lambdakit.derive.domains import shared_domain_problems

    apps: list[App] = []
    problems: list[str] = []
    for package in packages:
        try:
            apps.append(discover(package))
        except BuildError as exc:
            problems += exc.problems
    problems += shared_domain_problems([a for app in apps for a in (app, *app.mounted.values())])
    if problems:
        raise BuildError(problems)
    return apps


def _mounted(app: App) -> list[str]:
    """The apps of the packages the site mounts (`site.mount(path, package)`), each discovered as it would build."""
    problems: list[str] = []
    for mount in app.site.mounts if app.site is not None else ():
        if not isinstance(mount.package, str) or mount.origin is not None:
            continue
        where = f"{app.package}: site.mount({mount.path!r}, {mount.package!r})"
        if mount.package == app.package:
            problems.append(f"{where}: a site serves its own service's API at api_path=, not as a mount")
            continue
        try:
            mounted = discover(mount.package)
        except BuildError as exc:
            problems.append(f"{where}: {mount.package} does not build: " + "; ".join(exc.problems))
            continue
        if not any(s.kind == "http" for s in mounted.functions):
            problems.append(f"{where}: {mount.package} has no routes to serve")
        if mounted.site is not None:
            problems.append(f"{where}: {mount.package} has a site of its own; mount a service, not a site")
        app.mounted[mount.path] = mounted
    return problems


def collect(package: str, modules: Iterable[ModuleType]) -> tuple[App, list[str]]:
    """The declarations the modules hold, as an `App`, and the mistakes their decorators found.

    Functions are taken from the module that defines them, in the order they are defined; resources
    from wherever they are first bound at module level. Nothing is kept between calls.
    """
    problems: list[str] = []
    services: list[tuple[str, Service]] = []
    sites: list[tuple[str, Frontend]] = []
    functions: list[FunctionSpec] = []
    edge_functions: list[EdgeSpec] = []
    taken: set[int] = set()  # ids of the specs in `functions`
    values: list[Resource | Cognito] = []
    origins: dict[int, str] = {}
    variables: dict[int, str] = {}
    for module in modules:
        for var, value in vars(module).items():
            if isinstance(value, Service):
                if all(value is not s for _, s in services):
                    services.append((f"{module.__file__} ({var})", value))
            elif isinstance(value, Frontend):
                if all(value is not s for _, s in sites):
                    sites.append((f"{module.__file__} ({var})", value))
            elif isinstance(value, (Resource, Cognito)):
                if id(value) not in origins:
                    origins[id(value)] = f"{module.__file__} ({var})"
                    variables[id(value)] = var
                    values.append(value)
            elif getattr(value, "__module__", None) == module.__name__:
                spec = spec_of(value)
                if spec is not None and spec.module == module.__name__ and id(spec) not in taken:
                    taken.add(id(spec))
                    functions.append(spec)
                edge = edge_spec_of(value)
                if edge is not None and edge.module == module.__name__ and id(edge) not in taken:
                    taken.add(id(edge))
                    edge_functions.append(edge)
                problems += problems_of(value)
    if len(services) > 1:
        where = ", ".join(f"{m} ({s.name})" for m, s in services)
        problems.append(
            f"{package} declares {len(services)} services: {where}; one package holds one "
            "service: move each into its own package"
        )
    if len(sites) > 1:
        where = ", ".join(m for m, _ in sites)
        problems.append(f"{package} declares {len(sites)} sites: {where}; a service has one lk.Frontend")
    for where, site in sites[:1]:
        from lambdakit.derive.site_checks import frontend_problems

        problems += frontend_problems(site, where)
    service = services[0][1] if services else Service(package.rsplit(".", 1)[-1].replace(".", "-"))
    app = App(
        service=service,
        package=package,
        functions=functions,
        tables=sorted((v for v in values if isinstance(v, Table)), key=lambda r: r.name),
        queues=sorted((v for v in values if isinstance(v, Queue)), key=lambda r: r.name),
        streams=sorted((v for v in values if isinstance(v, Stream)), key=lambda r: r.name),
        pools=sorted((v for v in values if isinstance(v, Cognito) and not v.required_scopes), key=lambda r: r.name),
        site=sites[0][1] if sites else None,
        edge_functions=edge_functions,
        origins=origins,
        variables=variables,
    )
    return app, problems


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
