"""The resource handles against moto: what users call in their functions."""

from __future__ import annotations

import boto3
import pytest

from lambdakit.declare.app import App
from tests.apps import make_app

SOURCE = """
import lambdakit as lk
jobs = lk.Queue("dh-jobs", fifo=True)
things = lk.Table("dh-things", key="pk", sort_key=("n", int), indexes={"by_kind": ("kind", "n")})
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return make_app(tmp_path_factory.mktemp("dh"), {"app.py": SOURCE})


def test_fifo_sends_of_equal_bodies_are_distinct_messages(app: App, moto_env: None) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName="dh-jobs.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    jobs = app.queues[0]
    jobs.send({"tick": 1})
    jobs.send({"tick": 1})
    jobs.send({"tick": 2}, dedup_id="same")
    jobs.send({"tick": 2}, dedup_id="same")  # a retried send: SQS drops the repeat
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ['{"tick":1}', '{"tick":1}', '{"tick":2}']


def test_table_handle_round_trip(app: App, moto_env: None) -> None:
    ddb = boto3.client("dynamodb")
    ddb.create_table(
        TableName="dh-things",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": t} for a, t in (("pk", "S"), ("n", "N"), ("kind", "S"))
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_kind",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
            }
        ],
    )
    things = app.tables[0]
    things.put({"pk": "a", "n": 1, "kind": "x", "price": 9.5})
    things.put({"pk": "a", "n": 2, "kind": "x", "price": 3})
    assert things.get(pk="a", n=1) == {"pk": "a", "n": 1, "kind": "x", "price": 9.5}
    assert things.get(pk="a", n=3) is None
    assert [i["n"] for i in things.query(pk="a")] == [1, 2]
    assert [i["n"] for i in things.query(index="by_kind", kind="x", limit=1)] == [1]
    assert things.query(pk="a", limit=0) == []
    assert things.update({"pk": "a", "n": 2}, {"price": 4})["price"] == 4
    things.delete(pk="a", n=1)
    assert [i["n"] for i in things.scan()] == [2]
    with pytest.raises(TypeError, match="keyed by pk, n"):
        things.get(pk="a")
    with pytest.raises(ValueError, match="no index 'nope'"):
        things.query(index="nope", kind="x")
