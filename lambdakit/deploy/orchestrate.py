"""`deploy` and `diff`: the stage checked, the code uploaded, each stack reviewed and changed, in order.

The extra stacks (`derive/stacks.py`) go first, each in its own region; their outputs fill the
main template's parameters of the same name. A stack whose code needs the main stack's outputs
(site auth's Lambda@Edge function bakes the user pool in: Lambda@Edge has no environment) is
deployed again once the main stack exists, and the main stack after it: `step_order` decides
that, a pure function. On a first create, its first pass leaves that function out (`without`):
the main stack's `<LogicalId>VersionArn` parameter stays empty, so the site fails closed (its
protected paths answer 503), while what the main stack needs from us-east-1 (the site's
certificate) is there for it to be created at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from lambdakit.declare.app import App
from lambdakit.deploy import bucket, changes, events, review, transform
from lambdakit.deploy.bucket import ArtifactLike
from lambdakit.deploy.errors import DeployError, StageError
from lambdakit.deploy.names import stack_name

MAIN = "main"
Echo = Callable[[str], None]
Confirm = Callable[[str], bool]


class StackLike(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def template(self) -> dict[str, Any]: ...
    @property
    def region(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...


class PackageLike(Protocol):
    """What deploy reads of `lambdakit.packaging.Package`."""

    @property
    def out(self) -> Path: ...
    @property
    def template(self) -> dict[str, Any]: ...
    @property
    def artifacts(self) -> Sequence[ArtifactLike]: ...
    @property
    def stacks(self) -> Sequence[StackLike]: ...


@dataclass(frozen=True)
class Step:
    key: str  # MAIN, or an extra stack's key
    with_main_outputs: bool = False  # build its deploy-time config (site auth) from the main stack's outputs


def step_order(extra: Sequence[str], needs_main: frozenset[str], main_exists: bool) -> tuple[Step, ...]:
    """The stacks in the order they deploy. Extra stacks first, then the main one; a stack whose code needs the
    main stack's outputs gets them from the deployed main stack, and on a first create that means a second pass
    (it, then the main stack again, with the new version), after the main stack exists."""
    first = (*(Step(key, main_exists and key in needs_main) for key in extra), Step(MAIN))
    later = [key for key in extra if key in needs_main]
    if main_exists or not later:
        return first
    return first + tuple(Step(key, True) for key in later) + (Step(MAIN),)


@dataclass(frozen=True)
class Target:
    """One stack of the stage: its key, its name and region, its SAM template (code paths relative to out)."""

    key: str
    name: str
    region: str
    template: dict[str, Any]


@dataclass
class Deployment:
    """What the steps share: the stage, its checked session, the package, and what was deployed so far."""

    app: App
    stage: str
    settings: Any  # lambdakit.deploy.stages.StageSettings
    session: Any
    account: str
    region: str
    package: PackageLike
    echo: Echo = print
    confirm: Confirm = lambda question: False
    poll: float = 3.0
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    _buckets: dict[str, str] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)  # domain -> its hosted zone id

    def client(self, service: str, region: str) -> Any:
        """One client per service and region (making one costs more than most calls)."""
        if (service, region) not in self._clients:
            self._clients[service, region] = self.session.client(service, region_name=region)
        return self._clients[service, region]

    def bucket(self, region: str) -> str:
        if region not in self._buckets:
            self._buckets[region] = bucket.ensure_bucket(self.client("s3", region), self.account, region, self.echo)
        return self._buckets[region]


# -- step 1: the stage -----------------------------------------------------------------------------------


def open_stage(
    app: App, stage: str, region: str | None = None, profile: str | None = None
) -> tuple[Any, Any, str, str]:
    """The stage's settings checked, and a session for its account: before anything touches AWS."""
    from lambdakit.deploy import stages

    refused = stages.stage_problems(app, stage)
    if refused:
        raise StageError("\n".join(refused))
    from botocore.exceptions import ProfileNotFound

    try:
        found = stages.resolve(stages.settings(app, stage), region, profile)
        session = stages.session_of(found)
        account = stages.check_account(session, found)
    except StageError:
        raise
    except DeployError as exc:
        raise StageError(str(exc)) from None
    except ProfileNotFound as exc:
        name = exc.kwargs.get("profile")
        raise StageError(
            f"stage {stage}: {exc} (in your AWS configuration); create it (aws configure sso --profile {name}) "
            "or pass --profile NAME"
        ) from None
    where = found.region or session.region_name
    if not where:
        raise StageError(
            f"stage {stage}: no region; set region = under [stages.{stage}] in deploy/{app.service.name}.toml, "
            "or pass --region (or set AWS_REGION)"
        )
    from lambdakit.derive.failover import region_problems  # a replica in the stage's own region is refused

    if region_problems(app, str(where)):
        raise StageError("\n".join(region_problems(app, str(where))))
    return found, session, account, str(where)


def targets(app: App, stage: str, package: PackageLike, region: str) -> dict[str, Target]:
    """The main stack and the extra ones, by key, in deploy order."""
    main = stack_name(app, stage)
    found = {
        stack.key: Target(stack.key, stack.name or f"{main}-{stack.key}", stack.region or region, stack.template)
        for stack in package.stacks
    }
    found[MAIN] = Target(MAIN, main, region, package.template)
    return found


# -- one stack ----------------------------------------------------------------------------------------


def parameters(run: Deployment, target: Target) -> tuple[dict[str, str], tuple[str, ...]]:
    """The values of the template's parameters: the stage's settings, the stage, the domains, the extra
    stacks' outputs of the same name, the site's hosted zone. Unset ones keep their previous value."""
    declared = target.template.get("Parameters", {})
    known: dict[str, str] = {}
    for outputs in run.outputs.values():
        known.update(outputs)
    known.update(run.settings.parameters)
    known["Stage"] = run.stage
    if run.settings.domain:
        known["ApiDomainName"] = run.settings.domain
    if run.settings.site_domain:
        known["SiteDomainName"] = run.settings.site_domain
    if "HostedZoneId" in declared and "HostedZoneId" not in known:
        known["HostedZoneId"] = zone_of(run, target.template, known)
    values = {name: str(known[name]) for name in declared if name in known}
    missing = tuple(name for name in declared if name not in values and "Default" not in declared[name])
    return values, missing


def zone_of(run: Deployment, template: Mapping[str, Any], known: Mapping[str, str]) -> str:
    """The public hosted zone of the stage's domain (one zone per stack: the site's domain, else the API's),
    the stage's override first, else the template's default."""
    from lambdakit.deploy.site import hosted_zone_id

    declared = template.get("Parameters", {})
    for name in ("SiteDomainName", "ApiDomainName"):
        domain = known.get(name) or declared.get(name, {}).get("Default")
        if domain:
            if domain not in run.zones:
                run.zones[domain] = hosted_zone_id(run.client("route53", "us-east-1"), domain)
            return run.zones[domain]
    from lambdakit.derive.plan import plan_of

    site = plan_of(run.app).site
    if site is None or site.domain is None:
        raise DeployError("the template asks for a HostedZoneId but the service declares no domain")
    return zone_of(run, {"Parameters": {"SiteDomainName": {"Default": site.domain}}}, {})


def _plain(run: Deployment, target: Target, values: Mapping[str, str], upload: bool) -> dict[str, Any]:
    out = run.package.out
    wanted = set(bucket.code_paths(target.template, out).values())
    artifacts = [a for a in run.package.artifacts if a.path.resolve() in wanted]
    if upload:
        uris = bucket.upload(
            run.client("s3", target.region),
            run.bucket(target.region),
            run.account,
            run.app.service.name,
            artifacts,
            run.echo,
        )
    else:  # a diff of a stack that does not exist yet: where they would go
        name = bucket.bucket_name(run.account, target.region)
        uris = {a.path.resolve(): f"s3://{name}/{bucket.artifact_key(run.app.service.name, a)}" for a in artifacts}
    return transform.plain(bucket.with_code_uris(target.template, out, uris), target.region, dict(values))


def _print_review(
    run: Deployment,
    target: Target,
    kind: str,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    cs: changes.ChangeSet | None,
) -> None:
    run.echo(f"\nstack {target.name} ({target.region}): {kind}")
    for line in review.iam_lines(review.iam_review(old, new)):
        run.echo(line)
    lines = review.new_stack_lines(new) if cs is None else review.change_lines(cs.changes, old, new)
    for line in lines:
        run.echo(line)


def deploy_stack(run: Deployment, target: Target, execute: bool) -> dict[str, str]:
    """Review one stack's change and (when `execute`) make it: its outputs afterwards."""
    cf = run.client("cloudformation", target.region)
    if execute:
        exists = changes.ready(cf, target.name, run.echo, run.poll)
    else:
        status = changes.stack_status(cf, target.name)
        if status == "ROLLBACK_COMPLETE":
            run.echo(f"stack {target.name} is ROLLBACK_COMPLETE: deploy will delete it and create it again")
        exists = status not in (None, "REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE")
    values, missing = parameters(run, target)
    previous = missing if exists else ()
    if missing and not exists and execute:  # a diff of a new stack: the extra stacks' outputs do not exist yet
        raise DeployError(
            f"stack {target.name}: no value for the parameter(s) {', '.join(missing)}; set them under "
            f"[stages.{run.stage}.parameters] in deploy/{run.app.service.name}.toml"
        )
    if not execute and not exists:
        new = _plain(run, target, values, upload=False)
        _print_review(run, target, "new (everything below is created)", None, new, None)
        return {}
    new = _plain(run, target, values, upload=True)
    text = transform.body(new)
    url = None
    if len(text.encode()) > transform.MAX_BODY:
        url = bucket.upload_template(
            run.client("s3", target.region),
            run.bucket(target.region),
            run.account,
            run.app.service.name,
            text,
            target.region,
        )
    tags = {"lambdakit:service": run.app.service.name, "lambdakit:stage": run.stage}
    cs = changes.create(
        cf,
        target.name,
        new,
        exists=exists,
        parameters=values,
        previous=previous,
        tags=tags,
        template_url=url,
        poll=min(run.poll, 2.0),
    )
    if cs.empty:
        run.echo(f"\nstack {target.name} ({target.region}): no changes")
        if cs.made:
            changes.delete(cf, target.name, cs.name)
        return changes.outputs(cf, target.name)
    old = changes.current_template(cf, target.name) if exists else None
    _print_review(run, target, cs.kind, old, new, cs)
    if not execute:
        _discard(cf, target.name, cs, exists)
        return changes.outputs(cf, target.name) if exists else {}
    if not run.confirm(f"deploy these changes to {target.name}?"):
        _discard(cf, target.name, cs, exists)
        raise DeployError(f"not deployed: {target.name} is unchanged (nothing was confirmed)")
    return _execute(run, cf, target, cs)


def _discard(cf: Any, stack: str, cs: changes.ChangeSet, exists: bool) -> None:
    changes.delete(cf, stack, cs.name)
    if not exists:  # the CREATE change set made an empty stack (REVIEW_IN_PROGRESS): leave nothing behind
        cf.delete_stack(StackName=stack)


def _execute(run: Deployment, cf: Any, target: Target, cs: changes.ChangeSet) -> dict[str, str]:
    from botocore.exceptions import ClientError

    marker = events.newest_id(cf, target.name)
    run.echo(f"deploying {target.name} ...")
    try:
        cf.execute_change_set(StackName=target.name, ChangeSetName=cs.name)
    except ClientError as exc:
        outcome = events.Outcome(
            target.name, changes.stack_status(cf, target.name), tuple(events.since(cf, target.name, marker))
        )
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        raise DeployError(
            f"CloudFormation failed to execute the change set of {target.name}: {message}; "
            f"the stack is now {outcome.status or 'gone'}"
        ) from None
    outcome = events.watch(cf, target.name, marker, run.echo, run.poll)
    if not outcome.ok:
        raise DeployError(events.failure_message(outcome))
    outputs = changes.outputs(cf, target.name)
    print_outputs(run.echo, cf, target.name, outputs)
    return outputs


def print_outputs(echo: Echo, cf: Any, stack: str, outputs: Mapping[str, str]) -> None:
    """The stack's outputs (URLs, domains, ids), and its API keys' ids (their values stay in API Gateway)."""
    echo(f"stack {stack}: done")
    for key, value in outputs.items():
        echo(f"  {key}: {value}")
    keys = [
        r
        for page in cf.get_paginator("list_stack_resources").paginate(StackName=stack)
        for r in page["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::ApiGateway::ApiKey"
    ]
    for key in keys:
        echo(
            f"  API key {key['LogicalResourceId']}: {key.get('PhysicalResourceId')} "
            f"(its value: aws apigateway get-api-key --api-key {key.get('PhysicalResourceId')} --include-value)"
        )


# -- site auth's deploy-time config ---------------------------------------------------------------------


def needs_main_outputs(app: App) -> frozenset[str]:
    """The extra stacks whose code is built from the main stack's outputs (Lambda@Edge site auth)."""
    return frozenset({"us-east-1"}) if _configured_edge(app) else frozenset()


def _configured_edge(app: App) -> tuple[Any, ...]:
    if app.site is None:
        return ()
    from lambdakit.derive.edge import edge_functions
    from lambdakit.derive.plan import plan_of

    return tuple(fn for fn in edge_functions(app, plan_of(app)) if fn.deploy_config)


def jwks_of(url: str) -> dict[str, Any]:
    """The user pool's public keys, from its issuer (what the edge verifies tokens against)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return dict(json.loads(answer.read()))
    except (OSError, ValueError) as exc:
        raise DeployError(f"could not read the user pool's keys at {url} ({exc}); deploy again") from None


def references(value: Any) -> set[str]:
    """The logical ids a template fragment names: Ref, Fn::GetAtt, ${X} in Fn::Sub, DependsOn."""
    import re

    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner.split(".")[0])  # SAM's `Function.Version` names the function
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(re.findall(r"\$\{([A-Za-z0-9]+)[.}]", str(text)))
                found |= references(inner[1:] if isinstance(inner, list) else [])
            elif key == "DependsOn":
                found.update([inner] if isinstance(inner, str) else inner)
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def without(template: Mapping[str, Any], removed: set[str]) -> dict[str, Any]:
    """The template without those resources, any resource or output naming one of them, and what only they
    used (a function's role), transitively."""
    result: dict[str, Any] = json.loads(json.dumps(template))
    resources = result.get("Resources", {})
    outputs = result.get("Outputs", {})
    gone = set(removed) & set(resources)
    while True:
        kept = {lid: r for lid, r in resources.items() if lid not in gone}
        naming = {lid for lid, r in kept.items() if references(r) & gone}
        live_outputs = [o for o in outputs.values() if not references(o) & gone]
        used = set().union(
            *(references(r) for lid, r in kept.items() if lid not in naming), *map(references, live_outputs)
        )
        orphans = {lid for lid in kept if lid not in used and any(lid in references(resources[g]) for g in gone)}
        if not naming | orphans:
            break
        gone |= naming | orphans
    result["Resources"] = {lid: r for lid, r in resources.items() if lid not in gone}
    if "Outputs" in result:
        result["Outputs"] = {k: o for k, o in outputs.items() if not references(o) & gone}
    return result


def with_edge_config(run: Deployment, target: Target, main: Mapping[str, str] | None) -> Target:
    """The target with each deploy-config edge function's code built: from the main stack's outputs when they
    exist, else with no config (for a diff of a stage not deployed yet: only reviewed, never deployed)."""
    from lambdakit.derive.site_auth import config_from, jwks_url
    from lambdakit.packaging.edge import edge_artifact, stamped

    config = None
    if main is not None:
        try:
            config = config_from(run.app, main, jwks_of(jwks_url(main)))
        except ValueError as exc:
            raise DeployError(f"site auth's edge function cannot be configured: {exc}") from None
    template = json.loads(json.dumps(target.template))
    artifacts = list(run.package.artifacts)
    for fn in _configured_edge(run.app):
        if fn.logical_id not in template.get("Resources", {}):
            continue
        artifact = edge_artifact(run.app, fn, run.package.out, config=config)
        artifacts.append(artifact)
        code_uri = str(artifact.path.resolve().relative_to(run.package.out.resolve()))
        template = stamped(template, fn, artifact, code_uri)
    run.package = _Package(run.package.out, run.package.template, tuple(artifacts), tuple(run.package.stacks))
    return replace(target, template=template)


@dataclass(frozen=True)
class _Package:
    out: Path
    template: dict[str, Any]
    artifacts: tuple[ArtifactLike, ...]
    stacks: tuple[StackLike, ...]


# -- the whole stage --------------------------------------------------------------------------------------


def run_stage(run: Deployment, execute: bool) -> dict[str, dict[str, str]]:
    """Every stack of the stage, in order; each one's outputs, by key."""
    from lambdakit.deploy.stages import unknown_parameters

    wrong = unknown_parameters(run.settings, run.package.template)
    if wrong:
        raise StageError("\n".join(wrong))
    found = targets(run.app, run.stage, run.package, run.region)
    main_cf = run.client("cloudformation", run.region)
    main_exists = changes.stack_status(main_cf, found[MAIN].name) not in (
        None,
        "REVIEW_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
    )
    if main_exists:
        run.outputs[MAIN] = changes.outputs(main_cf, found[MAIN].name)
    needs = needs_main_outputs(run.app)
    order = step_order([k for k in found if k != MAIN], needs, main_exists)
    if not execute:  # a diff shows each stack once
        order = tuple({step.key: step for step in reversed(order)}.values())[::-1]
    for step in order:
        target = found[step.key]
        if step.key in needs:
            main = run.outputs.get(MAIN) if step.with_main_outputs else None
            if main is None and execute:  # a first create: the function waits for the main stack's outputs
                left_out = {fn.logical_id for fn in _configured_edge(run.app)}
                target = replace(target, template=without(target.template, left_out))
                run.echo(
                    f"\n{target.name}: {', '.join(sorted(left_out))} waits for the main stack (it bakes the user pool "
                    "in); until then the protected paths answer 503 (fail closed)"
                )
                if not target.template["Resources"]:
                    continue
            else:
                target = with_edge_config(run, target, main)
        run.outputs[step.key] = deploy_stack(run, target, execute)
    return run.outputs


def deploy(
    app: App,
    stage: str,
    *,
    out: Path,
    region: str | None = None,
    profile: str | None = None,
    confirm: Confirm,
    echo: Echo = print,
    prune: bool = False,
    poll: float = 3.0,
    built: PackageLike | None = None,
    execute: bool = True,
) -> dict[str, dict[str, str]]:
    """`lambdakit deploy` (or, with execute=False, `lambdakit diff`): its stacks' outputs by key."""
    settings, session, account, where = open_stage(app, stage, region, profile)
    echo(f"stage {stage}: account {account}, region {where} ({settings.where})")
    if built is None:
        from lambdakit.packaging import package

        built = package(app, out)
    run = Deployment(app, stage, settings, session, account, where, built, echo, confirm, poll)
    outputs = run_stage(run, execute)
    if execute and app.site is not None:
        from botocore.exceptions import BotoCoreError, ClientError

        from lambdakit.deploy.site import publish_site, site_summary
        from lambdakit.site_upload import UploadError

        echo(f"uploading the site {app.site.root}")
        try:
            echo(site_summary(publish_site(app, stage, where, settings.profile, prune=prune, session=session)))
        except (UploadError, BotoCoreError, ClientError, OSError) as exc:
            raise DeployError(f"the stacks are deployed, the site upload failed: {exc}; deploy again") from None
    return outputs
