"""The test client: requests and records through the same gateway, invoker and pollers as `lambdakit local`.

`Client("shop")` runs the app in-process: a request goes through routing,
auth, validation, the proxy event, the function's handler (held to its
derived IAM policy) and back, exactly as with the local server, minus the
socket. Records sent to queues and streams reach their consumers on `drain()`.
AWS's limits hold here too (a body over 10 MB, an event or an answer over
Lambda's 6 MB), as the shared gateway enforces them.
"""

from __future__ import annotations

import json as _json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from lambdakit.declare.app import App
from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.resources import Queue, Resource, Stream
from lambdakit.declare.service import Service
from lambdakit.local.backend import Backend
from lambdakit.local.consumers import Drained
from lambdakit.local.emulator import Emulator
from lambdakit.local.gateway import HttpRequest, answer
from lambdakit.local.invoker import Invocation
from lambdakit.local.pools import DEMO_PASSWORD, DEMO_USER

_NO_BODY = object()
Query = Mapping[str, Any] | Iterable[tuple[str, Any]]


@dataclass
class Result:
    """A response: `status`, `headers` (case-insensitive lookups with `header()`), `body` bytes, `json`."""

    status: int
    headers: dict[str, str]
    body: bytes
    #: every `Set-Cookie` line, in order (`headers` keeps one value per name)
    set_cookies: tuple[str, ...] = ()

    @property
    def json(self) -> Any:
        return _json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lower), None)

    def __repr__(self) -> str:
        return f"Result({self.status}, {self.text[:200]!r})"


def app_of(target: str | ModuleType | App | Service) -> App:
    """The app a package name, a module, a discovered `App` or an `lk.Service` object stands for."""
    from lambdakit.discovery import discover

    if isinstance(target, App):
        return target
    if isinstance(target, str):
        return discover(target)
    if isinstance(target, ModuleType):
        return discover(target.__name__)
    if isinstance(target, Service):
        for name, module in list(sys.modules.items()):
            if isinstance(module, ModuleType) and any(v is target for v in vars(module).values()):
                is_package = hasattr(module, "__path__")
                return discover(name if is_package or not module.__package__ else module.__package__)
        raise ValueError(f"{target!r} is not declared in any imported module")
    raise TypeError(f"Client() takes a package name, a module, an lk.Service or an App, not {target!r}")


class Client:
    """`Client(service_or_package)`: call the app's routes, feed its queues and streams, drain its consumers.

    Inside a test using the `lk_aws` fixture the client shares its moto backend;
    otherwise it starts its own (use it as a context manager, or call `close()`).
    """

    def __init__(self, target: str | ModuleType | App | Service, *, backend: Backend | None = None) -> None:
        from lambdakit.testing.imported import active_backend

        self.app = app_of(target)
        self._owned = backend is None and active_backend() is None
        self.backend = backend or active_backend() or Backend().start()
        # Failed SQS messages come back at once: drain() retries them up to the DLQ instead of waiting.
        self.emulator = Emulator(self.app, self.backend, retry_after=0)

    # -- HTTP -------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _NO_BODY,
        body: bytes | str | None = None,
        query: Query | None = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        api_key: str | None = None,
        sign: bool = False,
    ) -> Result:
        """One request through the emulated API Gateway. `json=` sends a JSON body, `token=` an Authorization
        header, `api_key=` an x-api-key header, `sign=True` a SigV4 signature made with the local credentials."""
        parts = urlsplit(path)
        pairs = [(k, str(v)) for k, v in _pairs(query)] if query is not None else []
        if parts.query:
            from urllib.parse import parse_qsl

            pairs = parse_qsl(parts.query, keep_blank_values=True) + pairs
        sent: dict[str, str] = {"Host": "localhost", "User-Agent": "lambdakit-testclient"}
        data = b""
        if json is not _NO_BODY:
            data = _json.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        elif body is not None:
            data = body.encode() if isinstance(body, str) else body
        if token is not None:
            sent["Authorization"] = token
        if api_key is not None:
            sent["x-api-key"] = api_key
        sent.update(headers or {})
        raw_path, raw_query = quote(parts.path, safe="/~"), urlencode(pairs)
        if sign:
            sent.update(self._signature(method, raw_path, raw_query, sent, data))
        got = answer(  # as the local server answers: whatever the request, a response in the error shape
            self.emulator.handle,
            HttpRequest(
                method=method.upper(),
                path=parts.path,
                query=pairs,
                headers=list(sent.items()),
                body=data,
                raw_path=raw_path,
                raw_query=raw_query,
            ),
        )
        cookies = tuple(v for k, v in got.headers if k.lower() == "set-cookie")
        return Result(got.status, dict(got.headers), got.body, cookies)

    def get(self, path: str, **kwargs: Any) -> Result:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Result:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Result:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Result:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Result:
        return self.request("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Result:
        """A CORS preflight, as a browser sends it: pass `headers={"Origin": ..., ...}`."""
        return self.request("OPTIONS", path, **kwargs)

    def _signature(
        self, method: str, raw_path: str, raw_query: str, headers: Mapping[str, str], data: bytes
    ) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        key, secret = next(iter(self.backend.credentials.items()))
        request = AWSRequest(
            method=method.upper(),
            url=f"http://localhost{raw_path}" + (f"?{raw_query}" if raw_query else ""),
            headers=dict(headers),
            data=data,
        )
        SigV4Auth(Credentials(key, secret), "execute-api", self.backend.region).add_auth(request)
        return {k: v for k, v in request.headers.items() if k in ("Authorization", "X-Amz-Date")}

    # -- auth --------------------------------------------------------------------
    def token(
        self, user: str = DEMO_USER, *, password: str | None = None, pool: str | None = None, scopes: Iterable[str] = ()
    ) -> str:
        """The Authorization value for a Cognito user (created on first use): an ID token, or an access
        token carrying `scopes` for routes that require them."""
        tokens = self.emulator.token(user, password or DEMO_PASSWORD, pool, tuple(scopes), create=True)
        return str(tokens["authorization"])

    @property
    def api_key(self) -> str:
        """An API key the emulated gateway accepts on `api_key=True` routes."""
        return next(iter(self.emulator.gateway.api_keys))

    # -- queues, streams, consumers ---------------------------------------------------
    def send(
        self,
        target: Queue | Stream | FunctionSpec | Any,
        body: Any,
        *,
        partition_key: str | None = None,
        group: str | None = None,
    ) -> str:
        """Put a record where a consumer reads it (a queue, a stream, or a storage-first route's source);
        returns the message id or sequence number. Models and JSON-able values are sent as JSON."""
        res = self._resource(target)
        text = (
            body
            if isinstance(body, str)
            else body.model_dump_json()
            if hasattr(body, "model_dump_json")
            else _json.dumps(body)
        )
        if isinstance(res, Queue):
            kwargs: dict[str, Any] = {"QueueUrl": self.backend.queue_url(res), "MessageBody": text}
            if res.fifo:
                kwargs["MessageGroupId"] = group or "default"
            return str(self.backend.client("sqs").send_message(**kwargs)["MessageId"])
        import uuid

        out = self.backend.client("kinesis").put_record(
            StreamName=res.name, Data=text.encode(), PartitionKey=partition_key or uuid.uuid4().hex
        )
        return str(out["SequenceNumber"])

    def _resource(self, target: Any) -> Queue | Stream:
        spec = getattr(target, "__lambdakit__", target)
        if isinstance(spec, FunctionSpec) and spec.source is not None:
            return spec.source
        if isinstance(target, str):
            target = self.backend.resource_named(target)
        if isinstance(target, (Queue, Stream)):
            return target
        kind = type(target).__name__ if isinstance(target, Resource) else repr(target)
        raise TypeError(f"send() takes an lk.Queue, an lk.Stream, a consumer or its name, not {kind}")

    def drain(self, max_rounds: int = 1000) -> Drained:
        """Run consumers until no queue or stream has anything to deliver (failures retry up to the DLQ)."""
        return self.emulator.consumers.drain(max_rounds)

    def dead_letters(self, queue: Queue | FunctionSpec | Any) -> list[Any]:
        """The bodies (JSON-decoded when they parse) waiting in a queue's dead-letter queue."""
        res = self._resource(queue)
        if not isinstance(res, Queue):
            raise TypeError(f"{res!r} is a stream; streams have no dead-letter queue")
        sqs = self.backend.client("sqs")
        got = sqs.receive_message(QueueUrl=self.backend.dlq_url(res), MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        out = []
        for message in got:
            try:
                out.append(_json.loads(message["Body"]))
            except ValueError:
                out.append(message["Body"])
        return out

    # -- what ran ---------------------------------------------------------------------
    @property
    def invocations(self) -> list[Invocation]:
        """Every invocation so far, oldest first: function, trigger, status, ms, IAM denials."""
        return list(self.emulator.invoker.history)

    @property
    def denials(self) -> list[str]:
        """The messages of every AWS call a function made that its policy refused."""
        return [message for inv in self.emulator.invoker.history for message in inv.denied]

    def close(self) -> None:
        for running in self.emulator.everything():
            running.consumers.stop()
        self.emulator.close()
        if self._owned:
            self.backend.stop()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pairs(query: Query) -> list[tuple[str, Any]]:
    items = query.items() if isinstance(query, Mapping) else query
    out: list[tuple[str, Any]] = []
    for key, value in items:
        if isinstance(value, (list, tuple)):
            out += [(key, v) for v in value]
        else:
            out.append((key, value))
    return out
