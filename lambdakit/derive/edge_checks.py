"""What Lambda@Edge forbids, found at build time: none of the validators catch it, and CloudFront refuses it at deploy.

Pure functions of the app and its site plan. Each message names the function (file, line, name), the
limit and the fix. The package size limit (1 MB viewer, 50 MB origin) is checked by
`lambdakit.packaging.edge` when the artifact is built.
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from typing import TYPE_CHECKING

from lambdakit.core.names import DeclarationError, check_name, normalized
from lambdakit.declare.app import App
from lambdakit.declare.edge import EVENTS, EdgeSpec
from lambdakit.derive.edge import DEFAULT_PATH, behavior_path, key_of, limits, under

if TYPE_CHECKING:
    from lambdakit.derive.site import Behavior, SitePlan

#: Options other Lambdas take that Lambda@Edge has not, and why.
_REFUSED = {
    "env": "Lambda@Edge has no environment variables; put the value in the function's module (it is built "
    "into the artifact), or read it from the request",
    "environment": "Lambda@Edge has no environment variables; put the value in the function's module",
    "variables": "Lambda@Edge has no environment variables; put the value in the function's module",
    "layers": "Lambda@Edge has no layers; the artifact holds the function's module and what it imports from "
    "your package",
    "reads": "an edge function gets no IAM grants (its role writes its logs, nothing else, in every region); "
    "read through a route of your API, or give the function what it needs in code",
    "writes": "an edge function gets no IAM grants (its role writes its logs, nothing else, in every region); "
    "call a route of your API instead",
    "vpc": "Lambda@Edge functions cannot run in a VPC",
    "architecture": "Lambda@Edge runs on x86_64 only; lambdakit builds edge functions for it whatever the "
    "service's architecture",
    "tracing": "Lambda@Edge does not support X-Ray tracing",
    "dead_letter": "Lambda@Edge has no dead-letter queue: CloudFront calls it synchronously",
    "concurrency": "Lambda@Edge has no reserved concurrency",
}
_ARGUMENTS = "event, path=, memory=, timeout=, include_body=, name="


def edge_problems(app: App) -> list[str]:
    """Every mistake of the app's `@lk.edge` declarations, each naming the function and the limit."""
    if not app.edge_functions:
        return []
    from lambdakit.derive.plan import API_ID
    from lambdakit.derive.site import site_plan

    found: list[str] = []
    site = site_plan(app, API_ID, any(s.kind == "http" for s in app.functions))
    if site is None:
        found += [
            f"{spec.where}: @lk.edge runs on a CloudFront distribution, and {app.package} has none; declare an "
            "lk.Frontend (or lk.Service(cdn=True)) in the package"
            for spec in app.edge_functions
        ]
    ids: dict[str, EdgeSpec] = {}
    for spec in app.edge_functions:
        found += _spec_problems(spec)
        key = normalized(spec.logical_id)
        if key in ids:
            found.append(
                f"{spec.where}: edge function name {spec.name!r} clashes with {ids[key].where} (names must differ "
                "once case, '-' and '_' are ignored); give one name="
            )
        ids.setdefault(key, spec)
    if site is not None:
        found += _site_problems(app, site)
    return found


def _spec_problems(spec: EdgeSpec) -> list[str]:
    where = spec.where
    found = []
    try:
        check_name("edge function", spec.name)
    except DeclarationError as exc:
        found.append(f"{where}: {exc}")
    for option in spec.options:
        reason = _REFUSED.get(option)
        if reason is not None:
            found.append(f"{where}: {option}= is not for Lambda@Edge: {reason}")
        else:
            found.append(f"{where}: @lk.edge takes {_ARGUMENTS}; not {option}=")
    if spec.event not in EVENTS:
        found.append(f"{where}: event {spec.event!r} is not a CloudFront event; use one of {', '.join(EVENTS)}")
        return found
    limit = limits(spec.event)
    kind = "viewer" if spec.event.startswith("viewer-") else "origin"
    memory, timeout = spec.memory, spec.timeout
    if isinstance(memory, bool) or not isinstance(memory, int) or not 128 <= memory <= limit.memory:
        allowed = "128 MB exactly" if limit.memory == 128 else f"128-{limit.memory} MB"
        found.append(
            f"{where}: memory={memory!r}: Lambda@Edge gives {_an(spec.event)} function {allowed}"
            + ("; move the work to an origin-request function (up to 10240 MB)" if kind == "viewer" else "")
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= limit.timeout:
        found.append(
            f"{where}: timeout={timeout!r}: Lambda@Edge runs {_an(spec.event)} function 1-{limit.timeout} seconds"
            + ("; an origin-request or origin-response function may take up to 30" if kind == "viewer" else "")
        )
    if spec.include_body and spec.on_response:
        found.append(
            f"{where}: include_body=True is for request events (viewer-request, origin-request): CloudFront "
            f"gives no body to {_an(spec.event)} function"
        )
    if behavior_path(spec.path) is None:
        found.append(
            f"{where}: path={spec.path!r}: give '/*' (the default behavior) or a path such as '/members/*' (letters, "
            "digits, '.', '-' and '_' between the slashes)"
        )
    found += _signature_problems(spec)
    return found


def _signature_problems(spec: EdgeSpec) -> list[str]:
    """CloudFront passes the request (request events) or the request and the response (response events)."""
    try:
        parameters = list(inspect.signature(spec.func).parameters.values())
    except (TypeError, ValueError):
        return []
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    wanted = 2 if spec.on_response else 1
    if any(p.kind == p.VAR_POSITIONAL for p in parameters) or len(required) <= wanted <= len(positional):
        return []
    if spec.on_response:
        shape = "(request, response) and returns the response"
    else:
        shape = "(request) and returns it or a response"
    return [f"{spec.where}: {_an(spec.event)} function takes {shape}; this one takes {len(required)} arguments"]


def _site_problems(app: App, site: SitePlan) -> list[str]:
    found: list[str] = []
    behaviors = {key_of(b): b for b in (site.default, *site.behaviors)}
    taken: dict[tuple[str, str], EdgeSpec] = {}
    for spec in app.edge_functions:
        path = behavior_path(spec.path)
        if path is None or spec.event not in EVENTS:
            continue
        behavior = behaviors.get(path)
        if behavior is None:  # under another behavior: a behavior of its own would take that one's paths
            parent = next(k for k in behaviors if k != DEFAULT_PATH and under(path, k))
            found.append(
                f"{spec.where}: path={spec.path!r} is inside the behavior {parent}/* ({_what(behaviors[parent])}); "
                f"a behavior of its own would take those paths from it: put the function on '{parent}/*'"
            )
            continue
        key = (path, spec.event)
        if key in taken:
            found.append(
                f"{spec.where}: {taken[key].where} already runs on {spec.event} of {path}; CloudFront allows one "
                "function per event type on a behavior: merge the two functions"
            )
            continue
        taken[key] = spec
        cloudfront = dict(replace(site, edge=()).function_associations(behavior))  # lambdakit's own, all of them
        builtin = cloudfront.get(spec.event)
        if builtin is not None and not (spec.event == "viewer-request" and _runs_in_python(site, behavior)):
            found.append(
                f"{spec.where}: lambdakit's CloudFront Function {builtin} already runs on {spec.event} of {path}, "
                "and CloudFront allows one function per event type on a behavior (a CloudFront Function and a "
                "Lambda@Edge function cannot share one); use another event or path"
            )
    for fn in site.edge:
        if fn.module is None:  # a built-in: its own checks are its owner's
            for path in fn.behaviors:
                clash = taken.get((path, fn.event))
                if clash is not None:
                    found.append(
                        f"{clash.where}: the site's {fn.name} already runs on {fn.event} of {path}; CloudFront "
                        "allows one function per event type on a behavior: use another event"
                    )
    return found


def _an(event: str) -> str:
    return ("an " if event.startswith("origin") else "a ") + event


def _what(behavior: Behavior) -> str:
    kinds = {"api": "this service's API", "mount": "a mounted service", "http": "another origin"}
    return kinds.get(behavior.origin.kind, "the site")


def _runs_in_python(site: SitePlan, behavior: Behavior) -> bool:
    """Whether lambdakit's viewer-request step on the behavior has a Python twin the wrapper can run."""
    from lambdakit.derive.site import viewer_steps

    return bool(viewer_steps(site, behavior))
