"""Lambda@Edge artifacts: only what the edge function imports, within the event's size limit.

An edge artifact holds:

- `lambdakit/__init__.py`, a stub (`lambdakit/edge/stub.py`): `import lambdakit as lk` and `@lk.edge`
  work, nothing else of lambdakit is there (no pydantic, no Powertools, no declarations);
- `lambdakit/edge/*.py`: the handler, lambdakit's rewrites, the built-ins (standard library only);
- the user's module and the modules of the user's own package it imports, found by reading their
  imports (`ast`, so nothing runs): the packages above them ship without their `__init__.py` (as
  namespace packages), unless a module imports a name the `__init__` itself defines;
- `lambdakit_edge.json`: `{"module", "function", "event", "config"}` (Lambda@Edge has no environment).

An import of anything else (a third-party package, lambdakit's own declarations) is a build error:
a Lambda@Edge package has 1 MB for viewer events, and CloudFront copies it worldwide. So is an
artifact over the event's limit (1 MB viewer, 50 MB origin), naming the function, its size and what
fills it.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lambdakit.declare.app import App
from lambdakit.derive.edge import EdgeFunctionPlan
from lambdakit.packaging.artifact import Artifact
from lambdakit.packaging.zipfiles import reproducible_zip

CONFIG_FILE = "lambdakit_edge.json"
_EDGE_DIR = Path(__file__).resolve().parent.parent / "edge"


def edge_artifact(app: App, fn: EdgeFunctionPlan, out: Path, config: dict[str, Any] | None = None) -> Artifact:
    """Build `out/<fn.artifact_name>` for one edge function; `config` is a built-in's, known at deploy."""
    from lambdakit.discovery import BuildError

    entries: dict[str, bytes | Path] = dict(runtime_entries())
    if fn.module is not None:
        try:
            entries.update(module_entries(fn.module))
        except ImportProblem as exc:
            raise BuildError([f"{_where(app, fn)}: {exc}"]) from None
    settings: dict[str, Any] = {"steps": [[name, dict(options)] for name, options in fn.steps]}
    settings.update(config or {})
    document = {"module": fn.module, "function": fn.function, "event": fn.event, "config": settings}
    entries[CONFIG_FILE] = (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()
    artifact = reproducible_zip(entries, out / fn.artifact_name, fn.artifact_name)
    limit = fn.limits.package
    if artifact.size > limit:
        largest = ", ".join(f"{name} {size // 1024} KB" for name, size in artifact.contents[:3])
        article = "an" if fn.event.startswith("origin") else "a"
        hint = "; import less, or move the work to an origin event (50 MB)" if fn.event.startswith("viewer") else ""
        raise BuildError(
            [
                f"{_where(app, fn)}: its Lambda@Edge package is {artifact.size / 1024 / 1024:.2f} MB zipped; "
                f"{article} {fn.event} function's may be {limit // (1024 * 1024)} MB (largest: {largest}){hint}"
            ]
        )
    return artifact


def stamped(template: dict[str, Any], fn: EdgeFunctionPlan, artifact: Artifact, code_uri: str) -> dict[str, Any]:
    """The edge template with the function's code: its CodeUri, and the artifact's sha256, from which SAM
    decides whether to publish a new numbered version (`AutoPublishCodeSha256`)."""
    properties = template["Resources"][fn.logical_id]["Properties"]
    properties["CodeUri"] = code_uri
    properties["AutoPublishCodeSha256"] = artifact.sha256
    return template


def runtime_entries() -> Iterator[tuple[str, bytes | Path]]:
    """lambdakit's part of every edge artifact: the stub package and the edge runtime."""
    yield "lambdakit/__init__.py", (_EDGE_DIR / "stub.py").read_bytes()
    for path in sorted(_EDGE_DIR.glob("*.py")):
        if path.name != "stub.py":
            yield f"lambdakit/edge/{path.name}", path


class ImportProblem(Exception):
    """An edge module imports what its artifact cannot hold."""


def module_entries(module: str) -> dict[str, Path]:
    """The user's module and every module of its own top-level package it imports, by archive name."""
    root = module.split(".")[0]
    found: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ImportProblem(f"cannot find the module {name}")
        path = Path(spec.origin)
        if path.suffix != ".py":
            raise ImportProblem(f"{name} is not a Python source file ({path.name}); an edge artifact holds source")
        is_package = spec.submodule_search_locations is not None
        archive = name.replace(".", "/") + ("/__init__.py" if is_package else ".py")
        if archive in found:
            continue
        found[archive] = path
        package = name if is_package else name.rpartition(".")[0]
        for wanted in imports_of(path, package):
            top = wanted.split(".")[0]
            if top == root:
                pending.append(wanted)  # its parent packages ship as namespace packages
            elif top == "lambdakit":
                if wanted not in ("lambdakit", "lambdakit.edge") and not wanted.startswith("lambdakit.edge."):
                    raise ImportProblem(
                        f"{path.name} imports {wanted}: an edge function's module may use `import lambdakit as lk` "
                        "and lk.edge only (declare routes, tables and sites in other modules)"
                    )
            elif top not in sys.stdlib_module_names:
                raise ImportProblem(
                    f"{path.name} imports {top}, which is neither the standard library nor {root}; a Lambda@Edge "
                    "package holds only those (1 MB for viewer events, copied to every edge location): copy the "
                    "little you need into your package"
                )
    return found


def imports_of(path: Path, package: str) -> list[str]:
    """The absolute names a module imports (relative ones resolved; `if TYPE_CHECKING:` blocks skipped).

    `from a.b import c` gives `a.b.c` when that is a module, else `a.b` (the name is defined there).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[str] = []
    for node in _runtime_nodes(tree.body):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base == "__future__":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                out.append(candidate if alias.name != "*" and _is_module(candidate) else base)
    return out


def _runtime_nodes(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for node in body:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _runtime_nodes(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                nested = [c for c in children if isinstance(c, ast.stmt)]
                nested += [s for h in children if isinstance(h, ast.ExceptHandler) for s in h.body]
                yield from _runtime_nodes(nested)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _where(app: App, fn: EdgeFunctionPlan) -> str:
    for spec in app.edge_functions:
        if spec.logical_id == fn.logical_id:
            return spec.where
    return f"{app.package} ({fn.name})"
