"""`lambdakit package`: the deployable artifacts of a service, built reproducibly.

One zip for the service's functions (they share one CodeUri, `SERVICE.zip`): the app's package
without tests, dotfiles, seed files, docs or the site folder; lambdakit's runtime part; the app's
declared dependencies and lambdakit's runtime ones, pinned to the versions installed here, built
for the Lambda platform (`dependencies.py`, `wheels.py`); hash-based bytecode when this Python
is the runtime's. Same inputs, same bytes (`zipfiles.py`). Beside it: `template.yaml`, whose
CodeUri names the zip, each extra stack's `template-KEY.yaml`, and the edge functions' zips.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdakit.declare.app import App
from lambdakit.discovery import BuildError
from lambdakit.packaging.artifact import Artifact

if TYPE_CHECKING:
    from lambdakit.derive.plan import Plan
    from lambdakit.derive.stacks import Stack

__all__ = ["Artifact", "CodeTree", "Package", "assemble", "code_tree", "package"]


@dataclass(frozen=True)
class Package:
    """What `package` wrote to `out`: the templates (CodeUri relative to `out`), the zips and what to tell."""

    out: Path
    template: dict[str, Any]
    artifacts: tuple[Artifact, ...]
    stacks: tuple[Stack, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class CodeTree:
    """The files of a service's artifact, by archive name: its own code (the app and lambdakit's runtime,
    compiled where it is written) and its dependencies (compiled already, in the cache, when `bytecode`)."""

    own: dict[str, Path]
    dependencies: dict[str, Path]
    bytecode: bool  # this Python is the runtime's: .pyc files ship
    notes: tuple[str, ...]


def code_tree(app: App) -> CodeTree:
    """What the service's artifact holds; a BuildError for a dependency missing here or a name clash."""
    from lambdakit.packaging.dependencies import platform_of, resolve
    from lambdakit.packaging.tree import app_files, bytecode_note, runtime_files
    from lambdakit.packaging.wheels import dependency_files

    deps = resolve(app)
    note = bytecode_note(app.service.runtime)
    dep_files, fetched = dependency_files(deps, platform_of(app), bytecode=note is None)
    parts = {"the app": app_files(app), "lambdakit's runtime": runtime_files(), "the dependencies": dep_files}
    owner: dict[str, str] = {}
    clashes: list[str] = []
    for label, files in parts.items():
        for name in files:
            top = name.split("/", 1)[0]
            if owner.setdefault(top, label) != label and top != "__pycache__" and not top.endswith(".dist-info"):
                clashes.append(f"{app.package}: {top!r} is in both {owner[top]} and {label}; rename the app's")
    if clashes:
        raise BuildError(sorted(set(clashes)))
    notes = [note] if note is not None else []
    notes += fetched
    for name in deps.provided:
        notes.append(
            f"{name}: declared in {deps.source} but not shipped: the Lambda runtime provides boto3, botocore "
            f"and s3transfer (its own version, not the one installed here)"
        )
    own = {**parts["the app"], **parts["lambdakit's runtime"]}
    return CodeTree(own, dep_files, note is None, tuple(notes))


def assemble(app: App, dest: Path) -> tuple[str, ...]:
    """Write the service's code tree to `dest` as it ships (compiled where the runtime is this Python)."""
    from lambdakit.packaging.tree import compile_code, write_tree

    tree = code_tree(app)
    write_tree(tree.own, dest)
    if tree.bytecode:
        compile_code(dest, app.service.runtime)
    write_tree(tree.dependencies, dest)
    return tree.notes


def _contents(files: dict[str, Path]) -> list[tuple[str, int]]:
    """Unzipped bytes per top-level entry, largest first."""
    sizes: dict[str, int] = {}
    for name, path in files.items():
        top = name.split("/", 1)[0]
        sizes[top] = sizes.get(top, 0) + path.stat().st_size
    return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))


def _check_unzipped(name: str, files: dict[str, Path]) -> None:
    from lambdakit.packaging.limits import size_problems

    contents = _contents(files)
    too_big = size_problems(name, contents, sum(size for _, size in contents), None)
    if too_big:
        raise BuildError(too_big)


def _relative(path: Path, out: Path) -> str:
    try:
        return path.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return str(path)


def _edge_stacks(
    app: App, plan: Plan, out: Path, stacks: tuple[Stack, ...]
) -> tuple[tuple[Stack, ...], list[Artifact]]:
    """Package each edge function (EDGE's `edge_artifact`) and point its stack's CodeUri at the zip."""
    from lambdakit.derive.edge import edge_functions
    from lambdakit.packaging.edge import edge_artifact, stamped

    artifacts: list[Artifact] = []
    templates = [copy.deepcopy(stack.template) for stack in stacks]
    for fn in edge_functions(app, plan):
        artifact = edge_artifact(app, fn, out)
        artifacts.append(artifact)
        for template in templates:
            if fn.logical_id in template.get("Resources", {}):
                stamped(template, fn, artifact, _relative(artifact.path, out))
    return tuple(dataclasses.replace(s, template=t) for s, t in zip(stacks, templates, strict=True)), artifacts


def package(app: App, out: Path) -> Package:
    """Build the service's artifacts and templates into `out`; a BuildError for anything Lambda would refuse."""
    from lambdakit.build import dump_yaml, write_stacks
    from lambdakit.derive.plan import plan_of
    from lambdakit.derive.stacks import extra_stacks
    from lambdakit.derive.template import render, stack_problems
    from lambdakit.packaging.limits import size_problems
    from lambdakit.packaging.tree import compile_code, tree_files, write_tree
    from lambdakit.packaging.zipfiles import reproducible_zip

    plan = plan_of(app)
    code_uri = f"{app.service.name}.zip"
    template = render(plan, code_uri=code_uri)
    refused = stack_problems(app, template)
    if refused:
        raise BuildError(refused)
    out.mkdir(parents=True, exist_ok=True)
    runtime = app.service.runtime
    code = code_tree(app)
    _check_unzipped(code_uri, {**code.own, **code.dependencies})  # before copying anything
    notes = list(code.notes)
    with tempfile.TemporaryDirectory(prefix="lambdakit-package-") as tmp:
        own = Path(tmp)
        write_tree(code.own, own)
        if code.bytecode and not compile_code(own, runtime):
            notes.insert(0, "some files did not compile to bytecode and ship as source (their import fails alike)")
        files = {**tree_files(own), **code.dependencies}
        _check_unzipped(code_uri, files)  # with the bytecode
        artifact = reproducible_zip(files, out / code_uri, app.service.name)
    too_big = size_problems(code_uri, artifact.contents, artifact.unzipped, artifact.size)
    if too_big:
        artifact.path.unlink()
        raise BuildError(too_big)
    stacks, edge = _edge_stacks(app, plan, out, extra_stacks(app))
    (out / "template.yaml").write_text(dump_yaml(template))
    write_stacks(out, stacks)
    return Package(out, template, (artifact, *edge), stacks, tuple(notes))
