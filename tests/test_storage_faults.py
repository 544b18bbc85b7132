"""Fault injection: hundreds of messages, some poison, some failing once, some batches crashing after their work.

The delivery loops are Lambda's (lambdakit.local.poller): SQS deletes what
succeeded and redrives to the DLQ after maxReceiveCount (moto honours the
RedrivePolicy); Kinesis retries from the first failure, bisects on errors and
gives up into the on-failure queue. Every message must end processed exactly
once or parked where an operator finds it (DLQ / on-failure queue): none lost,
none applied twice. `pytest -s` prints the counts.
"""

from __future__ import annotations

import base64
import importlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambdakit.declare.app import App
from lambdakit.derive.plan import plan_of
from lambdakit.local.backend import Backend
from lambdakit.local.consumers import poller_for
from lambdakit.local.kinesis_poller import KinesisPoller
from lambdakit.local.redrive import redrive_dlq, replay_kinesis_failure
from lambdakit.local.sqs_poller import SqsPoller
from lambdakit.runtime import aws
from lambdakit.runtime.loader import handler_for
from tests.apps import make_app

N = 240  # messages per run; ~10% poison, ~10% failing on their first delivery only
N_FIFO = 120  # moto's FIFO bookkeeping is slow; fewer messages still give every group a poison or two
CRASH_EVERY = 7  # every 7th invocation "times out" after its records ran: the whole batch comes back

APP = """
import lambdakit as lk
from pydantic import BaseModel, Field

service = lk.Service("{name}")

class Job(BaseModel):
    job_id: str = Field(min_length=1)
    user: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0)
    flaky: bool = False

EFFECTS: list = []      # each entry is one application of a message's effect
ATTEMPTED: set = set()  # flaky jobs fail on their first delivery only

def work(job: Job) -> None:
    if job.flaky and job.job_id not in ATTEMPTED:
        ATTEMPTED.add(job.job_id)
        raise RuntimeError("transient failure on first delivery of " + job.job_id)
    EFFECTS.append(job.job_id)

@lk.route("POST", "/jobs", trigger=lk.sqs(batch_size=10, max_receive=4))
def queued_job(body: Job) -> None:
    work(body)

@lk.route("POST", "/fifo-jobs", trigger=lk.sqs(fifo=True, group_by="user", max_receive=4))
def ordered_job(body: Job) -> None:
    work(body)

@lk.route("POST", "/stream-jobs", trigger=lk.kinesis(partition_key="user", batch_size=25, retries=2))
def streamed_job(body: Job) -> None:
    work(body)

BROKEN: set = set()  # jobs that hit a bug, until it is fixed

def fragile(job: Job) -> None:
    if job.job_id in BROKEN:
        raise RuntimeError("bug on " + job.job_id)
    EFFECTS.append(job.job_id)

@lk.route("POST", "/fragile", trigger=lk.sqs(batch_size=1, max_receive=2))
def fragile_job(body: Job) -> None:
    fragile(body)

@lk.route("POST", "/fragile-stream", trigger=lk.kinesis(batch_size=10, retries=1))
def fragile_stream(body: Job) -> None:
    fragile(body)
"""


@pytest.fixture
def app(tmp_path: Path, provision: Any, quiet: None, request: pytest.FixtureRequest) -> App:
    name = f"faults{abs(hash(request.node.name)) % 10**6}"
    built = make_app(tmp_path, {"app.py": APP.format(name=name)})
    provision(built)
    return built


def consumer_poller(app: App, spec: Any, handler: Any, retry_after: int | None = None) -> Any:
    """The consumer's poller as the product wires it, invoking `handler` (a stand-in for Lambda)."""
    return poller_for(plan_of(app).of(spec), handler, Backend(), retry_after)


def module_of(app: App) -> Any:
    return importlib.import_module(app.package + ".app")


def messages(seed: int, n: int = N) -> tuple[list[tuple[str, str]], set[str], set[str]]:
    """n message bodies (job id, raw body), the poison ids and the flaky ids, in a seeded random order."""
    rng = random.Random(seed)
    out, poison, flaky = [], set(), set()
    for i in range(n):
        job_id = f"job-{i:03d}"
        user = f"user-{rng.randrange(12)}"
        roll = rng.random()
        if roll < 0.05:
            body = f'{{"job_id": "{job_id}", "user": "{user}", "qty": '  # truncated: not JSON
            poison.add(job_id)
        elif roll < 0.10:
            body = json.dumps({"job_id": job_id, "user": user, "qty": 0})  # fails validation
            poison.add(job_id)
        elif roll < 0.20:
            body = json.dumps({"job_id": job_id, "user": user, "qty": 1 + i % 5, "flaky": True})
            flaky.add(job_id)
        else:
            body = json.dumps({"job_id": job_id, "user": user, "qty": 1 + i % 5})
        out.append((job_id, body))
    return out, poison, flaky


def user_of(body: str) -> str:
    return body.split('"user": "', 1)[1].split('"', 1)[0]


def job_id_of(raw: str | bytes) -> str:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return text.split('"job_id": "', 1)[1].split('"', 1)[0]


class Crashing:
    """Wraps a handler: every CRASH_EVERY-th invocation runs its records, then fails as a timeout would."""

    def __init__(
        self,
        handler: Callable[[dict[str, Any], Any], Any],
        effects: list[str],
        body_of: Callable[[dict[str, Any]], str | bytes],
    ) -> None:
        self.handler, self.effects, self.body_of = handler, effects, body_of
        self.calls = self.crashes = self.redelivered_done = 0

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.calls += 1
        done = set(self.effects)
        self.redelivered_done += sum(job_id_of(self.body_of(r)) in done for r in event["Records"])
        out = self.handler(event, context)
        if self.calls % CRASH_EVERY == 0:
            self.crashes += 1
            raise TimeoutError("Task timed out after 30.00 seconds")
        return out


def drain_queue(sqs: Any, url: str) -> list[str]:
    """Every body left in a queue (deleting as it reads: a FIFO group shows its next message only then)."""
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            return bodies
        bodies += [m["Body"] for m in got]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )


def run_sqs(app: App, function: str, seed: int, n: int = N) -> dict[str, Any]:
    """Send n messages to the function's queue and run Lambda's SQS loop until the queue is empty."""
    sqs = aws.client("sqs")
    spec = app.function(function)
    effects = module_of(app).EFFECTS
    crashing = Crashing(handler_for(spec), effects, lambda r: r["body"])
    # Failed messages come back at once (visibility 0) so the test takes seconds, not minutes. The poller
    # also hands them back explicitly (retry_after=0): moto otherwise keeps a returned message "pending"
    # until a later receive passes it, and can then serve a FIFO group's second message before its first.
    poller = consumer_poller(app, spec, crashing, retry_after=0)
    assert isinstance(poller, SqsPoller)
    sqs.set_queue_attributes(QueueUrl=poller.queue_url, Attributes={"VisibilityTimeout": "0"})
    sent, poison, flaky = messages(seed, n)
    fifo = spec.source.fifo
    for start in range(0, len(sent), 10):  # as the gateway would have stored them, in order
        sqs.send_message_batch(
            QueueUrl=poller.queue_url,
            Entries=[
                {
                    "Id": job_id,
                    "MessageBody": body,
                    **({"MessageGroupId": user_of(body), "MessageDeduplicationId": job_id} if fifo else {}),
                }
                for job_id, body in sent[start : start + 10]
            ],
        )
    stats = poller.drain(max_polls=5000)
    dlq = sqs.get_queue_url(QueueName=spec.source.name + "-dlq" + (".fifo" if fifo else ""))["QueueUrl"]
    parked = [job_id_of(b) for b in drain_queue(sqs, dlq)]
    left = drain_queue(sqs, poller.queue_url)
    return {
        "sent": sent,
        "poison": poison,
        "flaky": flaky,
        "effects": list(effects),
        "parked": parked,
        "left": left,
        "stats": stats,
        "crashing": crashing,
    }


def check_nothing_lost(
    run: dict[str, Any],
    label: str,
    parked_name: str,
    *,
    all_valid_applied: bool = True,
    parked_never_applied: bool = True,
) -> Counter[str]:
    ids = {job_id for job_id, _ in run["sent"]}
    applied = Counter(run["effects"])
    parked = Counter(run["parked"])
    stats, crashing = run["stats"], run["crashing"]
    print(
        f"\n[{label}] sent={len(ids)} poison={len(run['poison'])} flaky={len(run['flaky'])} "
        f"invocations={stats.invocations} crashed={crashing.crashes} deliveries={stats.delivered} "
        f"processed_once={sum(1 for n in applied.values() if n == 1)} "
        f"processed_twice_or_more={sum(1 for n in applied.values() if n > 1)} "
        f"{parked_name}={len(parked)} lost={len(ids - set(applied) - set(parked))} "
        f"redelivered_after_success={crashing.redelivered_done}"
    )
    assert run["left"] == [], "the queue must end empty"
    assert [j for j, n in applied.items() if n > 1] == [], "an effect was applied twice"
    assert not set(applied) & run["poison"], "a poison message took effect"
    assert ids - set(applied) - set(parked) == set(), "a message was lost"
    if all_valid_applied:
        assert set(applied) == ids - run["poison"], "every valid message takes effect"
    if parked_never_applied:  # what waits in the DLQ for a replay has not taken effect yet
        assert not set(applied) & set(parked)
    # The run exercised what it claims to: retries, crashes, and redelivery of finished work.
    assert crashing.crashes >= 3 and crashing.redelivered_done > 0 and run["flaky"] and run["poison"]
    return parked


def test_sqs_nothing_lost_nothing_applied_twice(app: App) -> None:
    run = run_sqs(app, "queued_job", seed=3)
    parked = check_nothing_lost(run, "sqs", "dlq")
    assert set(parked) == run["poison"] and max(parked.values()) == 1  # only poison, each once


def test_sqs_fifo_keeps_each_groups_order_and_parks_poison(app: App) -> None:
    run = run_sqs(app, "ordered_job", seed=5, n=N_FIFO)
    parked = check_nothing_lost(run, "sqs-fifo", "dlq", all_valid_applied=False)
    group = {job_id: user_of(body) for job_id, body in run["sent"]}
    order = [job_id for job_id, _ in run["sent"]]
    assert run["poison"] <= set(parked) and max(parked.values()) == 1
    # A poison message holds its group; messages received behind it in the same batches share its
    # receive count and may reach the DLQ with it (as on AWS). Only those: never a message of another group.
    for job_id in set(parked) - run["poison"]:
        assert any(group[p] == group[job_id] and order.index(p) < order.index(job_id) for p in run["poison"])
    print(f"[sqs-fifo] parked behind poison in their group: {len(set(parked) - run['poison'])}")
    for user in set(group.values()):
        sent = [j for j in order if group[j] == user and j not in parked]
        done = [j for j in run["effects"] if group[j] == user]
        assert done == sent, f"group {user} was applied out of order"


def test_the_same_sqs_run_without_idempotency_applies_effects_twice(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above is not vacuous: switch idempotency off and the crashed batches repeat their effects."""
    monkeypatch.setenv("POWERTOOLS_IDEMPOTENCY_DISABLED", "1")
    with pytest.warns(Warning):
        run = run_sqs(app, "queued_job", seed=3, n=60)
    assert [j for j, n in Counter(run["effects"]).items() if n > 1]


def test_kinesis_nothing_lost_nothing_applied_twice(app: App) -> None:
    kinesis, sqs = aws.client("kinesis"), aws.client("sqs")
    kinesis.delete_stream(StreamName="streamed_job")  # two shards: ordering and retries are per shard
    kinesis.create_stream(StreamName="streamed_job", ShardCount=2)
    spec = app.function("streamed_job")
    effects = module_of(app).EFFECTS
    crashing = Crashing(handler_for(spec), effects, lambda r: base64.b64decode(r["kinesis"]["data"]))
    poller = consumer_poller(app, spec, crashing)
    assert isinstance(poller, KinesisPoller)
    sent, poison, flaky = messages(seed=11)
    where: dict[str, tuple[str, int]] = {}  # job id -> (shard, sequence number)
    for job_id, body in sent:
        out = kinesis.put_record(StreamName="streamed_job", Data=body.encode(), PartitionKey=user_of(body))
        where[job_id] = (out["ShardId"], int(out["SequenceNumber"]))
    assert len({shard for shard, _ in where.values()}) == 2
    stats = poller.drain(max_polls=5000)
    failure_url = sqs.get_queue_url(QueueName="streamed_job-failures")["QueueUrl"]
    infos = [json.loads(b)["KinesisBatchInfo"] for b in drain_queue(sqs, failure_url)]
    assert len(infos) == len(poller.failures)

    def covered(job_id: str) -> bool:
        shard, seq = where[job_id]
        return any(
            i["shardId"] == shard and int(i["startSequenceNumber"]) <= seq <= int(i["endSequenceNumber"]) for i in infos
        )

    parked = [job_id for job_id in where if covered(job_id)]
    run = {
        "sent": sent,
        "poison": poison,
        "flaky": flaky,
        "effects": list(effects),
        "parked": parked,
        "left": [],
        "stats": stats,
        "crashing": crashing,
    }
    # Records after a failed one were applied before Lambda gave up on the rest of the batch: they are both
    # applied (once) and described in a failure range, which is why a replay must be idempotent too.
    check_nothing_lost(run, "kinesis", "in_failure_ranges", parked_never_applied=False)
    assert poison <= set(parked), "every poison record is described in the on-failure queue"
    print(
        f"[kinesis] failure_messages={len(infos)} bisected={stats.errors} "
        f"valid_records_also_in_a_failure_range={len(set(parked) - poison)}"
    )


def test_kinesis_records_past_max_age_go_to_the_failure_queue(moto_env: None) -> None:
    kinesis, sqs = aws.client("kinesis"), aws.client("sqs")
    kinesis.create_stream(StreamName="old", ShardCount=1)
    url = sqs.create_queue(QueueName="old-failures")["QueueUrl"]
    for i in range(3):
        kinesis.put_record(StreamName="old", Data=b"{}", PartitionKey=str(i))
    calls: list[int] = []
    poller = KinesisPoller(
        lambda e, c: calls.append(len(e["Records"])),
        kinesis,
        "old",
        sqs=sqs,
        on_failure_url=url,
        max_age=60,
        clock=lambda: time.time() + 3600,
    )
    poller.drain()
    assert calls == []  # an hour later, nothing is sent to the function
    infos = [json.loads(b) for b in drain_queue(sqs, url)]
    assert [i["requestContext"]["condition"] for i in infos] == ["RecordAgeExceeded"]
    assert infos[0]["KinesisBatchInfo"]["batchSize"] == 3


def test_a_fixed_bug_replays_the_dlq_and_nothing_applies_twice(app: App) -> None:
    """Park messages, fix the bug, redrive: the parked ones run once; one applied before it was parked
    (its invocation kept timing out afterwards) is recognised by its `lk-id` and not applied again."""
    sqs, module = aws.client("sqs"), module_of(app)
    spec = app.function("fragile_job")
    handler = handler_for(spec)
    state = {"crash": "job-007"}  # this job's invocation "times out" after its work, every time

    def lambda_like(event: dict[str, Any], context: Any) -> Any:
        out = handler(event, context)
        if any(job_id_of(r["body"]) == state["crash"] for r in event["Records"]):
            raise TimeoutError("Task timed out")
        return out

    poller = consumer_poller(app, spec, lambda_like, retry_after=0)
    assert isinstance(poller, SqsPoller)
    module.BROKEN.update({"job-002", "job-011", "job-015"})
    for i in range(20):  # as the gateway stores them: the request id in the lk-id attribute
        sqs.send_message(
            QueueUrl=poller.queue_url,
            MessageBody=json.dumps({"job_id": f"job-{i:03d}", "user": "u", "qty": 1}),
            MessageAttributes={"lk-id": {"DataType": "String", "StringValue": f"request-{i}"}},
        )
    poller.drain()
    dlq = sqs.get_queue_url(QueueName="fragile_job-dlq")["QueueUrl"]
    assert Counter(module.EFFECTS)["job-007"] == 1 and not {"job-002", "job-011", "job-015"} & set(module.EFFECTS)
    module.BROKEN.clear()
    state["crash"] = ""
    before = len(module.EFFECTS)
    moved = redrive_dlq(sqs, dlq, poller.queue_url)
    assert moved == 4
    poller.drain()
    applied = Counter(module.EFFECTS)
    print(
        f"\n[redrive] parked={moved} applied_after_redrive={len(module.EFFECTS) - before} "
        f"applied_twice={sum(n > 1 for n in applied.values())}"
    )
    assert applied == Counter({f"job-{i:03d}": 1 for i in range(20)})
    assert drain_queue(sqs, dlq) == [] and drain_queue(sqs, poller.queue_url) == []


def test_a_kinesis_failure_is_replayed_from_its_description_and_nothing_applies_twice(app: App) -> None:
    kinesis, sqs, module = aws.client("kinesis"), aws.client("sqs"), module_of(app)
    spec = app.function("fragile_stream")
    module.BROKEN.update({"job-004", "job-017"})
    for i in range(30):
        kinesis.put_record(
            StreamName="fragile_stream",
            PartitionKey="u",
            Data=json.dumps({"job_id": f"job-{i:03d}", "user": "u", "qty": 1}).encode(),
        )
    handler = handler_for(spec)
    poller = consumer_poller(app, spec, handler)
    poller.drain()
    infos = [
        json.loads(b) for b in drain_queue(sqs, sqs.get_queue_url(QueueName="fragile_stream-failures")["QueueUrl"])
    ]
    assert [i["KinesisBatchInfo"]["batchSize"] for i in infos] == [6, 3]  # from each failure to its batch's end
    assert not {"job-004", "job-017"} & set(module.EFFECTS)
    module.BROKEN.clear()
    assert [replay_kinesis_failure(info, handler, kinesis=kinesis) for info in infos] == [[], []]
    # The records after each failure ran before Lambda gave up; the replay skips them (same eventIDs).
    assert Counter(module.EFFECTS) == Counter({f"job-{i:03d}": 1 for i in range(30)})
