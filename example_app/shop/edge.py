"""A page of the shop's own for a missing file, at the edge (a Lambda@Edge origin-response function).

The site's bucket answers a missing file (`/assets/old.js`, `/robots2.txt`) with S3's 404 and its
XML body. This function replaces that body with a small HTML page before CloudFront caches it (for
a minute, so a file uploaded later shows soon). Client-side routes never get here: the SPA
fallback gives them `index.html` on the viewer request. It imports only the standard library, so
its package is a few kilobytes.
"""

from html import escape
from typing import Any

import lambdakit as lk

PAGE = """<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Not found - shop</title>
<h1>This page is not in the shop</h1>
<p>{path} does not exist. <a href="/">Back to the shop</a>.</p>
</html>
"""


@lk.edge("origin-response")
def not_found_page(request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """S3's XML 404 becomes the shop's HTML page; every other response goes on unchanged."""
    if response["status"] != "404":
        return response
    headers = response["headers"]
    headers["content-type"] = [{"key": "Content-Type", "value": "text/html; charset=utf-8"}]
    headers["cache-control"] = [{"key": "Cache-Control", "value": "max-age=60"}]
    response["statusDescription"] = "Not Found"
    response["body"] = PAGE.format(path=escape(request["uri"]))
    return response
