"""What a service's artifact must carry besides its code: its declared dependencies, closed and pinned.

The declared dependencies come from the service's own package folder (a `requirements.txt` or
`pyproject.toml` there: several services in one repo, each its own), else from the project root
(the nearest folder above the service's top-level package holding a `pyproject.toml` or a
`requirements.txt`). lambdakit's runtime needs are added (`RUNTIME_DEPENDENCIES`), the closure is
taken over each distribution's own requirements with markers evaluated for Lambda (Linux, CPython,
the runtime's Python, the service's architecture), and each is pinned to the version installed here:
what was tested is what ships. The Lambda runtime provides boto3, botocore and s3transfer, so they
are not shipped (`PROVIDED_BY_LAMBDA`).
"""

from __future__ import annotations

import importlib
import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from lambdakit.declare.app import App
from lambdakit.discovery import BuildError
from lambdakit.packaging.tree import RUNTIME_DEPENDENCIES

#: The AWS SDK the Lambda Python runtimes include: shipping it again only adds megabytes.
PROVIDED_BY_LAMBDA = ("boto3", "botocore", "s3transfer")
#: lambdakit's runtime part is copied into the artifact (`tree.RUNTIME_FILES`); its CLI and emulator stay behind.
NOT_SHIPPED = (*PROVIDED_BY_LAMBDA, "lambdakit")

_RUNTIME = re.compile(r"python(3)\.(\d+)$")


@dataclass(frozen=True)
class Platform:
    """Where the artifact runs: Lambda's Linux, CPython `runtime` (python3.X), on `architecture`."""

    runtime: str
    architecture: str  # arm64 | x86_64

    @property
    def python_version(self) -> tuple[int, int]:
        match = _RUNTIME.match(self.runtime)
        if match is None:
            raise BuildError([f"runtime={self.runtime!r}: lambdakit packages Python runtimes only, e.g. 'python3.11'"])
        return int(match[1]), int(match[2])

    @property
    def machine(self) -> str:
        return "aarch64" if self.architecture == "arm64" else "x86_64"

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker variables as Lambda's runtime would report them."""
        version = "{}.{}".format(*self.python_version)
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{version}.0",
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": f"{version}.0",
            "python_version": version,
            "sys_platform": "linux",
        }


def platform_of(app: App) -> Platform:
    return Platform(app.service.runtime, app.service.architecture)


@dataclass(frozen=True)
class Pinned:
    """One distribution the artifact carries, at the version installed here."""

    name: str  # the canonical (normalized) name
    version: str
    required_by: str  # "pyproject.toml", "lambdakit's runtime", "pydantic 2.13.5" ...


@dataclass(frozen=True)
class Dependencies:
    source: Path | None  # the file the declared dependencies came from (None: the app declares none)
    pinned: tuple[Pinned, ...]  # sorted by name
    provided: tuple[str, ...]  # declared, not shipped: the Lambda runtime provides them


def _top_folder(app: App) -> Path:
    """The folder holding the service's top-level package (or module)."""
    root = importlib.import_module(app.package.split(".")[0])
    origin = Path(root.__file__ or "").resolve()
    return origin.parent.parent if origin.name == "__init__.py" else origin.parent


def _package_folder(app: App) -> Path | None:
    module = importlib.import_module(app.package)
    origin = Path(module.__file__ or "").resolve()
    return origin.parent if origin.name == "__init__.py" else None


def _pyproject_dependencies(path: Path) -> list[str] | None:
    """`[project] dependencies`, or None when the file declares none for the app (lambdakit's own)."""
    try:
        project = tomllib.loads(path.read_text()).get("project", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuildError([f"{path}: cannot read it: {exc}"]) from None
    if canonicalize_name(str(project.get("name", ""))) == "lambdakit" or "dependencies" not in project:
        return None
    declared = project["dependencies"]
    if not isinstance(declared, list) or not all(isinstance(d, str) for d in declared):
        raise BuildError([f"{path}: [project] dependencies must be a list of requirement strings"])
    return declared


def _requirements_lines(path: Path, seen: frozenset[Path] = frozenset()) -> list[str]:
    """Requirement lines of a requirements file, following `-r other.txt`; other pip options are ignored."""
    lines: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement")):
            included = (path.parent / line.split(None, 1)[1].strip().lstrip("=")).resolve()
            if included not in seen:
                lines += _requirements_lines(included, seen | {path.resolve()})
            continue
        if line.startswith("-"):
            continue  # --index-url, -c constraints, -e (an editable project is refused when resolved)
        lines.append(line.split(" --", 1)[0].strip())  # drop per-line options such as --hash
    return lines


def _declared_in(folder: Path) -> tuple[Path, list[str]] | None:
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        declared = _pyproject_dependencies(pyproject)
        if declared is not None:
            return pyproject, declared
    requirements = folder / "requirements.txt"
    if requirements.is_file():
        return requirements, _requirements_lines(requirements)
    return None


def declared_requirements(app: App) -> tuple[Path | None, list[str]]:
    """Where the app declares its dependencies, and the requirement strings there."""
    own = _package_folder(app)
    if own is not None:
        found = _declared_in(own)
        if found is not None:
            return found
    folder = _top_folder(app)
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() or (candidate / "requirements.txt").is_file():
            found = _declared_in(candidate)
            return found if found is not None else (None, [])
    return None, []


def _parse(text: str, origin: str) -> Requirement:
    try:
        return Requirement(text)
    except (InvalidRequirement, InvalidMarker) as exc:
        raise BuildError([f"{origin}: {text!r} is not a valid requirement: {exc}"]) from None


def _applies(requirement: Requirement, environment: dict[str, str], extra: str = "") -> bool:
    return requirement.marker is None or requirement.marker.evaluate({**environment, "extra": extra})


def resolve(app: App) -> Dependencies:
    """The declared dependencies and lambdakit's runtime ones, closed over their requirements, pinned."""
    source, declared = declared_requirements(app)
    environment = platform_of(app).marker_environment()
    where = str(source) if source is not None else ""
    # the queue holds requirements whose markers already hold (a dependency's `extra == ...` ones included)
    queue = [(r, where) for r in (_parse(text, where) for text in declared) if _applies(r, environment)]
    queue += [(Requirement(name), "lambdakit's runtime") for name in RUNTIME_DEPENDENCIES]
    pinned: dict[NormalizedName, Pinned] = {}
    expanded: set[tuple[NormalizedName, str]] = set()
    provided: set[str] = set()
    problems: list[str] = []
    while queue:
        requirement, origin = queue.pop(0)
        name = canonicalize_name(requirement.name)
        if name in NOT_SHIPPED:
            if name in PROVIDED_BY_LAMBDA and origin == where:
                provided.add(name)
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(
                f"{origin}: {requirement} is not installed here, and lambdakit ships what was tested: "
                f"`pip install '{requirement}'`, run the tests, and package again"
            )
            continue
        version = dist.version
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            problems.append(
                f"{origin}: requires {requirement} but {dist.metadata['Name']} {version} is installed: "
                f"`pip install '{requirement}'`, run the tests, and package again"
            )
            continue
        if name not in pinned:
            pinned[name] = Pinned(name, version, origin)
        for extra in ("", *sorted(canonicalize_name(e) for e in requirement.extras)):
            if (name, extra) in expanded:
                continue
            expanded.add((name, extra))
            for text in dist.requires or ():
                needed = _parse(text, f"{name} {version}")
                if _applies(needed, environment, extra):
                    queue.append((needed, f"{name} {version}"))
    if problems:
        raise BuildError(sorted(set(problems)))
    return Dependencies(source, tuple(sorted(pinned.values(), key=lambda p: p.name)), tuple(sorted(provided)))
