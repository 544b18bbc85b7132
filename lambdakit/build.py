"""`lambdakit build`: write the SAM template and the code folder it points at."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from lambdakit.declare.app import App
from lambdakit.derive.plan import plan_of
from lambdakit.derive.stacks import Stack, extra_stacks
from lambdakit.derive.template import render, stack_problems

# What ships beside the app (lambdakit's runtime part and its dependencies) is decided in lambdakit/packaging/tree.py.
from lambdakit.packaging.tree import RUNTIME_DEPENDENCIES, RUNTIME_DIRS, RUNTIME_FILES, compile_code, copy_runtime

__all__ = ["RUNTIME_DEPENDENCIES", "RUNTIME_DIRS", "RUNTIME_FILES", "build", "compile_code", "copy_runtime"]


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


#: The template of what must live in us-east-1 (CloudFront's certificate, Lambda@Edge), deployed before the main one.
EDGE_TEMPLATE = "template-us-east-1.yaml"


def write_stacks(out: Path, stacks: tuple[Stack, ...]) -> None:
    """Each extra stack as `template-KEY.yaml` beside the main template; a stale one from an earlier build goes."""
    written = {f"template-{stack.key}.yaml" for stack in stacks}
    for stack in stacks:
        (out / f"template-{stack.key}.yaml").write_text(dump_yaml(stack.template))
    for stale in out.glob("template-*.yaml"):
        if stale.name not in written:
            stale.unlink()


def build(app: App, out: Path) -> Path:
    """Write `out/template.yaml` and `out/src/`: the same code tree as `lambdakit package`'s artifact
    (the app, lambdakit's runtime, the pinned dependencies built for Lambda), so `sam build` needs no
    requirements.txt and ships what was tested."""
    from lambdakit.packaging import code_tree
    from lambdakit.packaging.tree import write_tree

    plan = plan_of(app)
    template = render(plan, code_uri="src")
    refused = stack_problems(app, template)
    if refused:
        from lambdakit.discovery import BuildError

        raise BuildError(refused)
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    code = code_tree(app)
    write_tree(code.own, src)
    compile_code(src, app.service.runtime)
    write_tree(code.dependencies, src)  # compiled already, once, in lambdakit's cache
    path = out / "template.yaml"
    path.write_text(dump_yaml(template))
    write_stacks(out, extra_stacks(app))
    (out / "openapi.json").write_text(openapi_text(app, "json"))
    return path


def openapi_text(app: App, form: str = "json") -> str:
    """The public OpenAPI 3.1 document of `app`, as JSON or YAML text."""
    from lambdakit.derive.plan import plan_of
    from lambdakit.derive.public_openapi import document

    doc = document(plan_of(app))
    return json.dumps(doc, indent=2) + "\n" if form == "json" else dump_yaml(doc)
