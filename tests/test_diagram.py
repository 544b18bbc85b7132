"""`lambdakit diagram`: the graph drawn from the plan, its Mermaid text, and the PNG/SVG through `diagrams`.

Every expectation is worked out from the plan (or `iam.statements`) here, not read back from the
graph, so a piece the diagram forgets fails. Real outputs throughout: the CLI runs in-process
(click's runner) or in a subprocess, and Graphviz draws the pictures when it is installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdakit.cli import main
from lambdakit.declare.app import App
from lambdakit.declare.auth import Public
from lambdakit.derive.diagram import Graph, graph_of, mermaid
from lambdakit.derive.iam import arn, statements, table_arn
from lambdakit.derive.plan import FunctionPlan, Plan, plan_of
from lambdakit.discovery import discover
from tests.apps import write_package

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "example_app.shop"

CATALOG = """
import lambdakit as lk

service = lk.Service("catalog")
items = lk.Table("items", key="sku")

@lk.route("GET", "/items", reads=[items])
def list_items() -> list[str]:
    return []
"""

FRONT = """
import lambdakit as lk

service = lk.Service("front", stage="v1")
site = lk.Frontend("web/dist", domain="www.example.com")
site.mount("/api/catalog", {catalog!r})
site.mount("/api/partners", origin="https://partners.example.net/v1")

existing = lk.Cognito(arn="arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC")
clicks = lk.Stream("clicks")
jobs = lk.Queue("jobs", fifo=True)
ledger = lk.Table("ledger", key="id")

@lk.route("GET", "/ledger/{{id}}", reads=[ledger], auth="iam")
def read_entry(id: str) -> dict[str, str]:
    return {{}}

@lk.route("POST", "/ledger", reads=[ledger], writes=[ledger, jobs], auth=existing)
def add_entry(body: dict[str, str]) -> None:
    pass

@lk.consume(clicks, writes=[ledger])
def count_click(record: dict[str, str]) -> None:
    pass

@lk.consume(jobs, reads=[ledger], idempotent=True)
def run_job(message: dict[str, str]) -> None:
    pass
"""

WORKER = """
import lambdakit as lk

service = lk.Service("worker")
events = lk.Queue("events")

@lk.route("GET", "/health", auth=lk.PUBLIC)
def health() -> dict[str, str]:
    return {"ok": "yes"}

@lk.consume(events)
def handle(message: dict[str, str]) -> None:
    pass
"""

CDN = """
import lambdakit as lk

service = lk.Service("edge", cdn=True)

@lk.route("GET", "/ping")
def ping() -> str:
    return "pong"
"""

SITE_FILES = {"web/dist/index.html": "<!doctype html><title>front</title>"}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("diagram_apps")
    catalog = write_package(root, {"__init__.py": CATALOG})
    return {
        "catalog": catalog,
        "front": write_package(root, {"__init__.py": FRONT.format(catalog=catalog), **SITE_FILES}),
        "worker": write_package(root, {"__init__.py": WORKER}),
        "cdn": write_package(root, {"__init__.py": CDN}),
        "root": str(root),
    }


@pytest.fixture(scope="module")
def shop() -> Plan:
    return plan_of(discover(EXAMPLE))


def text_of(plan: Plan, iam: bool = False) -> str:
    return mermaid(graph_of(plan, iam=iam))


def node_ids(text: str) -> set[str]:
    return set(re.findall(r"^\s+([A-Za-z][A-Za-z0-9_]*)[\[\(\{>]", text, re.M))


def subgraphs(text: str) -> dict[str, str]:
    return dict(re.findall(r'^\s+subgraph ([A-Za-z0-9_]+)\["([^"]*)"\]', text, re.M))


def edges(text: str) -> set[tuple[str, str, str, str]]:
    """(source, arrow, label, target) of every edge line."""
    found = re.findall(r'^    ([A-Za-z0-9_]+) (-->|-\.->|==>|--o)(?:\|"([^"]*)"\|)? ([A-Za-z0-9_]+)$', text, re.M)
    return {(s, a, label, t) for s, a, label, t in found}


def between(text: str, source: str, target: str) -> list[tuple[str, str]]:
    return [(a, label) for s, a, label, t in edges(text) if (s, t) == (source, target)]


def group_chain(graph: Graph, node_id: str) -> list[str]:
    """The groups around a node, innermost first."""
    parents = {g.id: g.parent for g in graph.groups}
    chain, group = [], graph.node(node_id).group
    while group is not None:
        chain.append(group)
        group = parents[group]
    return chain


def route_id(fn: FunctionPlan) -> str:
    return fn.logical_id.removesuffix("Function") + "Route"


# -- the example app: every piece of the plan is drawn -----------------------------------------------


def test_every_function_table_queue_stream_and_dead_letter_queue_is_a_node(shop: Plan) -> None:
    ids = node_ids(text_of(shop))
    assert {fn.logical_id for fn in shop.functions} <= ids
    assert {t.logical_id for t in shop.all_tables()} <= ids  # the idempotency tables too
    assert {q.logical_id for q in shop.all_queues()} <= ids  # storage-first and failure queues too
    assert {q.dead_letter.logical_id for q in shop.queues if q.dead_letter is not None} <= ids
    assert {s.logical_id for s in shop.streams} <= ids
    assert {p.logical_id for p in shop.pools} <= ids
    assert {"Clients", "Api"} <= ids
    assert ("SiteDistribution" in ids) == (shop.site is not None)


def test_routes_are_grouped_by_module_inside_api_gateway(shop: Plan) -> None:
    text = text_of(shop)
    groups = subgraphs(text)
    graph = graph_of(shop)
    routed = [fn for fn in shop.functions if fn.spec.route is not None]
    assert (
        {fn.spec.module.rsplit(".", 1)[-1] for fn in routed}
        == {label for gid, label in groups.items() if gid.startswith("Routes")}
        == {"customers", "orders", "partners"}  # the catalog is a service of its own, mounted by the site
    )
    for fn in routed:
        route = fn.spec.route
        assert route is not None
        assert f"{route.method} {route.path}" in graph.node(route_id(fn)).label
        assert group_chain(graph, route_id(fn))[1] == "ApiGroup"
        assert ("-->", "") in between(text, "Api", route_id(fn))


def test_authorizers_are_drawn_and_linked_to_the_routes_they_guard(shop: Plan) -> None:
    text = text_of(shop)
    app = shop.app
    for fn in shop.functions:
        if fn.spec.route is None:
            continue
        auth = app.effective_auth(fn.spec)
        guards = [(s, label) for s, a, label, t in edges(text) if t == route_id(fn) and a == "--o"]
        if auth is None or isinstance(auth, Public):
            assert guards == []
            assert "public" in graph_of(shop).node(route_id(fn)).label
        elif auth is app.function("partner_key"):
            assert guards == [("PartnerKeyFunction", "guards")]
        else:
            ((source, label),) = guards
            assert source == "ShopUsersUserPool"
            assert label == "guards"
    assert 'PartnerKeyFunction["partner_key<br/>authorizer"]' in text
    assert 'ShopUsersUserPool{{"Cognito shop-users"}}' in text


def test_the_example_is_reached_through_its_site_or_at_its_api(shop: Plan) -> None:
    """Whether the example has a site or not, callers reach its API the way the plan says."""
    text = text_of(shop)
    site = shop.site
    if site is None:
        assert between(text, "Clients", "Api") == [("-->", "")]
        assert "SiteDistribution" not in node_ids(text)
        return
    assert between(text, "Clients", "SiteDistribution") == [("-->", "")]
    behaviors = [n for n in graph_of(shop).nodes if n.kind == "behavior"]
    assert len(behaviors) == len(site.behaviors) + 1  # and the default behavior
    for behavior in site.behaviors:
        assert any(", ".join(behavior.patterns) in n.label for n in behaviors)
    if any(b.origin.kind == "api" for b in (*site.behaviors, site.default)):
        assert between(text, "Clients", "Api") == []
    if site.frontend is not None:
        assert between(text, "SiteBehaviorDefault", "SiteBucket") == [("-->", "")]


def test_reads_are_dashed_and_writes_thick(shop: Plan) -> None:
    text = text_of(shop)
    for fn in shop.functions:
        for res in fn.spec.resources:
            found = between(text, fn.logical_id, res.logical_id)
            if res in fn.spec.reads and res in fn.spec.writes:
                assert found == [("==>", "reads, writes")]
            elif res in fn.spec.reads:
                assert found == [("-.->", "reads")], (fn.name, res)
            else:
                assert found == [("==>", "writes")], (fn.name, res)
    assert ("-.->", "reads") in between(text, "GetOrderFunction", "OrdersTable")
    assert ("==>", "writes") in between(text, "CreateOrderFunction", "OrdersTable")


def test_a_storage_first_route_goes_from_api_gateway_into_its_queue_and_the_queue_triggers_the_function(
    shop: Plan,
) -> None:
    text = text_of(shop)
    graph = graph_of(shop)
    storage_first = [fn for fn in shop.functions if fn.spec.storage_first]
    assert {fn.name for fn in storage_first} == {"import_order", "record_click"}
    for fn in storage_first:
        assert fn.trigger is not None
        source = fn.trigger.source.logical_id
        assert between(text, route_id(fn), source) == [("==>", "writes")]
        assert "ApiGroup" in group_chain(graph, route_id(fn))
        assert between(text, route_id(fn), fn.logical_id) == []  # no function on the ingest path
        assert between(text, source, fn.logical_id) == [("-->", "triggers")]
    assert between(text, "ImportOrderRoute", "ImportOrderQueue") == [("==>", "writes")]
    assert between(text, "ImportOrderQueue", "ImportOrderDeadLetterQueue") == [("-->", "after 3 receives")]


def test_consumers_are_drawn_from_their_queue(shop: Plan) -> None:
    text = text_of(shop)
    audit = next(q for q in shop.queues if q.local_name == "audit")
    assert audit.consumer == "log_audit"
    assert between(text, "AuditQueue", "LogAuditFunction") == [("-->", "triggers")]
    assert between(text, "AuditQueue", "AuditDeadLetterQueue") == [("-->", f"after {audit.max_receive} receives")]
    assert between(text, "RecordClickFunction", "RecordClickFailureQueue") == [("==>", "on failure")]


def expected_actions(fn: FunctionPlan, resource_arn: str, trigger: bool = False) -> str:
    """The short actions `iam.statements` grants `fn` on one ARN: what the --iam label must say."""
    granted = {
        action.split(":", 1)[1]
        for s in statements(fn)
        if s.sid.startswith("ConsumeTrigger") == trigger and resource_arn in s.resources
        for action in s.actions
    }
    assert granted, (fn.name, resource_arn)
    return ", ".join(sorted(granted))


def test_iam_labels_are_exactly_the_actions_the_policy_grants(shop: Plan) -> None:
    text = text_of(shop, iam=True)
    checked = 0
    for fn in shop.functions:
        for res in fn.spec.resources:
            ((_, label),) = between(text, fn.logical_id, res.logical_id)
            assert label == expected_actions(fn, arn(res))
            checked += 1
        if fn.idempotency_table is not None:
            table = fn.idempotency_table.logical_id
            assert between(text, fn.logical_id, table) == [("==>", expected_actions(fn, table_arn(table)))]
        if fn.failure_queue is not None:
            queue = fn.failure_queue.logical_id
            assert between(text, fn.logical_id, queue) == [("==>", expected_actions(fn, f"${{{queue}.Arn}}"))]
        if fn.trigger is not None:
            source = fn.trigger.source.logical_id
            ((_, label),) = between(text, source, fn.logical_id)
            assert label == expected_actions(fn, f"${{{source}.Arn}}", trigger=True)
    assert checked == sum(len(fn.spec.resources) for fn in shop.functions) > 10
    assert ("-.->", "BatchGetItem, ConditionCheckItem, GetItem, Query, Scan") in between(
        text, "GetOrderFunction", "OrdersTable"
    )
    assert between(text, "AuditQueue", "LogAuditFunction") == [
        ("-->", "DeleteMessage, GetQueueAttributes, ReceiveMessage")
    ]
    # API Gateway's own role for a storage-first route: one action.
    assert between(text, "ImportOrderRoute", "ImportOrderQueue") == [("==>", "SendMessage")]
    assert between(text, "RecordClickRoute", "RecordClickStream") == [("==>", "PutRecord")]


def test_the_text_is_identical_across_runs_and_processes(shop: Plan) -> None:
    first = text_of(shop, iam=True)
    assert text_of(plan_of(discover(EXAMPLE)), iam=True) == first
    runs = []
    for seed in ("1", "2"):  # different hash seeds: nothing may depend on set or dict-of-id order
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-m", "lambdakit.cli", "diagram", EXAMPLE, "--iam"]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True)
        runs.append(done.stdout)
    assert runs[0] == runs[1] == first.encode()


# -- small apps: a mounted service, HTTPS origins, IAM and existing pools, consumers -----------------


def test_a_mounted_service_is_its_own_group_behind_the_one_domain(apps: dict[str, str]) -> None:
    app = discover(apps["front"])
    plan = plan_of(app)
    graph = graph_of(plan)
    text = mermaid(graph)
    groups = subgraphs(text)
    assert groups["ApiCatalog_Group"] == "service catalog (mounted at /api/catalog)"
    assert groups["SiteGroup"] == "CloudFront www.example.com"
    mounted = plan_of(app.mounted["/api/catalog"])
    for fn in mounted.functions:
        assert "ApiCatalog_Group" in group_chain(graph, "ApiCatalog_" + fn.logical_id)
    assert 'SiteBehaviorApiCatalog("/api/catalog, /api/catalog/*<br/>strips /api/catalog")' in text
    assert 'SiteBehaviorDefault("/* (default)<br/>SPA fallback")' in text
    assert between(text, "SiteBehaviorApiCatalog", "ApiCatalog_Api") == [("-->", "")]
    assert between(text, "ApiCatalog_ListItemsFunction", "ApiCatalog_ItemsTable") == [("-.->", "reads")]
    assert between(text, "ApiCatalog_ListItemsRoute", "ApiCatalog_ListItemsFunction") == [("-->", "")]
    # the other-account origin is its own group; the SPA's bucket and this service's API are there too
    assert groups["SiteMountApiPartnersOriginGroup"] == "HTTPS origin partners.example.net"
    assert 'SiteMountApiPartnersOrigin>"https://partners.example.net/v1"]' in text
    assert between(text, "SiteBehaviorApiPartners", "SiteMountApiPartnersOrigin") == [("-->", "")]
    assert between(text, "SiteBehaviorApi", "Api") == [("-->", "")]
    assert between(text, "SiteBehaviorDefault", "SiteBucket") == [("-->", "")]
    behaviors = {n.id for n in graph.nodes if n.kind == "behavior"}
    assert behaviors == {"SiteBehaviorApi", "SiteBehaviorApiCatalog", "SiteBehaviorApiPartners", "SiteBehaviorDefault"}
    assert plan.site is not None and len(plan.site.behaviors) + 1 == len(behaviors)


def test_iam_auth_existing_pools_and_consumers_of_streams_and_fifo_queues(apps: dict[str, str]) -> None:
    plan = plan_of(discover(apps["front"]))
    text = mermaid(graph_of(plan))
    assert between(text, "IamAuth", "ReadEntryRoute") == [("--o", "guards")]
    pool = next(n for n in node_ids(text) if n.endswith("UserPool"))
    assert between(text, pool, "AddEntryRoute") == [("--o", "guards")]
    assert "(existing)" in graph_of(plan).node(pool).label
    assert between(text, "AddEntryFunction", "LedgerTable") == [("==>", "reads, writes")]
    assert between(text, "ClicksStream", "CountClickFunction") == [("-->", "triggers")]
    assert between(text, "CountClickFunction", "CountClickFailureQueue") == [("==>", "on failure")]
    assert between(text, "JobsQueue", "RunJobFunction") == [("-->", "triggers")]
    assert between(text, "RunJobFunction", "RunJobIdempotencyTable") == [("==>", "idempotency")]
    assert 'JobsQueue[["jobs.fifo"]]' in text and 'JobsDeadLetterQueue[["jobs-dlq.fifo"]]' in text
    iam = mermaid(graph_of(plan, iam=True))
    add_entry = plan.function("add_entry")
    ledger = add_entry.spec.reads[0]
    assert between(iam, "AddEntryFunction", "LedgerTable") == [("==>", expected_actions(add_entry, arn(ledger)))]


def test_without_a_site_clients_call_the_api_and_consumers_hang_off_their_queue(apps: dict[str, str]) -> None:
    text = mermaid(graph_of(plan_of(discover(apps["worker"]))))
    assert between(text, "Clients", "Api") == [("-->", "")]
    assert "SiteDistribution" not in node_ids(text)
    assert between(text, "EventsQueue", "HandleFunction") == [("-->", "triggers")]
    assert 'HealthRoute("GET /health<br/>public")' in text


def test_cdn_puts_the_api_behind_cloudfront_as_its_default_behavior(apps: dict[str, str]) -> None:
    text = mermaid(graph_of(plan_of(discover(apps["cdn"]))))
    assert between(text, "Clients", "SiteDistribution") == [("-->", "")]
    assert between(text, "SiteBehaviorDefault", "Api") == [("-->", "")]
    assert between(text, "Clients", "Api") == []
    assert "SiteBucket" not in node_ids(text)


def test_format_follows_the_suffix_of_out(apps: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(main, ["diagram", apps["worker"]])
    assert printed.exit_code == 0 and printed.output.startswith("flowchart LR\n")
    for name in ("arch.md", "arch.mmd"):
        result = runner.invoke(main, ["diagram", apps["worker"], "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "arch.md").read_text() == f"```mermaid\n{printed.output}```\n"
    assert (tmp_path / "arch.mmd").read_text() == printed.output
    unknown = runner.invoke(main, ["diagram", apps["worker"], "--out", str(tmp_path / "arch.txt")])
    assert unknown.exit_code == 2 and "--format" in unknown.output
    no_file = runner.invoke(main, ["diagram", apps["worker"], "--format", "png"])
    assert no_file.exit_code == 2 and "--out" in no_file.output


# -- pictures ------------------------------------------------------------------------------------------

needs_graphviz = pytest.mark.skipif(
    shutil.which("dot") is None or importlib.util.find_spec("diagrams") is None,
    reason="PNG/SVG need Graphviz's dot and the diagrams package: apt-get install graphviz; "
    "pip install 'lambdakit[diagram]'",
)


@needs_graphviz
def test_png_and_svg_are_drawn_with_a_label_per_function(apps: dict[str, str], tmp_path: Path) -> None:
    app: App = discover(apps["front"])
    runner = CliRunner()
    png, svg = tmp_path / "out" / "front.png", tmp_path / "front.svg"
    for out, extra in ((png, []), (svg, ["--iam"])):
        result = runner.invoke(main, ["diagram", apps["front"], "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", text)
    names = [fn.name for fn in plan_of(app).functions] + [f.name for f in app.mounted["/api/catalog"].functions]
    for name in names:
        assert labels.count(name) == 1, name
    assert "data:image/png;base64," in text and 'xlink:href="/' not in text  # icons inlined: the file stands alone
    again = tmp_path / "again.svg"
    assert runner.invoke(main, ["diagram", apps["front"], "--out", str(again), "--iam"]).exit_code == 0
    assert again.read_bytes() == svg.read_bytes()  # Graphviz lays the same graph out the same way


def run_cli(args: list[str], env: dict[str, str], code: str = "") -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh interpreter: `code` runs first (e.g. to make an import fail as if not installed)."""
    program = f"import sys\n{code}\nfrom lambdakit.cli import main\nsys.argv = ['lambdakit', *{args!r}]\nmain()"
    return subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True)


def test_without_dot_the_error_is_one_line_naming_the_installs(apps: dict[str, str], tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path), "PYTHONPATH": apps["root"]}  # a PATH with no `dot` on it
    done = run_cli(["diagram", apps["worker"], "--out", str(tmp_path / "worker.png")], env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "dot" in line and "apt-get install graphviz" in line and "pip install 'lambdakit[diagram]'" in line
    assert not (tmp_path / "worker.png").exists()


def test_without_the_diagrams_package_the_error_names_the_extra(apps: dict[str, str], tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": apps["root"]}
    # `sys.modules[name] = None` is how Python itself marks a module as not importable.
    done = run_cli(["diagram", apps["worker"], "--out", str(tmp_path / "w.svg")], env, "sys.modules['diagrams'] = None")
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "pip install 'lambdakit[diagram]'" in line and "apt-get install graphviz" in line
    assert "Traceback" not in done.stderr


# -- the docs ----------------------------------------------------------------------------------------------


def test_the_doc_shows_the_example_as_the_command_draws_it(shop: Plan) -> None:
    doc = (ROOT / "docs" / "diagram.md").read_text()
    blocks = re.findall(r"```mermaid\n(.*?)```", doc, re.S)
    assert text_of(shop) in blocks, (
        "docs/diagram.md is out of date with the example app; regenerate its diagram with "
        "`lambdakit diagram example_app.shop` and paste it over the old one"
    )
