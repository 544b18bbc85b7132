"""Reproducible zips: the same entries give the same bytes, whatever the machine, the clock or the umask.

Sorted names, one fixed timestamp (1980-01-01, the earliest a zip can hold), fixed permissions
(0644 for files, 0755 for what was executable), deflate at a fixed level, no directory entries and
no extra fields. So an unchanged service uploads nothing new and a change shows as a new hash.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path

from lambdakit.packaging.artifact import Artifact

#: The zip format's earliest date: no build time leaks into the artifact.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
COMPRESS_LEVEL = 6  # zlib's default: a third of level 9's time for 1% more bytes


def _mode_of(value: bytes | Path) -> int:
    if isinstance(value, Path) and os.stat(value).st_mode & stat.S_IXUSR:
        return EXECUTABLE_MODE
    return FILE_MODE


def _info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the mode bits below are honoured by unzip and Lambda
    info.external_attr = (stat.S_IFREG | mode) << 16
    return info


def top_level(name: str) -> str:
    """The entry a path counts towards in `Artifact.contents`: its first folder, or the file itself."""
    return name.split("/", 1)[0]


def reproducible_zip(entries: Mapping[str, bytes | Path], dest: Path, name: str) -> Artifact:
    """Write `entries` (archive name -> bytes or a file to read) to `dest` and describe the result."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}
    unzipped = 0
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for entry in sorted(entries):
            arcname = entry.replace(os.sep, "/").lstrip("/")
            value = entries[entry]
            data = value.read_bytes() if isinstance(value, Path) else value
            archive.writestr(_info(arcname, _mode_of(value)), data, compresslevel=COMPRESS_LEVEL)
            unzipped += len(data)
            key = top_level(arcname)
            sizes[key] = sizes.get(key, 0) + len(data)
    digest = hashlib.sha256()
    with dest.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    contents = tuple(sorted(sizes.items(), key=lambda item: (-item[1], item[0])))
    return Artifact(
        name=name,
        path=dest,
        sha256=digest.hexdigest(),
        size=dest.stat().st_size,
        unzipped=unzipped,
        files=len(entries),
        contents=contents,
    )
