"""Per-request latency of `lambdakit local`: a route that reads a table, over HTTP, p50 and p99.

Starts `lambdakit local example_app.shop --no-reload` on a free loopback port
(seeded with one product), warms it, then times GET /api/catalog/products/{sku} (a
DynamoDB GetItem in moto) from this process, one request at a time:

- with a new TCP connection per request (as curl does), via urllib;
- over one kept-alive connection, via http.client.

    python bench/local_latency.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATH = "/api/catalog/products/A-1"  # the catalog service, mounted on the shop's site


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(port: int, seed: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lambdakit.cli",
                "local",
                "example_app.shop",
                "--port",
                str(port),
                "--seed",
                str(seed),
                "--no-reload",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"lambdakit local exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_lambdakit/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"lambdakit local did not start:\n{log.read_text()}")


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples) * 1000, cuts[98] * 1000, statistics.mean(samples) * 1000


def _time(call: Callable[[], int], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        status = call()
        out.append(time.perf_counter() - start)
        assert status == 200, status
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        seed, log = Path(folder) / "seed.json", Path(folder) / "server.log"
        seed.write_text(json.dumps({"tables": {"products": [{"sku": "A-1", "name": "Anvil", "price_cents": 1}]}}))
        port = _free_port()
        process = _start(port, seed, log)
        try:
            url = f"http://127.0.0.1:{port}{PATH}"

            def fresh() -> int:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    answer.read()
                    return int(answer.status)

            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

            def kept() -> int:
                connection.request("GET", PATH)
                answer = connection.getresponse()
                answer.read()
                return answer.status

            _time(fresh, 200)  # warm: first invocations, imports, moto's first GetItem
            _time(kept, 200)
            results = {
                "new connection per request (urllib)": _time(fresh, args.requests),
                "one kept-alive connection (http.client)": _time(kept, args.requests),
            }
            connection.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(
        f"GET {PATH} via lambdakit local (werkzeug + moto in-process), {args.requests} requests each, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
    )
    print("| client | p50 | p99 | mean |\n|---|---|---|---|")
    for name, samples in results.items():
        p50, p99, mean = _percentiles(samples)
        print(f"| {name} | {p50:.2f} ms | {p99:.2f} ms | {mean:.2f} ms |")


if __name__ == "__main__":
    main()
