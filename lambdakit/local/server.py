"""`lambdakit local`: the emulated app behind werkzeug's development server, with auto-reload.

werkzeug does the HTTP; this module only adapts its `Request`/`Response` to
the gateway's and routes the local paths under `/_lambdakit/`: a token
endpoint for Cognito users, a health check, and the console (its page and
files, and its JSON endpoints under `/_lambdakit/api/`, in
`lambdakit.local.console`). With the reloader, werkzeug
runs the server in a child process and restarts it when a loaded module (or
any file of the package, or the seed file) changes, or a file of the package
is added or deleted: the in-memory AWS state starts again from the seed.

Every answer, whatever the request, is JSON in the framework's error shape
with a request id when it is an error: werkzeug's own refusals of malformed
requests (`_QuietHandler.send_error`: 400, 414, 431) and an unexpected
exception included (a 500 `internal_error`, logged as one JSON line).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler, is_running_from_reloader, run_simple
from werkzeug.wrappers import Request, Response

from lambdakit.declare.auth import IAM, Cognito
from lambdakit.declare.functions import FunctionSpec
from lambdakit.errors import error_body
from lambdakit.local.backend import Backend
from lambdakit.local.emulator import Emulator
from lambdakit.local.gateway import MAX_REQUEST_BYTES, TOO_LARGE, HttpRequest, answer, internal_error, log_failure
from lambdakit.local.pools import DEMO_PASSWORD, DEMO_USER
from lambdakit.local.seed import SeedError, load_file

if TYPE_CHECKING:
    from lambdakit.local.console.api import ConsoleApi

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
LOCAL_PREFIX = "/_lambdakit"
TOKEN_PATH = "/_lambdakit/token"
HEALTH_PATH = "/_lambdakit/health"
CONSOLE_API = "/_lambdakit/api/"


def wsgi(emulator: Emulator) -> WSGIApp:
    """The WSGI application: local endpoints first, everything else through the gateway. It never raises:
    an unexpected exception is a 500 in the error shape, logged as one line."""
    from lambdakit.local.console.api import ConsoleApi

    console = ConsoleApi(emulator)

    def respond(request: Request) -> Response:
        signin = emulator.signin is not None and emulator.signin.serves(request.path)  # the site's sign-in
        if not signin and (request.path == LOCAL_PREFIX or request.path.startswith(LOCAL_PREFIX + "/")):
            return _local(emulator, console, request, str(uuid.uuid4()))
        try:
            body = _body(request)
        except _Unreadable as exc:
            return _error(400, "bad_request", str(exc), str(uuid.uuid4()))
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
        got = answer(
            emulator.handle,
            HttpRequest(
                method=request.method,
                path=request.path,
                query=list(request.args.items(multi=True)),
                headers=list(request.headers.items()),
                body=body,
                source_ip=request.remote_addr or "127.0.0.1",
                raw_path=raw_uri.split("?", 1)[0] or None,
                raw_query=request.query_string.decode("latin-1"),
            ),
        )
        return Response(got.body, got.status, headers=got.headers)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = respond(request)
        except Exception as exc:
            request_id = str(uuid.uuid4())
            log_failure(f"lambdakit local failed on {request.method} {request.path[:200]}", exc, request_id)
            failed = internal_error(request_id)
            response = Response(failed.body, failed.status, headers=failed.headers)
        return response(environ, start_response)

    return application


class _Unreadable(Exception):
    """The request's body could not be read (a malformed chunked encoding, a client gone midway)."""


def _body(request: Request) -> bytes:
    """The body, read up to one byte past API Gateway's limit: a longer one is refused (413) without being
    held in memory whole. werkzeug discards the rest of the request before it answers."""
    body = bytearray()
    # Into a buffer that cannot change size: werkzeug's DechunkedInput shrinks a bytearray when a chunk is cut
    # short, and `read()` then copies past its end (a chunk size larger than what follows crashed the process).
    buffer = memoryview(bytearray(1 << 16))
    stream: Any = request.stream  # io.RawIOBase, or a BytesIO: each has readinto
    try:
        while len(body) <= MAX_REQUEST_BYTES:
            got = stream.readinto(buffer)
            if not got:
                return bytes(body)
            body += buffer[:got]
        return bytes(body)
    except (HTTPException, OSError, ValueError) as exc:
        raise _Unreadable(f"the request body could not be read: {getattr(exc, 'description', None) or exc}") from None


def _error(status: int, code: str, message: str, request_id: str, local: bool = False) -> Response:
    """An error answer; the local endpoints' (`local`) carry their request id in the header only, their
    bodies being `{"error": ...}` as the console reads them."""
    return Response(
        json.dumps(error_body(code, message, request_id=None if local else request_id)),
        status,
        content_type="application/json",
        headers={"x-amzn-RequestId": request_id},
    )


def _local(emulator: Emulator, console: ConsoleApi, request: Request, request_id: str) -> Response:
    """`/_lambdakit/...`: the token and health endpoints, then the console. These paths never reach the app:
    the console's requests are not invocations, and nothing here is held to a function's policy."""
    from lambdakit.local import console as files

    path = request.path
    if path == TOKEN_PATH:
        return _token(emulator, request, request_id)
    if path == HEALTH_PATH:
        return Response('{"status": "ok"}', 200, content_type="application/json")
    if path.startswith(CONSOLE_API):
        status, body = console.handle(
            request.method, path[len(CONSOLE_API) :], request.args, request.headers.get("Origin"), request.host
        )
        return Response(
            json.dumps(body), status, content_type="application/json", headers={"Cache-Control": "no-store"}
        )
    if path == LOCAL_PREFIX:  # the console is at /_lambdakit/
        return Response("", 308, headers={"Location": LOCAL_PREFIX + "/"})
    found = files.asset(path[len(LOCAL_PREFIX) + 1 :] or "index.html")
    if found is None:
        message = f"no local endpoint {path}; the console is at {LOCAL_PREFIX}/"
        return _error(404, "not_found", message, request_id, local=True)
    if request.method not in ("GET", "HEAD"):
        message = f"{request.method} {path}: the console's files answer GET"
        return _error(405, "method_not_allowed", message, request_id, local=True)
    body, media = found
    return Response(body, 200, content_type=media, headers=files.HEADERS)


def _token(emulator: Emulator, request: Request, request_id: str) -> Response:
    """`POST /_lambdakit/token {"username", "password", "pool"?, "scopes"?}` -> Cognito's tokens (moto-signed)."""
    from botocore.exceptions import ClientError, ParamValidationError

    def error(status: int, code: str, message: str) -> Response:
        return _error(status, code, message, request_id, local=True)

    if request.method != "POST":
        return error(405, "method_not_allowed", f"POST {TOKEN_PATH} with a JSON body {{username, password}}")
    usage = 'send {"username": ..., "password": ...} (and "pool", "scopes" if needed), as JSON strings'
    try:
        raw = _body(request)
    except _Unreadable as exc:
        return error(400, "bad_request", str(exc))
    if len(raw) > MAX_REQUEST_BYTES:
        return error(413, "payload_too_large", TOO_LARGE)
    try:
        body = json.loads(raw or b"{}")
        username, password = body["username"], body["password"]
        pool, scopes = body.get("pool"), body.get("scopes") or []
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return error(400, "bad_request", usage)
    if not isinstance(scopes, list) or not all(
        _is_text(value) for value in (username, password, *scopes, *([] if pool is None else [pool]))
    ):
        return error(400, "bad_request", usage)
    try:
        tokens = emulator.token(username, password, pool, tuple(scopes))
    except KeyError as exc:
        return error(400, "bad_request", str(exc.args[0]))
    except ParamValidationError as exc:  # what Cognito's own validation refuses (an empty username)
        return error(400, "bad_request", " ".join(str(exc).split()))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            return error(401, "unauthorized", "Incorrect username or password.")
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) < 500:
            return error(400, "bad_request", exc.response.get("Error", {}).get("Message") or code)
        raise
    return Response(json.dumps(tokens), 200, content_type="application/json", headers={"x-amzn-RequestId": request_id})


def _is_text(value: object) -> bool:
    """A string Cognito can take (not a number, not a lone surrogate from a JSON escape)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _InFlight:
    """The requests this process is answering. A reload exits the process: first it waits for them, and holds
    back new ones (they are reset, unanswered, when the process exits, so a client can safely retry)."""

    def __init__(self) -> None:
        self.count = 0
        self.closing = False
        self.changed = threading.Condition()

    def __enter__(self) -> None:
        with self.changed:
            if self.closing:  # the restart comes: no answer rather than half of one
                self.changed.wait_for(lambda: False, timeout=10)
            self.count += 1

    def __exit__(self, *exc: object) -> None:
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def drain(self, timeout: float) -> None:
        with self.changed:
            self.closing = True
            self.changed.wait_for(lambda: self.count == 0, timeout)


_IN_FLIGHT = _InFlight()

#: the error codes of http.server's refusals, named as lambdakit.errors names them
_CODES = {413: "payload_too_large", 414: "uri_too_long", 431: "request_header_fields_too_large"}


class _QuietHandler(WSGIRequestHandler):
    """The invoker logs one line per invocation; werkzeug's access log would repeat it. HTTP/1.1 keeps
    connections open between requests, as API Gateway does."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def run_wsgi(self) -> None:
        with _IN_FLIGHT:
            super().run_wsgi()

    def handle_expect_100(self) -> bool:
        """werkzeug writes the `100 Continue` itself when it runs the app; http.server's would be a second one."""
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's refusals of a request it cannot parse (414 URI too long, 431 headers too large, 400
        bad request line or version), answered in the error shape rather than as an HTML page; one log line."""
        status = HTTPStatus.BAD_REQUEST if code == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED else HTTPStatus(code)
        request_id = str(uuid.uuid4())
        text = message or status.phrase
        if explain and explain not in text:
            text = f"{text}: {explain}"
        code_name = _CODES.get(status) or status.phrase.lower().replace(" ", "_").replace("-", "_")
        body = json.dumps(error_body(code_name, text[:1000], request_id=request_id)).encode()
        logging.getLogger("lambdakit.local").warning(
            "%s",
            json.dumps(
                {
                    "level": "WARNING",
                    "message": "refused a malformed request",
                    "status": int(status),
                    "reason": text[:200],
                    "request_id": request_id,
                }
            ),
        )
        if self.request_version in ("", "HTTP/0.9"):  # the request line did not parse: answer in HTTP/1.1
            self.request_version = "HTTP/1.1"
        self.close_connection = True
        self.send_response(status, status.phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        self._discard_input()

    def _discard_input(self) -> None:
        """Read what the client is still sending, for a moment: closing a socket with unread data resets the
        connection, and the client would lose the answer before reading it."""
        import selectors

        with contextlib.suppress(OSError), selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            for _ in range(200):  # at most ~200 MB, or 50 ms without data
                if not selector.select(timeout=0.05) or not self.connection.recv(1 << 20):
                    break

    def handle_one_request(self) -> None:
        """One request; an exception werkzeug would print as a traceback (before the app runs) is one line."""
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            raise
        except Exception as exc:
            request_id = str(uuid.uuid4())
            log_failure("lambdakit local failed reading a request", exc, request_id)
            self.close_connection = True
            if getattr(self, "environ", None) is not None:  # the app ran: werkzeug answered, or the client is gone
                return
            with contextlib.suppress(Exception):
                failed = internal_error(request_id)
                self.request_version = "HTTP/1.1"
                self.send_response(failed.status)
                for key, value in [*failed.headers, ("Content-Length", str(len(failed.body))), ("Connection", "close")]:
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(failed.body)


def _package_files(package: str) -> list[str]:
    """Every source file of the package, so the reloader restarts even after a failed import."""
    roots = _package_roots(package)
    files = [str(p) for root in roots for p in Path(root).rglob("*.py")]
    if files or roots:
        return files
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except Exception:
        return []
    return [spec.origin] if spec is not None and spec.origin else []


def _package_roots(package: str) -> list[str]:
    """The folders of the package (none for a plain module, or one not found)."""
    import importlib.util

    try:  # a dotted name imports its parents, which may be broken
        spec = importlib.util.find_spec(package)
    except Exception:
        return []
    return list(spec.submodule_search_locations or []) if spec is not None else []


def _reloader(package: str) -> str:
    """The reloader type for `run_simple`: werkzeug's stat reloader, which sees a file changed, plus the
    package's folders, so a file added to the package or deleted from it restarts the server too (a deleted
    broken module, a new module of routes). Registered in werkzeug's table of reloaders."""
    from werkzeug._reloader import StatReloaderLoop, reloader_loops

    class PackageReloader(StatReloaderLoop):
        name = "stat"  # werkzeug says " * Restarting with stat", as before

        def __enter__(self) -> PackageReloader:
            self.package_files = set(_package_files(package))
            super().__enter__()
            return self

        def run_step(self) -> None:
            super().run_step()
            now = set(_package_files(package))
            for name in sorted(now ^ self.package_files):
                self.trigger_reload(name)

        def trigger_reload(self, filename: str) -> None:
            _IN_FLIGHT.drain(timeout=5)  # the answers being written are not cut short by the restart
            super().trigger_reload(filename)

    reloader_loops["lambdakit"] = PackageReloader
    return "lambdakit"


def banner(emulator: Emulator, url: str) -> str:
    """What `lambdakit local` prints once serving: the routes, the consumers, how to authenticate."""
    app = emulator.app
    lines = [
        f"lambdakit local: service {app.service.name} ({app.package}) on {url}",
        f"  AWS in memory (moto), region {emulator.backend.region}, account {emulator.backend.account}",
        f"  console: {url}/_lambdakit/ (functions, invocations and their AWS calls, queues, dead letters, tables)",
        "",
    ]
    site = app.site
    prefix = ""
    if site is not None:  # through the site: the SPA at /, this API under api_path
        prefix = site.api_path or ""
        lines.append(f"  site {site.folder} at {url}/ (client-side routes get {site.index})")
        for path in sorted(app.mounted):
            lines.append(f"  {path}/...  -> service {app.mounted[path].service.name}")
        lines.append(f"  this API under {url}{prefix}" if prefix else "  this API: not on the site (api_path=None)")
        lines.append("")
    routes = sorted(emulator.gateway.routes, key=lambda r: (r.path, r.method))
    width = max((len(prefix + r.spec.route.path) + 2 for r in routes if r.spec.route is not None), default=0)
    for route in routes:
        spec = route.spec
        assert spec.route is not None
        target = f"-> {spec.source.kind} {spec.source.name}" if spec.storage_first and spec.source else ""
        path = prefix + spec.route.path
        lines.append(
            f"  {spec.route.method:<7}{path:<{width}}{spec.name:<22}{_auth(app.effective_auth(spec))}"
            f"{' +api key' if spec.route.api_key else ''} {target}".rstrip()
        )
    consumers = [s for s, _ in emulator.consumers.pollers]
    if consumers:
        lines.append("")
        lines += [f"  consumer {s.name} <- {s.source.kind} {s.source.name}" for s in consumers if s.source]
    pools = list(emulator.backend.pools.declared)
    if pools:
        pool_arg = f', "pool": "{pools[0]}"' if len(pools) > 1 else ""
        example = next(
            (
                r.spec.route
                for r in emulator.gateway.routes
                if isinstance(auth := app.effective_auth(r.spec), Cognito)
                and r.spec.route is not None
                and not auth.required_scopes
            ),
            None,
        )
        lines += [
            "",
            f"  Cognito ({', '.join(pools)}): user {DEMO_USER}, password {DEMO_PASSWORD}. Get a token:",
            f"    export TOKEN=$(curl -s -X POST {url}{TOKEN_PATH} "
            f'-d \'{{"username": "{DEMO_USER}", "password": "{DEMO_PASSWORD}"{pool_arg}}}\' '
            "| python3 -c 'import json, sys; print(json.load(sys.stdin)[\"authorization\"])')",
        ]
        if example is not None:
            lines.append(
                f'    curl -H "Authorization: $TOKEN" -X {example.method} {url}{prefix}{example.path}'
                + (
                    " -H 'Content-Type: application/json' -d '{...}'"
                    if example.method in ("POST", "PUT", "PATCH")
                    else ""
                )
            )
        if any(getattr(app.effective_auth(s), "required_scopes", ()) for s in app.functions if s.route):
            lines.append('    (routes that need scopes: add "scopes": ["..."] to the token request)')
    if any(s.route is not None and s.route.api_key for s in app.functions):
        lines += ["", f"  API key (x-api-key): {', '.join(emulator.gateway.api_keys)}"]
    if any(app.effective_auth(s) == IAM for s in app.functions if s.kind == "http"):
        key, secret = next(iter(emulator.backend.credentials.items()))
        lines += [
            "",
            f"  IAM routes: sign with SigV4 (service execute-api, region {emulator.backend.region}) "
            f"using AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret}",
        ]
    return "\n".join(lines)


def _auth(auth: Any) -> str:
    if isinstance(auth, Cognito):
        return f"cognito:{auth.name}" + (f" [{' '.join(auth.required_scopes)}]" if auth.required_scopes else "")
    if isinstance(auth, FunctionSpec):
        return f"authorizer:{auth.name}"
    if auth == IAM:
        return "iam"
    return "public"


def build(package: str, seed: str | None = None) -> Emulator:
    """Start moto, discover the package, create its resources, seed them, add the demo user."""
    from lambdakit.discovery import discover

    backend = Backend().start()
    app = discover(package)
    emulator = Emulator(app, backend)
    for name in backend.pools.declared:
        backend.pools.add_user(DEMO_USER, DEMO_PASSWORD, name)
    if seed:
        counts = load_file(backend, seed)
        logging.getLogger("lambdakit.local").info(
            "seeded from %s: %s", seed, ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "nothing"
        )
    emulator.warm()
    return emulator


def serve(
    package: str, host: str = "127.0.0.1", port: int = 3000, seed: str | None = None, reload: bool = True
) -> None:
    """Run the app until interrupted. With `reload`, this process only watches; a child process serves."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    for noisy in ("botocore", "boto3"):  # werkzeug stays: it says when it restarts (its access log is off)
        logging.getLogger(noisy).setLevel(logging.WARNING)
    url = f"http://{host}:{port}"
    extra = [seed] if seed else []
    reloader_type = _reloader(package) if reload else "stat"

    def run(application: WSGIApp, use_reloader: bool) -> None:
        """werkzeug's server as every mode uses it: threaded, JSON for its own refusals, watching the package."""
        run_simple(
            host,
            port,
            application,
            use_reloader=use_reloader,
            extra_files=extra + _package_files(package),
            reloader_type=reloader_type,
            threaded=True,
            request_handler=_QuietHandler,
        )

    if reload and not is_running_from_reloader():
        print(f"lambdakit local: watching {package} for changes; serving on {url}", file=sys.stderr, flush=True)
        run(_unused, True)
        return
    from lambdakit.discovery import BuildError

    try:
        emulator = build(package, seed)
    except (BuildError, SeedError) as exc:
        problems = exc.problems if isinstance(exc, BuildError) else [str(exc)]
        print(f"lambdakit local: {len(problems)} problem(s) in {package}:", file=sys.stderr)
        print("\n".join(f"  - {p}" for p in problems), file=sys.stderr, flush=True)
        if not reload:
            raise SystemExit(2) from None
        print("lambdakit local: fix them and save; the server restarts", file=sys.stderr, flush=True)
        run(_broken(problems), True)
        return
    for running in emulator.everything():
        running.consumers.start()
    print(banner(emulator, url), flush=True)
    try:
        run(wsgi(emulator), reload)
    finally:
        for running in emulator.everything():
            running.consumers.stop()
        emulator.close()
        emulator.backend.stop()


def _broken(problems: list[str]) -> WSGIApp:
    """While the package does not load, every request says why (the reloader retries on the next save)."""
    message = "the app does not load: " + "; ".join(problems)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = str(uuid.uuid4())
        body = json.dumps(error_body("internal_error", message, request_id=request_id)).encode()
        start_response(
            "500 Internal Server Error",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("x-amzn-RequestId", request_id),
            ],
        )
        return [body]

    return application


def _unused(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:  # pragma: no cover
    """The reloader's watcher process never serves; its child does."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]
