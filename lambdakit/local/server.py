"""`lambdakit local`: the emulated app behind werkzeug's development server, with auto-reload.

werkzeug does the HTTP; this module only adapts its `Request`/`Response` to
the gateway's and routes the local paths under `/_lambdakit/`: a token
endpoint for Cognito users, a health check, and the console (its page and
files, and its JSON endpoints under `/_lambdakit/api/`, in
`lambdakit.local.console`). With the reloader, werkzeug
runs the server in a child process and restarts it when a loaded module (or
any file of the package, or the seed file) changes: the in-memory AWS state
starts again from the seed.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler, is_running_from_reloader, run_simple
from werkzeug.wrappers import Request, Response

from lambdakit.declare.auth import IAM, Cognito
from lambdakit.declare.functions import FunctionSpec
from lambdakit.errors import error_body
from lambdakit.local.backend import Backend
from lambdakit.local.emulator import Emulator
from lambdakit.local.gateway import HttpRequest
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
    """The WSGI application: local endpoints first, everything else through the gateway."""
    from lambdakit.local.console.api import ConsoleApi

    console = ConsoleApi(emulator)

    @Request.application
    def application(request: Request) -> Response:
        if request.path == LOCAL_PREFIX or request.path.startswith(LOCAL_PREFIX + "/"):
            return _local(emulator, console, request)
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
        answer = emulator.handle(
            HttpRequest(
                method=request.method,
                path=request.path,
                query=list(request.args.items(multi=True)),
                headers=list(request.headers.items()),
                body=request.get_data(),
                source_ip=request.remote_addr or "127.0.0.1",
                raw_path=raw_uri.split("?", 1)[0] or None,
                raw_query=request.query_string.decode("latin-1"),
            )
        )
        return Response(answer.body, answer.status, headers=answer.headers)

    return application


def _local(emulator: Emulator, console: ConsoleApi, request: Request) -> Response:
    """`/_lambdakit/...`: the token and health endpoints, then the console. These paths never reach the app:
    the console's requests are not invocations, and nothing here is held to a function's policy."""
    from lambdakit.local import console as files

    path = request.path
    if path == TOKEN_PATH:
        return _token(emulator, request)
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
        return Response(json.dumps(error_body("not_found", message)), 404, content_type="application/json")
    if request.method not in ("GET", "HEAD"):
        message = f"{request.method} {path}: the console's files answer GET"
        return Response(json.dumps(error_body("method_not_allowed", message)), 405, content_type="application/json")
    body, media = found
    return Response(body, 200, content_type=media, headers=files.HEADERS)


def _token(emulator: Emulator, request: Request) -> Response:
    """`POST /_lambdakit/token {"username", "password", "pool"?, "scopes"?}` -> Cognito's tokens (moto-signed)."""

    def error(status: int, code: str, message: str) -> Response:
        return Response(json.dumps(error_body(code, message)), status, content_type="application/json")

    if request.method != "POST":
        return error(405, "method_not_allowed", f"POST {TOKEN_PATH} with a JSON body {{username, password}}")
    try:
        body = json.loads(request.get_data() or b"{}")
        username, password = body["username"], body["password"]
    except (ValueError, KeyError, TypeError):
        return error(400, "bad_request", 'send {"username": ..., "password": ...} (and "pool", "scopes" if needed)')
    try:
        tokens = emulator.token(username, password, body.get("pool"), tuple(body.get("scopes") or ()))
    except KeyError as exc:
        return error(400, "bad_request", str(exc.args[0]))
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            return error(401, "unauthorized", "Incorrect username or password.")
        raise
    return Response(json.dumps(tokens), 200, content_type="application/json")


class _QuietHandler(WSGIRequestHandler):
    """The invoker logs one line per invocation; werkzeug's access log would repeat it. HTTP/1.1 keeps
    connections open between requests, as API Gateway does."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _package_files(package: str) -> list[str]:
    """Every source file of the package, so the reloader restarts even after a failed import."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    roots = list(spec.submodule_search_locations or [])
    files = [str(p) for root in roots for p in Path(root).rglob("*.py")]
    return files or ([spec.origin] if spec.origin else [])


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
    for route in sorted(emulator.gateway.routes, key=lambda r: (r.path, r.method)):
        spec = route.spec
        assert spec.route is not None
        target = f"-> {spec.source.kind} {spec.source.name}" if spec.storage_first and spec.source else ""
        lines.append(
            f"  {spec.route.method:<7}{prefix + spec.route.path:<34}{spec.name:<22}{_auth(app.effective_auth(spec))}"
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
    if reload and not is_running_from_reloader():
        print(f"lambdakit local: watching {package} for changes; serving on {url}", file=sys.stderr, flush=True)
        run_simple(
            host,
            port,
            _unused,
            use_reloader=True,
            extra_files=extra + _package_files(package),
            reloader_type="stat",
            threaded=True,
            request_handler=_QuietHandler,
        )
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
        run_simple(
            host,
            port,
            _broken(problems),
            use_reloader=True,
            extra_files=extra + _package_files(package),
            reloader_type="stat",
            threaded=True,
            request_handler=_QuietHandler,
        )
        return
    for running in emulator.everything():
        running.consumers.start()
    print(banner(emulator, url), flush=True)
    try:
        run_simple(
            host,
            port,
            wsgi(emulator),
            use_reloader=reload,
            extra_files=extra + _package_files(package),
            reloader_type="stat",
            threaded=True,
            request_handler=_QuietHandler,
        )
    finally:
        for running in emulator.everything():
            running.consumers.stop()
        emulator.close()
        emulator.backend.stop()


def _broken(problems: list[str]) -> WSGIApp:
    """While the package does not load, every request says why (the reloader retries on the next save)."""
    body = json.dumps(error_body("internal_error", "the app does not load: " + "; ".join(problems))).encode()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("500 Internal Server Error", [("Content-Type", "application/json")])
        return [body]

    return application


def _unused(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:  # pragma: no cover
    """The reloader's watcher process never serves; its child does."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]
