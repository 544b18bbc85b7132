"""`lambdakit build`: write the SAM template and the code folder it points at."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from lambdakit.declare.app import App
from lambdakit.derive.plan import plan_of
from lambdakit.derive.site import edge_template
from lambdakit.derive.template import render, stack_problems

# The parts of lambdakit a function needs at run time; the builder, CLI and emulator stay behind.
RUNTIME_FILES = ("__init__.py", "py.typed", "entry.py", "errors.py", "identity.py", "response.py")
RUNTIME_DIRS = ("core", "declare", "runtime")
REQUIREMENTS = ("pydantic>=2.7,<3", "aws-lambda-powertools>=3,<4")


def dump_yaml(template: dict[str, Any]) -> str:
    import yaml

    # libyaml's emitter when PyYAML has it (the same text, ~3x faster: YAML is most of a large build)
    class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        def ignore_aliases(self, data: Any) -> bool:
            return True

    # The emitter makes a node per value (260,000 for 1000 functions) and no cycles: the cyclic garbage
    # collector would scan the growing heap again and again, making the dump grow faster than the template.
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        return yaml.dump(template, Dumper=_Dumper, sort_keys=False, width=120, default_flow_style=False)
    finally:
        if collecting:
            gc.enable()


def copy_runtime(dest: Path) -> None:
    src = Path(__file__).parent
    target = dest / "lambdakit"
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_FILES:
        shutil.copy2(src / name, target / name)
    for folder in RUNTIME_DIRS:
        shutil.copytree(
            src / folder, target / folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )


def compile_code(src: Path, runtime: str) -> bool:
    """Ship bytecode with the code: Lambda's /var/task is read-only, so Python cannot cache what it
    compiles there, and code shipped as source is compiled again at every cold start (lambdakit's
    runtime alone costs ~10 ms; docs/performance.md). Bytecode is specific to a Python version: only
    when this Python is the function's runtime. Checked-hash .pyc stay valid whatever zipping does to
    file times, are ignored if a source file changes, and hold no build path or time (reproducible)."""
    if runtime != f"python{sys.version_info.major}.{sys.version_info.minor}":
        return False
    import compileall
    import py_compile

    return bool(
        compileall.compile_dir(
            str(src), quiet=1, ddir="/var/task", invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
        )
    )


def copy_package(app: App, dest: Path) -> None:
    import importlib

    root = app.package.split(".")[0]
    module = importlib.import_module(root)
    origin = Path(module.__file__ or "")
    if origin.name == "__init__.py":
        skip = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
        site = Path(app.site.root).resolve() if app.site is not None else None

        def ignore(folder: str, names: list[str]) -> set[str]:
            # the site's files go to its bucket, not into every function's artifact
            return set(skip(folder, names)) | {
                n for n in names if site is not None and Path(folder, n).resolve() == site
            }

        shutil.copytree(origin.parent, dest / root, dirs_exist_ok=True, ignore=ignore)
    else:
        shutil.copy2(origin, dest / origin.name)


#: The template of what must live in us-east-1 (CloudFront's certificate), deployed before the main one.
EDGE_TEMPLATE = "template-us-east-1.yaml"


def build(app: App, out: Path) -> Path:
    """Write `out/template.yaml` and `out/src/` (the app, lambdakit's runtime, requirements.txt)."""
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    copy_package(app, src)
    copy_runtime(src)
    compile_code(src, app.service.runtime)
    (src / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n")
    plan = plan_of(app)
    template = render(plan, code_uri="src")
    refused = stack_problems(app, template)
    if refused:
        from lambdakit.discovery import BuildError

        raise BuildError(refused)
    path = out / "template.yaml"
    path.write_text(dump_yaml(template))
    edge = edge_template(app, plan.site) if plan.site is not None else None
    edge_path = out / EDGE_TEMPLATE
    if edge is not None:
        edge_path.write_text(dump_yaml(edge))
    elif edge_path.exists():
        edge_path.unlink()
    (out / "openapi.json").write_text(openapi_text(app, "json"))
    return path


def openapi_text(app: App, form: str = "json") -> str:
    """The public OpenAPI 3.1 document of `app`, as JSON or YAML text."""
    from lambdakit.derive.plan import plan_of
    from lambdakit.derive.public_openapi import document

    doc = document(plan_of(app))
    return json.dumps(doc, indent=2) + "\n" if form == "json" else dump_yaml(doc)
