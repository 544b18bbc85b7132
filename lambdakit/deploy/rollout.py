"""Releases of a site with `rollout=`: publish one, promote it, roll it back, through the release store.

The state is one key of the stack's CloudFront KeyValueStore (`SiteReleasesArn`), read by the
site router on every request: changing it changes who gets which release within seconds, and no
distribution setting. Every write is conditional on the store's ETag, so two people promoting at
once cannot both win: the second gets `RolloutError` and runs again.

The transitions (`released`, `promoted`, `rolled_back`) are pure and shared with `lambdakit local`.
The data plane client (`cloudfront-keyvaluestore`) signs with SigV4A, which botocore does only
with `awscrt` installed (`pip install 'botocore[crt]'`): `store_client` says so instead of failing
inside botocore.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdakit.declare.site import Frontend
from lambdakit.derive.routing import (
    RELEASES_OUTPUT,
    STATE_KEY,
    ReleaseState,
    RoutingPlan,
    release_files,
    release_id,
    release_prefix,
    routing_of,
)

if TYPE_CHECKING:
    from lambdakit.site_upload import Result as SiteResult

Client = Any  # boto3 clients are built at run time; boto3-stubs' per-service packages are not installed


class RolloutError(Exception):
    """A promote, rollback or release the state does not allow, or a store that changed meanwhile."""


# -- the transitions ------------------------------------------------------------------------------


def released(state: ReleaseState, release: str, percent: int) -> ReleaseState:
    """A deploy's release: the first is stable; a new one is the candidate (replacing an older candidate);
    the stable or candidate release deployed again changes nothing but the percent."""
    if state.stable is None:
        return ReleaseState(release, None, percent)
    if release in (state.stable, state.candidate):
        return replace(state, percent=percent)
    return ReleaseState(state.stable, release, percent)


def promoted(state: ReleaseState) -> ReleaseState:
    """The candidate becomes everyone's release."""
    if state.candidate is None:
        raise RolloutError(_nothing("promote", state))
    return ReleaseState(state.candidate, None, state.percent)


def rolled_back(state: ReleaseState) -> ReleaseState:
    """The candidate is dropped: everyone is on the stable release again (its files stay in the bucket)."""
    if state.candidate is None:
        raise RolloutError(_nothing("roll back", state))
    return ReleaseState(state.stable, None, state.percent)


def _nothing(verb: str, state: ReleaseState) -> str:
    on = f"everyone is on release {state.stable}" if state.stable else "no release was deployed yet"
    return f"no candidate release to {verb}: {on}; deploy a new build first"


def describe(state: ReleaseState) -> str:
    """One line for the CLI."""
    if state.stable is None:
        return "no release yet"
    if state.candidate is None:
        return f"release {state.stable} serves everyone"
    return f"release {state.candidate} serves {state.percent}% of visitors, {state.stable} the others"


# -- the store (CloudFront KeyValueStore's data plane) --------------------------------------------


def store_client(session: Any) -> Client:
    """The KeyValueStore data plane client; it is global (the store's ARN selects the endpoint)."""
    from botocore.compat import HAS_CRT

    if not HAS_CRT:
        raise RolloutError(
            "the CloudFront KeyValueStore API signs requests with SigV4A, which needs awscrt: "
            "pip install 'botocore[crt]', then run again"
        )
    return session.client("cloudfront-keyvaluestore", region_name="us-east-1")


@dataclass(frozen=True)
class Read:
    state: ReleaseState
    etag: str  # of the whole store: the next write is conditional on it


def read(client: Client, store_arn: str) -> Read:
    """The store's ETag first, then the state: a write in between makes our write's condition fail, as it should."""
    etag = str(client.describe_key_value_store(KvsARN=store_arn)["ETag"])
    try:
        value = client.get_key(KvsARN=store_arn, Key=STATE_KEY)["Value"]
    except client.exceptions.ResourceNotFoundException:
        value = None
    return Read(ReleaseState.parse(value), etag)


def write(client: Client, store_arn: str, state: ReleaseState, etag: str) -> str:
    """Put the state if the store is as read; the new ETag."""
    try:
        answer = client.put_key(KvsARN=store_arn, Key=STATE_KEY, Value=state.text(), IfMatch=etag)
    except client.exceptions.ConflictException as exc:  # If-Match failed: "Resource is not in expected state"
        raise RolloutError(
            f"the release store {store_arn} changed while lambdakit was updating it (someone else deployed, "
            "promoted or rolled back): run the command again"
        ) from exc
    return str(answer["ETag"])


def change(client: Client, store_arn: str, how: Any) -> tuple[ReleaseState, ReleaseState]:
    """Read, apply `how` (a transition), write conditionally: (before, after). Unchanged state is not written."""
    found = read(client, store_arn)
    after: ReleaseState = how(found.state)
    if after != found.state:
        write(client, store_arn, after, found.etag)
    return found.state, after


def promote(client: Client, store_arn: str) -> tuple[ReleaseState, ReleaseState]:
    return change(client, store_arn, promoted)


def rollback(client: Client, store_arn: str) -> tuple[ReleaseState, ReleaseState]:
    return change(client, store_arn, rolled_back)


# -- a deploy's release ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    release: str
    before: ReleaseState
    after: ReleaseState
    uploaded: tuple[str, ...]
    uploaded_bytes: int


def current_release(plan: RoutingPlan) -> str:
    return release_id(release_files(plan))


def publish_release(
    plan: RoutingPlan,
    bucket: str,
    s3_client: Client,
    kvs_client: Client,
    store_arn: str,
    *,
    workers: int = 8,
) -> Published:
    """Upload the build under `releases/ID/` (each variant under its prefix within), then record it in the
    store: uploaded first, so the router never names a release whose files are not all there.

    Nothing is invalidated: a release's keys are new names, and the store, not the cache, switches releases.
    """
    from lambdakit.site_upload import upload_files

    assert plan.rollout is not None
    release = current_release(plan)
    prefix = release_prefix(release)
    uploaded: list[str] = []
    size = 0
    for inner, root in plan.sources():
        result = upload_files(Path(root), bucket, s3_client, prefix=prefix + inner, workers=workers)
        uploaded += result.uploaded
        size += result.uploaded_bytes
    percent = plan.rollout.percent
    before, after = change(kvs_client, store_arn, lambda state: released(state, release, percent))
    return Published(release, before, after, tuple(uploaded), size)


# -- lambdakit local -------------------------------------------------------------------------------


class LocalStore:
    """The release state of `lambdakit local`: a JSON file, so `lambdakit promote PKG --stage local` in another
    terminal changes what the running server serves."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / "releases.json"

    def read(self) -> ReleaseState:
        try:
            return ReleaseState.parse(self.path.read_text())
        except FileNotFoundError:
            return ReleaseState()

    def text(self) -> str | None:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return None

    def write(self, state: ReleaseState) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(state.text())
        partial.replace(self.path)  # atomic: the server never reads half a file

    def change(self, how: Any) -> tuple[ReleaseState, ReleaseState]:
        before = self.read()
        after: ReleaseState = how(before)
        if after != before:
            self.write(after)
        return before, after


def local_folder(service: str, base: Path | None = None) -> Path:
    """Where `lambdakit local` keeps a service's releases: `.lambdakit/local/SERVICE/` of the working folder."""
    return (base or Path.cwd()) / ".lambdakit" / "local" / service


# -- what deploy calls for a routed site -------------------------------------------------------------


def publish_routed(
    site: Frontend,
    outputs: dict[str, str],
    session: Any,
    s3_client: Client,
    cloudfront_client: Client,
    *,
    prune: bool = False,
) -> SiteResult:
    """A site with `ab_test=` or `rollout=`, published after `sam deploy` (in place of `upload_site`).

    - `rollout=`: the build goes under `releases/ID/` (variants within) and becomes the candidate, or the
      stable release if it is the first; nothing is invalidated, nothing is pruned (old releases are
      what a rollback serves);
    - `ab_test=` alone: each variant to `variants/NAME/`, pruned and invalidated like a plain site.
    """
    from lambdakit.site_upload import Result, upload_site

    plan = routing_of(site)
    assert plan is not None, "publish_routed is for a site with ab_test= or rollout="
    bucket, distribution = outputs["SiteBucketName"], outputs["SiteDistributionId"]
    if plan.rollout is not None:
        if RELEASES_OUTPUT not in outputs:
            raise RolloutError(
                f"the stack has no {RELEASES_OUTPUT} output; deploy the template `lambdakit build` wrote"
            )
        done = publish_release(plan, bucket, s3_client, store_client(session), outputs[RELEASES_OUTPUT])
        note = f"release {done.release}: " + describe(done.after)
        if done.before == done.after:
            note += " (unchanged)"
        return Result(done.uploaded, done.uploaded_bytes, 0, (), (), (), None, (note,))
    results = [
        upload_site(
            Path(root),
            bucket,
            distribution,
            s3_client,
            cloudfront_client,
            prune=prune,
            index=site.index,
            prefix=prefix,
        )
        for prefix, root in plan.sources()
    ]
    invalidations = [r.invalidation_id for r in results if r.invalidation_id]
    return Result(
        uploaded=tuple(k for r in results for k in r.uploaded),
        uploaded_bytes=sum(r.uploaded_bytes for r in results),
        unchanged=sum(r.unchanged for r in results),
        deleted=tuple(k for r in results for k in r.deleted),
        kept=tuple(k for r in results for k in r.kept),
        paths=tuple(p for r in results for p in r.paths),
        invalidation_id=" ".join(invalidations) or None,
        notes=tuple(f"variant {name}: {weight}%" for name, weight, _ in plan.variants),
    )


# -- `lambdakit promote` / `lambdakit rollback` --------------------------------------------------------

LOCAL_STAGE = "local"
VERBS = {"promote": promoted, "rollback": rolled_back}


def release_command(app: Any, stage: str, verb: str, region: str | None = None, profile: str | None = None) -> str:
    """Promote or roll back the site's candidate release on `stage` (`local`: the `lambdakit local` state).

    The stage's settings (deploy/SERVICE.toml) give its account, region and profile, as for deploy; the
    stack's `SiteReleasesArn` output names the store. Returns the line the CLI prints.
    """
    site = app.site
    if site is None or routing_of(site) is None or routing_of(site).rollout is None:  # type: ignore[union-attr]
        raise RolloutError(
            f"{app.package} has no lk.Frontend(rollout=lk.Rollout(...)): there is no release to {verb}; "
            "declare rollout= and deploy"
        )
    how = VERBS[verb]
    if stage == LOCAL_STAGE:
        _, after = LocalStore(local_folder(app.service.name)).change(how)
        return f"{verb} (local): {describe(after)}"
    from botocore.exceptions import BotoCoreError, ClientError

    from lambdakit.deploy.errors import DeployError
    from lambdakit.deploy.names import stack_name
    from lambdakit.deploy.orchestrate import open_stage
    from lambdakit.site_upload import stack_outputs

    try:
        _, session, _, _ = open_stage(app, stage, region, profile)  # the checks deploy makes, first
        stack = stack_name(app, stage)
        outputs = stack_outputs(session.client("cloudformation"), stack)
        if RELEASES_OUTPUT not in outputs:
            raise RolloutError(
                f"stack {stack} has no {RELEASES_OUTPUT} output: deploy {app.package} with rollout= first"
            )
        _, after = change(store_client(session), outputs[RELEASES_OUTPUT], how)
    except DeployError as exc:
        raise RolloutError(str(exc)) from None
    except (BotoCoreError, ClientError) as exc:
        raise RolloutError(f"stage {stage}: {exc}") from None
    return f"{verb} ({stack}): {describe(after)}; no distribution setting changed, visitors follow within seconds"
