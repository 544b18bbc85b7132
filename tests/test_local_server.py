"""`lambdakit local` end to end: the example shop served in a subprocess, driven over HTTP with urllib."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import free_port, local_server

UNSIGNED = ", or the route needs a SigV4-signed request"  # API Gateway's MISSING_AUTHENTICATION_TOKEN

ROOT = Path(__file__).resolve().parents[1]
PARTNER_KEY = "pk-acme-0001"
SEED = {
    "tables": {
        "products": [{"sku": "A-1", "name": "Anvil", "price_cents": 1999}],
        "orders": [
            {
                "order_id": "o-seed",
                "sku": "A-1",
                "qty": 2,
                "customer_id": "c-seed",
                "created_at": "2024-01-01T00:00:00.000+00:00",
            }
        ],
        "partners": [
            {
                "key_hash": hashlib.sha256(PARTNER_KEY.encode()).hexdigest(),
                "partner_id": "acme",
                "name": "ACME",
                "scopes": ["orders:read"],
            }
        ],
    },
}


@dataclass
class Server:
    url: str
    log: Path
    api: str = "/api"  # the shop has a site: its API answers under /api, on the site's one origin

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> tuple[int, dict[str, str], Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        where = path if path.startswith("/_lambdakit/") else self.api + path
        request = urllib.request.Request(
            self.url + where,
            data=data,
            method=method,
            headers={**({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, head, payload = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as err:
            status, head, payload = err.code, dict(err.headers), err.read()
        return status, head, json.loads(payload) if payload else None

    def token(self, scopes: list[str] | None = None, pool: str | None = None) -> str:
        status, _, body = self.call(
            "POST",
            "/_lambdakit/token",
            {
                "username": "demo@example.com",
                "password": "Demo-Passw0rd!",
                **({"scopes": scopes} if scopes else {}),
                **({"pool": pool} if pool else {}),
            },
        )
        assert status == 200, body
        return str(body["authorization"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("local")
    seed, log = folder / "seed.json", folder / "server.log"
    seed.write_text(json.dumps(SEED))
    with local_server("example_app.shop", log, "--seed", str(seed)) as url:
        yield Server(url, log)


def _error(body: Any) -> tuple[str, str]:
    assert set(body) == {"error", "request_id"}, body
    return body["error"]["code"], body["error"]["message"]


def test_it_prints_how_to_get_a_token_and_the_command_works(server: Server) -> None:
    text = server.log.read_text()
    assert f"on {server.url}" in text
    assert "POST   /api/orders/import" in text and "site web/dist" in text
    command = next(line.strip() for line in text.splitlines() if line.strip().startswith("export TOKEN="))
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    token = subprocess.run(
        ["bash", "-c", f'{command} && printf %s "$TOKEN"'], capture_output=True, text=True, timeout=20, check=True
    ).stdout
    status, _, _ = server.call("DELETE", "/orders/o-none", headers={"Authorization": token})
    assert status == 204


def test_public_routes_serve_seeded_data(server: Server) -> None:
    status, headers, body = server.call("GET", "/catalog/products/A-1")
    assert (status, body) == (200, {"sku": "A-1", "name": "Anvil", "price_cents": 1999})
    assert headers["Content-Type"] == "application/json"
    status, _, body = server.call("GET", "/catalog/products?limit=5")
    assert status == 200 and [p["sku"] for p in body] == ["A-1"]


def test_bad_input_is_refused_in_the_one_error_shape(server: Server) -> None:
    status, _, body = server.call("GET", "/catalog/products?limit=0")
    assert status == 422 and _error(body)[0] == "validation_error"
    assert body["error"]["details"][0]["loc"] == ["query", "limit"]
    status, _, body = server.call("GET", "/catalog/products?limit=many")
    assert status == 422 and _error(body)[0] == "validation_error"
    status, _, body = server.call("GET", "/catalog/products/NOPE")
    assert status == 404 and _error(body) == ("not_found", "no product NOPE")
    status, _, body = server.call("GET", "/no/such/route")
    assert status == 403 and _error(body) == ("not_found", "no route for GET /no/such/route" + UNSIGNED)
    status, _, body = server.call("POST", "/orders", {"sku": "A-1", "qty": 0}, {"Authorization": server.token()})
    assert status == 422 and _error(body)[0] == "validation_error"


def test_cognito_refuses_missing_and_forged_tokens_and_accepts_real_ones(server: Server) -> None:
    order = {"sku": "A-1", "qty": 1, "customer_id": "c-auth"}
    status, _, body = server.call("POST", "/orders", order)
    assert status == 401 and _error(body) == ("unauthorized", "Unauthorized")

    token = server.token()
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    status, _, body = server.call("POST", "/orders", order, {"Authorization": f"{header}.{forged}.{signature}"})
    assert status == 401 and _error(body)[0] == "unauthorized"

    status, _, body = server.call("POST", "/orders", order, {"Authorization": f"Bearer {token}"})
    assert status == 201, body
    assert body["customer_id"] == "c-auth" and body["order_id"]

    status, _, body = server.call("POST", "/_lambdakit/token", {"username": "demo@example.com", "password": "wrong"})
    assert status == 401 and _error_no_id(body) == ("unauthorized", "Incorrect username or password.")


def _error_no_id(body: Any) -> tuple[str, str]:
    return body["error"]["code"], body["error"]["message"]


def test_scoped_routes_need_an_access_token_with_the_scope(server: Server) -> None:
    product = {"sku": "B-2", "name": "Bolt", "price_cents": 5}
    # The catalog (mounted at /api/catalog) takes tokens of its own pool: the shop's users' are refused.
    status, _, _ = server.call("PUT", "/catalog/products/B-2", product, {"Authorization": server.token()})
    assert status == 401
    status, _, _ = server.call(
        "PUT", "/catalog/products/B-2", product, {"Authorization": server.token(pool="catalog-clients")}
    )
    assert status == 401  # an ID token: no scopes
    scoped = server.token(scopes=["catalog/products.write"], pool="catalog-clients")
    status, _, body = server.call("PUT", "/catalog/products/B-2", product, {"Authorization": scoped})
    assert (status, body) == (200, product)


def test_storage_first_round_trip(server: Server) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": server.token()}
    status, _, body = server.call("POST", "/orders/import", {"sku": "A-1", "qty": 0, "customer_id": customer}, auth)
    assert status == 400 and _error(body) == ("validation_error", "Invalid request body")
    status, _, body = server.call(
        "POST", "/orders/import", raw=b"sku=A-1", headers={**auth, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 415 and _error(body)[0] == "unsupported_media_type"
    status, _, body = server.call("POST", "/orders/import", {"sku": "A-1", "qty": 3}, None)
    assert status == 401

    status, _, body = server.call("POST", "/orders/import", {"sku": "A-1", "qty": 3, "customer_id": customer}, auth)
    assert status == 202 and set(body) == {"message_id", "request_id"}
    deadline = time.monotonic() + 15
    while True:  # the consumer runs on the server's poller thread
        status, _, orders = server.call("GET", f"/customers/{customer}/orders")
        if status == 200 and orders:
            break
        assert time.monotonic() < deadline, f"the import was not consumed:\n{server.log.read_text()[-3000:]}"
        time.sleep(0.1)
    assert [(o["sku"], o["qty"], o["customer_id"]) for o in orders] == [("A-1", 3, customer)]


def test_storage_first_kinesis_answers_with_the_sequence_number(server: Server) -> None:
    status, _, body = server.call("POST", "/clicks", {"customer_id": "c-1", "page": "/home"})
    assert status == 202 and set(body) == {"sequence_number", "shard_id", "request_id"}
    assert body["shard_id"].startswith("shardId-")


def test_lambda_authorizer_and_api_key(server: Server) -> None:
    path = "/partner/orders/o-seed"
    good = {"Authorization": f"Bearer {PARTNER_KEY}", "x-api-key": "acme-local-key"}
    status, _, body = server.call("GET", path, headers=good)
    assert status == 200 and body["order_id"] == "o-seed"
    status, _, body = server.call("GET", path, headers={"x-api-key": "acme-local-key"})
    assert status == 401 and _error(body) == ("unauthorized", "Unauthorized")
    status, _, body = server.call("GET", path, headers={**good, "Authorization": "Bearer pk-unknown"})
    assert status == 401
    status, _, body = server.call("GET", path, headers={"Authorization": f"Bearer {PARTNER_KEY}"})
    assert status == 403 and _error(body) == ("forbidden", "Forbidden")


def test_each_invocation_is_logged(server: Server) -> None:
    server.call("GET", "/catalog/products/A-1")
    deadline = time.monotonic() + 5
    while "get_product" not in server.log.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    lines = [line for line in server.log.read_text().splitlines() if " get_product " in f" {line} "]
    assert any(" http " in line and " 200 " in line and line.rstrip().endswith(" ms") for line in lines), lines


def test_the_server_reloads_when_the_code_changes(tmp_path: Path) -> None:
    package = tmp_path / "lk_reload_app"
    package.mkdir()
    source = package / "__init__.py"
    route = 'import lambdakit as lk\n\n\n@lk.route("GET", "/version")\ndef version() -> dict:\n    return {"v": %d}\n'
    source.write_text(route % 1)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    log = tmp_path / "server.log"
    with log.open("w") as out:  # with the reloader there are two processes: give them their own group
        process = subprocess.Popen(
            [sys.executable, "-m", "lambdakit.cli", "local", "lk_reload_app", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", log, api="")

    def wait_for(expected: dict[str, int]) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                if server.call("GET", "/version")[2] == expected:
                    return
            except OSError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"never answered {expected}:\n{log.read_text()}"
            time.sleep(0.1)

    try:
        wait_for({"v": 1})
        source.write_text(route % 2)
        wait_for({"v": 2})
        assert "Detected change" in log.read_text()
    finally:
        import signal

        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
