"""What every emulated event source mapping shares: invoking with a context, counting, the partial batch answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdakit.local.lambda_context import LocalContext

Handler = Callable[[dict[str, Any], Any], Any]

ACCOUNT = "123456789012"  # moto's default account


@dataclass
class Stats:
    """What a poller did; `failed` counts record failures, redeliveries included."""

    invocations: int = 0
    errors: int = 0  # invocations that raised or answered badly: the whole batch failed
    delivered: int = 0  # records handed to the function, redeliveries included
    succeeded: int = 0
    failed: int = 0
    discarded: int = 0  # Kinesis: records given up on and described in the on-failure queue


def failed_ids(response: Any, ids: list[str]) -> set[str] | None:
    """The ids a partial batch response names; None when Lambda would count the whole batch as failed."""
    if response is None or not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    named: set[str] = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or not ident or ident not in ids:
            return None  # an empty, null or unknown identifier fails the whole batch
        named.add(ident)
    return named


class Poller:
    def __init__(self, handler: Handler, function_name: str, timeout: int, region: str, account: str) -> None:
        self.handler = handler
        self.function_name = function_name
        self.timeout = timeout
        self.region = region
        self.account = account
        self.stats = Stats()
        self._lock = threading.Lock()

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    def _invoke(self, event: dict[str, Any]) -> tuple[bool, Any]:
        """(True, response), or (False, the exception): a raised error fails the whole batch, as in Lambda."""
        context = LocalContext(self.function_name, self.timeout, invoked_function_arn=self.function_arn)
        self.stats.invocations += 1
        self.stats.delivered += len(event["Records"])
        try:
            return True, self.handler(event, context)
        except Exception as exc:
            self.stats.errors += 1
            return False, exc

    def poll(self) -> int:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def drain(self, max_polls: int = 100_000) -> Stats:
        """Poll until there is nothing left to deliver (or `max_polls` is spent); returns the totals."""
        for _ in range(max_polls):
            if not self.poll():
                break
        return self.stats

    def run(self, stop: threading.Event, idle: float = 0.2) -> None:
        """Poll until `stop` is set, resting `idle` seconds whenever there was nothing to do (server thread)."""
        while not stop.is_set():
            try:
                busy = self.poll()
            except Exception:  # a poller thread must outlive a backend hiccup; the next poll retries
                busy = 0
            if not busy:
                stop.wait(idle)
