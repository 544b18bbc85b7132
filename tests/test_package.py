"""`lambdakit package`: what the artifact holds, built for Lambda, reproducibly, and that it runs bare.

Tests that fetch wheels from the package index use the `wheel_cache` fixture: one cache folder per
test session, so each wheel is downloaded once and every later package of it is offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from collections.abc import Iterator
from importlib import metadata
from itertools import count
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdakit.cli import main
from lambdakit.discovery import BuildError, discover
from lambdakit.packaging import Package, package
from lambdakit.packaging import limits as size_limits
from lambdakit.packaging.dependencies import Platform, resolve
from lambdakit.packaging.wheels import download_wheel, manylinux_platforms
from lambdakit.testing.events import rest_event

_names = count()

API = """\
import lambdakit as lk
import yaml
from markdown_it import MarkdownIt


@lk.route("GET", "/render")
def render(text: str = "# hi") -> dict[str, str]:
    return {"html": MarkdownIt().render(text), "yaml": yaml.safe_dump({"a": 1}), "libyaml": str(yaml.__with_libyaml__)}
"""

ELF_MACHINE = {"x86_64": 62, "arm64": 183}  # e_machine: EM_X86_64, EM_AARCH64


def project(
    root: Path,
    architecture: str = "x86_64",
    dependencies: tuple[str, ...] = ("PyYAML>=6", "markdown-it-py", "boto3"),
    runtime: str = "python3.11",
    files: dict[str, str] | None = None,
) -> str:
    """A project folder: its pyproject.toml declaring `dependencies`, and a service package in it."""
    name = f"lkpkg{next(_names)}_{os.getpid()}"
    root.mkdir(parents=True, exist_ok=True)
    deps = ", ".join(json.dumps(d) for d in dependencies)
    (root / "pyproject.toml").write_text(f'[project]\nname = "{name}-x"\nversion = "1"\ndependencies = [{deps}]\n')
    settings = f'architecture="{architecture}", runtime="{runtime}"'
    init = f'import lambdakit as lk\n\nservice = lk.Service("{name}", {settings})\n'
    sources = {"__init__.py": init, "api.py": API, **(files or {})}
    for rel, text in sources.items():
        path = root / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return name


def names(pkg: Package) -> list[str]:
    return zipfile.ZipFile(pkg.artifacts[0].path).namelist()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One wheel cache for the session (this test needs the package index the first time only)."""
    folder = tmp_path_factory.mktemp("lambdakit-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAMBDAKIT_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, wheel_cache: Path) -> tuple[str, Package]:
    """An x86_64 service with PyYAML (compiled) and markdown-it-py (pure, needing mdurl), packaged once."""
    root = tmp_path_factory.mktemp("proj")
    name = project(
        root,
        files={
            "tests/test_api.py": "def test_it() -> None: ...\n",
            "test_inline.py": "def test_it() -> None: ...\n",
            "conftest.py": "",
            ".env": "SECRET=1\n",
            ".hidden/x.py": "",
            "seed.json": "{}\n",
            "seed-orders.json": "{}\n",
            "docs/index.md": "# docs\n",
            "templates/mail.txt": "hello\n",
        },
    )
    (root / name / "__pycache__").mkdir(exist_ok=True)
    (root / name / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"stale")
    return name, package(discover(name), root / "out")


def test_the_artifact_holds_the_declared_dependencies_at_their_installed_versions(built: tuple[str, Package]) -> None:
    name, pkg = built
    shipped = names(pkg)
    for dist in ("PyYAML", "markdown-it-py", "mdurl", "pydantic", "pydantic-core", "aws-lambda-powertools"):
        version = metadata.version(dist)
        folder = f"{metadata.distribution(dist).metadata['Name'].replace('-', '_')}-{version}.dist-info/"
        assert any(n.lower().startswith(folder.lower()) for n in shipped), (dist, version)
    tops = {n.split("/", 1)[0] for n in shipped}
    # not shipped: the SDK the Lambda runtime has, lambdakit's CLI/emulator dependencies, lambdakit's builder
    assert not tops & {"boto3", "botocore", "s3transfer", "click", "moto", "werkzeug", "jsonschema"}
    assert f"{name}/api.py" in shipped and "lambdakit/entry.py" in shipped
    assert not {"lambdakit/cli.py", "lambdakit/packaging/__init__.py", "lambdakit/local/server.py"} & set(shipped)
    assert any("boto3" in note and "not shipped" in note for note in pkg.notes)
    assert pkg.template["Resources"], "the template was returned"
    codes = {r["Properties"]["CodeUri"] for r in pkg.template["Resources"].values() if r["Type"].endswith("Function")}
    assert codes == {f"{name}.zip"} and (pkg.out / "template.yaml").exists()


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_compiled_dependencies_are_built_for_the_lambda_architecture(
    architecture: str, built: tuple[str, Package], tmp_path: Path
) -> None:
    pkg = built[1] if architecture == "x86_64" else package(discover(project(tmp_path, architecture)), tmp_path / "o")
    archive = zipfile.ZipFile(pkg.artifacts[0].path)
    machine = "x86_64" if architecture == "x86_64" else "aarch64"
    (so,) = [n for n in archive.namelist() if n.startswith("yaml/_yaml.") and n.endswith(".so")]
    assert so.endswith(f"-{machine}-linux-gnu.so")
    assert int.from_bytes(archive.read(so)[18:20], "little") == ELF_MACHINE[architecture]
    (wheel,) = [n for n in archive.namelist() if n.lower().startswith("pyyaml-") and n.endswith(".dist-info/WHEEL")]
    assert f"manylinux2014_{machine}" in archive.read(wheel).decode()
    (core,) = [n for n in archive.namelist() if n.startswith("pydantic_core/_pydantic_core.") and n.endswith(".so")]
    assert int.from_bytes(archive.read(core)[18:20], "little") == ELF_MACHINE[architecture]


def test_excluded_files_are_not_in_the_artifact(built: tuple[str, Package]) -> None:
    name, pkg = built
    shipped = [n.removeprefix(f"{name}/") for n in names(pkg) if n.startswith(f"{name}/")]
    assert "templates/mail.txt" in shipped and "api.py" in shipped
    for left_out in ("tests/", "test_inline.py", "conftest.py", ".env", ".hidden/", "seed", "docs/", "stale"):
        assert not [n for n in shipped if left_out in n], left_out
    assert "pyproject.toml" not in {n.split("/")[-1] for n in names(pkg)}


def test_the_artifact_holds_hash_based_bytecode_for_the_runtime(built: tuple[str, Package]) -> None:
    name, pkg = built
    archive = zipfile.ZipFile(pkg.artifacts[0].path)
    pyc = archive.read(f"{name}/__pycache__/api.cpython-311.pyc")
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based (valid whatever the zip's times), unchecked
    assert "lambdakit/runtime/__pycache__/http.cpython-311.pyc" in archive.namelist()
    assert not [n for n in pkg.notes if "bytecode" in n]


def test_two_packages_of_the_same_tree_are_byte_identical(built: tuple[str, Package], tmp_path: Path) -> None:
    """The second one by `lambdakit package` (another process state, the wheels and bytecode from the cache)."""
    name, first = built
    result = CliRunner().invoke(main, ["package", name, "--stage", "prod", "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert f"{name}.zip: " in result.output and "zipped" in result.output and "unzipped" in result.output
    assert "files" in result.output and "pydantic_core" in result.output and "MB" in result.output
    assert "boto3" in result.output  # the note: declared, not shipped
    assert sha256(tmp_path / "again" / f"{name}.zip") == first.artifacts[0].sha256 == sha256(first.artifacts[0].path)
    assert (tmp_path / "again" / "template.yaml").read_bytes() == (first.out / "template.yaml").read_bytes()
    source = Path(sys.modules[f"{name}.api"].__file__ or "")
    original = source.read_text()
    try:
        source.write_text(original + "\n# changed\n")
        changed = package(discover(name), tmp_path / "changed")
    finally:
        source.write_text(original)
    assert changed.artifacts[0].sha256 != first.artifacts[0].sha256


def test_lambdakit_builds_code_folder_is_the_artifacts_tree(built: tuple[str, Package], tmp_path: Path) -> None:
    """`lambdakit build` (for `sam build` users) ships the same files: pinned dependencies, no requirements.txt."""
    from lambdakit.build import build

    name, pkg = built
    build(discover(name), tmp_path / "build")
    src = tmp_path / "build" / "src"
    folder = {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*") if p.is_file()}
    archive = zipfile.ZipFile(pkg.artifacts[0].path)
    assert folder == {n: archive.read(n) for n in archive.namelist()}


PROBE = """\
import json, sys
from lambdakit.entry import handler

class Context:
    function_name = "render"
    aws_request_id = "req-1"
    memory_limit_in_mb = 128
    def get_remaining_time_in_millis(self):
        return 3000

response = handler(json.loads(sys.argv[1]), Context())
print(json.dumps({"response": response, "path": sys.path, "lambdakit": sys.modules["lambdakit"].__file__,
                  "yaml": sys.modules["yaml"].__file__}))
"""

PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def test_the_packaged_function_answers_in_a_bare_interpreter(built: tuple[str, Package], tmp_path: Path) -> None:
    """The artifact unzipped as /var/task, and beside it only what the Lambda runtime has (boto3 and its deps)."""
    name, pkg = built
    task, runtime = tmp_path / "task", tmp_path / "runtime"
    zipfile.ZipFile(pkg.artifacts[0].path).extractall(task)
    runtime.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in PROVIDED:
        (runtime / entry).symlink_to(site / entry)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{task}{os.pathsep}{runtime}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDAKIT_FUNCTION": f"{name}.api:render",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    event = rest_event("GET", "/render", query={"text": "# packaged"})
    done = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, json.dumps(event)],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["response"]["statusCode"] == 200
    body = json.loads(result["response"]["body"])
    assert body == {"html": "<h1>packaged</h1>\n", "yaml": "a: 1\n", "libyaml": "True"}
    assert result["lambdakit"].startswith(str(task)) and result["yaml"].startswith(str(task))
    assert not [p for p in result["path"] if "site-packages" in p]


def test_over_the_unzipped_limit_is_a_build_error_naming_the_biggest_entries(tmp_path: Path, wheel_cache: Path) -> None:
    name = project(tmp_path, dependencies=())
    with (tmp_path / name / "model.bin").open("wb") as huge:  # sparse: 260 MB that take no disk
        huge.truncate(260 * 1024 * 1024)
    with pytest.raises(BuildError) as info:
        package(discover(name), tmp_path / "out")
    (problem,) = info.value.problems
    assert problem.startswith(f"{name}.zip: ") and "unzipped is over Lambda's 250.0 MB limit" in problem
    assert f"the biggest entries: {name} (260.0 MB)" in problem
    assert not (tmp_path / "out" / f"{name}.zip").exists()


def test_over_the_zipped_limit_is_a_build_error(
    tmp_path: Path, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(size_limits, "ZIPPED_LIMIT", 2 * 1024 * 1024)  # Lambda's is 50 MB: too slow to zip here
    name = project(tmp_path, dependencies=())
    with pytest.raises(BuildError) as info:
        package(discover(name), tmp_path / "out")
    (problem,) = info.value.problems
    assert "zipped is over Lambda's 2.0 MB limit for a zip deployment package" in problem
    assert "aws_lambda_powertools (" in problem
    assert size_limits.UNZIPPED_LIMIT == 250 * 1024 * 1024


def test_a_declared_dependency_not_installed_here_is_an_error_naming_it(tmp_path: Path) -> None:
    name = project(tmp_path, dependencies=("PyYAML", "surely-not-installed-lk>=1"))
    with pytest.raises(BuildError) as info:
        resolve(discover(name))
    (problem,) = info.value.problems
    assert str(tmp_path / "pyproject.toml") in problem and "surely-not-installed-lk>=1 is not installed" in problem
    assert "`pip install 'surely-not-installed-lk>=1'`" in problem


def test_an_installed_version_outside_the_declared_range_is_an_error(tmp_path: Path) -> None:
    name = project(tmp_path, dependencies=("PyYAML<1",))
    with pytest.raises(BuildError) as info:
        resolve(discover(name))
    assert f"PyYAML {metadata.version('PyYAML')} is installed" in info.value.problems[0]


def test_markers_are_evaluated_for_lambda_and_extras_followed(tmp_path: Path) -> None:
    name = project(
        tmp_path,
        architecture="arm64",
        dependencies=(
            "PyYAML; sys_platform == 'linux' and platform_machine == 'aarch64'",
            "six; sys_platform == 'win32'",
            "mdurl; python_version < '3.10'",
            "tabulate[widechars]; platform_python_implementation == 'CPython'",
        ),
    )
    pinned = {p.name: p for p in resolve(discover(name)).pinned}
    assert "pyyaml" in pinned and "six" not in pinned and "mdurl" not in pinned
    assert pinned["wcwidth"].required_by.startswith("tabulate ")  # tabulate's `widechars` extra
    assert pinned["pydantic"].version == metadata.version("pydantic")


def test_a_requirements_file_in_the_service_folder_wins_and_lambdakit_declares_nothing(tmp_path: Path) -> None:
    name = project(tmp_path, dependencies=("PyYAML",))
    (tmp_path / name / "requirements.txt").write_text("# the service's own\n-r more.txt\nmdurl  # pure\n")
    (tmp_path / name / "more.txt").write_text("idna --hash=sha256:0\n")
    found = resolve(discover(name))
    assert found.source == (tmp_path / name / "requirements.txt").resolve()
    pinned = {p.name for p in found.pinned}
    assert {"mdurl", "idna"} <= pinned and "pyyaml" not in pinned
    shop = resolve(discover("example_app.shop"))  # this repo's pyproject.toml is lambdakit's own
    assert shop.source is None and {p.name for p in shop.pinned} >= {"pydantic", "aws-lambda-powertools"}
    assert not {p.name for p in shop.pinned} & {"click", "moto", "werkzeug", "boto3", "pyyaml"}


def test_another_runtime_than_this_python_ships_source_with_a_note(tmp_path: Path, wheel_cache: Path) -> None:
    other = "python3.12" if sys.version_info[:2] != (3, 12) else "python3.13"
    name = project(tmp_path, dependencies=(), runtime=other)
    pkg = package(discover(name), tmp_path / "out")
    (note,) = [n for n in pkg.notes if "bytecode" in n]
    assert f"the functions' runtime {other}" in note and f"package with {other}" in note
    assert not [n for n in names(pkg) if n.endswith(".pyc")]
    tag = other.removeprefix("python").replace(".", "")
    assert [n for n in names(pkg) if n.startswith("pydantic_core/") and f"cpython-{tag}-x86_64" in n]


def test_no_wheel_for_the_platform_is_an_error_naming_it_and_the_fix(tmp_path: Path) -> None:
    platform = Platform("python3.11", "arm64")
    with pytest.raises(BuildError) as info:
        download_wheel("pyyaml", "0.0.1", platform, tmp_path)
    (problem,) = info.value.problems
    assert problem.startswith("pyyaml==0.0.1 has compiled code and no wheel for Lambda python3.11 on arm64")
    assert "manylinux wheels for aarch64" in problem and str(tmp_path) in problem


def test_the_platform_tags_match_lambdas_glibc() -> None:
    eleven = manylinux_platforms(Platform("python3.11", "arm64"))  # Amazon Linux 2: glibc 2.26
    assert eleven[0] == "manylinux_2_26_aarch64" and "manylinux2014_aarch64" in eleven
    assert "manylinux_2_28_aarch64" not in eleven
    twelve = manylinux_platforms(Platform("python3.12", "x86_64"))  # Amazon Linux 2023: glibc 2.34
    assert twelve[0] == "manylinux_2_34_x86_64" and "manylinux1_x86_64" in twelve
