"""The files of each pinned distribution, as they must be on Lambda.

A pure-Python distribution is copied from this environment (its RECORD: offline, exactly what was
tested). One with compiled code was built for this machine, not for Lambda's Linux: its wheel for
the Lambda platform (manylinux, the service's architecture, the runtime's CPython) is fetched with
`pip download` once, kept in `${LAMBDAKIT_CACHE:-~/.cache/lambdakit}/wheels`, and unpacked there,
so later packages are offline. Docker is never needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from lambdakit.discovery import BuildError
from lambdakit.packaging.dependencies import Dependencies, Pinned, Platform

CACHE_ENV = "LAMBDAKIT_CACHE"
#: Lambda's Python runtimes up to 3.11 run on Amazon Linux 2 (glibc 2.26); 3.12 and later on AL2023 (2.34).
_GLIBC_BY_RUNTIME = ((12, 34), (0, 26))
#: Bump when what a compiled copy in the cache holds changes, so that older copies are not reused.
COMPILED_FORMAT = 2
#: dist-info files that describe this machine's install, not the distribution
_LOCAL_METADATA = frozenset({"direct_url.json", "INSTALLER", "REQUESTED"})


def cache_dir() -> Path:
    """Where fetched wheels are kept: `$LAMBDAKIT_CACHE/wheels`, else `~/.cache/lambdakit/wheels`."""
    base = os.environ.get(CACHE_ENV) or str(Path.home() / ".cache" / "lambdakit")
    return Path(base).expanduser() / "wheels"


def manylinux_platforms(platform: Platform) -> tuple[str, ...]:
    """The manylinux tags Lambda's Linux runs, most specific first (as `pip download --platform` takes them)."""
    minor = platform.python_version[1]
    glibc = next(g for since, g in _GLIBC_BY_RUNTIME if minor >= since)
    oldest = 17 if platform.machine == "aarch64" else 5
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    found: list[str] = []
    for version in range(glibc, oldest - 1, -1):
        found.append(f"manylinux_2_{version}_{platform.machine}")
        if version in legacy:
            found.append(f"{legacy[version]}_{platform.machine}")
    return tuple(found)


def supported_tags(platform: Platform) -> list[Tag]:
    """Every wheel tag Lambda's CPython accepts, best first."""
    python = platform.python_version
    platforms = manylinux_platforms(platform)
    interpreter = "cp{}{}".format(*python)
    return [*cpython_tags(python, platforms=platforms), *compatible_tags(python, interpreter, platforms=platforms)]


def is_pure(dist: metadata.Distribution) -> bool:
    """Installed from a pure-Python wheel: the same files run on any platform."""
    wheel = dist.read_text("WHEEL")
    if wheel is None:
        return False
    fields = [line.split(":", 1) for line in wheel.splitlines() if ":" in line]
    if not any(k.strip() == "Root-Is-Purelib" and v.strip().lower() == "true" for k, v in fields):
        return False
    tags = {tag for k, v in fields if k.strip() == "Tag" for tag in parse_tag(v.strip())}
    return (
        bool(tags)
        and all(t.abi == "none" and t.platform == "any" for t in tags)
        and any(t.interpreter.startswith("py3") for t in tags)
    )


def _editable(dist: metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        return bool(json.loads(text).get("dir_info", {}).get("editable"))
    except ValueError:
        return False


def _shipped(parts: tuple[str, ...]) -> bool:
    if not parts or parts[0] in ("..", "") or "__pycache__" in parts or parts[-1].endswith((".pyc", ".pyo")):
        return False
    return not (parts[0].endswith(".dist-info") and parts[-1] in _LOCAL_METADATA)


def installed_files(dist: metadata.Distribution) -> dict[str, Path]:
    """The installed files of a pure distribution (its RECORD), without bytecode or scripts outside site-packages."""
    files: dict[str, Path] = {}
    for entry in dist.files or ():
        parts = tuple(entry.as_posix().split("/"))
        if not _shipped(parts):
            continue
        path = Path(str(dist.locate_file(entry)))
        if path.is_file():
            files["/".join(parts)] = path
    return files


def _wheels_of(name: str, version: str, folder: Path) -> list[tuple[Path, frozenset[Tag]]]:
    wanted, found = (canonicalize_name(name), Version(version)), []
    for path in sorted(folder.glob("*.whl")) if folder.is_dir() else ():
        try:
            dist, ver, _build, tags = parse_wheel_filename(path.name)
        except (InvalidWheelFilename, ValueError):
            continue
        if (dist, ver) == wanted:
            found.append((path, tags))
    return found


def cached_wheel(name: str, version: str, platform: Platform, folder: Path) -> Path | None:
    """The best wheel in `folder` for `name==version` on the Lambda platform, if one is there."""
    rank = {tag: i for i, tag in reversed(list(enumerate(supported_tags(platform))))}
    best: tuple[int, Path] | None = None
    for path, tags in _wheels_of(name, version, folder):
        score = min((rank[t] for t in tags if t in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, path)
    return best[1] if best is not None else None


def _platform_text(platform: Platform) -> str:
    return f"Lambda {platform.runtime} on {platform.architecture} (manylinux {platform.machine}, CPython)"


def download_wheel(name: str, version: str, platform: Platform, folder: Path) -> Path:
    """`pip download` the wheel of `name==version` for the Lambda platform into `folder`."""
    command = [sys.executable, "-m", "pip", "download", f"{name}=={version}", "--no-deps", "--only-binary=:all:"]
    for tag in manylinux_platforms(platform):
        command += ["--platform", tag]
    command += ["--implementation", "cp", "--python-version", "{}.{}".format(*platform.python_version)]
    command += ["--disable-pip-version-check", "--quiet"]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=folder) as tmp:
        done = subprocess.run([*command, "-d", tmp], capture_output=True, text=True, check=False)
        fetched = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not fetched:
            reason = (done.stderr.strip().splitlines() or ["pip found no wheel"])[-1]
            raise BuildError(
                [
                    f"{name}=={version} has compiled code and no wheel for {_platform_text(platform)} could be "
                    f"fetched ({reason}). Fix: pin a version of {name} that publishes manylinux wheels for "
                    f"{platform.machine}, set lk.Service(architecture=) to one it supports, or build the wheel "
                    f"for that platform yourself and put it in {folder}"
                ]
            )
        target = folder / fetched[0].name
        os.replace(fetched[0], target)
    return target


def unpacked(wheel: Path) -> dict[str, Path]:
    """A wheel's files, unpacked once beside it; `.data/purelib|platlib` move to the root, scripts stay out."""
    folder = wheel.with_suffix(".unpacked")
    if not folder.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=wheel.parent))
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                parts = tuple(info.filename.split("/"))
                if info.is_dir():
                    continue
                if parts[0].endswith(".data"):
                    if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                        continue
                    parts = parts[2:]
                if not _shipped(parts):
                    continue
                target = staging.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(info))
        try:
            staging.rename(folder)
        except OSError:  # another build unpacked it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}


def compiled(files: dict[str, Path], key: str, runtime: str, folder: Path) -> dict[str, Path]:
    """`files` with checked-hash bytecode beside them, compiled once per distribution and kept in `folder`.
    A file compiled alone gets the same bytes as in the whole tree (its name in them is /var/task/...)."""
    from lambdakit.packaging.tree import compile_code, tree_files, write_tree

    target = folder / f"{key}-{runtime}-v{COMPILED_FORMAT}"
    if not target.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".compile-", dir=folder))
        write_tree(files, staging)
        compile_code(staging, runtime)
        try:
            staging.rename(target)
        except OSError:  # another build compiled it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    return tree_files(target)


def distribution_files(
    pinned: Pinned, platform: Platform, folder: Path | None = None, bytecode: bool = False
) -> tuple[dict[str, Path], str]:
    """The files `pinned` ships as (with their bytecode for `platform.runtime` if `bytecode`), and where they
    came from (for the notes)."""
    dist = metadata.distribution(pinned.name)
    if _editable(dist):
        raise BuildError(
            [
                f"{pinned.name} {pinned.version} is installed in editable mode (pip install -e), so its files are "
                f"not in this environment: install it normally (`pip install PATH`) or move its code into the "
                f"service's package"
            ]
        )
    folder = folder or cache_dir()
    if is_pure(dist) and dist.files:
        files, origin = installed_files(dist), "installed"
        record = hashlib.sha256((dist.read_text("RECORD") or "").encode()).hexdigest()[:16]
        key = f"{pinned.name}-{pinned.version}-installed-{record}"
    else:
        wheel = cached_wheel(pinned.name, pinned.version, platform, folder)
        if wheel is None:
            wheel = download_wheel(pinned.name, pinned.version, platform, folder)
            if cached_wheel(pinned.name, pinned.version, platform, folder) != wheel:
                where = _platform_text(platform)
                problem = f"{pinned.name}=={pinned.version}: pip fetched {wheel.name}, not a wheel for {where}"
                raise BuildError([problem])
        files, origin, key = unpacked(wheel), wheel.name, wheel.stem
    if bytecode:
        files = compiled(files, key, platform.runtime, folder.parent / "compiled")
    return files, origin


def dependency_files(
    deps: Dependencies, platform: Platform, bytecode: bool = False
) -> tuple[dict[str, Path], tuple[str, ...]]:
    """Every pinned distribution's files, and a line per distribution fetched for the platform."""
    files: dict[str, Path] = {}
    fetched: list[str] = []
    for pinned in deps.pinned:
        found, origin = distribution_files(pinned, platform, bytecode=bytecode)
        files.update(found)
        if origin != "installed":
            fetched.append(f"{pinned.name} {pinned.version}: compiled code, from {origin}")
    return files, tuple(fetched)
