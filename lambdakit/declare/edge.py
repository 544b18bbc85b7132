"""`@lk.edge`: your own Lambda@Edge function, run by CloudFront on one behavior of the site.

Pure data, like `@lk.route`: the decorator records an `EdgeSpec` on the function
(`fn.__lambdakit__`) and returns the function itself, so a test calls it plainly.
Every mistake (an unknown event, memory beyond the event's limit, `env=`, `reads=`)
is found by `lambdakit.derive.edge_checks` at build time, with the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from lambdakit.core import Record, where_of
from lambdakit.core.names import DeclarationError, camel

F = TypeVar("F", bound=Callable[..., Any])

#: CloudFront's four Lambda@Edge triggers, in the order a request meets them.
EVENTS = ("viewer-request", "origin-request", "origin-response", "viewer-response")


class EdgeSpec:
    """What one Lambda@Edge function is: its code, the CloudFront event and behavior it runs on, its limits.

    `options` keeps any other keyword given (`env=`, `layers=`, `reads=` ...), for the build to refuse
    with the reason: Lambda@Edge has none of them.
    """

    __match_args__ = ("name", "func", "event", "path", "memory", "timeout", "include_body", "options")

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        event: str,
        path: str = "/*",
        memory: int = 128,
        timeout: int = 5,
        include_body: bool = False,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.func = func
        self.event = event
        self.path = path
        self.memory = memory
        self.timeout = timeout
        self.include_body = include_body
        self.options: dict[str, Any] = {} if options is None else options

    __repr__ = Record.__repr__  # the repr of the dataclass it replaces
    _values = Record._values

    @property
    def module(self) -> str:
        return self.func.__module__

    @property
    def function(self) -> str:
        return self.func.__name__

    @property
    def where(self) -> str:
        return where_of(self.func)

    @property
    def logical_id(self) -> str:
        return "Edge" + camel(self.name)

    @property
    def on_response(self) -> bool:
        """Response events receive `(request, response)`; request events the request alone."""
        return self.event.endswith("-response")


def edge_spec_of(value: object) -> EdgeSpec | None:
    """The spec `@lk.edge` put on `value`, if it is an edge function."""
    spec = getattr(value, "__lambdakit__", None)
    return spec if isinstance(spec, EdgeSpec) else None


def edge(
    event: str,
    *,
    path: str = "/*",
    memory: int = 128,
    timeout: int = 5,
    include_body: bool = False,
    name: str | None = None,
    **options: Any,
) -> Callable[[F], F]:
    """Declare a Lambda@Edge function on `event` of the site's behavior for `path` ("/*": the default one).

    A request event's function takes CloudFront's request (`Records[0].cf.request`) and returns it
    (changed or not) or a response; a response event's takes `(request, response)` and returns the response.
    `include_body=True` gives a request event's function the request body (base64, as CloudFront sends it).
    """

    def decorate(func: F) -> F:
        spec = EdgeSpec(name or func.__name__, func, event, path, memory, timeout, include_body, dict(options))
        if hasattr(func, "__lambdakit__"):
            raise DeclarationError(f"{spec.where}: a function takes one lambdakit decorator; it has two")
        func.__lambdakit__ = spec  # type: ignore[attr-defined]
        return func

    return decorate
