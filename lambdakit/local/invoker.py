"""Run one function the way Lambda runs it: its handler (built once), its environment, its IAM policy.

Every local invocation, whatever started it (a request, a poller, an
authorizer check), goes through `Invoker.call`, which also times it and
logs one line: function, trigger, status, milliseconds. Invocations run one
at a time: the environment a function sees is process-wide, and moto is
not made for concurrent writers. Each recorded invocation also keeps the AWS
calls it made (as the IAM check judged them) and a process-wide sequence
number, so the local console can ask for what ran since it last looked.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive.plan import Plan
from lambdakit.local import iam_guard
from lambdakit.local.backend import Backend
from lambdakit.local.iam_guard import Call, Policy
from lambdakit.local.lambda_context import LocalContext

Handler = Callable[[dict[str, Any], Any], Any]
log = logging.getLogger("lambdakit.local")
#: the AWS calls kept per invocation (a function looping over thousands of writes keeps its first ones)
MAX_CALLS = 100


@dataclass(frozen=True)
class Invocation:
    """One line of the local log: what ran, what started it, how it ended, how long it took."""

    function: str
    trigger: str
    status: str
    ms: float
    request_id: str
    denied: tuple[str, ...] = ()  # the IAM refusals of AWS calls the function made
    calls: tuple[Call, ...] = ()  # the AWS calls it made, allowed and refused, in order (at most MAX_CALLS)
    dropped_calls: int = 0  # the calls made past MAX_CALLS, counted only
    seq: int = 0  # set when recorded: its place among every invocation of this process
    at: float = 0.0  # set when recorded: when it ended (epoch seconds)

    def __str__(self) -> str:
        line = f"{self.function:<22} {self.trigger:<10} {self.status:<12} {self.ms:8.1f} ms"
        return "\n".join([line, *(f"  IAM denied: {message}" for message in self.denied)])


#: held while an invocation is numbered and kept, so a reader never sees number N+1 before N
_recording = threading.Lock()
_last = 0  # the number of the latest invocation recorded in this process


def recorded_since(invokers: Iterable[Invoker], since: int = 0) -> tuple[int, list[Invocation]]:
    """(the latest number recorded in this process, the invocations numbered above `since` in `invokers`,
    oldest first). One consistent view: a cursor taken from it skips nothing recorded later."""
    with _recording:
        found = [inv for invoker in invokers for inv in invoker.history if inv.seq > since]
        last = _last
    return last, sorted(found, key=lambda inv: inv.seq)


class FunctionTimedOut(Exception):
    """The function ran past its `timeout=`; Lambda would have stopped it and reported an error."""


class Invoker:
    def __init__(self, plan: Plan, backend: Backend, history: int = 1000) -> None:
        self.plan = plan
        self.backend = backend
        self.lock = threading.RLock()
        self.history: deque[Invocation] = deque(maxlen=history)
        self._handlers: dict[int, Handler] = {}
        self._policies: dict[int, Policy] = {}
        self._env: dict[int, dict[str, str]] = {}

    # -- what a function is given ---------------------------------------------
    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """The variables the template gives this function, their references resolved to local names."""
        found = self._env.get(id(spec))
        if found is None:
            found = {}
            for name, value in self.plan.of(spec).environment:
                resolved = self.backend.refs.get(value["Ref"]) if isinstance(value, dict) else value
                if resolved is not None:
                    found[name] = resolved
            self._env[id(spec)] = found
        return found

    def policy(self, spec: FunctionSpec) -> Policy:
        found = self._policies.get(id(spec))
        if found is None:
            from lambdakit.local.policies import policy_for

            found = self._policies[id(spec)] = policy_for(self.plan.of(spec), self.backend)
        return found

    def handler(self, spec: FunctionSpec) -> Handler:
        """The function's Lambda handler, built once (its cold start) inside its own environment."""
        found = self._handlers.get(id(spec))
        if found is None:
            from lambdakit.runtime.loader import handler_for

            with self.lock, self._environ(spec):
                found = self._handlers[id(spec)] = handler_for(spec)
        return found

    @contextmanager
    def _environ(self, spec: FunctionSpec) -> Iterator[None]:
        saved = {name: os.environ.get(name) for name in self.environment(spec)}
        os.environ.update(self.environment(spec))
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    # -- running it -------------------------------------------------------------
    def call(
        self,
        spec: FunctionSpec,
        event: dict[str, Any],
        trigger: str,
        context: Any = None,
        request_id: str | None = None,
    ) -> Any:
        """Invoke `spec` with `event`; its AWS calls are held to its policy. Raises what the handler raises."""
        handler = self.handler(spec)
        fn = self.plan.of(spec)
        if context is None:
            context = LocalContext(
                spec.name,
                fn.timeout,
                fn.memory,
                f"arn:aws:lambda:{self.backend.region}:{self.backend.account}:function:{spec.name}",
                log_group_name=fn.log_group_name,
            )
        rid = str(request_id or getattr(context, "aws_request_id", ""))
        status = "error"
        denials: list[str] = []
        calls: list[Call] = []
        start = time.perf_counter()
        try:
            with self.lock, self._environ(spec), iam_guard.acting_as(self.policy(spec), denials, calls):
                result = handler(event, context)
            elapsed = time.perf_counter() - start
            if elapsed > fn.timeout:
                status = "timeout"
                raise FunctionTimedOut(
                    f"{spec.name} ran {elapsed:.1f} s, past its timeout of {fn.timeout} s; "
                    "in Lambda it would have been stopped (raise timeout= or do less per call)"
                )
            status = _status(trigger, event, result)
            return result
        except FunctionTimedOut:
            raise
        except Exception as exc:
            status = (
                "Unauthorized"
                if trigger == "authorizer" and str(exc) == "Unauthorized"
                else f"error:{type(exc).__name__}"
            )
            raise
        finally:
            self.record(
                Invocation(
                    spec.name,
                    trigger,
                    status,
                    (time.perf_counter() - start) * 1000,
                    rid,
                    tuple(denials),
                    calls=tuple(calls[:MAX_CALLS]),
                    dropped_calls=max(0, len(calls) - MAX_CALLS),
                )
            )

    def as_handler(self, spec: FunctionSpec, trigger: str) -> Handler:
        """`call` as a plain `(event, context)` handler, for the pollers."""

        def handler(event: dict[str, Any], context: Any) -> Any:
            return self.call(spec, event, trigger, context)

        return handler

    def record(self, invocation: Invocation) -> None:
        """Keep the invocation (numbered, timed) and log its line."""
        global _last
        with _recording:
            _last += 1
            invocation = replace(invocation, seq=_last, at=time.time())
            self.history.append(invocation)
        (log.warning if invocation.denied else log.info)("%s", invocation)


def _status(trigger: str, event: dict[str, Any], result: Any) -> str:
    if trigger == "http" and isinstance(result, dict):
        return str(result.get("statusCode", "?"))
    if trigger in ("sqs", "kinesis"):
        total = len(event.get("Records") or [])
        failed = len((result or {}).get("batchItemFailures") or []) if isinstance(result, dict) else 0
        return f"{total - failed}/{total} ok"
    if trigger == "authorizer" and isinstance(result, dict):
        statements = (result.get("policyDocument") or {}).get("Statement") or [{}]
        first = statements[0] if isinstance(statements, list) else statements
        return str(first.get("Effect", "?"))
    return "ok"
