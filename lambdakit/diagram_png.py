"""PNG and SVG of the architecture diagram, drawn with AWS's icons through the `diagrams` package.

The graph is `lambdakit.derive.diagram.graph_of(plan)`, the same one the
Mermaid text is written from; this module only picks an icon per node kind
and a line style per edge kind. `diagrams` (the `lambdakit[diagram]` extra)
and Graphviz's `dot` are imported and looked for only here, when a picture is
asked for, so the rest of lambdakit never needs them. An SVG gets its icons
inlined, so the file stands alone.
"""

from __future__ import annotations

import base64
import importlib
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from lambdakit.derive.diagram import EdgeKind, Graph, NodeKind

FORMATS = ("png", "svg")
INSTALL = "pip install 'lambdakit[diagram]'"
INSTALL_DOT = "apt-get install graphviz (or brew install graphviz)"

#: The `diagrams` class of each node kind: (module, class); None draws a plain rounded box.
ICONS: dict[NodeKind, tuple[str, str] | None] = {
    "clients": ("diagrams.aws.general", "Users"),
    "cloudfront": ("diagrams.aws.network", "CloudFront"),
    "behavior": None,
    "bucket": ("diagrams.aws.storage", "S3"),
    "origin": ("diagrams.aws.general", "InternetAlt1"),
    "api": ("diagrams.aws.network", "APIGateway"),
    "route": None,
    "pool": ("diagrams.aws.security", "Cognito"),
    "iam": ("diagrams.aws.security", "IAM"),
    "function": ("diagrams.aws.compute", "Lambda"),
    "table": ("diagrams.aws.database", "Dynamodb"),
    "queue": ("diagrams.aws.integration", "SQS"),
    "dead_letter": ("diagrams.aws.integration", "SQS"),
    "stream": ("diagrams.aws.analytics", "KinesisDataStreams"),
}
#: Graphviz edge attributes per kind; docs/diagram.md's legend describes the same.
STYLES: dict[EdgeKind, dict[str, str]] = {
    "request": {"color": "#545b64"},
    "guards": {"color": "#dd344c", "style": "dotted", "arrowhead": "odot"},
    "reads": {"color": "#2e73b8", "style": "dashed"},
    "writes": {"color": "#ed7100", "style": "bold", "penwidth": "2.5"},
    "reads_writes": {"color": "#ed7100", "style": "bold", "penwidth": "2.5"},
    "triggers": {"color": "#8c4fff"},
    "redrive": {"color": "#dd344c"},
}
_BOX = {
    "shape": "box",
    "style": "rounded,filled",
    "fillcolor": "#f3f3f3",
    "fixedsize": "false",
    "width": "1.6",
    "height": "0.5",
    "labelloc": "c",
    "margin": "0.15,0.08",
}


class MissingDependency(Exception):
    """What is missing to draw a picture, and the command that installs it."""


def missing() -> str | None:
    """Why a PNG/SVG cannot be drawn on this machine, in one line; None when it can."""
    try:
        importlib.import_module("diagrams")
    except ImportError:
        return f"PNG and SVG need the diagrams package: {INSTALL}, and Graphviz's dot: {INSTALL_DOT}"
    if shutil.which("dot") is None:
        return f"PNG and SVG need Graphviz's dot, not found on PATH: {INSTALL_DOT}; the Python side: {INSTALL}"
    return None


def render(graph: Graph, form: str) -> bytes:
    """The picture of `graph` as PNG or SVG bytes; raises `MissingDependency` without diagrams or dot."""
    if form not in FORMATS:
        raise ValueError(f"format {form!r}: use one of {', '.join(FORMATS)}")
    problem = missing()
    if problem is not None:
        raise MissingDependency(problem)
    diagrams: Any = importlib.import_module("diagrams")
    with tempfile.TemporaryDirectory(prefix="lambdakit-diagram-") as folder:
        base = Path(folder) / "diagram"
        graph_attr = {"splines": "spline", "nodesep": "0.5", "ranksep": "1.2", "pad": "0.4", "fontsize": "20"}
        with diagrams.Diagram(
            graph.title,
            filename=str(base),
            outformat=form,
            show=False,
            direction="LR",
            graph_attr=graph_attr,
        ):
            nodes = _place(diagrams, graph, None)
            for edge in graph.edges:
                label = edge.label.replace(", ", ",\n") if len(edge.label) > 30 else edge.label
                nodes[edge.source] >> diagrams.Edge(label=label, **STYLES[edge.kind]) >> nodes[edge.target]
        data = base.with_suffix("." + form).read_bytes()
    return _inline_icons(data) if form == "svg" else data


def _place(diagrams: Any, graph: Graph, group: str | None) -> dict[str, Any]:
    """Create the nodes in `group` and its clusters, depth first, in the graph's (sorted) order."""
    made: dict[str, Any] = {}
    groups, nodes = graph.children(group)
    for node in nodes:
        icon = ICONS[node.kind]
        if icon is None:
            made[node.id] = diagrams.Node(node.label, nodeid=node.id, **_BOX)
        else:
            kind = getattr(importlib.import_module(icon[0]), icon[1])
            made[node.id] = kind(node.label, nodeid=node.id)
    for child in groups:
        with diagrams.Cluster(child.label) as cluster:
            # Graphviz merges clusters of one name; the label may repeat (a mounted service), the id does not.
            cluster.name = "cluster_" + child.id
            cluster.dot.name = cluster.name
            made.update(_place(diagrams, graph, child.id))
    return made


def _inline_icons(svg: bytes) -> bytes:
    """Replace each icon's absolute file path (valid on this machine only) with the icon itself."""

    def data_uri(match: re.Match[bytes]) -> bytes:
        path = Path(match.group(2).decode())
        if not path.is_file():
            return match.group(0)
        encoded = base64.b64encode(path.read_bytes())
        return match.group(1) + b"data:image/png;base64," + encoded + b'"'

    return re.sub(rb'(xlink:href=")([^"]+\.png)"', data_uri, svg)
