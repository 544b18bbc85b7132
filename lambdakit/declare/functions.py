"""Functions and the decorators that declare them. One declared function = one Lambda.

Each decorator records a `FunctionSpec` on the function (`fn.__lambdakit__`)
and returns the function itself, so tests call it plainly. There is no
registry: discovery finds the specs in the modules that define them, so a
module imported twice, or two apps in one process, declare nothing twice. A
mistake in a decorator's arguments is kept on the function
(`fn.__lambdakit_problems__`) for discovery to report with all the others,
instead of stopping the import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from lambdakit.core import DeclarationError, Record, check_name, where_of
from lambdakit.core.paths import param_names
from lambdakit.core.paths import problems as path_problems

if TYPE_CHECKING:  # `.auth`, `.resources` and `.triggers` load when a declaration uses them, not at every cold start
    from .auth import Auth
    from .resources import Queue, Resource, Stream
    from .triggers import ConsumerOptions, KinesisOptions, SqsOptions

    # for the type checker only: building a TypeVar and a Literal costs every cold start ~40 µs
    F = TypeVar("F", bound=Callable[..., Any])
    Kind = Literal["http", "consumer", "authorizer"]

#: Where a decorator leaves the mistakes in its arguments, on the (still plain) function.
PROBLEMS_ATTRIBUTE = "__lambdakit_problems__"

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class Route(Record):
    """An HTTP route. `storage` is set for storage-first routes (API Gateway -> SQS/Kinesis).

    Here rather than with the consumer options in `.triggers`: an HTTP function's cold start loads only this module.
    """

    __match_args__ = ("method", "path", "status", "cache", "api_key", "throttle", "storage", "integration_timeout")
    __slots__ = __match_args__
    method: str
    path: str
    status: int | None
    cache: int | None
    api_key: bool
    throttle: tuple[float, int] | None
    storage: ConsumerOptions | None
    integration_timeout: int | None  # seconds API Gateway waits for the function; None: the service's, else 29

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None = None,
        cache: int | None = None,
        api_key: bool = False,
        throttle: tuple[float, int] | None = None,
        storage: ConsumerOptions | None = None,
        integration_timeout: int | None = None,
    ) -> None:
        self._set("method", method)
        self._set("path", path)
        self._set("status", status)
        self._set("cache", cache)
        self._set("api_key", api_key)
        self._set("throttle", throttle)
        self._set("storage", storage)
        self._set("integration_timeout", integration_timeout)

    @property
    def path_params(self) -> tuple[str, ...]:
        """The `{name}` (or greedy `{name+}`) parameters' names, in order."""
        return param_names(self.path)


class FunctionSpec:
    """What one Lambda is: its code, its trigger, the resources it touches, its auth.

    A plain class, not a dataclass: a dataclass costs ~1 ms to create at every cold start.
    It behaves as the `@dataclass(eq=False)` it replaces: same fields, same repr (a `Record`'s), same `match`.
    """

    __match_args__ = (
        "name",
        "func",
        "kind",
        "route",
        "source",
        "options",
        "reads",
        "writes",
        "auth",
        "idempotent",
        "memory",
        "timeout",
        "authorizer_ttl",
        "identity_sources",
    )

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        kind: Kind,
        route: Route | None = None,
        source: Queue | Stream | None = None,
        options: ConsumerOptions | None = None,
        reads: tuple[Resource, ...] = (),
        writes: tuple[Resource, ...] = (),
        auth: Auth = None,
        idempotent: bool = False,
        memory: int | None = None,
        timeout: int | None = None,
        authorizer_ttl: int = 300,
        identity_sources: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.func = func
        self.kind = kind
        self.route = route
        self.source = source
        self.options = options
        self.reads = reads
        self.writes = writes
        self.auth = auth
        self.idempotent = idempotent
        self.memory = memory
        self.timeout = timeout
        self.authorizer_ttl = authorizer_ttl
        self.identity_sources = identity_sources
        self.module: str = func.__module__
        self.target = f"{self.module}:{func.__name__}"  # `module:function`, what the Lambda entry point imports

    __repr__ = Record.__repr__
    _values = Record._values

    #: memory (MB) and timeout (s) when neither the function nor its service sets them
    DEFAULT_MEMORY = 256
    DEFAULT_TIMEOUT: dict[str, int] = {"http": 10, "consumer": 30, "authorizer": 5}

    @property
    def where(self) -> str:
        return where_of(self.func)

    @property
    def logical_id(self) -> str:
        from lambdakit.core.names import camel

        return camel(self.name) + "Function"

    @property
    def storage_first(self) -> bool:
        return self.route is not None and self.route.storage is not None

    @property
    def resources(self) -> tuple[Resource, ...]:
        return tuple(dict.fromkeys(self.reads + self.writes))  # in order, each once (by identity)


def _resources(where: str, what: str, items: Iterable[Any]) -> tuple[Resource, ...]:
    if isinstance(items, tuple) and not items:  # the default: nothing to check
        return ()
    from .resources import Resource

    if isinstance(items, Resource):
        items = [items]
    out: list[Resource] = []
    for item in items:
        if not isinstance(item, Resource):
            raise DeclarationError(f"{where}: {what}= takes lk.Table, lk.Queue or lk.Stream objects, not {item!r}")
        if item in out:  # the same object: a resource compares by identity
            raise DeclarationError(f"{where}: {what}= lists {item!r} twice; list each resource once")
        out.append(item)
    return tuple(out)


def _auth(where: str, auth: Any) -> Auth:
    if auth is None:
        return None
    from .auth import auth_of  # loaded by the declarations that name an auth

    return auth_of(where, auth)


def _register(func: Callable[..., Any], spec: FunctionSpec) -> None:
    check_name("function", spec.name)
    if hasattr(func, "__lambdakit__"):
        raise DeclarationError(f"{spec.where}: a function takes one lambdakit decorator; it has two")
    func.__lambdakit__ = spec  # type: ignore[attr-defined]


def spec_of(value: object) -> FunctionSpec | None:
    """The spec a decorator put on `value`, if it is a declared function."""
    spec = getattr(value, "__lambdakit__", None)
    return spec if isinstance(spec, FunctionSpec) else None


def problems_of(value: object) -> tuple[str, ...]:
    """The mistakes a decorator found in its arguments for `value`, if any."""
    found = getattr(value, PROBLEMS_ATTRIBUTE, ())
    return tuple(found) if isinstance(found, tuple) else ()


def _deferring(decorate: Callable[[F], F]) -> Callable[[F], F]:
    """Run a decorator; a mistake in its arguments stays on the function for the build, which is left plain."""

    def run(func: F) -> F:
        try:
            return decorate(func)
        except DeclarationError as exc:
            where = where_of(func)
            message = str(exc)
            found = (*problems_of(func), message if message.startswith(where) else f"{where}: {message}")
            try:
                setattr(func, PROBLEMS_ATTRIBUTE, found)
            except (AttributeError, TypeError):  # not a plain function: nothing to keep it on
                raise exc from None
            return func

    return run


def route(
    method: str,
    path: str,
    *,
    reads: Iterable[Resource] = (),
    writes: Iterable[Resource] = (),
    auth: Any = None,
    status: int | None = None,
    trigger: str | SqsOptions | KinesisOptions = "http",
    cache: int | None = None,
    api_key: bool = False,
    throttle: tuple[float, int] | None = None,
    idempotent: bool | None = None,
    name: str | None = None,
    memory: int | None = None,
    timeout: int | None = None,
    integration_timeout: int | None = None,
) -> Callable[[F], F]:
    """Declare an HTTP route; `trigger="sqs"`/`"kinesis"` makes it storage first.

    `integration_timeout=` (seconds) is how long API Gateway waits for the function: 29 by default,
    more only after a Service Quotas increase for the account's Regional APIs; a `timeout=` above it is
    a build error, since the caller would get 504 before the answer.
    """

    def decorate(func: F) -> F:
        where = where_of(func)
        verb = method.upper() if isinstance(method, str) else method
        if verb not in HTTP_METHODS:
            raise DeclarationError(f"{where}: method {method!r} is not one of {', '.join(HTTP_METHODS)}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise DeclarationError(f"{where}: path {path!r} must start with '/'")
        bad_path = path_problems(path)  # parameters bind to Python's: identifiers, each once, `{name+}` last
        if bad_path:
            raise DeclarationError(f"{where}: {bad_path[0]}")
        storage = None
        if trigger != "http":  # storage first: `.triggers` loads for these routes only
            from .triggers import storage_options

            storage = storage_options(where, trigger)
        if storage is not None and storage.problem():
            raise DeclarationError(f"{where}: {storage.problem()}")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 399):
            raise DeclarationError(
                f"{where}: status={status!r}: a route's success status is 200-399; errors are raised "
                "(lk.NotFound, lk.HTTPError(status=...)), not declared"
            )
        if storage is not None and status is not None:
            raise DeclarationError(
                f"{where}: status= does not apply to a storage-first route: the gateway answers 202 "
                "with the message id once the request is stored; remove status="
            )
        if storage is not None and cache is not None:
            raise DeclarationError(
                f"{where}: cache= applies to GET routes served by a function, not storage-first routes"
            )
        if storage is not None and integration_timeout is not None:
            raise DeclarationError(
                f"{where}: integration_timeout= is for routes served by a function; a storage-first route's "
                "gateway answers as soon as the request is stored; remove integration_timeout="
            )
        if cache is not None and verb != "GET":
            raise DeclarationError(f"{where}: cache={cache} is only for GET routes (API Gateway caches GET responses)")
        if cache is not None and not 0 < cache <= 3600:
            raise DeclarationError(f"{where}: cache={cache} must be 1-3600 seconds")
        fname = name or func.__name__
        source = None
        if storage is not None:
            from .triggers import storage_source

            source = storage_source(fname, storage)
        spec = FunctionSpec(
            name=fname,
            func=func,
            kind="http",
            route=Route(verb, path, status, cache, api_key, throttle, storage, integration_timeout),
            source=source,
            options=storage,
            reads=_resources(where, "reads", reads),
            writes=_resources(where, "writes", writes),
            auth=_auth(where, auth),
            idempotent=(storage is not None) if idempotent is None else idempotent,
            memory=memory,
            timeout=timeout,
        )
        if spec.idempotent and storage is None:
            raise DeclarationError(f"{where}: idempotent=True is for consumers (storage-first routes and @lk.consume)")
        _register(func, spec)
        return func

    return _deferring(decorate)
