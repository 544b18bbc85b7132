"""The site router: one CloudFront Function that picks a visitor's variant and release, then does the SPA fallback.

CloudFront allows one function per event on a behavior, so with `ab_test=` or `rollout=` the
default behavior's viewer request runs this router instead of the plain SPA fallback:

1. the release (`rollout=`): the state `{"stable", "candidate", "percent"}` is one key of a
   CloudFront KeyValueStore, read on every request, so `lambdakit promote`/`rollback` change a
   value, never the distribution. A visitor's draw (0-99, a cookie) below `percent` gets the
   candidate; the same draw keeps the same side;
2. the variant (`ab_test=`): the cookie's variant, or a new draw by weight (an unknown value is
   drawn again);
3. the URI becomes `/releases/ID/variants/NAME/...`, the fallback applied within it: the cache key
   is the rewritten URI, so each release and variant is cached apart, correctly.

A new draw travels to the viewer-response function as a request header (which CloudFront does
not forward to S3: no origin request policy), and that function sets the cookie. The Python
twins are what `lambdakit local` runs without Node; the tests hold them to the JS.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdakit.declare.edge_routing import ABTest, Failover, Rollout
from lambdakit.declare.site import Frontend
from lambdakit.derive.cloudfront_functions import entry_file_js
from lambdakit.edge.rewrites import spa

ROUTER = "SiteRouter"
ROUTER_COOKIES = "SiteRouterCookies"
RELEASES = "SiteReleases"  # the AWS::CloudFront::KeyValueStore
RELEASES_OUTPUT = "SiteReleasesArn"
STATE_KEY = "release"
RELEASES_PREFIX = "releases"
VARIANTS_PREFIX = "variants"
#: Headers the router sets for the viewer-response function (removed from what viewers send first).
NEW_VARIANT = "x-lk-new-variant"
NEW_DRAW = "x-lk-new-draw"
#: CloudFront Functions' code limit.
MAX_CODE_BYTES = 10240
COOKIE_MAX_AGE = 31536000  # a year: a visitor stays on their side for the test's life


@dataclass(frozen=True)
class ReleaseState:
    """What the KeyValueStore holds: the release everyone gets, and the one `percent` of visitors try."""

    stable: str | None = None
    candidate: str | None = None
    percent: int = 0

    def text(self) -> str:
        return json.dumps({"stable": self.stable, "candidate": self.candidate, "percent": self.percent})

    @classmethod
    def parse(cls, text: str | None) -> ReleaseState:
        if not text:
            return cls()
        found = json.loads(text)
        return cls(found.get("stable"), found.get("candidate"), int(found.get("percent") or 0))


@dataclass(frozen=True)
class RoutingPlan:
    """What the router does for one site: its variants (name, weight, folder) and whether releases roll out."""

    ab_test: ABTest | None
    rollout: Rollout | None
    index: str
    base: str  # the folder variants are relative to (the declaring module's)
    root: str  # the site's folder, served when there is no A/B test
    areas: tuple[str, ...] = ()  # signed-in areas with their own entry file (`/members`), longest first
    keep_viewer_uri: bool = False  # a site with sign-in: the viewer's path goes on for it (lambdakit.edge.site_auth)

    @property
    def variants(self) -> tuple[tuple[str, int, str], ...]:
        if self.ab_test is None:
            return ()
        return tuple(
            (name, weight, os.path.normpath(os.path.join(self.base, folder)))
            for name, (folder, weight) in zip(self.ab_test.names, self.ab_test.variants, strict=True)
        )

    def sources(self) -> tuple[tuple[str, Path], ...]:
        """(bucket prefix, folder) of what one release publishes: each variant under its prefix, or the site."""
        if not self.variants:
            return (("", Path(self.root)),)
        return tuple((f"{VARIANTS_PREFIX}/{name}/", Path(folder)) for name, _, folder in self.variants)

    def router_code(self) -> str:
        return router_code(self)

    def cookies_code(self) -> str:
        return cookies_code(self)


def routing_of(site: Frontend | None) -> RoutingPlan | None:
    """The router a site needs: None without `ab_test=` and `rollout=` (the plain SPA fallback does)."""
    if site is None:
        return None
    ab_test, rollout = site.edge.get("ab_test"), site.edge.get("rollout")
    if not isinstance(ab_test, ABTest):
        ab_test = None
    if not isinstance(rollout, Rollout):
        rollout = None
    if ab_test is None and rollout is None:
        return None
    from lambdakit.derive.site_auth import areas, entry_areas

    return RoutingPlan(
        ab_test, rollout, site.index, site.base, site.root, entry_areas(site), keep_viewer_uri=bool(areas(site))
    )


# -- the JavaScript (cloudfront-js-2.0: ES5.1 plus async/await and the `cloudfront` module) -------


def router_code(plan: RoutingPlan) -> str:
    """The viewer-request function, holding only the parts the site uses."""
    lines: list[str] = []
    if plan.rollout is not None:
        lines += [
            "import cf from 'cloudfront';",
            "var STORE = cf.kvs();",
            f"var DRAW_COOKIE = {json.dumps(plan.rollout.cookie)};",
        ]
    if plan.ab_test is not None:
        weights = [[name, weight] for name, weight, _ in plan.variants]
        lines += [
            f"var VARIANTS = {json.dumps(weights, separators=(',', ':'))};",
            f"var VARIANT_COOKIE = {json.dumps(plan.ab_test.cookie)};",
        ]
    lines += [
        "function cookieOf(request, name) {",
        "  var found = request.cookies[name];",
        "  return found ? found.value : null;",
        "}",
    ]
    if plan.ab_test is not None:
        lines += [
            "function variantOf(request) {",
            "  var chosen = cookieOf(request, VARIANT_COOKIE);",
            "  var i;",
            "  for (i = 0; i < VARIANTS.length; i++) {",
            "    if (VARIANTS[i][0] === chosen) {",
            "      return chosen;",
            "    }",
            "  }",
            "  var draw = Math.floor(Math.random() * 100);",
            "  var below = 0;",
            "  for (i = 0; i < VARIANTS.length - 1; i++) {",
            "    below += VARIANTS[i][1];",
            "    if (draw < below) {",
            "      break;",
            "    }",
            "  }",
            f"  request.headers[{json.dumps(NEW_VARIANT)}] = {{value: VARIANTS[i][0]}};",
            "  return VARIANTS[i][0];",
            "}",
        ]
    if plan.rollout is not None:
        lines += [
            "async function releaseOf(request) {",
            "  var state;",
            "  try {",
            f"    state = JSON.parse(await STORE.get({json.dumps(STATE_KEY)}));",
            "  } catch (e) {",
            "    return null;",
            "  }",
            "  if (!state.candidate) {",
            "    return state.stable || null;",
            "  }",
            "  var seen = cookieOf(request, DRAW_COOKIE);",
            "  var draw = /^[0-9]{1,2}$/.test(seen) ? parseInt(seen, 10) : -1;",
            "  if (draw < 0) {",
            "    draw = Math.floor(Math.random() * 100);",
            f"    request.headers[{json.dumps(NEW_DRAW)}] = {{value: String(draw)}};",
            "  }",
            "  return draw < state.percent ? state.candidate : (state.stable || null);",
            "}",
        ]
    lines += [
        ("async " if plan.rollout is not None else "") + "function handler(event) {",
        "  var request = event.request;",
        f"  delete request.headers[{json.dumps(NEW_VARIANT)}];",
        f"  delete request.headers[{json.dumps(NEW_DRAW)}];",
        "  var prefix = '';",
    ]
    if plan.rollout is not None:
        lines += [
            "  var release = await releaseOf(request);",
            "  if (release) {",
            f"    prefix = '/{RELEASES_PREFIX}/' + release;",
            "  }",
        ]
    if plan.ab_test is not None:
        lines += [f"  prefix += '/{VARIANTS_PREFIX}/' + variantOf(request);"]
    lines += [
        "  var uri = request.uri;",
        entry_file_js(plan.index, plan.keep_viewer_uri, plan.areas, prefix="prefix").rstrip("\n"),
        "  return request;",
        "}",
    ]
    return "\n".join(lines) + "\n"


def cookie_attributes(http_only: bool) -> str:
    """Sent over HTTPS only, on every path, kept a year; the variant stays readable to the page (analytics)."""
    return f"Secure; SameSite=Lax; Path=/; Max-Age={COOKIE_MAX_AGE}" + ("; HttpOnly" if http_only else "")


def cookies_code(plan: RoutingPlan) -> str:
    """The viewer-response function: the cookie of each new draw, checked again (a value is never echoed blind)."""
    lines = [
        "function handler(event) {",
        "  var headers = event.request.headers;",
        "  var response = event.response;",
        "  if (!response.cookies) {",
        "    response.cookies = {};",
        "  }",
    ]
    if plan.ab_test is not None:
        names = json.dumps(list(plan.ab_test.names), separators=(",", ":"))
        lines += [
            f"  var variant = headers[{json.dumps(NEW_VARIANT)}];",
            f"  if (variant && {names}.indexOf(variant.value) !== -1) {{",
            f"    response.cookies[{json.dumps(plan.ab_test.cookie)}] = "
            f"{{value: variant.value, attributes: {json.dumps(cookie_attributes(False))}}};",
            "  }",
        ]
    if plan.rollout is not None:
        lines += [
            f"  var draw = headers[{json.dumps(NEW_DRAW)}];",
            "  if (draw && /^[0-9]{1,2}$/.test(draw.value)) {",
            f"    response.cookies[{json.dumps(plan.rollout.cookie)}] = "
            f"{{value: draw.value, attributes: {json.dumps(cookie_attributes(True))}}};",
            "  }",
        ]
    lines += ["  return response;", "}"]
    return "\n".join(lines) + "\n"


# -- the Python twins ---------------------------------------------------------------------------

Draw = Callable[[], float]  # random.random's shape: [0, 1)
StateSource = Callable[[], str | None]  # the store's value under STATE_KEY, None when unset


def _cookie(request: Mapping[str, Any], name: str) -> str | None:
    found = (request.get("cookies") or {}).get(name)
    return str(found["value"]) if found else None


def _two_digits(value: str | None) -> bool:
    return value is not None and value.isascii() and value.isdigit() and 1 <= len(value) <= 2


def router_twin(plan: RoutingPlan, state: StateSource, draw: Draw = random.random) -> Callable[..., dict[str, Any]]:
    """`router_code` in Python: the same decisions from the same cookies and store."""
    names = [name for name, _, _ in plan.variants]

    def variant_of(request: dict[str, Any]) -> str:
        chosen = _cookie(request, plan.ab_test.cookie) if plan.ab_test else None
        if chosen in names:
            return str(chosen)
        number, below, i = math.floor(draw() * 100), 0, 0
        for i in range(len(plan.variants) - 1):
            below += plan.variants[i][1]
            if number < below:
                break
        else:
            i = len(plan.variants) - 1
        request["headers"][NEW_VARIANT] = {"value": names[i]}
        return names[i]

    def release_of(request: dict[str, Any]) -> str | None:
        assert plan.rollout is not None
        try:
            current = ReleaseState.parse(state())
        except (ValueError, AttributeError):
            return None
        if not current.candidate:
            return current.stable or None
        seen = _cookie(request, plan.rollout.cookie)
        number = int(seen) if _two_digits(seen) else -1  # type: ignore[arg-type]
        if number < 0:
            number = math.floor(draw() * 100)
            request["headers"][NEW_DRAW] = {"value": str(number)}
        return current.candidate if number < current.percent else (current.stable or None)

    def run(event: dict[str, Any]) -> dict[str, Any]:
        request = dict(event["request"])
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k not in (NEW_VARIANT, NEW_DRAW)}
        prefix = ""
        if plan.rollout is not None:
            release = release_of(request)
            if release:
                prefix = f"/{RELEASES_PREFIX}/{release}"
        if plan.ab_test is not None:
            prefix += f"/{VARIANTS_PREFIX}/{variant_of(request)}"
        request = spa(request, plan.index, plan.areas, plan.keep_viewer_uri)
        request["uri"] = prefix + request["uri"]
        return request

    return run


def cookies_twin(plan: RoutingPlan) -> Callable[..., dict[str, Any]]:
    """`cookies_code` in Python."""

    def run(event: dict[str, Any]) -> dict[str, Any]:
        headers = event["request"].get("headers") or {}
        response = dict(event["response"])
        cookies = dict(response.get("cookies") or {})
        variant = headers.get(NEW_VARIANT)
        if plan.ab_test is not None and variant and variant["value"] in plan.ab_test.names:
            cookies[plan.ab_test.cookie] = {"value": variant["value"], "attributes": cookie_attributes(False)}
        draw = headers.get(NEW_DRAW)
        if plan.rollout is not None and draw and _two_digits(draw["value"]):
            cookies[plan.rollout.cookie] = {"value": draw["value"], "attributes": cookie_attributes(True)}
        response["cookies"] = cookies
        return response

    return run


# -- the template -------------------------------------------------------------------------------


def resources(plan: RoutingPlan) -> tuple[dict[str, Any], dict[str, Any]]:
    """The release store (with `rollout=`) and its output; the functions themselves are the site's."""
    if plan.rollout is None:
        return {}, {}
    store = {
        "Type": "AWS::CloudFront::KeyValueStore",
        "Properties": {
            "Name": {"Fn::Sub": "${AWS::StackName}-releases"},
            "Comment": "lambdakit: the site's stable and candidate releases (lambdakit promote / rollback)",
        },
    }
    outputs = {RELEASES_OUTPUT: {"Description": "The release store", "Value": {"Fn::GetAtt": f"{RELEASES}.Arn"}}}
    return {RELEASES: store}, outputs


def store_association() -> dict[str, Any]:
    """The router's `FunctionConfig` part that lets it read the store (one store per function)."""
    return {"KeyValueStoreAssociations": [{"KeyValueStoreARN": {"Fn::GetAtt": f"{RELEASES}.Arn"}}]}


# -- releases -------------------------------------------------------------------------------------


def release_id(files: Iterable[tuple[str, str]]) -> str:
    """A release's id from its content: (key, MD5 hex) of every file; the same build is the same release."""
    digest = hashlib.sha256()
    for key, md5 in sorted(files):
        digest.update(f"{key}\0{md5}\n".encode())
    return digest.hexdigest()[:16]


def release_files(plan: RoutingPlan) -> list[tuple[str, str]]:
    """(key inside the release, MD5 hex) of every published file of the release's folders."""
    from lambdakit.site_upload import md5_of, site_files

    return [(prefix + key, md5_of(path)) for prefix, root in plan.sources() for key, path in site_files(root)]


def release_prefix(release: str) -> str:
    return f"{RELEASES_PREFIX}/{release}/"


# -- the build's checks ---------------------------------------------------------------------------


#: The `lk.Frontend` options this module and derive/failover.py build, and the declaration each takes.
OPTIONS = {"ab_test": ABTest, "rollout": Rollout, "failover": Failover}


def declaration_problems(site: Frontend, where: str) -> list[str]:
    """Each option given the wrong kind of value, then what the router would refuse (`problems`)."""
    found = []
    for option, kind in OPTIONS.items():
        value = site.edge.get(option)
        if value is not None and not isinstance(value, kind):
            found.append(f"{where}: {option}= takes lk.{kind.__name__}(...), not {value!r}")
    return found + problems(site, where)


def problems(site: Frontend, where: str) -> list[str]:
    """What AWS or the router would refuse: a variant without its folder, clashing cookies, code over 10 KB."""
    plan = routing_of(site)
    if plan is None:
        return []
    found = []
    for name, _, folder in plan.variants:
        if not os.path.isfile(os.path.join(folder, site.index)):
            found.append(
                f"{where}: ab_test= variant {name!r} ({folder}) holds no {site.index}; build that variant "
                "into its folder, or give the folder relative to the module that declares the site"
            )
    if plan.ab_test is not None and plan.rollout is not None and plan.ab_test.cookie == plan.rollout.cookie:
        found.append(f"{where}: ab_test= and rollout= both use the cookie {plan.ab_test.cookie!r}; give one another")
    for function_id, code in ((ROUTER, plan.router_code()), (ROUTER_COOKIES, plan.cookies_code())):
        size = len(code.encode())
        if size > MAX_CODE_BYTES:
            found.append(
                f"{where}: the generated {function_id} is {size} bytes; CloudFront Functions take at most "
                f"{MAX_CODE_BYTES}: use fewer variants or shorter folder names"
            )
    return found


def edge_conflicts(site: Frontend, where: str, edge_events: Iterable[tuple[str, str, str]]) -> list[str]:
    """The router owns the default behavior's viewer events: a Lambda@Edge function there is refused.

    `edge_events` is (function name, event, path) of the app's `@lk.edge` functions. CloudFront runs one
    function per event on a behavior, and Lambda@Edge cannot read a KeyValueStore.
    """
    if routing_of(site) is None:
        return []
    options = " and ".join(o for o in ("ab_test", "rollout") if site.edge.get(o) is not None)
    found = []
    for name, event, path in edge_events:
        if path in ("/*", "*", "") and event in ("viewer-request", "viewer-response"):
            found.append(
                f"{where}: @lk.edge function {name!r} runs on the default behavior's {event}, which {options}= "
                "needs for the site router (a CloudFront Function reading the release store; CloudFront runs "
                "one function per event, and Lambda@Edge cannot read a KeyValueStore): move it to "
                f"'{event.replace('viewer', 'origin')}', or to another path="
            )
    return found


def app_problems(app: Any) -> list[str]:
    """`edge_conflicts` for the app's `@lk.edge` functions (run with the build's other checks)."""
    site = app.site
    if site is None or routing_of(site) is None:
        return []
    specs = getattr(app, "edge_functions", ())
    return [
        problem.replace("site: ", f"{spec.where}: ", 1)
        for spec in specs
        for problem in edge_conflicts(site, "site", [(spec.name, spec.event, spec.path)])
    ]
