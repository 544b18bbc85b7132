"""Small apps written into a temporary folder and discovered like a user's package."""

from __future__ import annotations

import itertools
import sys
import textwrap
from pathlib import Path

from lambdakit.declare.app import App
from lambdakit.discovery import discover

_counter = itertools.count()


def write_package(root: Path, files: dict[str, str], name: str | None = None) -> str:
    """Write `files` (module path -> source) as a fresh package under `root`; returns its import name."""
    name = name or f"lkapp{next(_counter)}_{abs(hash(root)) % 10**6}"
    pkg = root / name
    pkg.mkdir(parents=True)
    if "__init__.py" not in files:
        (pkg / "__init__.py").write_text("")
    for rel, source in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return name


def make_app(root: Path, files: dict[str, str]) -> App:
    return discover(write_package(root, files))
