"""The `lambdakit` command: build, policy, routes, openapi, local, deploy."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


def _load(package: str) -> Any:
    from lambdakit.discovery import BuildError, discover

    try:
        return discover(package)
    except BuildError as exc:
        click.secho(f"lambdakit: {len(exc.problems)} problem(s) in {package}:", fg="red", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)


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
        click.secho(f"lambdakit: {len(exc.problems)} problem(s) in {package}:", fg="red", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)
    click.echo(f"service {app.service.name}: {len(app.functions)} function(s) -> {path}\n")
    click.echo(summary(app))


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


@main.command()
@click.argument("package")
@click.option("--stage", default="dev", show_default=True, help="Deploys as the stack SERVICE-STAGE.")
@click.option("--region", default=None, help="AWS region (default: your AWS configuration's).")
@click.option("--profile", default=None, help="AWS profile to deploy with.")
@click.option("--dry-run", is_flag=True, help="Build and print the SAM CLI commands without running them.")
@click.option(
    "--prune",
    is_flag=True,
    help="Delete files gone from the site folder from its bucket (hashed assets stay: open pages still use them).",
)
def deploy(package: str, stage: str, region: str | None, profile: str | None, dry_run: bool, prune: bool) -> None:
    """Build PACKAGE and deploy it with the SAM CLI as stack SERVICE-STAGE, then upload its site, if any."""
    import shlex
    import subprocess

    import yaml

    from lambdakit.build import EDGE_TEMPLATE
    from lambdakit.build import build as write
    from lambdakit.deploy import (
        DeployError,
        commands,
        edge_certificate,
        edge_command,
        name_problems,
        sam_available,
        site_parameters,
    )

    app = _load(package)
    refused = name_problems(app, stage)
    if refused:
        raise click.UsageError("; ".join(refused))
    out = Path(".lambdakit") / "deploy" / stage
    write(app, out)
    template = yaml.safe_load((out / "template.yaml").read_text())
    has_edge = (out / EDGE_TEMPLATE).exists()
    if dry_run:
        placeholders = {name: f"<{name}>" for name in template.get("Parameters", {})}
        if "Stage" in placeholders:
            placeholders["Stage"] = stage
        if has_edge:
            click.echo(shlex.join(edge_command(app, stage, out, profile, "<HostedZoneId>")))
        for step in commands(app, stage, out, region, profile, placeholders):
            click.echo(shlex.join(step))
        if app.site is not None:
            click.echo(f"# then: upload {app.site.root} to the stack's SiteBucketName, invalidate changed entry files")
        return
    if not sam_available():
        raise click.ClickException(
            "the SAM CLI (`sam`) is not on PATH: install it with `pip install aws-sam-cli`, "
            f"or deploy {out / 'template.yaml'} yourself (see --dry-run for the commands)"
        )
    import boto3

    session = boto3.Session(profile_name=profile, region_name=region)

    def run(step: list[str]) -> None:
        click.echo(f"$ {shlex.join(step)}")
        if subprocess.run(step).returncode != 0:
            raise click.ClickException(f"`{step[0]} {step[1]}` failed; its output is above")

    try:
        parameters = site_parameters(app, stage, session, template)
        if has_edge:  # the certificate CloudFront needs lives in us-east-1, deployed first
            run(edge_command(app, stage, out, profile, parameters["HostedZoneId"]))
            parameters["SiteCertificateArn"] = edge_certificate(app, stage, session)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from exc
    for step in commands(app, stage, out, region, profile, parameters):
        run(step)
    if app.site is not None:
        from botocore.exceptions import BotoCoreError, ClientError

        from lambdakit.deploy import publish_site, site_summary
        from lambdakit.site_upload import UploadError

        click.echo(f"uploading the site {app.site.root}")
        try:
            click.echo(site_summary(publish_site(app, stage, region, profile, prune=prune)))
        except (DeployError, UploadError, BotoCoreError, ClientError, OSError) as exc:
            raise click.ClickException(f"the stack is deployed, the site upload failed: {exc}") from exc


if __name__ == "__main__":
    main()
