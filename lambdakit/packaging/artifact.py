"""What one built zip is: its place, its hash, its sizes and what fills it (for printing and limits)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Artifact:
    """One deployable zip. `contents` maps each top-level entry to its unzipped bytes, largest first."""

    name: str
    path: Path
    sha256: str
    size: int  # zipped bytes
    unzipped: int
    files: int
    contents: tuple[tuple[str, int], ...]
