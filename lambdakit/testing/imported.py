"""What the tests of a session share without pytest: the running `lk_aws` backend, and the app of every
lambdakit declaration imported so far (what `lk_aws` creates)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambdakit.derive.plan import Plan
    from lambdakit.local.backend import Backend

_active: list[Backend] = []


def active_backend() -> Backend | None:
    """The backend of the running `lk_aws` fixture, if any (a test client made during the test shares it)."""
    return _active[-1] if _active else None


def activate(backend: Backend) -> None:
    _active.append(backend)


def deactivate(backend: Backend) -> None:
    if backend in _active:
        _active.remove(backend)


def imported_plan(first: Iterable[ModuleType] = ()) -> Plan:
    """The plan of every declaration in the modules imported so far, `first` (and their packages) first:
    when two apps declare a table of the same name, the one `first` uses is the one created."""
    from lambdakit.declare.auth import Cognito
    from lambdakit.declare.resources import Resource
    from lambdakit.declare.service import Service
    from lambdakit.derive.plan import plan_of
    from lambdakit.discovery import collect

    leading = list(first)
    roots = {m.__name__.split(".", 1)[0] for m in leading}
    loaded = [m for _, m in sorted(sys.modules.items()) if isinstance(m, ModuleType) and m not in leading]
    near = [m for m in loaded if m.__name__.split(".", 1)[0] in roots]
    rest = [m for m in loaded if m not in near and _declares(m, (Resource, Cognito, Service))]
    app, _ = collect("imported", [*leading, *near, *rest])
    return plan_of(app)


def _declares(module: ModuleType, kinds: tuple[type, ...]) -> bool:
    """Whether a module holds a lambdakit declaration (a cheap filter before collecting it)."""
    if module.__name__.startswith(("lambdakit.", "_", "encodings.")) or module.__name__ == "lambdakit":
        return False
    try:
        values = list(vars(module).values())
    except TypeError:
        return False
    return any(isinstance(v, kinds) or _marked(v) for v in values)


def _marked(value: object) -> bool:
    """`hasattr`, for module globals that raise more than AttributeError when asked (Flask's
    `current_app` proxy raises RuntimeError outside an app context)."""
    try:
        return hasattr(value, "__lambdakit__")
    except Exception:
        return False
