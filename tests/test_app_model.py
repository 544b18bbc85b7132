"""The app model is the only registry, the plan decides every name and setting once, and declarations are values."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambdakit.derive.plan import plan_of
from lambdakit.derive.template import build_template
from lambdakit.discovery import BuildError, discover
from tests.apps import make_app, write_package

SHOP = """
import lambdakit as lk

service = lk.Service("shop", memory=1024, timeout=20)
orders = lk.Table("orders", key="order_id")
audit = lk.Queue("audit")

@lk.route("GET", "/orders/{order_id}", reads=[orders])
def get_order(order_id: str) -> dict:
    return orders.get(order_id=order_id) or {}

@lk.route("POST", "/orders", writes=[orders, audit], memory=512)
def create_order(body: dict) -> dict:
    return body

@lk.consume(audit, max_receive=3)
def log_audit(message: dict) -> None: ...

@lk.route("POST", "/bulk", trigger="sqs")
def import_order(body: dict) -> None: ...
"""


def test_reimporting_a_module_or_building_twice_changes_nothing(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"app.py": SHOP})
    first = discover(package)
    importlib.reload(importlib.import_module(package + ".app"))
    again = discover(package)
    assert (
        [s.name for s in again.functions]
        == [s.name for s in first.functions]
        == ["get_order", "create_order", "log_audit", "import_order"]
    )
    assert build_template(again) == build_template(first)


def test_two_apps_in_one_process_with_the_same_names_build_apart(tmp_path: Path) -> None:
    one = make_app(tmp_path / "one", {"app.py": SHOP})
    two = make_app(tmp_path / "two", {"app.py": SHOP.replace('"/bulk"', '"/bulk2"')})
    assert [s.name for s in one.functions] == [s.name for s in two.functions]
    assert "/bulk2" in str(build_template(two)) and "/bulk2" not in str(build_template(one))


def test_a_decorator_mistake_travels_with_its_module(tmp_path: Path) -> None:
    bad = write_package(
        tmp_path / "bad",
        {"app.py": 'import lambdakit as lk\n@lk.route("GET", "/x", cache=99999)\ndef x() -> dict: ...\n'},
    )
    good = write_package(tmp_path / "good", {"app.py": SHOP})
    with pytest.raises(BuildError, match="cache=99999"):
        discover(bad)
    assert discover(good).functions  # the other package's mistake is not reported here
    with pytest.raises(BuildError, match="cache=99999"):
        discover(bad)  # and is reported every time its own package is built


def test_service_memory_and_timeout_are_the_functions_defaults(tmp_path: Path) -> None:
    plan = plan_of(make_app(tmp_path, {"app.py": SHOP}))
    assert (plan.function("get_order").memory, plan.function("get_order").timeout) == (1024, 20)
    assert (plan.function("create_order").memory, plan.function("create_order").timeout) == (512, 20)
    resources = build_template(plan.app)["Resources"]
    assert resources["GetOrderFunction"]["Properties"]["MemorySize"] == 1024
    assert resources["CreateOrderFunction"]["Properties"]["Timeout"] == 20


def test_kind_defaults_without_service_settings(tmp_path: Path) -> None:
    plan = plan_of(make_app(tmp_path, {"app.py": SHOP.replace(", memory=1024, timeout=20", "")}))
    assert [(fn.memory, fn.timeout) for fn in plan.functions] == [(256, 10), (512, 10), (256, 30), (256, 10)]


def test_consume_does_not_change_the_queue_it_is_given(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"app.py": SHOP})
    audit = next(q for q in app.queues if q.name == "audit")
    assert audit.max_receive == 5  # the declaration is left as written
    queue = plan_of(app).queue(audit)
    assert (queue.max_receive, queue.consumer, queue.local_name) == (3, "log_audit", "audit")
    assert queue.visibility_timeout == 6 * 20  # six times its consumer's timeout


def test_the_plan_names_every_resource_once(tmp_path: Path) -> None:
    plan = plan_of(make_app(tmp_path, {"app.py": SHOP}))
    queue = next(q for q in plan.queues if q.consumer == "import_order")
    assert queue.dead_letter is not None
    assert (queue.logical_id, queue.local_name, queue.dead_letter.local_name) == (
        "ImportOrderQueue",
        "import_order",
        "import_order-dlq",
    )
    resources = build_template(plan.app)["Resources"]
    assert {q.logical_id for q in plan.all_queues()} | {
        q.dead_letter.logical_id for q in plan.queues if q.dead_letter
    } <= set(resources)
    assert all(resources[fn.role_id]["Type"] == "AWS::IAM::Role" for fn in plan.functions)


@pytest.mark.parametrize("option", ['domain="API.example.com"', 'base_path="api/orders"'])
def test_service_domain_settings_aws_would_refuse_are_build_errors(tmp_path: Path, option: str) -> None:
    source = SHOP.replace('lk.Service("shop", memory=1024, timeout=20)', f'lk.Service("shop", {option})')
    with pytest.raises(BuildError, match=option.split("=")[0] + "="):  # not a domain name; a base path needs one
        make_app(tmp_path, {"app.py": source})


def test_architecture_reaches_the_template(tmp_path: Path) -> None:
    source = SHOP.replace("memory=1024, timeout=20", 'architecture="x86_64"')
    resources = build_template(make_app(tmp_path, {"app.py": source}))["Resources"]
    assert resources["GetOrderFunction"]["Properties"]["Architectures"] == ["x86_64"]


def test_a_brace_inside_a_path_segment_is_a_build_error(tmp_path: Path) -> None:
    source = 'import lambdakit as lk\n@lk.route("GET", "/a{b}")\ndef a() -> dict: ...\n'
    with pytest.raises(BuildError, match="whole, named segment"):
        make_app(tmp_path, {"app.py": source})


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_the_pytest_plugin_touches_nothing_at_import() -> None:
    assert (
        _run("""
        from botocore.handlers import BUILTIN_HANDLERS
        before = list(BUILTIN_HANDLERS)
        import lambdakit.testing.plugin
        from lambdakit.local import iam_guard
        print(BUILTIN_HANDLERS == before, iam_guard.installed())
    """)
        == "True False"
    )


def test_the_guard_is_installed_by_a_backend_and_removed_after() -> None:
    assert (
        _run("""
        from botocore.handlers import BUILTIN_HANDLERS
        from lambdakit.local.backend import Backend
        ours = lambda: sum(getattr(h[1], "__module__", "") == "lambdakit.local.iam_guard" for h in BUILTIN_HANDLERS)
        with Backend():
            during = ours()
        print(during, ours())
    """)
        == "2 0"
    )


def test_the_client_works_without_pytest(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"app.py": SHOP})
    assert (
        _run(f"""
        import sys
        sys.modules["pytest"] = None  # importing pytest now fails
        sys.path.insert(0, {str(tmp_path)!r})
        from lambdakit.testing import Client
        with Client({package!r}) as client:
            print(client.get("/orders/o-1").status, client.post("/bulk", json={{"a": 1}}).status)
    """)
        == "200 202"
    )


def test_the_shipped_runtime_imports_nothing_build_time() -> None:
    loaded = _run("""
        import os, sys
        os.environ["LAMBDAKIT_FUNCTION"] = "example_app.catalog.products:list_products"
        import lambdakit.entry
        print(" ".join(sorted(m for m in sys.modules if m.startswith("lambdakit."))))
    """).split()
    assert not [
        m for m in loaded if m.split(".")[1] in ("derive", "local", "testing", "discovery", "build", "cli", "deploy")
    ]
    assert all(
        m.split(".")[1] in ("core", "declare", "runtime", "entry", "errors", "identity", "response") for m in loaded
    )


def test_a_typed_app_that_subclasses_http_errors_passes_mypy_strict(tmp_path: Path) -> None:
    app = tmp_path / "typed_app.py"
    app.write_text(
        textwrap.dedent("""
        import lambdakit as lk
        from pydantic import BaseModel

        orders = lk.Table("orders", key="order_id")

        class Order(BaseModel):
            order_id: str

        class OrderMissing(lk.NotFound):
            code = "order_missing"

        @lk.route("GET", "/orders/{order_id}", reads=[orders])
        def get_order(order_id: str) -> Order:
            item = orders.get(order_id=order_id)
            if item is None:
                raise OrderMissing(f"no order {order_id}")
            return Order(**item)

        @lk.authorizer(ttl=60)
        def partner_key(token: str) -> lk.Identity | None:
            return lk.Identity(subject=token) if token == "k" else None

        status: int = OrderMissing.status
        order: Order = get_order("o-1")
    """)
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(app)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
