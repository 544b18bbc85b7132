"""The code tree of a service's artifact: the app's package, lambdakit's runtime, the pinned dependencies.

`lambdakit package` zips this tree and `lambdakit build` writes it as the SAM code folder, so both
ship the same files. Left out of the app: tests, dotfiles (`.env`), seed files, the site folder
(uploaded to its bucket), docs and caches.
"""

from __future__ import annotations

import fnmatch
import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from lambdakit.declare.app import App

# The parts of lambdakit a function needs at run time; the builder, CLI and emulator stay behind.
RUNTIME_FILES = ("__init__.py", "py.typed", "entry.py", "errors.py", "identity.py", "response.py")
RUNTIME_DIRS = ("core", "declare", "runtime")
# What that runtime part imports (lambdakit's own metadata also lists its CLI and emulator: click, moto ...).
RUNTIME_DEPENDENCIES = ("pydantic", "aws-lambda-powertools")

#: Folders of the app's package that are never code a function runs.
EXCLUDED_DIRS = frozenset({"tests", "test", "__pycache__", "docs", "node_modules"})
#: Files of the app's package left out: tests, seed data (`lambdakit local --seed`), declarations of dependencies.
EXCLUDED_FILES = (
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "seed*.json",
    "*.pyc",
    "*.pyo",
    "requirements*.txt",
    "pyproject.toml",
)


def _skipped(name: str) -> bool:
    return name.startswith(".") or any(fnmatch.fnmatchcase(name, pattern) for pattern in EXCLUDED_FILES)


def runtime_files() -> dict[str, Path]:
    """lambdakit's runtime part, as archive name -> source file."""
    src = Path(__file__).resolve().parent.parent
    files = {f"lambdakit/{name}": src / name for name in RUNTIME_FILES}
    for folder in RUNTIME_DIRS:
        for path in sorted((src / folder).rglob("*")):
            rel = path.relative_to(src)
            if path.is_file() and "__pycache__" not in rel.parts and path.suffix not in (".pyc", ".pyo"):
                files[f"lambdakit/{rel.as_posix()}"] = path
    return files


def copy_runtime(dest: Path) -> None:
    """Copy lambdakit's runtime part into `dest/lambdakit`."""
    write_tree(runtime_files(), dest)


def app_files(app: App) -> dict[str, Path]:
    """The service's top-level package (or module), without what a function never runs."""
    root = app.package.split(".")[0]
    origin = Path(importlib.import_module(root).__file__ or "").resolve()
    if origin.name != "__init__.py":
        return {origin.name: origin}
    top = origin.parent
    site = Path(app.site.root).resolve() if app.site is not None else None
    files: dict[str, Path] = {}
    for folder, dirs, names in os.walk(top):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs if d not in EXCLUDED_DIRS and not d.startswith(".") and (here / d).resolve() != site
        )
        for name in sorted(names):
            path = here / name
            if not _skipped(name) and path.is_file():
                files[f"{root}/{path.relative_to(top).as_posix()}"] = path
    return files


def write_tree(entries: Mapping[str, bytes | Path], dest: Path) -> None:
    """Write archive-style entries as files under `dest`."""
    for name, value in sorted(entries.items()):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, Path):
            shutil.copyfile(value, target)
            if os.access(value, os.X_OK):
                target.chmod(0o755)
        else:
            target.write_bytes(value)


def tree_files(folder: Path) -> dict[str, Path]:
    """Every file under `folder`, by its archive name."""
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}


def compile_code(src: Path, runtime: str) -> bool:
    """Ship bytecode with the code: Lambda's /var/task is read-only, so Python cannot cache what it
    compiles there, and code shipped as source is compiled again at every cold start (lambdakit's
    runtime alone costs ~10 ms; docs/performance.md). Bytecode is specific to a Python version: only
    when this Python is the function's runtime. Hash-based .pyc stay valid whatever zipping does to
    file times and hold no build path or time; unchecked, because a deployed function's files never
    change, so Python need not read and hash each source at import (~1.5 ms of a cold start).

    Compiled in a fresh interpreter: marshal's output depends on what the compiling process holds
    (an interned string referenced elsewhere is written with another flag), so compiling in-process
    would make the bytes depend on what was imported before."""
    if runtime != f"python{sys.version_info.major}.{sys.version_info.minor}":
        return False
    command = [sys.executable, "-s", "-m", "compileall", "-q", "-d", "/var/task"]
    command += ["--invalidation-mode", "unchecked-hash", str(src)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | {"PYTHONHASHSEED": "0"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return done.returncode == 0


def bytecode_note(runtime: str) -> str | None:
    """Why the artifact holds no bytecode, and the fix; None when it does."""
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime == here:
        return None
    return (
        f"bytecode not compiled: this Python is {here} and the functions' runtime {runtime}, so every cold "
        f"start compiles the code from source (tens of ms); package with {runtime} (a {runtime} virtualenv "
        f"with the app's dependencies installed) to ship .pyc files"
    )
