"""The app's event source mappings: one poller per consumer (`local.sqs_poller`, `local.kinesis_poller`), fed
through the invoker.

The pollers do what Lambda does between a queue or stream and a function
(event shapes, partial batch responses, visibility, retries, the DLQ); this
module only wires them to the app's resources and to `Invoker.call`, so each
delivery is a logged, policy-checked invocation. The server runs them on
threads; the test client drains them on demand.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.triggers import SqsOptions
from lambdakit.derive.plan import FunctionPlan, Plan
from lambdakit.local.backend import Backend
from lambdakit.local.invoker import Invoker
from lambdakit.local.kinesis_poller import KinesisPoller
from lambdakit.local.polling import Handler, Stats
from lambdakit.local.sqs_poller import SqsPoller


@dataclass
class Drained:
    """What one `drain` delivered: per function, the records that succeeded and failed (redeliveries included)."""

    succeeded: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    @property
    def delivered(self) -> int:
        return sum(self.succeeded.values()) + sum(self.failed.values())


class Consumers:
    def __init__(self, plan: Plan, backend: Backend, invoker: Invoker, retry_after: int | None = None) -> None:
        """`retry_after`: seconds before a failed SQS message is visible again (None: the queue's own timeout)."""
        self.pollers: list[tuple[FunctionSpec, SqsPoller | KinesisPoller]] = [
            (fn.spec, poller_for(fn, invoker.as_handler(fn.spec, fn.trigger.kind), backend, retry_after))
            for fn in plan.functions
            if fn.trigger is not None
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def drain(self, max_rounds: int = 1000) -> Drained:
        """Poll every consumer until none has anything visible to deliver (what consumers send is delivered too)."""
        before = {spec.name: _copy(poller.stats) for spec, poller in self.pollers}
        for _ in range(max_rounds):
            if not sum(poller.poll() for _, poller in self.pollers):
                break
        out = Drained()
        for spec, poller in self.pollers:
            out.succeeded[spec.name] = poller.stats.succeeded - before[spec.name].succeeded
            out.failed[spec.name] = poller.stats.failed - before[spec.name].failed
        return out

    def start(self, idle: float = 0.2) -> None:
        """Poll in the background, one thread per consumer, as Lambda's pollers do."""
        for spec, poller in self.pollers:
            thread = threading.Thread(
                target=poller.run, args=(self._stop, idle), name=f"poller-{spec.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()


def poller_for(
    fn: FunctionPlan, handler: Handler, backend: Backend, retry_after: int | None = None
) -> SqsPoller | KinesisPoller:
    """The poller that feeds one consumer (or storage-first route) from its queue or stream, as Lambda's event
    source mapping does; `handler` is what it invokes (the invoker's, or a test's stand-in for Lambda)."""
    trigger = fn.trigger
    if trigger is None:
        raise ValueError(f"{fn.name} consumes no queue or stream")
    sqs, kinesis = backend.client("sqs"), backend.client("kinesis")
    options = trigger.options
    if isinstance(options, SqsOptions):
        return SqsPoller(
            handler,
            sqs,
            backend.queue_url_named(trigger.source.local_name),
            batch_size=options.batch_size,
            function_name=fn.name,
            timeout=fn.timeout,
            retry_after=retry_after,
            account=backend.account,
        )
    failures = backend.queue_url_named(fn.failure_queue.local_name) if fn.failure_queue else None
    # TRIM_HORIZON whatever the option: the local mapping exists from the start, so it skips nothing
    return KinesisPoller(
        handler,
        kinesis,
        trigger.source.local_name,
        sqs=sqs,
        on_failure_url=failures,
        batch_size=options.batch_size,
        retries=options.retries,
        max_age=options.max_age,
        starting_position="TRIM_HORIZON",
        function_name=fn.name,
        timeout=fn.timeout,
        account=backend.account,
    )


def _copy(stats: Stats) -> Stats:
    return Stats(**vars(stats))
