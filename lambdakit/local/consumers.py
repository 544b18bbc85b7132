"""The app's event source mappings: one poller (`lambdakit.local.poller`) per consumer, fed through the invoker.

The pollers do what Lambda does between a queue or stream and a function
(event shapes, partial batch responses, visibility, retries, the DLQ); this
module only wires them to the app's resources and to `Invoker.call`, so each
delivery is a logged, policy-checked invocation. The server runs them on
threads; the test client drains them on demand.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from lambdakit.declare.app import App
from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.resources import Queue, Stream
from lambdakit.declare.triggers import KinesisOptions, SqsOptions
from lambdakit.derive import iam
from lambdakit.local.backend import Backend
from lambdakit.local.invoker import Invoker
from lambdakit.local.poller import KinesisPoller, SqsPoller, Stats


@dataclass
class Drained:
    """What one `drain` delivered: per function, the records that succeeded and failed (redeliveries included)."""

    succeeded: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    @property
    def delivered(self) -> int:
        return sum(self.succeeded.values()) + sum(self.failed.values())


class Consumers:
    def __init__(self, app: App, backend: Backend, invoker: Invoker, retry_after: int | None = None) -> None:
        """`retry_after`: seconds before a failed SQS message is visible again (None: the queue's own timeout)."""
        self.pollers: list[tuple[FunctionSpec, SqsPoller | KinesisPoller]] = []
        sqs, kinesis = backend.client("sqs"), backend.client("kinesis")
        for spec in app.functions:
            source, options = spec.source, spec.options
            if spec.kind == "consumer" or spec.storage_first:
                poller: SqsPoller | KinesisPoller
                if isinstance(source, Queue) and isinstance(options, SqsOptions):
                    poller = SqsPoller(invoker.as_handler(spec, "sqs"), sqs, backend.queue_url(source),
                                       batch_size=options.batch_size, function_name=spec.name, timeout=spec.timeout,
                                       retry_after=retry_after, account=backend.account)
                elif isinstance(source, Stream) and isinstance(options, KinesisOptions):
                    poller = KinesisPoller(invoker.as_handler(spec, "kinesis"), kinesis, source.name, sqs=sqs,
                                           on_failure_url=backend.refs.get(iam.failure_queue_id(spec)),
                                           batch_size=options.batch_size, retries=options.retries,
                                           max_age=options.max_age, starting_position="TRIM_HORIZON",
                                           function_name=spec.name, timeout=spec.timeout, account=backend.account)
                else:
                    continue
                self.pollers.append((spec, poller))
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
            thread = threading.Thread(target=poller.run, args=(self._stop, idle), name=f"poller-{spec.name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()


def _copy(stats: Stats) -> Stats:
    return Stats(**vars(stats))
