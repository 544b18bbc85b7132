"""(f) The site locally: static files, a deep link and an API request through the site, beside a plain static server.

Over HTTP, one new connection per request for both servers (Python's
`http.server` speaks HTTP/1.0): `lambdakit local` serving a small SPA and an
API, and `http.server` serving the same folder. Then, in process, what the
site layer adds to an API request (the distribution's routing, its function,
the headers policy) against the gateway alone, and the build time of the same
service with and without its site.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import table

ASSET = "/assets/app.3f9a1c2b.js"
DEEP = "/orders/o-1"
API = "/api/hello"
SOURCE = """
import lambdakit as lk

service = lk.Service("{name}")
{site}

@lk.route("GET", "/hello")
def hello() -> dict[str, str]:
    return {{"hello": "world"}}
"""


def _write(root: Path, name: str, with_site: bool) -> None:
    pkg = root / name
    (pkg / "web" / "dist" / "assets").mkdir(parents=True)
    (pkg / "web" / "dist" / "index.html").write_text("<!doctype html><title>bench</title>" + "x" * 2000)
    (pkg / "web" / "dist" / "assets" / "app.3f9a1c2b.js").write_text("console.log(1);" * 2000)
    site = 'site = lk.Frontend("web/dist")' if with_site else ""
    (pkg / "__init__.py").write_text(textwrap.dedent(SOURCE.format(name=name.replace("_", "-"), site=site)))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples) * 1000, cuts[98] * 1000


def _time(call: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as answer:
        answer.read()
        return int(answer.status)


def run(requests: int = 500) -> dict[str, Any]:
    sys.path.insert(0, tmp := tempfile.mkdtemp(prefix="lk-bench-site-"))
    root = Path(tmp)
    _write(root, "bench_site", True)
    _write(root, "bench_nosite", False)
    from tests.servers import local_server

    results: dict[str, tuple[float, float]] = {}
    static = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root / "bench_site/web/dist")))
    threading.Thread(target=static.serve_forever, daemon=True).start()
    plain = f"http://127.0.0.1:{static.server_address[1]}"
    with local_server("bench_site", root / "server.log", path=root) as url:
        cases = {
            "static asset, http.server": plain + ASSET,
            "static asset, lambdakit local": url + ASSET,
            "deep link (SPA fallback), lambdakit local": url + DEEP,
            "index.html, http.server": plain + "/index.html",
            "/api through the site, lambdakit local": url + API,
        }
        for url_ in cases.values():
            _time(partial(_get, url_), 50)  # warm
        for name, url_ in cases.items():
            results[name] = _percentiles(_time(partial(_get, url_), requests))
    static.shutdown()
    added = _site_overhead(requests * 4)
    builds = _builds(root)
    return {"http": results, "added": added, "builds": builds}


def _site_overhead(n: int) -> dict[str, float]:
    """In process, no sockets: the same API request through the distribution and through the gateway alone."""
    from lambdakit.local.gateway import HttpRequest
    from lambdakit.testing.client import Client

    with Client("bench_site") as client:
        emulator = client.emulator
        via_site = HttpRequest("GET", API)
        direct = HttpRequest("GET", "/hello")
        for _ in range(200):
            emulator.handle(via_site)
            emulator.gateway.handle(direct)
        site_samples = _time(partial(emulator.handle, via_site), n)
        gateway_samples = _time(partial(emulator.gateway.handle, direct), n)
    site_p50 = statistics.median(site_samples) * 1000
    gateway_p50 = statistics.median(gateway_samples) * 1000
    return {"site p50": site_p50, "gateway p50": gateway_p50, "added p50": site_p50 - gateway_p50}


def _builds(root: Path, rounds: int = 5) -> dict[str, float]:
    from lambdakit.build import build
    from lambdakit.discovery import discover

    out = {}
    for name in ("bench_nosite", "bench_site"):
        app = discover(name)
        samples = []
        for i in range(rounds):
            start = time.perf_counter()
            build(app, root / f"build-{name}-{i}")
            samples.append(time.perf_counter() - start)
        out[name] = statistics.median(samples) * 1000
    return out


def report(result: dict[str, Any]) -> tuple[str, dict[str, float]]:
    rows = [[name, f"{p50:.2f} ms", f"{p99:.2f} ms"] for name, (p50, p99) in result["http"].items()]
    text = table(["request (new connection each)", "p50", "p99"], rows)
    added = result["added"]
    text += "\n\n" + table(
        ["in process, GET of one route", "p50"],
        [
            ["through the gateway alone", f"{added['gateway p50']:.3f} ms"],
            ["through the site (routing, headers policy)", f"{added['site p50']:.3f} ms"],
            ["**added by the site**", f"**{added['added p50']:.3f} ms**"],
        ],
    )
    builds = result["builds"]
    text += "\n\n" + table(
        ["lambdakit build of one route", "median"],
        [
            ["without a site", f"{builds['bench_nosite']:.0f} ms"],
            ["with a site (bucket, distribution, functions, headers)", f"{builds['bench_site']:.0f} ms"],
        ],
    )
    figures = {"site added p50 ms": added["added p50"]}
    return text, figures
