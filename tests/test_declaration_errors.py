"""Every declaration mistake is a build error naming the file, the function and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdakit.cli import main
from lambdakit.discovery import BuildError, discover
from tests.apps import write_package

HEADER = "import lambdakit as lk\nfrom pydantic import BaseModel\n"


def problems(tmp_path: Path, source: str, extra: dict[str, str] | None = None) -> str:
    name = write_package(tmp_path, {"app.py": HEADER + source, **(extra or {})})
    with pytest.raises(BuildError) as info:
        discover(name)
    text = "\n".join(info.value.problems)
    assert "app.py" in text or "__init__.py" in text or "other.py" in text, text
    return text


def test_duplicate_method_and_path(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
t = lk.Table("things", key="id")
@lk.route("GET", "/things/{id}", reads=[t])
def first(id: str) -> dict: return {}
@lk.route("GET", "/things/{thing}", reads=[t])
def second(thing: str) -> dict: return {}
""",
    )
    assert "GET /things/{thing} is already served by" in text and "(first)" in text and "(second)" in text


def test_path_parameter_without_function_parameter(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("GET", "/orders/{order_id}")
def get_order() -> dict: return {}
""",
    )
    assert "path parameter {order_id} has no function parameter" in text and "add `order_id: str`" in text


def test_function_parameter_without_path_parameter(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("GET", "/orders/{id}")
def get_order(order_id: str) -> dict: return {}
""",
    )
    assert "{id}" in text and "'order_id' matches no path parameter" in text


def test_parameter_type_that_cannot_be_bound(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("GET", "/when")
def when(at: complex) -> dict: return {}
""",
    )
    assert "parameter 'at'" in text and "cannot be bound" in text and "(when)" in text


def test_two_body_parameters(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
class A(BaseModel):
    x: int
@lk.route("POST", "/a")
def two(a: A, b: dict) -> dict: return {}
""",
    )
    assert "both take the body" in text


def test_resource_not_declared_at_module_level(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
def make():
    return lk.Table("hidden", key="id")
@lk.route("GET", "/x", reads=[make()])
def x() -> dict: return {}
""",
    )
    assert "Table('hidden') is not declared at module level" in text and "(x)" in text


def test_two_services_in_one_package(tmp_path: Path) -> None:
    other = {"other.py": 'import lambdakit as lk\nb = lk.Service("two")\n'}
    text = problems(tmp_path, 'a = lk.Service("one")\n', other)
    assert "declares 2 services" in text and "its own package" in text


@pytest.mark.parametrize("bad", ["orders table", "1orders", "x" * 49, "ordérs", ""])
def test_names_aws_would_reject(tmp_path: Path, bad: str) -> None:
    text = problems(tmp_path, f't = lk.Table({bad!r}, key="id")\n')
    assert "app.py:3" in text and "is not valid" in text and "letters, digits" in text


def test_names_that_clash_once_case_and_separators_are_ignored(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
orders = lk.Table("orders", key="id")
order_q = lk.Queue("Orders")
""",
    )
    assert "clashes with table 'orders'" in text


def test_function_name_clashing_with_a_table(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
orders = lk.Table("orders", key="id")
@lk.route("GET", "/o/{id}", reads=[orders])
def ORDERS(id: str) -> dict: return {}
""",
    )
    assert "function name 'ORDERS' clashes" in text


def test_bad_key_type(tmp_path: Path) -> None:
    text = problems(tmp_path, 't = lk.Table("t", key=("id", float))\n')
    assert "with type str, int or bytes" in text


def test_status_on_storage_first_route(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("POST", "/in", trigger="sqs", status=201)
def take(body: dict) -> None: ...
""",
    )
    assert "status= does not apply to a storage-first route" in text


def test_unknown_auth(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("GET", "/x", auth="password")
def x() -> dict: return {}
""",
    )
    assert "auth='password' is not an authorizer" in text


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("GET", "/a/{id}")
def a() -> dict: return {}
@lk.route("GET", "/b/{id}")
def b() -> dict: return {}
""",
    )
    assert "(a)" in text and "(b)" in text


def test_cli_prints_problems_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = write_package(tmp_path, {"app.py": HEADER + '@lk.route("GET", "/a/{id}")\ndef a() -> dict: return {}\n'})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", name, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "problem(s)" in result.output and "has no function parameter" in result.output


def test_cli_unknown_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "no_such_pkg_xyz"])
    assert result.exit_code == 2 and "no such module or package" in result.output


def test_building_part_of_a_service_is_refused(tmp_path: Path) -> None:
    # Building the submodule alone would drop the service's default auth and deploy its routes as public.
    name = write_package(
        tmp_path,
        {
            "__init__.py": 'import lambdakit as lk\nusers = lk.Cognito("members")\n'
            'service = lk.Service("lib", auth=users)\n',
            "books.py": 'import lambdakit as lk\n@lk.route("POST", "/books")\n'
            "def add(body: dict) -> dict: return body\n",
        },
    )
    with pytest.raises(BuildError) as info:
        discover(f"{name}.books")
    assert "is part of service 'lib'" in str(info.value) and f"lambdakit build {name}" in str(info.value)
    assert discover(name).service.name == "lib"


def test_mistakes_in_decorator_arguments_are_all_reported(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("GET", "bad-path")
def a() -> dict: return {}
@lk.route("FETCH", "/b")
def b() -> dict: return {}
@lk.route("POST", "/c", trigger="ftp")
def c(body: dict) -> None: ...
@lk.route("GET", "/d/{id}")
def d() -> dict: return {}
""",
    )
    assert "(a): path 'bad-path' must start with '/'" in text
    assert "(b): method 'FETCH'" in text and "(c): trigger='ftp'" in text and "(d): path parameter {id}" in text


def test_path_parameters_must_be_identifiers_used_once(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.route("GET", "/a/{bad-name}")
def a() -> dict: return {}
@lk.route("GET", "/b/{x}/{x}")
def b(x: str) -> dict: return {}
@lk.route("GET", "/c/{rest+}/tail")
def c(rest: str) -> dict: return {}
""",
    )
    assert "{bad-name} must be a Python identifier" in text and "{bad_name}" in text
    assert "{x} appears twice" in text and "{rest+} must be the last segment" in text


def test_consume_options_name_what_is_allowed(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
q = lk.Queue("q")
s = lk.Stream("s")
@lk.consume(q, group_by="customer")
def a(message: dict) -> None: ...
@lk.consume(s, partition_key="x")
def b(message: dict) -> None: ...
@lk.consume(q, retries=3)
def d(message: dict) -> None: ...
def plain(token: str) -> None: ...
@lk.route("GET", "/c", auth=plain)
def c() -> dict: return {}
""",
    )
    assert "(a): group_by= is for storage-first routes" in text
    assert "(b): partition_key= is for storage-first routes" in text
    assert "(d): lk.consume of a queue takes batch_size, window, max_concurrency, max_receive; not retries" in text
    assert "auth=plain is a plain function; decorate it with @lk.authorizer" in text


def test_every_limit_aws_would_refuse_is_reported_at_once(tmp_path: Path) -> None:
    """Each mistake names its function and the limit; an option that is out of range does not stop the import."""
    text = problems(
        tmp_path,
        """
t = lk.Table("things", key="id")
q = lk.Queue("jobs")

@lk.route("GET", "/a", memory=1)
def a() -> dict: return {}

@lk.route("GET", "/b", timeout=100000)
def b() -> dict: return {}

@lk.route("GET", "/c", status=99)
def c() -> dict: return {}

@lk.route("GET", "/d", writes=[t, t])
def d() -> dict: return {}

@lk.consume(q, batch_size=0)
def e(m: dict) -> None: ...

@lk.route("GET", "/g", timeout=60)
def g() -> dict: return {}

@lk.route("POST", "/h", trigger=lk.sqs(batch_size=0))
def h(body: dict) -> None: ...

@lk.route("POST", "/k", trigger=lk.kinesis(retries=-7))
def k(body: dict) -> None: ...

@lk.route("GET", "/m", memory=0)
def m() -> dict: return {}
""",
    )
    for expected in (
        "(a): memory=1: Lambda gives 128-10240 MB",
        "(b): timeout=100000: Lambda runs a function 1-900 seconds",
        "(c): status=99: a route's success status is 200-399",
        "(d): writes= lists Table('things') twice",
        "(e): lk.consume: lk.sqs(batch_size=0): must be 1-10",
        "(g): timeout=60: API Gateway answers 504 after 29 s",
        "(h): lk.sqs(batch_size=0): must be 1-10",
        "(k): lk.kinesis(retries=-7): must be -1 (forever) to 10000",
        "(m): memory=0: Lambda gives 128-10240 MB",
    ):
        assert expected in text, expected


def test_a_broken_authorizer_is_reported_once_where_it_is_declared(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
@lk.authorizer(ttl=-5)
def key(token: str) -> lk.Identity | None: ...

@lk.route("GET", "/x", auth=key)
def x() -> dict: return {}
""",
    )
    assert "(key): ttl=-5 must be 0-3600 seconds" in text
    assert "plain function" not in text and "its @lk.authorizer declaration has a mistake" in text
