"""The `lambdakit` command: build, package, policy, routes, openapi, local, deploy, diff, destroy."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click


def _refuse(exc: Any, what: str) -> NoReturn:
    """A BuildError's problems, one per line, and exit code 2: the user's input, not lambdakit, is wrong."""
    click.secho(f"lambdakit: {len(exc.problems)} problem(s) {what}:", fg="red", err=True)
    for problem in exc.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(2)


def _load(package: str) -> Any:
    from lambdakit.discovery import BuildError, discover

    try:
        return discover(package)
    except BuildError as exc:
        _refuse(exc, "in " + package)


@click.group()
@click.version_option(package_name="lambdakit")
def main() -> None:
    """Build, inspect, run and deploy a lambdakit service."""


@main.command()
@click.argument("package")
@click.option(
    "--out",
    default=".lambdakit/build",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for template.yaml and the code it deploys.",
)
def build(package: str, out: Path) -> None:
    """Write the SAM template(s) for PACKAGE and print a summary."""
    from lambdakit.build import build as write
    from lambdakit.derive.summary import summary
    from lambdakit.discovery import BuildError

    app = _load(package)
    try:
        path = write(app, out)
    except BuildError as exc:
        _refuse(exc, "in " + package)
    click.echo(f"service {app.service.name}: {len(app.functions)} function(s) -> {path}\n")
    click.echo(summary(app))


@main.command("package")
@click.argument("package")
@click.option("--stage", default="dev", show_default=True, help="The stage it is for: names the default --out.")
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the zips and templates (default: .lambdakit/package/STAGE).",
)
def package_command(package: str, stage: str, out: Path | None) -> None:
    """Build PACKAGE's deployable artifacts: a reproducible zip of its code, lambdakit's runtime and its
    pinned dependencies (built for Lambda's platform), and the templates that point at it (docs/packaging.md)."""
    import re

    from lambdakit.discovery import BuildError
    from lambdakit.packaging import package as build_package
    from lambdakit.packaging.report import describe

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}", stage):
        raise click.UsageError(f"--stage {stage!r}: use letters, digits and hyphens (e.g. dev, prod)")
    app = _load(package)
    try:
        result = build_package(app, out if out is not None else Path(".lambdakit") / "package" / stage)
    except BuildError as exc:
        _refuse(exc, "packaging " + package)
    click.echo(f"service {app.service.name}: {len(app.functions)} function(s), stage {stage}")
    click.echo(describe(result))


@main.command()
@click.argument("package")
@click.argument("function", required=False)
def policy(package: str, function: str | None) -> None:
    """Print the derived IAM policy of each function (or of FUNCTION) as JSON."""
    from lambdakit.derive.iam import policy_document
    from lambdakit.derive.plan import plan_of

    app = _load(package)
    functions = plan_of(app).functions
    if function:
        functions = tuple(fn for fn in functions if fn.name == function)
        if not functions:
            names = ", ".join(s.name for s in app.functions)
            raise click.UsageError(f"no function {function!r} in {package}; it has: {names}")
    docs = {fn.name: policy_document(fn) for fn in functions}
    click.echo(json.dumps(docs[function] if function else docs, indent=2))


@main.command()
@click.argument("package")
def routes(package: str) -> None:
    """Print the routes, triggers, auth and tables as a table."""
    from lambdakit.derive.summary import summary

    click.echo(summary(_load(package)))


@main.command()
@click.argument("package")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: print to standard output).",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["json", "yaml"]),
    default=None,
    help="Output format (default: from --out's suffix, else json).",
)
def openapi(package: str, out: Path | None, form: str | None) -> None:
    """Print PACKAGE's API as an OpenAPI 3.1 document, for people and client generators.

    Every route with its typed parameters, request and response bodies, every
    status it can answer (with the one error schema), its security scheme and
    a tag per module. `lambdakit build` writes the same document to openapi.json.
    """
    from lambdakit.build import openapi_text

    if form is None:
        form = "yaml" if out is not None and out.suffix in (".yaml", ".yml") else "json"
    text = openapi_text(_load(package), form)
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    click.echo(f"wrote {out}", err=True)


@main.command()
@click.argument("package")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write: .md/.mmd (Mermaid), .png or .svg (default: Mermaid on standard output).",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["mermaid", "png", "svg"]),
    default=None,
    help="Output format (default: from --out's suffix, else mermaid).",
)
@click.option("--iam", is_flag=True, help="Label each function's edges with the IAM actions its policy grants.")
def diagram(package: str, out: Path | None, form: str | None, iam: bool) -> None:
    """Draw PACKAGE's architecture from its plan: callers, CloudFront, API Gateway, functions, resources.

    Mermaid text needs nothing more; PNG and SVG use AWS's icons through the
    `diagrams` package and Graphviz (`pip install 'lambdakit[diagram]'`,
    `apt-get install graphviz`). The same plan always gives the same output.
    """
    from lambdakit.derive.diagram import graph_of, mermaid
    from lambdakit.derive.plan import plan_of

    if form is None:
        suffix = out.suffix.lower() if out is not None else ".mmd"
        inferred = {".md": "mermaid", ".mmd": "mermaid", ".mermaid": "mermaid", ".png": "png", ".svg": "svg"}
        if suffix not in inferred:
            raise click.UsageError(
                f"cannot tell the format from {out}; end it in .md, .mmd, .png or .svg, or give --format"
            )
        form = inferred[suffix]
    if form != "mermaid" and out is None:
        raise click.UsageError(f"--format {form} writes a file: give --out FILE.{form}")
    graph = graph_of(plan_of(_load(package)), iam=iam)
    if form == "mermaid":
        text = mermaid(graph)
        if out is not None and out.suffix.lower() == ".md":
            text = f"```mermaid\n{text}```\n"  # a Markdown file: fenced, so GitHub and most viewers draw it
        if out is None:
            click.echo(text, nl=False)
            return
        data = text.encode()
    else:
        from lambdakit.diagram_png import MissingDependency, render

        try:
            data = render(graph, form)
        except MissingDependency as exc:
            click.secho(f"lambdakit diagram: {exc}", fg="red", err=True)
            sys.exit(2)
    assert out is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    click.echo(f"wrote {out}", err=True)


@main.command()
@click.argument("package")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(0, 65535), help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False),
    help='JSON to load at start: {"tables": {NAME: [items]}, "queues": {...}, "streams": {...}, "users": [...]}.',
)
@click.option(
    "--reload/--no-reload",
    default=True,
    show_default=True,
    help="Restart when the code (or the seed file) changes; the in-memory AWS starts again from the seed.",
)
def local(package: str, port: int, host: str, seed: str | None, reload: bool) -> None:
    """Run PACKAGE on this machine: its API, consumers and resources, with AWS in memory (moto)."""
    from lambdakit.local.server import serve

    serve(package, host=host, port=port, seed=seed, reload=reload)


_stage_option = click.option("--stage", default="dev", show_default=True, help="The stage: stack SERVICE-STAGE.")
_region_option = click.option(
    "--region", default=None, help="AWS region (default: the stage's, else your configuration's)."
)
_profile_option = click.option(
    "--profile", default=None, help="AWS profile (default: the stage's, else your configuration's)."
)


def _deploy_step(package: str, step: Any) -> Any:
    """Run a deploy/diff/destroy step: its mistakes as a message and exit code, never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    from lambdakit.deploy import DeployError
    from lambdakit.deploy.errors import StageError
    from lambdakit.discovery import BuildError

    try:
        return step()
    except BuildError as exc:
        _refuse(exc, "packaging " + package)
    except DeployError as exc:
        click.secho(f"lambdakit: {exc}", fg="red", err=True)
        sys.exit(2 if isinstance(exc, StageError) else 1)
    except (BotoCoreError, ClientError) as exc:
        click.secho(f"lambdakit: AWS refused a call: {exc}", fg="red", err=True)
        sys.exit(1)


def _confirmer(yes: bool, what: str) -> Any:
    """--yes confirms; otherwise ask on the terminal, and refuse when there is none (CI must say --yes)."""
    if yes:
        return lambda question: True
    if not sys.stdin.isatty():
        raise click.UsageError(f"no terminal to confirm the {what} on: pass --yes to {what} without asking")
    return lambda question: click.confirm(question, default=False)


@main.command()
@click.argument("package")
@_stage_option
@_region_option
@_profile_option
@click.option("--yes", is_flag=True, help="Deploy without asking (CI); the review is printed all the same.")
@click.option(
    "--prune",
    is_flag=True,
    help="Delete files gone from the site folder from its bucket (hashed assets stay: open pages still use them).",
)
def deploy(package: str, stage: str, region: str | None, profile: str | None, yes: bool, prune: bool) -> None:
    """Package PACKAGE, show each stack's change (IAM first), confirm, deploy it, then upload its site.

    The stage's account, region and parameters come from deploy/SERVICE.toml (docs/deploy.md)."""
    from lambdakit.deploy.orchestrate import deploy as run

    confirm = _confirmer(yes, "deploy")
    app = _load(package)
    out = Path(".lambdakit") / "package" / stage
    _deploy_step(
        package,
        lambda: run(app, stage, out=out, region=region, profile=profile, confirm=confirm, echo=click.echo, prune=prune),
    )


@main.command()
@click.argument("package")
@_stage_option
@_region_option
@_profile_option
def diff(package: str, stage: str, region: str | None, profile: str | None) -> None:
    """Show what `deploy` would change in each stack of the stage (IAM first), without changing anything."""
    from lambdakit.deploy.orchestrate import deploy as run

    app = _load(package)
    out = Path(".lambdakit") / "package" / stage
    _deploy_step(
        package,
        lambda: run(
            app, stage, out=out, region=region, profile=profile, confirm=lambda q: False, echo=click.echo, execute=False
        ),
    )


@main.command()
@click.argument("package")
@_stage_option
@_region_option
@_profile_option
@click.option("--yes", is_flag=True, help="Delete without asking (CI); what is kept is printed all the same.")
def destroy(package: str, stage: str, region: str | None, profile: str | None, yes: bool) -> None:
    """Delete the stage's stacks (main first); tables, user pools and the site bucket are kept, as printed."""
    from lambdakit.deploy.destroy import destroy as run

    confirm = _confirmer(yes, "destroy")
    app = _load(package)
    _deploy_step(package, lambda: run(app, stage, region=region, profile=profile, confirm=confirm, echo=click.echo))


def _release(package: str, stage: str, verb: str, region: str | None, profile: str | None) -> None:
    from lambdakit.deploy.rollout import RolloutError, release_command

    app = _load(package)
    try:
        click.echo(release_command(app, stage, verb, region, profile))
    except RolloutError as exc:
        click.secho(f"lambdakit {verb}: {exc}", fg="red", err=True)
        sys.exit(2)


_STAGE_HELP = "The stage whose site to change (`local`: the releases of `lambdakit local`)."


@main.command()
@click.argument("package")
@click.option("--stage", required=True, help=_STAGE_HELP)
@_region_option
@_profile_option
def promote(package: str, stage: str, region: str | None, profile: str | None) -> None:
    """Serve the candidate release of PACKAGE's site (rollout=) to every visitor.

    Changes one value of the site's release store; the distribution is not touched.
    """
    _release(package, stage, "promote", region, profile)


@main.command()
@click.argument("package")
@click.option("--stage", required=True, help=_STAGE_HELP)
@_region_option
@_profile_option
def rollback(package: str, stage: str, region: str | None, profile: str | None) -> None:
    """Drop the candidate release of PACKAGE's site (rollout=): every visitor is back on the stable one.

    Changes one value of the site's release store; the distribution is not touched, the files stay.
    """
    _release(package, stage, "rollback", region, profile)


if __name__ == "__main__":
    main()
