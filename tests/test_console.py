"""The local console (`/_lambdakit/`): its JSON endpoints through the WSGI app, then the page in a real browser.

The app below is written into a temporary package: a route that queues jobs, a consumer of the queue whose
poison job fails on its first delivery only (as if the bug were fixed before the redrive), a route whose
raw boto3 read of an undeclared table the IAM check refuses, and a stream with a consumer.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client as WsgiClient
from werkzeug.test import TestResponse

from lambdakit.discovery import discover
from lambdakit.local.backend import Backend
from lambdakit.local.emulator import Emulator
from lambdakit.local.server import wsgi
from tests.apps import write_package
from tests.servers import local_server

APP = '''
import boto3
from botocore.exceptions import ClientError

import lambdakit as lk

service = lk.Service("console-demo")

jobs = lk.Queue("console_jobs")
clicks = lk.Stream("console_clicks")
done = lk.Table("console_done", key="job_id")
attempts = lk.Table("console_attempts", key="job_id")
vault = lk.Table("console_vault", key="secret_id")


@lk.route("POST", "/jobs", writes=[jobs])
def submit(body: dict) -> dict:
    jobs.send(body)
    return {"queued": body["id"]}


@lk.route("POST", "/clicks", writes=[clicks])
def click(body: dict) -> dict:
    clicks.put(body, partition_key="p")
    return {"clicked": True}


@lk.route("GET", "/vault/{secret_id}", reads=[done])
def peek_vault(secret_id: str) -> dict:
    """Reads a table it does not declare, with raw boto3: the local IAM check refuses the call."""
    try:
        boto3.client("dynamodb").get_item(TableName="console_vault", Key={"secret_id": {"S": secret_id}})
    except ClientError as exc:
        return {"refused": exc.response["Error"]["Code"]}
    return {"refused": None}


@lk.route("GET", "/secrets/{secret_id}", reads=[vault])
def read_secret(secret_id: str) -> dict:
    return vault.get(secret_id=secret_id) or {}


@lk.consume(jobs, reads=[attempts], writes=[done, attempts], max_receive=1, timeout=5)
def work(job: dict) -> None:
    """A poison job fails on its first delivery only: the attempt is remembered, the next one succeeds."""
    if job.get("poison") and attempts.get(job_id=job["id"]) is None:
        attempts.put({"job_id": job["id"]})
        raise ValueError("poison job " + job["id"])
    done.put({"job_id": job["id"], "by": "work"})


@lk.consume(clicks, writes=[done])
def count_click(message: dict) -> None:
    done.put({"job_id": "click-" + message["id"]})
'''

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:console_jobs"
VAULT_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/console_vault"


@dataclass
class Console:
    http: WsgiClient
    emulator: Emulator

    def get(self, path: str) -> Any:
        answer = self.http.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True))
        return answer.json

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> TestResponse:
        return self.http.post(path, json=body if body is not None else {}, headers=headers or {})

    def invocations(self, since: int = 0) -> list[dict[str, Any]]:
        return list(self.get(f"/_lambdakit/api/invocations?since={since}")["invocations"])

    def queue(self, name: str = "console_jobs") -> dict[str, Any]:
        return next(q for q in self.get("/_lambdakit/api/queues")["queues"] if q["name"] == name)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("console")
    return write_package(root, {"app.py": APP}), root


@pytest.fixture
def console(package: tuple[str, Path]) -> Iterator[Console]:
    backend = Backend().start()
    # Failed messages come back at once, as the test client has them: a drain retries them up to the DLQ.
    emulator = Emulator(discover(package[0]), backend, retry_after=0)
    try:
        yield Console(WsgiClient(wsgi(emulator)), emulator)
    finally:
        emulator.close()
        backend.stop()


def error_of(answer: TestResponse) -> dict[str, Any]:
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json
    assert isinstance(body, dict) and set(body) == {"error"}, body
    return dict(body["error"])


# -- the page -------------------------------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_under_a_strict_csp(console: Console) -> None:
    page = console.http.get("/_lambdakit/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = page.get_data(as_text=True)
    assert '<script src="/_lambdakit/console.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/_lambdakit/console.css">' in html
    assert "<style" not in html and "style=" not in html and "<script>" not in html  # nothing inline
    for name, media in (("console.js", "text/javascript"), ("console.css", "text/css")):
        answer = console.http.get(f"/_lambdakit/{name}")
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(media)
        assert answer.headers["Cache-Control"] == "no-store"
        text = answer.get_data(as_text=True)
        assert "http://" not in text and "https://" not in text and "innerHTML" not in text  # nothing external
    assert "http" not in html.replace("http-equiv", "")
    moved = console.http.get("/_lambdakit")
    assert moved.status_code == 308 and moved.headers["Location"].endswith("/_lambdakit/")
    missing = console.http.get("/_lambdakit/nothing.js")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert console.http.post("/_lambdakit/").status_code == 405
    # the two endpoints that were there before are still there
    assert console.http.get("/_lambdakit/health").json == {"status": "ok"}
    assert error_of(console.http.get("/_lambdakit/token"))["code"] == "method_not_allowed"


def test_functions_show_trigger_route_auth_data_and_policy(console: Console) -> None:
    body = console.get("/_lambdakit/api/functions")
    assert body["service"] == "console-demo"
    functions = {f["name"]: f for f in body["functions"]}
    assert set(functions) == {"submit", "click", "peek_vault", "read_secret", "work", "count_click"}
    submit, work = functions["submit"], functions["work"]
    assert (submit["trigger"], submit["route"], submit["auth"]) == (
        "http",
        {"method": "POST", "path": "/jobs"},
        "PUBLIC",
    )
    assert submit["writes"] == [{"kind": "queue", "name": "console_jobs"}] and submit["reads"] == []
    assert (work["trigger"], work["route"], work["auth"]) == ("sqs:console_jobs", None, None)
    assert work["source"] == {"kind": "queue", "name": "console_jobs"}
    assert [r["name"] for r in work["reads"]] == ["console_attempts"]
    assert [r["name"] for r in work["writes"]] == ["console_done", "console_attempts"]
    sids = [s["Sid"] for s in work["policy"]["Statement"]]
    assert sids[0] == "ConsumeTriggerQueue" and "WriteConsoleDoneTable" in sids
    assert work["policy"]["Version"] == "2012-10-17"
    assert functions["count_click"]["trigger"] == "kinesis:console_clicks"


# -- invocations ---------------------------------------------------------------------------------------------


def test_an_invocation_appears_with_its_status_and_aws_calls(console: Console) -> None:
    first = console.get("/_lambdakit/api/invocations")
    assert first["invocations"] == []
    answer = console.post("/jobs", {"id": "j-1"})
    assert answer.status_code == 200 and answer.json == {"queued": "j-1"}
    (submitted,) = console.invocations(first["cursor"])
    assert submitted["function"] == "submit" and submitted["trigger"] == "http"
    assert (submitted["status"], submitted["outcome"]) == ("200", "ok")
    assert submitted["request_id"] == answer.headers["x-amzn-RequestId"]
    assert submitted["service"] == "console-demo" and submitted["ms"] > 0 and submitted["at"] > 0
    assert submitted["calls"] == [
        {
            "operation": "sqs:SendMessage",
            "action": "sqs:SendMessage",
            "resource": QUEUE_ARN,
            "allowed": True,
            "message": None,
        }
    ]
    assert submitted["denied"] == []

    console.emulator.consumers.drain()
    after = console.invocations(submitted["seq"])
    (worked,) = [i for i in after if i["function"] == "work"]
    assert (worked["trigger"], worked["status"], worked["outcome"]) == ("sqs", "1/1 ok", "ok")
    operations = [(c["operation"], c["resource"].rsplit("/", 1)[-1]) for c in worked["calls"]]
    assert operations == [("dynamodb:PutItem", "console_done")]
    # the cursor: nothing new since the last one; a cursor from before a restart sends everything again
    cursor = console.get("/_lambdakit/api/invocations")["cursor"]
    assert console.get(f"/_lambdakit/api/invocations?since={cursor}") == {
        "cursor": cursor,
        "reset": False,
        "invocations": [],
    }
    stale = console.get(f"/_lambdakit/api/invocations?since={cursor + 1000}")
    assert stale["reset"] is True and [i["function"] for i in stale["invocations"]] == ["submit", "work"]
    assert console.get("/_lambdakit/api/invocations?since=0&limit=1")["invocations"][0]["function"] == "work"


def test_a_refused_call_appears_with_the_declaration_to_add(console: Console) -> None:
    answer = console.post("/jobs", {"id": "j-2"})  # something allowed first, then the refusal
    refused = console.http.get("/vault/s-1")
    assert refused.status_code == 200 and refused.json == {"refused": "AccessDeniedException"}
    peek = console.invocations()[-1]
    assert peek["function"] == "peek_vault" and peek["status"] == "200"
    (call,) = peek["calls"]
    assert (call["operation"], call["action"], call["resource"], call["allowed"]) == (
        "dynamodb:GetItem",
        "dynamodb:GetItem",
        VAULT_ARN,
        False,
    )
    assert "add reads=[vault] to @lk.route on peek_vault" in call["message"]
    assert peek["denied"] == [call["message"]]
    # the log line keeps its format: the denial under the invocation's line
    recorded = console.emulator.invoker.history[-1]
    assert str(recorded).splitlines()[1] == f"  IAM denied: {call['message']}"
    assert answer.status_code == 200


def test_the_console_is_not_a_function(console: Console) -> None:
    """Its reads are neither invocations nor held to any policy: it reads a table no function may scan."""
    console.post("/jobs", {"id": "j-3"})
    before = len(console.emulator.invoker.history)
    for path in ("functions", "invocations", "queues", "queues/console_jobs", "tables", "tables/console_vault"):
        console.get("/_lambdakit/api/" + path)
    assert console.post("/_lambdakit/api/queues/console_jobs/redrive").json == {"queue": "console_jobs", "moved": 0}
    assert len(console.emulator.invoker.history) == before
    assert console.queue()["visible"] == 1  # looking at a queue takes nothing from its consumer
    assert console.emulator.consumers.drain().succeeded["work"] == 1


# -- queues, dead letters, the redrive; streams; tables ----------------------------------------------------------


def test_a_poison_message_reaches_the_dead_letters_and_the_redrive_sends_it_back(console: Console) -> None:
    console.post("/jobs", {"id": "ok-1"})
    console.post("/jobs", {"id": "p-1", "poison": True})
    waiting = console.queue()
    assert (waiting["visible"], waiting["in_flight"], waiting["consumer"], waiting["max_receive"]) == (2, 0, "work", 1)
    assert waiting["dead_letter"]["visible"] == 0 and waiting["dead_letter"]["messages"] == []

    drained = console.emulator.consumers.drain()
    assert (drained.succeeded["work"], drained.failed["work"]) == (1, 1)  # max_receive=1: one delivery, then the DLQ
    queue = console.queue()
    assert (queue["visible"], queue["in_flight"]) == (0, 0)
    dead = queue["dead_letter"]
    assert (dead["name"], dead["visible"]) == ("console_jobs-dlq", 1)
    (message,) = dead["messages"]
    assert message["json"] == {"id": "p-1", "poison": True} and json.loads(message["body"]) == message["json"]
    assert console.queue()["dead_letter"]["messages"] == [message]  # looking again moves nothing
    done = console.get("/_lambdakit/api/tables/console_done")
    assert [i["job_id"] for i in done["items"]] == ["ok-1"]
    failed = [i for i in console.invocations() if i["function"] == "work" and i["outcome"] == "error"]
    assert [i["status"] for i in failed] == ["1/2 ok"]  # one batch: ok-1 done, p-1 failed

    redriven = console.post("/_lambdakit/api/queues/console_jobs/redrive")
    assert redriven.status_code == 200 and redriven.json == {"queue": "console_jobs", "moved": 1}
    queue = console.queue()
    assert (queue["visible"], queue["dead_letter"]["visible"], queue["dead_letter"]["messages"]) == (1, 0, [])
    assert console.emulator.consumers.drain().succeeded["work"] == 1
    done = console.get("/_lambdakit/api/tables/console_done")
    assert sorted(i["job_id"] for i in done["items"]) == ["ok-1", "p-1"]
    assert done["count"] == 2 and done["truncated"] is False and done["key"] == "job_id"
    assert console.invocations()[-1]["status"] == "1/1 ok"
    assert console.get("/_lambdakit/api/queues/console_jobs")["dead_letter"]["visible"] == 0


def test_streams_tables_and_kinesis_failure_queues(console: Console) -> None:
    console.post("/clicks", {"id": "c-1"})
    console.post("/clicks", {"id": "c-2"})
    console.emulator.consumers.drain()
    body = console.get("/_lambdakit/api/queues")
    (stream,) = body["streams"]
    assert (stream["name"], stream["consumers"], stream["records"]) == ("console_clicks", ["count_click"], 2)
    assert [s["records"] for s in stream["shards"]] == [2]
    failures = next(q for q in body["queues"] if q["kind"] == "failures")
    assert failures["failures_of"] == "count_click" and failures["dead_letter"] is None
    assert failures["messages"] == []
    refused = console.post(f"/_lambdakit/api/queues/{failures['name']}/redrive")
    assert refused.status_code == 400 and "has no dead-letter queue" in error_of(refused)["message"]

    tables = {t["name"]: t for t in console.get("/_lambdakit/api/tables")["tables"]}
    assert set(tables) == {"console_done", "console_attempts", "console_vault"}
    assert tables["console_done"]["count"] == 2 and tables["console_vault"]["count"] == 0
    items = console.get("/_lambdakit/api/tables/console_done")["items"]
    assert sorted(i["job_id"] for i in items) == ["click-c-1", "click-c-2"]


def test_unknown_names_and_endpoints_answer_the_frameworks_errors(console: Console) -> None:
    table = console.http.get("/_lambdakit/api/tables/nope")
    assert table.status_code == 404
    assert error_of(table) == {
        "code": "not_found",
        "message": "no table named 'nope'; tables: console_attempts, console_done, console_vault",
    }
    queue = console.post("/_lambdakit/api/queues/nope/redrive")
    assert queue.status_code == 404 and error_of(queue)["message"].startswith("no queue named 'nope'; queues: ")
    assert error_of(console.http.get("/_lambdakit/api/queues/nope"))["code"] == "not_found"
    endpoint = console.http.get("/_lambdakit/api/nothing")
    assert (
        endpoint.status_code == 404
        and "no console endpoint GET /_lambdakit/api/nothing" in error_of(endpoint)["message"]
    )
    wrong = console.http.get("/_lambdakit/api/queues/console_jobs/redrive")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"
    assert console.http.delete("/_lambdakit/api/functions").status_code == 405
    cursor = console.http.get("/_lambdakit/api/invocations?since=yesterday")
    assert cursor.status_code == 400 and error_of(cursor)["code"] == "bad_request"
    # a page on another origin cannot make the developer's browser redrive a queue
    elsewhere = console.post("/_lambdakit/api/queues/console_jobs/redrive", headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403 and error_of(elsewhere)["code"] == "forbidden"
    same = console.post("/_lambdakit/api/queues/console_jobs/redrive", headers={"Origin": "http://localhost"})
    assert same.status_code == 200


# -- the page in a browser ----------------------------------------------------------------------------------------

# Reported as a console error too, so a violation the browser words differently is still caught.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`));
"""


def _post(url: str, body: Any) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_the_console_in_a_browser(package: tuple[str, Path], tmp_path: Path) -> None:
    """Live invocations, a poison message on its way to the dead letters, the Redrive button, the table.

    `lambdakit local` keeps a failed message invisible for the queue's real visibility timeout (30 s at
    least) before SQS moves it to the dead letters, so this test waits that long once."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium on PATH: install Debian's (apt-get install chromium); no browser is downloaded")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    name, root = package
    errors: list[str] = []
    foreign: list[str] = []
    with local_server(name, tmp_path / "server.log", path=root) as base, sync_api.sync_playwright() as playwright:
        try:
            # --no-sandbox: Chromium's sandbox needs user namespaces, which containers (and root) rarely have.
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        except sync_api.Error as exc:
            pytest.skip(f"{chromium} does not start under playwright: {exc.message.splitlines()[0]}")
        context = browser.new_context()
        context.set_default_timeout(10_000)
        context.add_init_script(script=REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.on(
            "console", lambda m: errors.append(f"{m.text} at {m.location.get('url')}") if m.type == "error" else None
        )
        page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: None if r.url.startswith(base + "/") else foreign.append(r.url))
        expect = sync_api.expect

        # The poison job first: it waits out the visibility timeout while the rest of the page is checked.
        started = time.monotonic()
        assert _post(base + "/jobs", {"id": "p-1", "poison": True}) == {"queued": "p-1"}
        assert _post(base + "/jobs", {"id": "ok-1"}) == {"queued": "ok-1"}
        page.goto(base + "/_lambdakit/")
        expect(page.locator("#service")).to_have_text("console-demo")
        submitted = page.locator('#invocation-rows tr[data-function="submit"]')
        expect(submitted).to_have_count(2)
        expect(submitted.first).to_contain_text("sqs:SendMessage")
        expect(submitted.first).to_contain_text(QUEUE_ARN)
        expect(page.locator('#invocation-rows tr[data-function="work"][data-outcome="error"]')).to_have_count(1)

        # live: a refused call shows up without a reload, with the declaration to add
        with urllib.request.urlopen(base + "/vault/s-1", timeout=10) as answer:
            assert json.loads(answer.read()) == {"refused": "AccessDeniedException"}
        expect(page.locator('#invocation-rows tr[data-function="peek_vault"] [data-denial]')).to_contain_text(
            "add reads=[vault]"
        )

        page.get_by_role("button", name="Functions").click()
        expect(page.locator('#function-rows tr[data-function="work"]')).to_contain_text("sqs:console_jobs")
        policy = page.locator('#function-rows tr[data-policy="work"]')
        policy.locator("summary").click()
        expect(policy.locator("pre")).to_contain_text('"ConsumeTriggerQueue"')

        page.get_by_role("button", name="Queues & streams").click()
        expect(page.locator('[data-queue="console_jobs"]')).to_contain_text("consumer work")
        expect(page.locator('#stream-list [data-stream="console_clicks"]')).to_contain_text("count_click")
        dead = page.locator('[data-dlq="console_jobs"]')
        expect(dead.locator("li[data-message]")).to_have_count(1, timeout=60_000)
        waited = time.monotonic() - started
        expect(dead).to_contain_text('"poison": true')
        dead.get_by_role("button", name="Redrive").click()
        expect(page.locator("#redrive-result")).to_contain_text("Moved 1 message(s)")
        expect(dead.locator("li[data-message]")).to_have_count(0)

        page.get_by_role("button", name="Tables").click()
        page.locator('button[data-table="console_done"]').click()
        items = page.locator('table[data-items="console_done"]')
        expect(items).to_contain_text("p-1")
        expect(items).to_contain_text("ok-1")
        page.get_by_role("button", name="Invocations").click()
        expect(page.locator('#invocation-rows tr[data-function="work"]').first).to_contain_text("1/1 ok")
        context.close()
        browser.close()
    assert errors == [] and foreign == []
    assert waited < 45, f"the poison message took {waited:.0f} s to reach the dead letters"
