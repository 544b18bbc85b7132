"""Consumers: `@lk.consume`, and how Lambda reads the queue or stream a consumer (or a storage-first
route) is fed by: `lk.sqs(...)`, `lk.kinesis(...)`.

Apart from `.functions` (which declares HTTP routes, `Route` included) so that an HTTP function's
cold start loads none of this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from lambdakit.core import DeclarationError, Record, where_of

from .functions import FunctionSpec, _deferring, _register, _resources

if TYPE_CHECKING:
    from .functions import F
    from .resources import Queue, Resource, Stream


class SqsOptions(Record):
    """How Lambda polls an SQS queue (`lk.sqs(...)`)."""

    __match_args__ = ("batch_size", "window", "max_concurrency", "max_receive", "fifo", "group_by", "kind")
    __slots__ = __match_args__
    batch_size: int
    window: int
    max_concurrency: int | None
    max_receive: int
    fifo: bool
    group_by: str | None
    kind: str

    def __init__(
        self,
        batch_size: int = 10,
        window: int = 0,
        max_concurrency: int | None = None,
        max_receive: int = 5,
        fifo: bool = False,
        group_by: str | None = None,
        kind: str = "sqs",
    ) -> None:
        self._set("batch_size", batch_size)
        self._set("window", window)
        self._set("max_concurrency", max_concurrency)
        self._set("max_receive", max_receive)
        self._set("fifo", fifo)
        self._set("group_by", group_by)
        self._set("kind", kind)

    def problem(self) -> str | None:
        """What AWS would refuse in these options (checked by the decorator, so the import goes on)."""
        for name in ("batch_size", "window", "max_receive"):
            if not _whole(getattr(self, name)):
                return f"lk.sqs({name}={getattr(self, name)!r}): give a whole number"
        limit = 10 if self.fifo or self.window == 0 else 10000
        if not 1 <= self.batch_size <= limit:
            return f"lk.sqs(batch_size={self.batch_size}): must be 1-{limit}" + (
                "" if limit == 10000 else " (above 10 needs window > 0, and FIFO allows 10 at most)"
            )
        if not 0 <= self.window <= 300:
            return f"lk.sqs(window={self.window}): the batching window is 0-300 seconds"
        concurrency = self.max_concurrency
        if concurrency is not None and (not _whole(concurrency) or not 2 <= concurrency <= 1000):
            return f"lk.sqs(max_concurrency={self.max_concurrency}): AWS allows 2-1000"
        if not 1 <= self.max_receive <= 1000:
            return f"lk.sqs(max_receive={self.max_receive}): must be 1-1000"
        if self.group_by is not None and not self.fifo:
            return "lk.sqs(group_by=...) needs fifo=True: only FIFO queues have message groups"
        return None


class KinesisOptions(Record):
    """How Lambda reads a Kinesis stream (`lk.kinesis(...)`)."""

    __match_args__ = ("partition_key", "batch_size", "window", "retries", "max_age", "starting_position", "kind")
    __slots__ = __match_args__
    partition_key: str | None
    batch_size: int
    window: int
    retries: int
    max_age: int
    starting_position: str
    kind: str

    def __init__(
        self,
        partition_key: str | None = None,
        batch_size: int = 100,
        window: int = 0,
        retries: int = 3,
        max_age: int = 3600,
        starting_position: str = "TRIM_HORIZON",
        kind: str = "kinesis",
    ) -> None:
        self._set("partition_key", partition_key)
        self._set("batch_size", batch_size)
        self._set("window", window)
        self._set("retries", retries)
        self._set("max_age", max_age)
        self._set("starting_position", starting_position)
        self._set("kind", kind)

    def problem(self) -> str | None:
        """What AWS would refuse in these options (checked by the decorator, so the import goes on)."""
        for name in ("batch_size", "window", "retries", "max_age"):
            if not _whole(getattr(self, name)):
                return f"lk.kinesis({name}={getattr(self, name)!r}): give a whole number"
        if not 1 <= self.batch_size <= 10000:
            return f"lk.kinesis(batch_size={self.batch_size}): must be 1-10000"
        if not 0 <= self.window <= 300:
            return f"lk.kinesis(window={self.window}): the batching window is 0-300 seconds"
        if not -1 <= self.retries <= 10000:
            return f"lk.kinesis(retries={self.retries}): must be -1 (forever) to 10000"
        if not (self.max_age == -1 or 60 <= self.max_age <= 604800):
            return f"lk.kinesis(max_age={self.max_age}): must be -1 or 60-604800 seconds"
        if self.starting_position not in ("LATEST", "TRIM_HORIZON"):
            return "lk.kinesis(starting_position=...): LATEST or TRIM_HORIZON"
        return None


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def sqs(
    batch_size: int = 10,
    window: int = 0,
    max_concurrency: int | None = None,
    max_receive: int = 5,
    fifo: bool = False,
    group_by: str | None = None,
) -> SqsOptions:
    return SqsOptions(batch_size, window, max_concurrency, max_receive, fifo, group_by)


def kinesis(
    partition_key: str | None = None,
    batch_size: int = 100,
    window: int = 0,
    retries: int = 3,
    max_age: int = 3600,
    starting_position: str = "TRIM_HORIZON",
) -> KinesisOptions:
    return KinesisOptions(partition_key, batch_size, window, retries, max_age, starting_position)


ConsumerOptions = SqsOptions | KinesisOptions


def consume(
    source: Queue | Stream,
    *,
    reads: Iterable[Resource] = (),
    writes: Iterable[Resource] = (),
    idempotent: bool = False,
    name: str | None = None,
    memory: int | None = None,
    timeout: int | None = None,
    **options: Any,
) -> Callable[[F], F]:
    """Declare a consumer of a queue or stream that other functions feed; one record per call."""

    from .resources import Queue, Stream

    def decorate(func: F) -> F:
        where = where_of(func)
        opts: ConsumerOptions
        allowed = {
            Queue: ("batch_size", "window", "max_concurrency", "max_receive"),
            Stream: ("batch_size", "window", "retries", "max_age", "starting_position"),
        }.get(type(source), ())
        unknown = sorted(set(options) - set(allowed))
        if "group_by" in unknown:
            raise DeclarationError(
                f"{where}: group_by= is for storage-first routes; a producer sets the group "
                "when it sends: `queue.send(message, group=...)`"
            )
        if "partition_key" in unknown:
            raise DeclarationError(
                f"{where}: partition_key= is for storage-first routes; a producer sets it when "
                "it puts: `stream.put(record, partition_key=...)`"
            )
        if unknown and allowed:
            kind = "queue" if isinstance(source, Queue) else "stream"
            raise DeclarationError(
                f"{where}: lk.consume of a {kind} takes {', '.join(allowed)}; not {', '.join(unknown)}"
                + (" (FIFO is the queue's own: lk.Queue(..., fifo=True))" if "fifo" in unknown else "")
            )
        try:
            if isinstance(source, Queue):
                opts = sqs(**{"fifo": source.fifo, "max_receive": source.max_receive, **options})
            elif isinstance(source, Stream):
                opts = kinesis(**options)
            else:
                raise DeclarationError(f"{where}: lk.consume takes an lk.Queue or lk.Stream, not {source!r}")
        except TypeError as exc:
            raise DeclarationError(f"{where}: lk.consume: {exc}") from None
        if opts.problem():
            raise DeclarationError(f"{where}: lk.consume: {opts.problem()}")
        if isinstance(source, Queue) and isinstance(opts, SqsOptions):
            if opts.fifo != source.fifo:
                raise DeclarationError(f"{where}: fifo= must match the queue's own fifo={source.fifo}")
            # The redrive belongs to the queue (one consumer per queue); the plan takes the consumer's setting.
            if opts.max_receive != source.max_receive and source.max_receive != Queue.DEFAULT_MAX_RECEIVE:
                raise DeclarationError(
                    f"{where}: max_receive={opts.max_receive} contradicts lk.Queue({source.name!r}, "
                    f"max_receive={source.max_receive}); set it in one place"
                )
        spec = FunctionSpec(
            name=name or func.__name__,
            func=func,
            kind="consumer",
            source=source,
            options=opts,
            reads=_resources(where, "reads", reads),
            writes=_resources(where, "writes", writes),
            idempotent=idempotent,
            memory=memory,
            timeout=timeout,
        )
        _register(func, spec)
        return func

    return _deferring(decorate)


def storage_options(where: str, trigger: object) -> ConsumerOptions:
    """A storage-first route's `trigger=` as its options."""
    if trigger == "sqs":
        return sqs()
    if trigger == "kinesis":
        return kinesis()
    if isinstance(trigger, (SqsOptions, KinesisOptions)):
        return trigger
    raise DeclarationError(
        f'{where}: trigger={trigger!r}; use "http", "sqs", "kinesis", lk.sqs(...) or lk.kinesis(...)'
    )


def storage_source(name: str, storage: ConsumerOptions) -> Queue | Stream:
    """The queue or stream a storage-first route writes to, named after its function."""
    from .resources import Queue, Stream

    if isinstance(storage, SqsOptions):
        return Queue(name, fifo=storage.fifo, max_receive=storage.max_receive)
    return Stream(name)
