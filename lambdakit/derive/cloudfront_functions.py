"""The CloudFront Functions a site ships (runtime `cloudfront-js-2.0`, viewer request), as code.

Each is generated here once and used three ways: put in the template as
`FunctionCode`, run by `lambdakit local` under Node (when present) on every
request to its behavior, and run by the tests under Node against CloudFront
Function events. The Python twins in `lambdakit.local.site` are what local
runs without Node; the tests hold the two to the same answers.
"""

from __future__ import annotations

import json

RUNTIME = "cloudfront-js-2.0"


def spa_fallback(index: str = "index.html") -> str:
    """Client-side routes get the SPA's entry file: a path whose last segment has no dot is a route, not a file.

    Only the S3 behavior runs it, so an API path (another behavior) never gets index.html.
    """
    return (
        "function handler(event) {\n"
        "  var request = event.request;\n"
        "  var uri = request.uri;\n"
        "  var last = uri.substring(uri.lastIndexOf('/') + 1);\n"
        "  if (last.indexOf('.') === -1) {\n"
        f"    request.uri = {json.dumps('/' + index)};\n"
        "  }\n"
        "  return request;\n"
        "}\n"
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
