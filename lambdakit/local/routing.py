"""The site router and origin failover on this machine, for `lambdakit.local.site`.

- The router is the shipped CloudFront Function (under Node, reading the local release store as
  its KeyValueStore) or its Python twin; its viewer-response function sets the cookies.
- The bucket's keys map to folders: `variants/NAME/...` to the variant's folder,
  `releases/ID/...` to a snapshot of the build taken when `lambdakit local` started (releases are
  immutable, so a rebuilt folder is a new release: the candidate).
- The release state is a JSON file under `.lambdakit/local/SERVICE/`: `lambdakit promote PKG
  --stage local` and `lambdakit rollback PKG --stage local` change it, and the next request sees it.
- Failover: with `LAMBDAKIT_LOCAL_PRIMARY=down` in the environment (or `primary_down = True`), the
  primary bucket answers 503 and the request goes to the replica (the same files, as replication
  makes them), marked `x-lambdakit-origin: replica`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from lambdakit.deploy.rollout import LocalStore, current_release, local_folder, released
from lambdakit.derive.routing import (
    RELEASES_PREFIX,
    ROUTER,
    ROUTER_COOKIES,
    STATE_KEY,
    VARIANTS_PREFIX,
    RoutingPlan,
    cookies_twin,
    router_twin,
)
from lambdakit.local.cloudfront_functions import Twin
from lambdakit.local.gateway import HttpRequest, HttpResponse

PRIMARY_ENV = "LAMBDAKIT_LOCAL_PRIMARY"


class LocalRouting:
    """What the local distribution needs for `ab_test=` / `rollout=` (and `failover=`, see `primary_down`)."""

    def __init__(self, plan: RoutingPlan | None, service: str, folder: Path | None = None) -> None:
        self.plan = plan
        self.folder = folder if folder is not None else local_folder(service)
        self.store = LocalStore(self.folder)
        self.release: str | None = None
        if plan is not None and plan.rollout is not None:
            self.release = self.snapshot()
            percent = plan.rollout.percent
            release = self.release
            self.store.change(lambda state: released(state, release, percent))

    # -- the functions --------------------------------------------------------------------------
    def twins(self) -> dict[str, Twin]:
        if self.plan is None:
            return {}
        return {ROUTER: router_twin(self.plan, self.store.text), ROUTER_COOKIES: cookies_twin(self.plan)}

    def kvs(self) -> dict[str, str]:
        """The router's KeyValueStore as Node reads it."""
        text = self.store.text()
        return {STATE_KEY: text} if text else {}

    # -- the bucket -----------------------------------------------------------------------------
    def snapshot(self) -> str:
        """Copy the build into `releases/ID/` once (the id is the content's hash): what a deploy uploads."""
        assert self.plan is not None
        from lambdakit.site_upload import site_files

        release = current_release(self.plan)
        target = self.folder / RELEASES_PREFIX / release
        if not target.is_dir():
            partial = target.with_name(release + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            for prefix, root in self.plan.sources():
                for key, path in site_files(root):
                    dest = partial / (prefix + key)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dest)
            partial.replace(target)
        return release

    def locate(self, root: str, key: str) -> tuple[str, str]:
        """The folder holding a bucket key, and the key within it."""
        if self.plan is None:
            return root, key
        parts = key.split("/")
        if parts[0] == RELEASES_PREFIX and len(parts) > 2:
            return str(self.folder / RELEASES_PREFIX / parts[1]), "/".join(parts[2:])
        if parts[0] == VARIANTS_PREFIX and len(parts) > 2:
            for name, _, folder in self.plan.variants:
                if name == parts[1]:
                    return folder, "/".join(parts[2:])
        return root, key

    # -- failover -------------------------------------------------------------------------------
    primary_set: bool | None = None

    @property
    def primary_down(self) -> bool:
        if self.primary_set is not None:
            return self.primary_set
        return os.environ.get(PRIMARY_ENV, "").lower() == "down"

    @primary_down.setter
    def primary_down(self, value: bool) -> None:
        self.primary_set = value


def origin_group(
    routing: LocalRouting, request: HttpRequest, bucket: Callable[[HttpRequest], HttpResponse]
) -> HttpResponse:
    """The S3 origin group: the primary, then the replica when the primary's answer fails over."""
    from lambdakit.derive.failover import fails_over
    from lambdakit.local.site import _error

    if routing.primary_down:
        primary = _error(503, "service_unavailable", f"the primary site bucket is down ({PRIMARY_ENV}=down)")
    else:
        primary = bucket(request)
    if not fails_over(request.method, primary.status):
        return primary
    replica = bucket(request)  # replication makes the replica hold the same files
    return HttpResponse(replica.status, [*replica.headers, ("x-lambdakit-origin", "replica")], replica.body)
