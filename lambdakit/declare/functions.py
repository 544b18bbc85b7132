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
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from lambdakit.core import DeclarationError, Record, check_name
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
    It behaves as the `@dataclass(eq=False)` it replaces: same fields, same repr.
    """

    _FIELDS = (
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
        "extra",
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
        extra: dict[str, Any] | None = None,
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
        self.extra: dict[str, Any] = {} if extra is None else extra

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"{type(self).__qualname__}({fields})"

    #: memory (MB) and timeout (s) when neither the function nor its service sets them
    DEFAULT_MEMORY = 256
    DEFAULT_TIMEOUT: dict[str, int] = {"http": 10, "consumer": 30, "authorizer": 5}

    @property
    def module(self) -> str:
        return self.func.__module__

    @property
    def target(self) -> str:
        """`module:function`, what the Lambda entry point imports."""
        return f"{self.module}:{self.func.__name__}"

    @property
    def where(self) -> str:
        code = getattr(self.func, "__code__", None)
        filename = code.co_filename if code else self.module
        line = code.co_firstlineno if code else 0
        return f"{filename}:{line} ({self.func.__name__})"

    @property
    def logical_id(self) -> str:
        from lambdakit.core.names import camel

        return camel(self.name) + "Function"

    @property
    def storage_first(self) -> bool:
        return self.route is not None and self.route.storage is not None

    @property
    def resources(self) -> tuple[Resource, ...]:
        return self.reads + tuple(r for r in self.writes if r not in self.reads)


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
        if any(item is seen for seen in out):
            raise DeclarationError(f"{where}: {what}= lists {item!r} twice; list each resource once")
        out.append(item)
    return tuple(out)


def _auth(where: str, auth: Any) -> Auth:
    if auth is None:
        return None
    from .auth import IAM, Cognito, Public

    if isinstance(auth, (Cognito, Public)):
        return auth
    if auth == IAM:
        return IAM
    spec = getattr(auth, "__lambdakit__", None)
    if isinstance(spec, FunctionSpec) and spec.kind == "authorizer":
        return spec
    if callable(auth) and spec is None and problems_of(auth):
        raise DeclarationError(
            f"{where}: auth={getattr(auth, '__name__', auth)}: its @lk.authorizer declaration has a mistake "
            "(reported on its own); fix it there"
        )
    if callable(auth) and spec is None:
        raise DeclarationError(
            f"{where}: auth={getattr(auth, '__name__', auth)} is a plain function; decorate it "
            "with @lk.authorizer to make it a Lambda authorizer"
        )
    raise DeclarationError(
        f"{where}: auth={auth!r} is not an authorizer; use an lk.Cognito, an @lk.authorizer function, "
        '"iam" or lk.PUBLIC'
    )


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


def _check_path(where: str, path: str) -> None:
    """Path parameters bind to Python parameters: identifiers, each once, a greedy `{name+}` only last."""
    found = path_problems(path)
    if found:
        raise DeclarationError(f"{where}: {found[0]}")


def _deferring(decorate: Callable[[F], F]) -> Callable[[F], F]:
    """Run a decorator; a mistake in its arguments stays on the function for the build, which is left plain."""

    def run(func: F) -> F:
        try:
            return decorate(func)
        except DeclarationError as exc:
            where = _placeholder(func).where
            message = str(exc)
            found = (*problems_of(func), message if message.startswith(where) else f"{where}: {message}")
            try:
                setattr(func, PROBLEMS_ATTRIBUTE, found)
            except (AttributeError, TypeError):  # not a plain function: nothing to keep it on
                raise exc from None
            return func

    return run


def _placeholder(func: Callable[..., Any]) -> FunctionSpec:
    return FunctionSpec(name=func.__name__, func=func, kind="http")


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
        where = _placeholder(func).where
        verb = method.upper() if isinstance(method, str) else method
        if verb not in HTTP_METHODS:
            raise DeclarationError(f"{where}: method {method!r} is not one of {', '.join(HTTP_METHODS)}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise DeclarationError(f"{where}: path {path!r} must start with '/'")
        _check_path(where, path)
        storage = None if trigger == "http" else _storage(where, trigger)
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
        source = None if storage is None else _storage_source(fname, storage)
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


def _storage(where: str, trigger: object) -> ConsumerOptions:
    """A storage-first route's `trigger=` as its options."""
    from .triggers import KinesisOptions, SqsOptions, kinesis, sqs

    if trigger == "sqs":
        return sqs()
    if trigger == "kinesis":
        return kinesis()
    if isinstance(trigger, (SqsOptions, KinesisOptions)):
        return trigger
    raise DeclarationError(
        f'{where}: trigger={trigger!r}; use "http", "sqs", "kinesis", lk.sqs(...) or lk.kinesis(...)'
    )


def _storage_source(name: str, storage: ConsumerOptions) -> Queue | Stream:
    """The queue or stream a storage-first route writes to, named after its function."""
    from .resources import Queue, Stream
    from .triggers import SqsOptions

    if isinstance(storage, SqsOptions):
        return Queue(name, fifo=storage.fifo, max_receive=storage.max_receive)
    return Stream(name)


if TYPE_CHECKING:  # the overloads only type `@lk.authorizer` with and without arguments: none at run time

    @overload
    def authorizer(
        func: F,
        *,
        ttl: int = 300,
        identity_sources: Iterable[str] = (),
        reads: Iterable[Resource] = (),
        name: str | None = None,
        memory: int | None = None,
        timeout: int | None = None,
    ) -> F: ...

    @overload
    def authorizer(
        func: None = None,
        *,
        ttl: int = 300,
        identity_sources: Iterable[str] = (),
        reads: Iterable[Resource] = (),
        name: str | None = None,
        memory: int | None = None,
        timeout: int | None = None,
    ) -> Callable[[F], F]: ...


def authorizer(
    func: F | None = None,
    *,
    ttl: int = 300,
    identity_sources: Iterable[str] = (),
    reads: Iterable[Resource] = (),
    name: str | None = None,
    memory: int | None = None,
    timeout: int | None = None,
) -> F | Callable[[F], F]:
    """Declare a Lambda authorizer: TOKEN `(token: str) -> Identity | None`, or REQUEST when
    `identity_sources=("header:X-Api-Key", "query:key")` names what API Gateway passes."""

    def decorate(f: F) -> F:
        where = _placeholder(f).where
        if not 0 <= ttl <= 3600:
            raise DeclarationError(f"{where}: ttl={ttl} must be 0-3600 seconds")
        sources = tuple(identity_sources)
        for src in sources:
            if src.split(":", 1)[0] not in ("header", "query") or ":" not in src:
                raise DeclarationError(f'{where}: identity source {src!r}: use "header:NAME" or "query:NAME"')
        spec = FunctionSpec(
            name=name or f.__name__,
            func=f,
            kind="authorizer",
            reads=_resources(where, "reads", reads),
            authorizer_ttl=ttl,
            identity_sources=sources,
            memory=memory,
            timeout=timeout,
        )
        _register(f, spec)
        return f

    return _deferring(decorate)(func) if func is not None else _deferring(decorate)
