"""Storage-first mistakes are build errors: caught before a template would let a valid body fail to store."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.derive.template import build_template
from lambdakit.discovery import BuildError, discover
from tests.apps import make_app, write_package

HEADER = """
import lambdakit as lk
from pydantic import BaseModel, Field

class Click(BaseModel):
    customer: str = Field(min_length=1, max_length=64)
    page: str
    visitor: str | None = None
    count: int = 1
    tag: str = "none"
"""


def problems(tmp_path: Path, source: str) -> str:
    name = write_package(tmp_path, {"app.py": HEADER + source})
    with pytest.raises(BuildError) as info:
        discover(name)
    text = "\n".join(info.value.problems)
    assert "app.py" in text, text  # each problem names where it is
    return text


def builds(tmp_path: Path, source: str) -> None:
    discover(write_package(tmp_path, {"app.py": HEADER + source}))


def test_status_on_a_storage_first_route(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("POST", "/clicks", trigger="sqs", status=201)
def record(body: Click) -> None: ...
""",
    )
    assert "status= does not apply to a storage-first route" in text and "202" in text


@pytest.mark.parametrize(
    ("field", "why"),
    [
        ("referrer", "has no field 'referrer' (it has: customer, page, visitor, count, tag)"),
        ("visitor", "must be a required string field"),  # optional: some requests would have no key
        ("count", "must be a required string field"),  # not a string
        ("tag", "must be a required string field"),  # has a default: may be absent from the body
    ],
)
def test_partition_key_must_name_a_required_string_field(tmp_path: Path, field: str, why: str) -> None:
    text = problems(
        tmp_path,
        f"""
@lk.route("POST", "/clicks", trigger=lk.kinesis(partition_key="{field}"))
def record(body: Click) -> None: ...
""",
    )
    assert f"partition_key='{field}'" in text and why in text and "(record)" in text
    assert "Field(min_length=1)" in text  # the fix


def test_partition_key_needs_a_model_body(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("POST", "/clicks", trigger=lk.kinesis(partition_key="customer"))
def record(body: dict) -> None: ...
""",
    )
    assert "partition_key='customer'" in text and "must be a pydantic model" in text


@pytest.mark.parametrize("field", ["referrer", "visitor", "count"])
def test_group_by_must_name_a_required_string_field(tmp_path: Path, field: str) -> None:
    text = problems(
        tmp_path,
        f"""
@lk.route("POST", "/clicks", trigger=lk.sqs(fifo=True, group_by="{field}"))
def record(body: Click) -> None: ...
""",
    )
    assert f"group_by='{field}'" in text and "(record)" in text


def test_key_fields_that_are_required_strings_build(tmp_path: Path) -> None:
    builds(
        tmp_path,
        """
@lk.route("POST", "/clicks", trigger=lk.kinesis(partition_key="customer"))
def record(body: Click) -> None: ...

@lk.route("POST", "/ordered", trigger=lk.sqs(fifo=True, group_by="page"))
def ordered(body: Click) -> None: ...
""",
    )


def test_group_by_without_fifo_is_refused_at_declaration(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("POST", "/clicks", trigger=lk.sqs(group_by="customer"))
def record(body: Click) -> None: ...
""",
    )
    assert "group_by=...) needs fifo=True" in text


def test_fifo_has_no_batching_window(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("POST", "/clicks", trigger=lk.sqs(fifo=True, window=5))
def record(body: Click) -> None: ...
""",
    )
    assert "window=5" in text and "no batching window for FIFO" in text


def test_consumers_do_not_choose_keys_the_producer_sets(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
jobs = lk.Queue("jobs", fifo=True)
ticks = lk.Stream("ticks")

@lk.consume(jobs, group_by="customer")
def on_job(message: Click) -> None: ...

@lk.consume(ticks, partition_key="customer")
def on_tick(message: Click) -> None: ...
""",
    )
    assert "group_by= is for storage-first routes" in text and "queue.send(message, group=...)" in text
    assert "partition_key= is for storage-first routes" in text and "(on_tick)" in text


def test_a_queue_has_one_consumer(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
jobs = lk.Queue("jobs")

@lk.consume(jobs)
def first(message: dict) -> None: ...

@lk.consume(jobs)
def second(message: dict) -> None: ...
""",
    )
    assert "queue 'jobs' is already consumed by" in text and "(first)" in text and "(second)" in text


def test_a_stream_may_have_several_consumers(tmp_path: Path) -> None:
    builds(
        tmp_path,
        """
ticks = lk.Stream("ticks")

@lk.consume(ticks)
def first(message: dict) -> None: ...

@lk.consume(ticks)
def second(message: dict) -> None: ...
""",
    )


def test_a_storage_first_route_takes_only_a_body(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("POST", "/clicks/{site}", trigger="sqs")
def record(site: str, body: Click) -> None: ...
""",
    )
    assert "stores the request body and nothing else" in text


def test_consume_max_receive_is_the_queue_redrive(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "app.py": """
import lambdakit as lk
jobs = lk.Queue("jobs")
@lk.consume(jobs, max_receive=2)
def work(message: dict) -> None: ...
"""
        },
    )
    queue = build_template(app)["Resources"]["JobsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 2


def test_consume_max_receive_contradicting_the_queue_is_an_error(tmp_path: Path) -> None:
    name = write_package(
        tmp_path,
        {
            "app.py": """
import lambdakit as lk
jobs = lk.Queue("jobs", max_receive=3)
@lk.consume(jobs, max_receive=7)
def work(message: dict) -> None: ...
"""
        },
    )
    with pytest.raises(BuildError) as info:
        discover(name)
    assert "contradicts lk.Queue('jobs', max_receive=3)" in str(info.value)


def test_a_body_pattern_the_gateway_cannot_run_is_a_build_error(tmp_path: Path) -> None:
    from lambdakit.discovery import BuildError, discover
    from tests.apps import write_package

    source = """
from pydantic import BaseModel, Field
import lambdakit as lk

class Name(BaseModel):
    name: str = Field(pattern=r"^\\p{L}+$")

@lk.route("POST", "/names", trigger="sqs")
def take(body: Name) -> None: ...
"""
    with pytest.raises(BuildError) as info:
        discover(write_package(tmp_path, {"__init__.py": source}))
    assert any("is not one API Gateway's validator can run" in p for p in info.value.problems), info.value.problems
