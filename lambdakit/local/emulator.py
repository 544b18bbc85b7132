"""One app running on this machine: its resources in the backend, its functions, its API and its consumers.

Both front doors build one: `lambdakit local` (serving it over HTTP with
werkzeug) and `lambdakit.testing.Client` (calling it in-process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdakit.declare.app import App
from lambdakit.declare.auth import Cognito
from lambdakit.derive.plan import plan_of
from lambdakit.local.backend import Backend
from lambdakit.local.consumers import Consumers
from lambdakit.local.gateway import Gateway, HttpRequest, HttpResponse
from lambdakit.local.invoker import Invoker
from lambdakit.local.pools import DEMO_PASSWORD

if TYPE_CHECKING:
    from lambdakit.local.hosted_signin import HostedSignIn
    from lambdakit.local.site import Site


class Emulator:
    def __init__(self, app: App, backend: Backend, retry_after: int | None = None) -> None:
        self.app = app
        self.plan = plan_of(app)
        self.backend = backend
        backend.provision(self.plan, prefer=True)
        self.invoker = Invoker(self.plan, backend)
        self.gateway = Gateway(self.plan, backend, self.invoker)
        self.consumers = Consumers(self.plan, backend, self.invoker, retry_after)
        #: the packages the site mounts, each running here too, on the same in-memory AWS
        self.mounted = {path: Emulator(other, backend, retry_after) for path, other in app.mounted.items()}
        self.site: Site | None = None
        #: `Frontend(auth=)`: the stand-in for the pool's hosted sign-in, on the site's own origin
        self.signin: HostedSignIn | None = None
        if self.plan.site is not None:
            from lambdakit.derive.edge import SITE_AUTH_ID
            from lambdakit.local.site import Site

            own = self.gateway if self.plan.has_api else None
            mounted = {path: e.gateway for path, e in self.mounted.items()}
            builtins = {}
            if any(fn.logical_id == SITE_AUTH_ID for fn in self.plan.site.edge):
                from lambdakit.local.hosted_signin import HostedSignIn

                self.signin = HostedSignIn(app, backend.pools)
                builtins[SITE_AUTH_ID] = self.signin.edge_handler()
            self.site = Site(self.plan.site, own, mounted, service=app.service.name, edge_handlers=builtins)

    def handle(self, request: HttpRequest) -> HttpResponse:
        """A request to the app as callers reach it: through the site's distribution when it has one."""
        if self.signin is not None and self.signin.serves(request.path):  # the pool's domain, stood in for
            return self.signin.handle(request)
        return self.site.handle(request) if self.site is not None else self.gateway.handle(request)

    def everything(self) -> list[Emulator]:
        """This app and the ones its site mounts (their consumers run too)."""
        return [self, *(e for mounted in self.mounted.values() for e in mounted.everything())]

    def close(self) -> None:
        if self.site is not None:
            self.site.close()

    def warm(self) -> None:
        """Build every handler now (each function's cold start), so the first request is not the slow one."""
        for emulator in self.everything():
            for spec in emulator.app.functions:
                emulator.invoker.handler(spec)

    def token(
        self,
        username: str,
        password: str | None = None,
        pool: str | None = None,
        scopes: tuple[str, ...] = (),
        create: bool = False,
    ) -> dict[str, Any]:
        """Sign a user in; `authorization` is the header value the route's Cognito authorizer accepts
        (the ID token, or the access token when scopes are asked for)."""
        if pool is None:  # the app's own pool, when it has one (the backend may hold other apps' pools)
            names = {p.name for p in self.app.pools} | {
                a.name for s in self.app.functions if isinstance(a := self.app.effective_auth(s), Cognito)
            }
            pool = next(iter(names)) if len(names) == 1 else None
        if create:
            self.backend.pools.add_user(username, password or DEMO_PASSWORD, pool)
        tokens = self.backend.pools.sign_in(username, password or DEMO_PASSWORD, pool, tuple(scopes))
        return {
            "id_token": tokens["IdToken"],
            "access_token": tokens["AccessToken"],
            "expires_in": tokens.get("ExpiresIn", 3600),
            "token_type": "Bearer",
            "authorization": tokens["AccessToken"] if scopes else tokens["IdToken"],
        }
