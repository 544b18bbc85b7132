"""`lambdakit local` in a subprocess, for tests that drive it over HTTP (urllib, schemathesis, a browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_server(package: str, log: Path, *args: str, path: Path = ROOT) -> Iterator[str]:
    """Serve `package` (importable from `path`) until the block ends; yields its base URL once it answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys([str(path), str(ROOT)])), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "lambdakit.cli", "local", package, "--port", str(port), "--no-reload", *args]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"lambdakit local exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url + "/_lambdakit/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"lambdakit local did not answer within 60 s:\n{log.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
