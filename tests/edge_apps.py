"""Small sites with `@lk.edge` functions, written into a temporary folder and discovered like a user's package,
and the published Lambda@Edge sample events (CloudFront Developer Guide, "Lambda@Edge event structure")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.apps import write_package

SITE = """
import lambdakit as lk

service = lk.Service("edgeshop")
site = lk.Frontend("web/dist")
site.mount("/api/partners", origin="https://partners.example.net/v1")


@lk.route("GET", "/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}
"""
FILES = {
    "web/dist/index.html": "<!doctype html><title>edge shop</title>",
    "web/dist/app.3f9a1c2b.js": "console.log('shop')",
    "web/dist/members/index.html": "<h1>members</h1>",
}


def edge_package(root: Path, edge_module: str, extra: dict[str, str] | None = None, init: str = SITE) -> str:
    """A site package whose `edge.py` is `edge_module`; returns its import name."""
    return write_package(root, {"__init__.py": init, "edge.py": edge_module, **FILES, **(extra or {})})


# The published samples, as the CloudFront Developer Guide shows them.
VIEWER_REQUEST_SAMPLE: dict[str, Any] = {
    "Records": [
        {
            "cf": {
                "config": {
                    "distributionDomainName": "d111111abcdef8.cloudfront.net",
                    "distributionId": "EDFDVBD6EXAMPLE",
                    "eventType": "viewer-request",
                    "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
                },
                "request": {
                    "clientIp": "203.0.113.178",
                    "headers": {
                        "host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}],
                        "user-agent": [{"key": "User-Agent", "value": "curl/7.66.0"}],
                        "accept": [{"key": "accept", "value": "*/*"}],
                    },
                    "method": "GET",
                    "querystring": "",
                    "uri": "/",
                },
            }
        }
    ]
}

ORIGIN_RESPONSE_SAMPLE: dict[str, Any] = {
    "Records": [
        {
            "cf": {
                "config": {
                    "distributionDomainName": "d111111abcdef8.cloudfront.net",
                    "distributionId": "EDFDVBD6EXAMPLE",
                    "eventType": "origin-response",
                    "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
                },
                "request": {
                    "clientIp": "203.0.113.178",
                    "headers": {
                        "x-forwarded-for": [{"key": "X-Forwarded-For", "value": "203.0.113.178"}],
                        "user-agent": [{"key": "User-Agent", "value": "Amazon CloudFront"}],
                        "via": [
                            {"key": "Via", "value": "2.0 8f22423015641505b8c857a37450d6c0.cloudfront.net (CloudFront)"}
                        ],
                        "host": [{"key": "Host", "value": "example.org"}],
                        "cache-control": [{"key": "Cache-Control", "value": "no-cache"}],
                    },
                    "method": "GET",
                    "origin": {
                        "custom": {
                            "customHeaders": {},
                            "domainName": "example.org",
                            "keepaliveTimeout": 5,
                            "path": "",
                            "port": 443,
                            "protocol": "https",
                            "readTimeout": 30,
                            "sslProtocols": ["TLSv1", "TLSv1.1", "TLSv1.2"],
                        }
                    },
                    "querystring": "",
                    "uri": "/",
                },
                "response": {
                    "headers": {
                        "access-control-allow-credentials": [
                            {"key": "Access-Control-Allow-Credentials", "value": "true"}
                        ],
                        "access-control-allow-origin": [{"key": "Access-Control-Allow-Origin", "value": "*"}],
                        "date": [{"key": "Date", "value": "Mon, 13 Jan 2020 20:12:38 GMT"}],
                        "referrer-policy": [{"key": "Referrer-Policy", "value": "no-referrer-when-downgrade"}],
                        "server": [{"key": "Server", "value": "ExampleCustomOriginServer"}],
                        "x-content-type-options": [{"key": "X-Content-Type-Options", "value": "nosniff"}],
                        "x-frame-options": [{"key": "X-Frame-Options", "value": "DENY"}],
                        "x-xss-protection": [{"key": "X-XSS-Protection", "value": "1; mode=block"}],
                        "content-type": [{"key": "Content-Type", "value": "text/html; charset=utf-8"}],
                        "content-length": [{"key": "Content-Length", "value": "9593"}],
                    },
                    "status": "200",
                    "statusDescription": "OK",
                },
            }
        }
    ]
}
