"""The CloudFront Functions a site ships (runtime `cloudfront-js-2.0`, viewer request), as code.

Each is generated here once and used three ways: put in the template as
`FunctionCode`, run by `lambdakit local` under Node (when present) on every
request to its behavior, and run by the tests under Node against CloudFront
Function events. The Python twins in `lambdakit.local.site` are what local
runs without Node; the tests hold the two to the same answers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

RUNTIME = "cloudfront-js-2.0"


def spa_fallback(index: str = "index.html", keep_viewer_uri: bool = False, areas: Sequence[str] = ()) -> str:
    """Client-side routes get the SPA's entry file: a path whose last segment has no dot is a route, not a file.

    Only the S3 behaviors run it, so an API path (another behavior) never gets index.html. A route inside a
    signed-in area (`areas`, longest first) gets the area's own entry file. With `keep_viewer_uri` (a site
    with sign-in) the viewer's own path goes on in `x-lambdakit-viewer-uri`, for the sign-in at the origin
    request to come back to (lambdakit.edge.site_auth). `lambdakit.edge.rewrites.spa` is its Python twin.
    """
    return (
        "function handler(event) {\n"
        "  var request = event.request;\n"
        "  var uri = request.uri;\n"
        f"{entry_file_js(index, keep_viewer_uri, areas)}"
        "  return request;\n"
        "}\n"
    )


def entry_file_js(index: str, keep_viewer_uri: bool, areas: Sequence[str], prefix: str = "") -> str:
    """The SPA fallback's statements over `request` and `uri` (shared with the site router, which puts its
    release/variant `prefix` variable in front of the entry file)."""
    keep = "  request.headers['x-lambdakit-viewer-uri'] = {value: uri};\n" if keep_viewer_uri else ""
    lead = f"{prefix} + " if prefix else ""
    if not areas:
        return (
            f"{keep}"
            "  var last = uri.substring(uri.lastIndexOf('/') + 1);\n"
            "  if (last.indexOf('.') === -1) {\n"
            f"    request.uri = {lead}{json.dumps('/' + index)};\n"
            "  }\n" + (f"  else {{\n    request.uri = {lead}uri;\n  }}\n" if prefix else "")
        )
    return (
        f"{keep}"
        f"  var AREAS = {json.dumps(list(areas))};\n"
        "  var last = uri.substring(uri.lastIndexOf('/') + 1);\n"
        "  if (last.indexOf('.') === -1) {\n"
        "    var area = '';\n"
        "    for (var i = 0; i < AREAS.length; i++) {\n"
        "      if (uri === AREAS[i] || uri.indexOf(AREAS[i] + '/') === 0) {\n"
        "        area = AREAS[i];\n"
        "        break;\n"
        "      }\n"
        "    }\n"
        f"    request.uri = {lead}area + {json.dumps('/' + index)};\n"
        "  }\n" + (f"  else {{\n    request.uri = {lead}uri;\n  }}\n" if prefix else "")
    )


def strip_prefix(prefix: str) -> str:
    """A mounted service keeps its routes' paths: `/api/catalog/products` reaches its origin as `/products`.

    CloudFront forwards the whole path (it prepends `OriginPath`, it never strips), so the behavior's
    prefix is removed before the request leaves for the origin.
    """
    return (
        f"var PREFIX = {json.dumps(prefix)};\n"
        "function handler(event) {\n"
        "  var request = event.request;\n"
        "  var uri = request.uri;\n"
        "  if (uri === PREFIX) {\n"
        "    request.uri = '/';\n"
        "  } else if (uri.indexOf(PREFIX + '/') === 0) {\n"
        "    request.uri = uri.substring(PREFIX.length);\n"
        "  }\n"
        "  return request;\n"
        "}\n"
    )
