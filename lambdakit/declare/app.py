"""`App`: everything one service's package declares, collected by discovery. The only registry there is.

An `App` is built from the contents of the package's modules (as Chalice
keeps routes on its app), so importing a module again, or building two apps
in one process, changes nothing. Every derivation (the resource plan, IAM,
the template, OpenAPI) is a pure function of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .auth import Auth, Cognito
from .functions import FunctionSpec
from .resources import Queue, Resource, Stream, Table
from .service import Service

if TYPE_CHECKING:
    from .edge import EdgeSpec
    from .site import Frontend


@dataclass
class App:
    """One service: its settings, its functions and the resources declared at module level, in a stable order."""

    service: Service
    package: str
    functions: list[FunctionSpec] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    streams: list[Stream] = field(default_factory=list)
    pools: list[Cognito] = field(default_factory=list)
    site: Frontend | None = None
    #: the `@lk.edge` functions (Lambda@Edge, in the us-east-1 template), in definition order
    edge_functions: list[EdgeSpec] = field(default_factory=list)
    #: the apps of the packages the site mounts, by mount path (`site.mount("/api/catalog", "catalog")`)
    mounted: dict[str, App] = field(default_factory=dict, repr=False, compare=False)
    #: where each module-level declaration is (`shop/orders.py (orders)`), by `id()`, for messages
    origins: dict[int, str] = field(default_factory=dict, repr=False, compare=False)
    #: the module variable each declaration is bound to (`orders`), by `id()`, for messages
    variables: dict[int, str] = field(default_factory=dict, repr=False, compare=False)

    def function(self, name: str) -> FunctionSpec:
        for spec in self.functions:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def effective_auth(self, spec: FunctionSpec) -> Auth:
        """The route's own auth, else the service default; None means public."""
        return spec.auth if spec.auth is not None else self.service.auth

    def declared(self, value: Resource | Cognito) -> bool:
        """Whether `value` is bound to a module-level name of the package (so lambdakit can create it)."""
        return id(value) in self.origins
