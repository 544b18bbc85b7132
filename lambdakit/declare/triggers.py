"""What starts a function: an HTTP route, or a queue or stream it consumes."""

from __future__ import annotations

from lambdakit.core.paths import param_names
from lambdakit.core.record import Record


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

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class Route(Record):
    """An HTTP route. `storage` is set for storage-first routes (API Gateway -> SQS/Kinesis)."""

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
