"""Nothing 5xx, nothing lost: whatever a client sends, `lambdakit local` and the test client answer JSON in the
error shape, with a request id, and the server logs no traceback.

The server runs in a subprocess (`tests.servers.local_server`) for a small app with a proxy route, an SQS
storage-first route and a Kinesis one; the inputs urllib cannot send go over raw sockets or `http.client`.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from lambdakit.local.gateway import MAX_EVENT_BYTES, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES
from lambdakit.local.integration import MAX_RECORD_BYTES
from lambdakit.testing import Client
from tests.apps import write_package
from tests.servers import ROOT, free_port, local_server

APP = {
    "__init__.py": """
        from typing import Any

        from pydantic import BaseModel

        import lambdakit as lk

        notes = lk.Table("lkerr_notes", key="note_id")


        class Note(BaseModel):
            k: str
            text: Any = None


        @lk.route("POST", "/echo")
        def echo(body: dict[str, Any]) -> dict[str, int]:
            return {"keys": len(body)}


        @lk.route("GET", "/big")
        def big(n: int) -> lk.Response:
            return lk.Response("x" * n, content_type="text/plain")


        @lk.route("GET", "/notes/{note_id}", reads=[notes])
        def get_note(note_id: str) -> dict[str, Any]:
            return notes.get(note_id=note_id) or {}


        @lk.route("POST", "/queue", trigger=lk.sqs())
        def queued(body: Note) -> None:
            pass


        @lk.route("POST", "/stream", trigger=lk.kinesis(partition_key="k"))
        def streamed(body: Note) -> None:
            pass
    """
}

TOO_LONG = b"x" * (MAX_REQUEST_BYTES + 1)  # built once: API Gateway's 10 MB, and one byte more
DEEP = b'{"k": "a", "text": ' + b"[" * 1000 + b"]" * 1000 + b"}"
JSON = {"Content-Type": "application/json"}


def text_of(size: int) -> bytes:
    """A valid body for every route, of about `size` bytes."""
    return json.dumps({"k": "a", "text": "x" * size}).encode()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    interim: int = 0  # the 1xx answers before this one

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def assert_error(answer: Answer, status: int, code: str | None = None) -> dict[str, Any]:
    """The framework's error shape: `{"error": {"code", "message"}, "request_id"}`, the id in the header too."""
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers.get("content-type") == "application/json", answer.headers
    body = answer.json
    assert isinstance(body, dict) and set(body) == {"error", "request_id"}, body
    assert {"code", "message"} <= set(body["error"]) and isinstance(body["error"]["message"], str), body
    assert body["request_id"] and answer.headers.get("x-amzn-requestid") == body["request_id"], answer.headers
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body["error"])


@dataclass
class Server:
    url: str
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port

    def raw(self, data: bytes) -> Answer:
        """Send bytes as they are; read the answer until the server closes the connection."""
        with socket.create_connection(self.address, timeout=30) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(1 << 16):
                chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        interim = 0
        while head.startswith(b"HTTP/1.1 1"):  # a 100 Continue before the answer
            interim += 1
            head, _, body = body.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        return Answer(int(status_line.split()[1]), headers, body, interim)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        connection = http.client.HTTPConnection(*self.address, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def assert_no_traceback(self) -> None:
        time.sleep(0.05)  # the log line of the last request
        text = self.log.read_text()
        assert "Traceback" not in text, text[-3000:]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("errors")
    return write_package(root, APP), root


@pytest.fixture(scope="module")
def server(app: tuple[str, Path]) -> Iterator[Server]:
    name, root = app
    log = root / "server.log"
    with local_server(name, log, path=root) as url:
        yield Server(url, log)


def test_the_app_answers_good_requests(server: Server) -> None:
    assert server.request("POST", "/echo", b'{"a": 1}', JSON).json == {"keys": 1}
    chunked = server.raw(
        b"POST /queue HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b'Expect: 100-continue\r\n\r\n4\r\n{"k"\r\n6\r\n: "a"}\r\n0\r\n\r\n'
    )
    assert chunked.status == 202 and chunked.interim == 1, chunked  # one 100 Continue, then the answer
    assert server.request("POST", "/queue", b'{"k": "a"}', JSON).status == 202
    assert server.request("POST", "/stream", b'{"k": "a"}', JSON).status == 202


# -- what http.server refuses before the app runs ------------------------------------------------------------------

PROTOCOL_ERRORS = {
    "a URI over 64 KB": (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    "a header over 64 KB": (
        b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
        431,
        "request_header_fields_too_large",
    ),
    "over 100 headers": (
        b"GET /echo HTTP/1.1\r\n" + b"".join(b"X-H%d: a\r\n" % i for i in range(150)) + b"\r\n",
        431,
        "request_header_fields_too_large",
    ),
    "a request line of one word": (b"GARBAGE\r\n\r\n", 400, "bad_request"),
    "a request line of four words": (b"GET / HTTP/1.1 more\r\n\r\n", 400, "bad_request"),
    "a bad HTTP version": (b"GET / HTTP/x.y\r\nHost: x\r\n\r\n", 400, "bad_request"),
    "HTTP/2.0 in an HTTP/1 request line": (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400, "bad_request"),
    "an HTTP/0.9 POST": (b"POST /echo\r\n\r\n", 400, "bad_request"),
    "a chunk longer than what follows": (  # werkzeug's DechunkedInput made read() copy past a buffer: a segfault
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"FFFFFFFFFFFF\r\n{}",
        400,
        "bad_request",
    ),
    "a body shorter than its Content-Length": (
        b"POST /queue HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999\r\n\r\n{}",
        400,
        "bad_request",
    ),
    "a malformed chunked body": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"ZZ\r\n{}\r\n0\r\n\r\n",
        400,
        "bad_request",
    ),
}


@pytest.mark.parametrize("case", PROTOCOL_ERRORS)
def test_malformed_http_is_answered_in_the_error_shape(server: Server, case: str) -> None:
    data, status, code = PROTOCOL_ERRORS[case]
    assert_error(server.raw(data), status, code)
    server.assert_no_traceback()


# -- sizes -------------------------------------------------------------------------------------------------------


def test_a_body_over_10_mb_is_413_on_every_route(server: Server) -> None:
    for path in ("/echo", "/queue", "/stream", "/nowhere"):
        error = assert_error(server.request("POST", path, TOO_LONG, JSON), 413, "payload_too_large")
        assert error["message"] == "Request Too Long"
    assert server.request("POST", "/queue", b'{"k": "still serving"}', JSON).status == 202
    server.assert_no_traceback()


def test_an_event_over_6_mb_is_413_before_the_function_runs(server: Server) -> None:
    body = text_of(MAX_EVENT_BYTES)  # under API Gateway's 10 MB, over Lambda's 6 MB with the rest of the event
    assert_error(server.request("POST", "/echo", body, JSON), 413, "payload_too_large")
    server.assert_no_traceback()
    assert "413 event of" in server.log.read_text()  # the invocation's line says why


def test_a_response_over_6_mb_is_api_gateways_502(server: Server) -> None:
    assert server.request("GET", f"/big?n={MAX_RESPONSE_BYTES - 1000}").status == 200
    assert_error(server.request("GET", f"/big?n={MAX_RESPONSE_BYTES + 1}"), 502, "internal_error")
    server.assert_no_traceback()
    assert "Response payload size exceeded" in server.log.read_text()


def test_what_the_queue_and_the_stream_refuse_is_the_templates_mapped_answer(server: Server) -> None:
    # Over SQS's MaximumMessageSize (1 MiB) and Kinesis's 1 MiB record: the service refuses with a 400,
    # which the integration responses map to 500 (SQS) and 503 (Kinesis: its 4xx are throttling).
    assert_error(server.request("POST", "/queue", text_of(MAX_RECORD_BYTES), JSON), 500, "internal_error")
    assert_error(server.request("POST", "/stream", text_of(MAX_RECORD_BYTES), JSON), 503, "service_unavailable")
    assert server.request("POST", "/queue", text_of(MAX_RECORD_BYTES - 2000), JSON).status == 202
    assert server.request("POST", "/stream", text_of(MAX_RECORD_BYTES - 2000), JSON).status == 202
    server.assert_no_traceback()


# -- bodies ------------------------------------------------------------------------------------------------------

BAD_BODIES = {
    "JSON nested 1000 deep": DEEP,
    "a lone surrogate in the partition key": b'{"k": "\\ud800"}',
    "bad UTF-8": b'{"k": "\xff\xfe"}',
    "UTF-16": '{"k": "a"}'.encode("utf-16-le"),
    "not JSON": b'{"k": ',
    "a JSON array": b"[1, 2]",
}


@pytest.mark.parametrize("case", BAD_BODIES)
@pytest.mark.parametrize("path", ["/queue", "/stream", "/echo"])
def test_a_body_nothing_can_read_is_a_400(server: Server, case: str, path: str) -> None:
    answer = server.request("POST", path, BAD_BODIES[case], JSON)
    if path == "/echo" and case == "a JSON array":  # JSON, but not the dict the function takes: the runtime's 422
        assert_error(answer, 422, "validation_error")
    else:
        assert_error(answer, 400)
    server.assert_no_traceback()


TOKEN_BODIES = {
    "a number for username": b'{"username": 5, "password": "x"}',
    "a lone surrogate for username": b'{"username": "\\ud800", "password": "x"}',
    "a list for scopes' items": b'{"username": "a@b.c", "password": "x", "scopes": [1]}',
    "an empty username": b'{"username": "", "password": "x"}',
    "JSON nested 1000 deep": b'{"username": ' + b"[" * 1000 + b"]" * 1000 + b', "password": "x"}',
    "a JSON array": b"[]",
    "bad UTF-8": b'{"username": "\xff"}',
}


@pytest.mark.parametrize("case", TOKEN_BODIES)
def test_the_token_endpoint_refuses_what_it_cannot_use(server: Server, case: str) -> None:
    answer = server.request("POST", "/_lambdakit/token", TOKEN_BODIES[case], JSON)
    assert answer.status == 400 and answer.headers["content-type"] == "application/json", answer
    assert answer.json["error"]["code"] == "bad_request" and answer.headers["x-amzn-requestid"]
    server.assert_no_traceback()


def test_odd_methods_and_paths_are_gateway_answers(server: Server) -> None:
    assert_error(server.request("BREW", "/echo"), 403, "not_found")
    assert_error(server.request("GET", "/%ff%fe/%00?%zz=%ff"), 403, "not_found")
    assert_error(server.raw(b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\nX-A: \xff\r\n\r\n"), 403, "not_found")
    server.assert_no_traceback()


# -- the test client: the same limits, in-process ----------------------------------------------------------------


def test_the_test_client_enforces_the_same_limits(app: tuple[str, Path]) -> None:
    with Client(app[0]) as client:
        too_long = client.post("/echo", body=TOO_LONG, headers=JSON)
        assert too_long.status == 413 and too_long.json["error"]["code"] == "payload_too_large"
        assert too_long.json["request_id"] == too_long.header("x-amzn-RequestId")
        assert client.post("/queue", body=TOO_LONG, headers=JSON).status == 413
        assert client.post("/echo", body=text_of(MAX_EVENT_BYTES), headers=JSON).status == 413
        assert client.post("/echo", body=text_of(1000), headers=JSON).json == {"keys": 2}
        assert client.get(f"/big?n={MAX_RESPONSE_BYTES + 1}").status == 502
        assert client.post("/queue", body=text_of(MAX_RECORD_BYTES), headers=JSON).status == 500
        assert client.post("/stream", body=text_of(MAX_RECORD_BYTES), headers=JSON).status == 503
        assert client.post("/stream", body=DEEP, headers=JSON).status == 400
        assert client.post("/stream", body=b'{"k": "\\ud800"}', headers=JSON).status == 400
        assert next(i.status for i in client.invocations if i.function == "echo").startswith("413 event of")


def test_a_failure_of_the_emulation_is_a_500_logged_in_one_line(
    app: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    with Client(app[0]) as client:
        gateway = client.emulator.gateway
        spec = next(r.spec for r in gateway.routes if r.path == "/queue")

        def broken(raw: bytes) -> str | None:
            raise ZeroDivisionError("a bug in the emulation")

        gateway._validators[id(spec)] = broken
        with caplog.at_level(logging.ERROR, logger="lambdakit.local"):
            answer = client.post("/queue", json={"k": "a"})
    assert answer.status == 500 and answer.json["error"]["code"] == "internal_error"
    request_id = answer.json["request_id"]
    assert request_id in answer.json["error"]["message"] and answer.header("x-amzn-RequestId") == request_id
    assert "ZeroDivisionError" not in answer.text  # nothing of the exception reaches the client
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    line = json.loads(record.getMessage())
    assert line["request_id"] == request_id and line["exception_name"] == "ZeroDivisionError"
    assert line["exception"] == "a bug in the emulation" and line["location"].endswith("in broken")
    assert record.exc_info is None and "\n" not in record.getMessage()


# -- seeds and reloads -------------------------------------------------------------------------------------------


def test_a_seed_item_without_its_key_is_one_problem_line(app: tuple[str, Path]) -> None:
    name, root = app
    seed = root / "bad-seed.json"
    seed.write_text(json.dumps({"tables": {"lkerr_notes": [{"note_id": "n-1"}, {"text": "no id"}]}}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(ROOT)])}
    command = [sys.executable, "-m", "lambdakit.cli", "local", name, "--no-reload", "--port", str(free_port())]
    done = subprocess.run(
        [*command, "--seed", str(seed)], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    problems = [line for line in done.stderr.splitlines() if line.startswith("  - ")]
    assert problems == [
        f"  - {seed}: table 'lkerr_notes', item 1: no 'note_id', the table's key (every item needs 'note_id')"
    ], done.stderr


def test_the_server_recovers_when_a_broken_module_is_deleted_and_sees_new_ones(tmp_path: Path) -> None:
    package = tmp_path / "lk_errors_reload"
    package.mkdir()
    (package / "__init__.py").write_text(
        'import lambdakit as lk\n\n\n@lk.route("GET", "/version")\ndef version() -> dict:\n    return {"v": 1}\n'
    )
    broken = package / "broken.py"
    broken.write_text("def oops(:\n")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    log = tmp_path / "server.log"
    with log.open("w") as out:  # with the reloader there are two processes: give them their own group
        process = subprocess.Popen(
            [sys.executable, "-m", "lambdakit.cli", "local", "lk_errors_reload", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def get(path: str) -> Answer:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
                return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())

    def wait_for(path: str, status: int) -> Answer:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = get(path)
                if answer.status == status:
                    return answer
            except OSError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"{path} never answered {status}:\n{log.read_text()}"
            time.sleep(0.1)

    try:
        error = assert_error(wait_for("/version", 500), 500, "internal_error")
        assert "the app does not load" in error["message"] and "broken" in error["message"]
        broken.unlink()
        assert wait_for("/version", 200).json == {"v": 1}
        (package / "more.py").write_text(
            'import lambdakit as lk\n\n\n@lk.route("GET", "/more")\ndef more() -> dict:\n    return {"more": True}\n'
        )
        assert wait_for("/more", 200).json == {"more": True}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
