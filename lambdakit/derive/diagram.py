"""The architecture diagram: a graph derived from the plan alone, and its Mermaid text.

`graph_of(plan)` draws the service as the serverless patterns are drawn:
callers -> CloudFront (when there is a site) -> API Gateway (routes grouped by
module, each guarded by its authorizer) -> one box per function -> the tables,
queues (and their dead-letter queues) and streams each touches. Storage-first
routes go from API Gateway straight into their queue or stream, which then
triggers the function. Nothing is drawn by hand, so the picture cannot drift
from what deploys. With `iam=True` every edge a function's policy covers is
labelled with the actions that policy grants (`derive.iam.statements`), so
least privilege shows.

Node ids are the plan's logical ids (`OrdersTable`, `CreateOrderFunction`),
prefixed for a mounted service, and everything is sorted: the same plan gives
byte-identical text. `mermaid(graph)` needs no dependency; the PNG/SVG
renderer (`lambdakit.diagram_png`) reads the same graph.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from lambdakit.core.names import camel
from lambdakit.declare.auth import IAM, Cognito, Public
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive import iam as policies
from lambdakit.derive.plan import API_ID, FunctionPlan, Plan, QueuePlan, StreamPlan, plan_of
from lambdakit.derive.site import BUCKET, DISTRIBUTION, Behavior, SitePlan
from lambdakit.derive.storage import ingest_role

NodeKind = Literal[
    "clients",
    "cloudfront",
    "behavior",
    "bucket",
    "origin",
    "api",
    "route",
    "pool",
    "iam",
    "function",
    "table",
    "queue",
    "dead_letter",
    "stream",
]
EdgeKind = Literal["request", "guards", "reads", "writes", "reads_writes", "triggers", "redrive"]
GroupKind = Literal[
    "site", "bucket", "origin", "mount", "api", "routes", "auth", "functions", "tables", "queues", "streams"
]

#: The order groups and nodes are written in: the way a request flows, left to right.
_NODE_ORDER: tuple[NodeKind, ...] = (
    "clients",
    "cloudfront",
    "behavior",
    "bucket",
    "origin",
    "api",
    "route",
    "pool",
    "iam",
    "function",
    "table",
    "queue",
    "dead_letter",
    "stream",
)
_GROUP_ORDER: tuple[GroupKind, ...] = (
    "site",
    "bucket",
    "origin",
    "mount",
    "api",
    "routes",
    "auth",
    "functions",
    "tables",
    "queues",
    "streams",
)
#: The word on an edge when `iam=False`; with `iam=True` a function's edges carry its actions instead.
WORDS: dict[EdgeKind, str] = {
    "request": "",
    "guards": "guards",
    "reads": "reads",
    "writes": "writes",
    "reads_writes": "reads, writes",
    "triggers": "triggers",
    "redrive": "",
}
_REF = re.compile(r"\$\{([A-Za-z][A-Za-z0-9]*)(?:\.Arn)?\}")


@dataclass(frozen=True)
class Group:
    """A box around nodes (a subgraph, a Graphviz cluster); `parent` nests it."""

    id: str
    kind: GroupKind
    label: str
    parent: str | None


@dataclass(frozen=True)
class Node:
    """One thing in the architecture; `label` lines are separated by newlines."""

    id: str
    kind: NodeKind
    label: str
    group: str | None
    order: str = ""  # sorts nodes of one kind in a group (routes by path, then method)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str


@dataclass(frozen=True)
class Graph:
    """The diagram of one service (and the services its site mounts), every tuple sorted."""

    title: str
    groups: tuple[Group, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def children(self, group: str | None) -> tuple[tuple[Group, ...], tuple[Node, ...]]:
        """The groups and nodes directly inside `group` (None: the top level)."""
        return (
            tuple(g for g in self.groups if g.parent == group),
            tuple(n for n in self.nodes if n.group == group),
        )


def _rank(kind: NodeKind) -> int:
    """A dead-letter queue is written right after its queue."""
    return _NODE_ORDER.index("queue" if kind == "dead_letter" else kind)


def short(action: str) -> str:
    """`dynamodb:GetItem` -> `GetItem`: the service is the resource's own, drawn by its box."""
    return action.split(":", 1)[-1]


def _actions(statements: list[policies.Statement]) -> dict[str, set[str]]:
    """The actions granted on each logical id the statements name (logs and X-Ray have no box)."""
    out: dict[str, set[str]] = defaultdict(set)
    for statement in statements:
        for resource in statement.resources:
            for match in _REF.finditer(resource):
                out[match.group(1)].update(statement.actions)
    return out


def _label(actions: set[str] | tuple[str, ...]) -> str:
    return ", ".join(sorted({short(a) for a in actions}))


class _Builder:
    """Collects one service's groups, nodes and edges; a mounted service is built again under a prefix."""

    def __init__(self, iam: bool) -> None:
        self.iam = iam
        self.groups: dict[str, Group] = {}
        self.nodes: dict[str, Node] = {}
        self.edges: set[Edge] = set()

    def group(self, gid: str, kind: GroupKind, label: str, parent: str | None) -> str:
        self.groups.setdefault(gid, Group(gid, kind, label, parent))
        return gid

    def node(self, nid: str, kind: NodeKind, label: str, group: str | None, order: str = "") -> str:
        self.nodes.setdefault(nid, Node(nid, kind, label, group, order))
        return nid

    def edge(self, source: str, target: str, kind: EdgeKind, label: str | None = None) -> None:
        self.edges.add(Edge(source, target, kind, WORDS[kind] if label is None else label))

    def graph(self, title: str) -> Graph:
        groups = sorted(self.groups.values(), key=lambda g: (_GROUP_ORDER.index(g.kind), g.id))
        nodes = sorted(self.nodes.values(), key=lambda n: (_rank(n.kind), n.order, n.id))
        rank = {n.id: _rank(n.kind) for n in nodes}
        edges = sorted(self.edges, key=lambda e: (rank[e.source], e.source, rank[e.target], e.target, e.kind, e.label))
        return Graph(title, tuple(groups), tuple(nodes), tuple(edges))

    # -- one service --------------------------------------------------------------------------------

    def service(self, plan: Plan, prefix: str = "", parent: str | None = None) -> str | None:
        """Draw `plan`'s API, functions and resources; returns the API node's id (None without routes)."""
        p = prefix
        api = None
        if plan.has_api:
            service = plan.app.service
            api_group = self.group(p + "ApiGroup", "api", "API Gateway", parent)
            label = f"REST API {service.name}\nstage /{service.stage}"
            if service.domain is not None and not service.cdn:  # its Regional custom domain (derive/domains.py)
                label += f"\nat {service.domain}/{service.base_path or ''}"
            api = self.node(p + API_ID, "api", label, api_group)
        functions = self.group(p + "FunctionsGroup", "functions", "Lambda", parent)
        for fn in plan.functions:
            label = fn.name + ("\nauthorizer" if fn.spec.kind == "authorizer" else "")
            self.node(p + fn.logical_id, "function", label, functions)
        self._resources(plan, p, parent)
        for pool in plan.pools:
            self._pool(pool, p, parent)
        for fn in plan.functions:
            if fn.spec.kind == "http" and fn.spec.route is not None and api is not None:
                self._route(plan, fn, api, p, parent)
            self._touches(fn, p)
        return api

    def _resources(self, plan: Plan, p: str, parent: str | None) -> None:
        tables = list(plan.all_tables())
        if tables:
            group = self.group(p + "TablesGroup", "tables", "DynamoDB", parent)
            for table in tables:
                self.node(p + table.logical_id, "table", table.local_name, group)
        queues = list(plan.all_queues())
        if queues:
            group = self.group(p + "QueuesGroup", "queues", "SQS", parent)
            for queue in queues:
                self.node(p + queue.logical_id, "queue", queue.local_name, group, order=queue.logical_id)
                if queue.dead_letter is not None:
                    dead = queue.dead_letter
                    dlq = self.node(p + dead.logical_id, "dead_letter", dead.local_name, group, queue.logical_id + " ")
                    self.edge(p + queue.logical_id, dlq, "redrive", f"after {queue.max_receive} receives")
        if plan.streams:
            group = self.group(p + "StreamsGroup", "streams", "Kinesis", parent)
            for stream in plan.streams:
                self.node(p + stream.logical_id, "stream", stream.local_name, group)

    def _pool(self, pool: Cognito, p: str, parent: str | None) -> str:
        group = self.group(p + "AuthGroup", "auth", "Authorizers", parent)
        existing = "" if pool.arn is None else " (existing)"
        return self.node(p + pool.logical_id, "pool", f"Cognito {pool.name}{existing}", group)

    def _route(self, plan: Plan, fn: FunctionPlan, api: str, p: str, parent: str | None) -> None:
        spec = fn.spec
        route = spec.route
        assert route is not None
        module = spec.module.rsplit(".", 1)[-1]
        group = self.group(p + "Routes" + camel(module) + "Group", "routes", module, p + "ApiGroup")
        notes = []
        auth = plan.app.effective_auth(spec)
        if auth is None or isinstance(auth, Public):
            notes.append("public")
        if route.api_key:
            notes.append("API key")
        if route.cache:
            notes.append(f"cached {route.cache}s")
        label = f"{route.method} {route.path}" + ("\n" + ", ".join(notes) if notes else "")
        node = self.node(p + camel(spec.name) + "Route", "route", label, group, order=f"{route.path} {route.method}")
        self.edge(api, node, "request")
        self._guard(auth, node, p, parent)
        if spec.storage_first and fn.trigger is not None:
            # API Gateway stores the request itself (its ingest role); no function runs on the way in.
            role = ingest_role(fn)["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
            actions = role["Action"] if isinstance(role["Action"], list) else [role["Action"]]
            self.edge(node, p + fn.trigger.source.logical_id, "writes", _label(tuple(actions)) if self.iam else None)
        else:
            self.edge(node, p + fn.logical_id, "request")

    def _guard(self, auth: object, route: str, p: str, parent: str | None) -> None:
        if isinstance(auth, Cognito):
            scopes = " ".join(auth.required_scopes)
            self.edge(self._pool(auth, p, parent), route, "guards", f"guards, scope {scopes}" if scopes else None)
        elif isinstance(auth, FunctionSpec):
            self.edge(p + auth.logical_id, route, "guards")
        elif auth == IAM:
            group = self.group(p + "AuthGroup", "auth", "Authorizers", parent)
            self.edge(self.node(p + "IamAuth", "iam", "IAM (SigV4)", group), route, "guards")

    def _touches(self, fn: FunctionPlan, p: str) -> None:
        """The function's trigger and every resource its policy covers, each edge once."""
        node = p + fn.logical_id
        statements = policies.statements(fn)
        trigger = _actions([s for s in statements if s.sid.startswith("ConsumeTrigger")])
        data = _actions([s for s in statements if not s.sid.startswith("ConsumeTrigger")])
        if fn.trigger is not None:
            source: QueuePlan | StreamPlan = fn.trigger.source
            iam_label = _label(trigger[source.logical_id]) if self.iam else None
            self.edge(p + source.logical_id, node, "triggers", iam_label)
        if fn.failure_queue is not None:
            queue = fn.failure_queue.logical_id
            self.edge(node, p + queue, "writes", _label(data[queue]) if self.iam else "on failure")
        if fn.idempotency_table is not None:
            table = fn.idempotency_table.logical_id
            self.edge(node, p + table, "reads_writes", _label(data[table]) if self.iam else "idempotency")
        spec = fn.spec
        for res in spec.resources:
            kind: EdgeKind = "reads_writes" if res in spec.reads and res in spec.writes else "reads"
            if res not in spec.reads:
                kind = "writes"
            self.edge(node, p + res.logical_id, kind, _label(data[res.logical_id]) if self.iam else None)

    # -- the site -------------------------------------------------------------------------------------

    def site(self, plan: Plan, site: SitePlan, api: str | None) -> str:
        """Draw the distribution, its behaviors and origins; returns the distribution's node id."""
        where = site.domain or "*.cloudfront.net"
        group = self.group("SiteGroup", "site", f"CloudFront {where}", None)
        distribution = self.node(DISTRIBUTION, "cloudfront", f"distribution\n{where}", group)
        for behavior in (*site.behaviors, site.default):
            node = self._behavior(behavior, group)
            self.edge(distribution, node, "request")
            origin = behavior.origin
            if origin.kind == "s3":
                bucket_group = self.group("SiteBucketGroup", "bucket", "S3 origin", None)
                folder = site.frontend.folder if site.frontend is not None else ""
                target = self.node(BUCKET, "bucket", f"site bucket\n{folder}".rstrip(), bucket_group)
            elif origin.kind == "api":
                assert api is not None
                target = api
            elif origin.kind == "mount":
                target = self._mount(plan, behavior)
            else:
                oid = "Site" + camel(origin.id) + "Origin"
                origin_group = self.group(oid + "Group", "origin", f"HTTPS origin {origin.domain}", None)
                port = "" if origin.port == 443 else f":{origin.port}"
                target = self.node(oid, "origin", f"https://{origin.domain}{port}{origin.path}", origin_group)
            self.edge(node, target, "request")
        return distribution

    def _behavior(self, behavior: Behavior, group: str) -> str:
        if behavior.path is None:
            spa = behavior.origin.kind == "s3"
            label = "/* (default)" + ("\nSPA fallback" if spa else "")
            return self.node("SiteBehaviorDefault", "behavior", label, group, order="~")
        label = ", ".join(behavior.patterns) + (f"\nstrips {behavior.strip}" if behavior.strip else "")
        bid = "SiteBehavior" + camel(behavior.path.strip("/").replace("/", "-"))
        return self.node(bid, "behavior", label, group, order=behavior.path)

    def _mount(self, plan: Plan, behavior: Behavior) -> str:
        """A mounted package: its own service, drawn whole in its own group, reached through the distribution."""
        path = behavior.path or ""
        prefix = camel(path.strip("/").replace("/", "-")) + "_"
        mounted = plan.app.mounted.get(path)
        if mounted is None:  # not discovered (a plan made without discovery): the origin alone
            group = self.group(prefix + "Group", "mount", f"mounted at {path}", None)
            return self.node(prefix + API_ID, "api", f"mounted service\n{path}", group)
        group = self.group(prefix + "Group", "mount", f"service {mounted.service.name} (mounted at {path})", None)
        api = self.service(plan_of(mounted), prefix, group)
        assert api is not None  # discovery refuses a mounted package without routes
        return api


def graph_of(plan: Plan, iam: bool = False) -> Graph:
    """The plan's diagram; `iam=True` labels each function's edges with the actions its policy grants."""
    builder = _Builder(iam)
    api = builder.service(plan)
    served = plan.site is not None and any(b.origin.kind == "api" for b in (*plan.site.behaviors, plan.site.default))
    entry = builder.site(plan, plan.site, api) if plan.site is not None else None
    if entry is not None or api is not None:
        clients = builder.node("Clients", "clients", "Browser / clients" if plan.site else "Clients", None)
        if entry is not None:
            builder.edge(clients, entry, "request")
        if api is not None and not served:  # no behavior forwards to the API: it is called at its own URL
            builder.edge(clients, api, "request")
    return builder.graph(plan.app.service.name)


# -- Mermaid ----------------------------------------------------------------------------------------

#: Mermaid's shape for each kind: (opening, closing) around the quoted label.
_SHAPES: dict[NodeKind, tuple[str, str]] = {
    "clients": ("([", "])"),
    "cloudfront": ("[", "]"),
    "behavior": ("(", ")"),
    "bucket": ("[(", ")]"),
    "origin": (">", "]"),
    "api": ("[", "]"),
    "route": ("(", ")"),
    "pool": ("{{", "}}"),
    "iam": ("{{", "}}"),
    "function": ("[", "]"),
    "table": ("[(", ")]"),
    "queue": ("[[", "]]"),
    "dead_letter": ("[[", "]]"),
    "stream": ("[/", "/]"),
}
#: How each edge kind is drawn; the legend in the output and in docs/diagram.md says the same.
ARROWS: dict[EdgeKind, str] = {
    "request": "-->",
    "guards": "--o",
    "reads": "-.->",
    "writes": "==>",
    "reads_writes": "==>",
    "triggers": "-->",
    "redrive": "-->",
}
#: Colours of AWS's icons, so the text diagram reads like the PNG.
_CLASSES: dict[str, str] = {
    "cdn": "fill:#f3e8fd,stroke:#8c4fff",
    "api": "fill:#fde7f0,stroke:#e7157b",
    "auth": "fill:#fde8e8,stroke:#dd344c",
    "lambda": "fill:#fff2e0,stroke:#ed7100",
    "dynamodb": "fill:#e6ecfa,stroke:#2e27ad",
    "sqs": "fill:#fde7f0,stroke:#e7157b",
    "dlq": "fill:#fde7f0,stroke:#e7157b,stroke-dasharray:4 3",
    "kinesis": "fill:#f3e8fd,stroke:#8c4fff",
    "s3": "fill:#e9f5e3,stroke:#3f8624",
    "external": "fill:#f2f2f2,stroke:#545b64",
}
_CLASS_OF: dict[NodeKind, str] = {
    "clients": "external",
    "cloudfront": "cdn",
    "behavior": "cdn",
    "bucket": "s3",
    "origin": "external",
    "api": "api",
    "route": "api",
    "pool": "auth",
    "iam": "auth",
    "function": "lambda",
    "table": "dynamodb",
    "queue": "sqs",
    "dead_letter": "dlq",
    "stream": "kinesis",
}
LEGEND = (
    "legend: A --> B a request (or a trigger: queue/stream --> consumer); A -.-> B reads;",
    "A ==> B writes (reads, writes when both); pool/authorizer --o route guards it;",
    "queue --> dead-letter queue after N receives; labels with --iam are the actions the policy grants",
)


def _text(value: str) -> str:
    """A label inside Mermaid's quotes: its entity codes for the characters that end or break one."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;")):
        value = value.replace(char, code)
    return value.replace("\n", "<br/>")


def mermaid(graph: Graph) -> str:
    """`flowchart LR` text, subgraphs for groups; ends with a newline."""
    lines = ["flowchart LR", f"%% {graph.title}: generated by `lambdakit diagram` from the plan; do not edit"]
    lines += [f"%% {line}" for line in LEGEND]

    def emit(group: str | None, depth: int) -> None:
        indent = "    " * depth
        groups, nodes = graph.children(group)
        for node in nodes:
            opening, closing = _SHAPES[node.kind]
            lines.append(f'{indent}{node.id}{opening}"{_text(node.label)}"{closing}')
        for child in groups:
            lines.append(f'{indent}subgraph {child.id}["{_text(child.label)}"]')
            emit(child.id, depth + 1)
            lines.append(f"{indent}end")

    emit(None, 1)
    for edge in graph.edges:
        arrow = ARROWS[edge.kind]
        label = f'|"{_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    used = sorted({_CLASS_OF[n.kind] for n in graph.nodes})
    lines += [f"    classDef {name} {_CLASSES[name]}" for name in used]
    for name in used:
        members = ",".join(n.id for n in graph.nodes if _CLASS_OF[n.kind] == name)
        lines.append(f"    class {members} {name}")
    return "\n".join(lines) + "\n"
