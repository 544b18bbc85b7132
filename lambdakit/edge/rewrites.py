"""lambdakit's own viewer-request steps: the SPA fallback and the path-prefix strip, in Python.

One implementation, used three ways: by the Lambda@Edge wrapper (`lambdakit.edge.handler`) when a
user's viewer-request function takes a behavior's viewer request from lambdakit's CloudFront Function
(CloudFront allows one function per event type and behavior), by `lambdakit local` as the CloudFront
Functions' Python twins when Node is missing, and by the tests, which hold the JavaScript in
`lambdakit.derive.cloudfront_functions` to these answers. Each step reads and writes only `uri`, which
CloudFront Functions and Lambda@Edge requests share, and returns the request, or a response (a dict
with `status`) to answer at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Step = Callable[..., dict[str, Any]]


#: Where the viewer's own path goes on for the site's sign-in at the origin request (lambdakit.edge.site_auth).
VIEWER_URI = "x-lambdakit-viewer-uri"


def spa(
    request: dict[str, Any], index: str = "index.html", areas: Sequence[str] = (), keep_viewer_uri: bool = False
) -> dict[str, Any]:
    """A path whose last segment has no dot is a client-side route: it gets the SPA's entry file, or the entry
    file of the signed-in area it is in (`/members/x` -> `/members/index.html`; `areas` longest first).
    `keep_viewer_uri`: the viewer's path goes on in a header, in the event's own header shape (CloudFront
    Functions `{value}`, Lambda@Edge `[{key, value}]`)."""
    uri = request["uri"]
    if keep_viewer_uri:
        headers = request.get("headers") or {}
        lambda_edge = any(isinstance(v, list) for v in headers.values())
        value: Any = [{"key": VIEWER_URI, "value": uri}] if lambda_edge else {"value": uri}
        request["headers"] = {**headers, VIEWER_URI: value}
    if "." not in uri.rsplit("/", 1)[-1]:
        area = next((a for a in areas if uri == a or uri.startswith(a + "/")), "")
        request["uri"] = f"{area}/{index}"
    return request


def strip(request: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A mounted service keeps its routes' paths: `/api/catalog/products` reaches its origin as `/products`."""
    uri = request["uri"]
    if uri == prefix:
        request["uri"] = "/"
    elif uri.startswith(prefix + "/"):
        request["uri"] = uri[len(prefix) :]
    return request


#: The steps by name, as `lambdakit_edge.json` and the site plan name them (ROUTING adds its own here).
STEPS: dict[str, Step] = {"spa": spa, "strip": strip}


def is_response(value: dict[str, Any]) -> bool:
    """A generated response (Lambda@Edge `status`, CloudFront Functions `statusCode`), not a request."""
    return "status" in value or "statusCode" in value


def run_steps(request: dict[str, Any], steps: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """Each `(name, config)` step in order; the first that answers ends the chain."""
    for name, config in steps:
        request = STEPS[name](request, **config)
        if is_response(request):
            break
    return request
