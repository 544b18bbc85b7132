"""The distribution, emulated: one local origin serving the SPA, the API and the mounts as CloudFront would.

A request takes the first behavior whose path matches (most specific first,
from the same `SitePlan` the template renders), runs the behavior's
CloudFront Function (the shipped code, under Node when present), and goes to
its origin: the site folder in place of the bucket, this app's gateway, a
mounted package's gateway, or an HTTPS origin. Every answer gets the
response headers policy. Nothing here speaks HTTP either.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
import uuid
from dataclasses import replace
from typing import Any

from lambdakit.derive.site import SPA_FUNCTION, Behavior, SitePlan, cache_control, content_type, published
from lambdakit.errors import error_body
from lambdakit.local.cloudfront_functions import Functions, Twin
from lambdakit.local.gateway import Gateway, HttpRequest, HttpResponse
from lambdakit.local.invoker import log


def spa_twin(index: str) -> Twin:
    """The SPA fallback in Python, for machines without Node (the tests hold it to the JS)."""

    def run(event: dict[str, Any]) -> dict[str, Any]:
        request = dict(event["request"])
        if "." not in request["uri"].rsplit("/", 1)[-1]:
            request["uri"] = "/" + index
        return request

    return run


def strip_twin(prefix: str) -> Twin:
    def run(event: dict[str, Any]) -> dict[str, Any]:
        request = dict(event["request"])
        uri = request["uri"]
        if uri == prefix:
            request["uri"] = "/"
        elif uri.startswith(prefix + "/"):
            request["uri"] = uri[len(prefix) :]
        return request

    return run


def function_event(request: HttpRequest) -> dict[str, Any]:
    """The CloudFront Functions viewer-request event of a request, as CloudFront builds it: names in lower
    case, a repeated name as `multiValue`, cookies apart from headers (the tests build theirs with
    `lambdakit.testing.events.cloudfront_function_event`)."""

    def fields(pairs: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
        grouped: dict[str, list[str]] = {}
        for name, value in pairs:
            grouped.setdefault(name, []).append(value)
        out: dict[str, dict[str, Any]] = {}
        for name, values in grouped.items():
            out[name] = {"value": values[0]}
            if len(values) > 1:
                out[name]["multiValue"] = [{"value": v} for v in values]
        return out

    headers = [(k.lower(), v) for k, v in request.headers if k.lower() != "cookie"]
    cookies = [
        (name.strip(), value)
        for line in (v for k, v in request.headers if k.lower() == "cookie")
        for name, _, value in (pair.partition("=") for pair in line.split(";"))
        if name.strip()
    ]
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request", "distributionDomainName": request.header("Host") or "localhost"},
        "viewer": {"ip": request.source_ip},
        "request": {
            "method": request.method.upper(),
            "uri": request.path,
            "querystring": fields(request.query),
            "headers": fields(headers),
            "cookies": fields(cookies),
        },
    }


class Site:
    """`handle(request)`: the distribution's answer, from the site plan and the gateways behind it."""

    def __init__(self, plan: SitePlan, gateway: Gateway | None, mounted: dict[str, Gateway]) -> None:
        self.plan = plan
        self.gateway = gateway
        self.mounted = mounted
        self.headers = list(plan.headers.headers().items()) if plan.headers is not None else []
        twins: dict[str, Twin] = {}
        if plan.frontend is not None:
            twins[SPA_FUNCTION] = spa_twin(plan.frontend.index)
        for behavior in plan.behaviors:
            if behavior.function_id is not None and behavior.strip is not None:
                twins[behavior.function_id] = strip_twin(behavior.strip)
        self.functions = Functions(plan.functions, twins)

    def close(self) -> None:
        self.functions.close()

    def behavior(self, path: str) -> Behavior:
        for behavior in self.plan.behaviors:
            assert behavior.path is not None
            if path == behavior.path or path.startswith(behavior.path + "/"):
                return behavior
        return self.plan.default

    def handle(self, request: HttpRequest) -> HttpResponse:
        behavior = self.behavior(request.path)
        function_id = SPA_FUNCTION if behavior.origin.kind == "s3" else behavior.function_id
        if function_id is not None:
            answer = self._viewer_request(function_id, request)
            if isinstance(answer, HttpResponse):
                return self._with_headers(answer)
            request = answer
        if behavior.origin.kind == "s3":
            response = self._bucket(request)
        elif behavior.origin.kind == "http":
            response = self._proxy(behavior, request)
        else:
            response = self._api(behavior, request)
        return self._with_headers(response)

    # -- the viewer request function ----------------------------------------------------
    def _viewer_request(self, function_id: str, request: HttpRequest) -> HttpRequest | HttpResponse:
        event = function_event(request)
        try:
            result = self.functions.run(function_id, event)
        except Exception as exc:  # CloudFront answers 503 when a function throws
            log.error("CloudFront Function %s failed: %s", function_id, exc)
            return _error(503, "service_unavailable", f"the site's function {function_id} failed")
        if "statusCode" in result:  # the function answered itself
            headers = [(k, str(v.get("value", ""))) for k, v in (result.get("headers") or {}).items()]
            return HttpResponse(int(result["statusCode"]), headers, str(result.get("body") or "").encode())
        return replace(request, path=str(result.get("uri", request.path)), raw_path=None)

    # -- origins ------------------------------------------------------------------------
    def _bucket(self, request: HttpRequest) -> HttpResponse:
        """The private bucket through OAC: GET and HEAD only; a missing key is S3's 404 (ListBucket is granted)."""
        if request.method.upper() not in ("GET", "HEAD"):
            return _error(403, "forbidden", f"{request.method.upper()} is not allowed on the site's files")
        frontend = self.plan.frontend
        assert frontend is not None
        key = request.path.lstrip("/") or frontend.index
        root = os.path.realpath(frontend.root)
        path = os.path.realpath(os.path.join(root, key))
        if not path.startswith(root + os.sep) or not os.path.isfile(path) or not published(key):
            body = f"<Error><Code>NoSuchKey</Code><Key>{key}</Key></Error>".encode()
            return HttpResponse(404, [("Content-Type", "application/xml")], body)
        with open(path, "rb") as handle:
            data = handle.read()
        etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
        headers = [("Content-Type", content_type(key)), ("Cache-Control", cache_control(key)), ("ETag", etag)]
        headers.append(("Content-Length", str(len(data))))  # HEAD too: what S3 says of the object
        if request.header("If-None-Match") == etag:
            return HttpResponse(304, headers[:-1], b"")
        return HttpResponse(200, headers, b"" if request.method.upper() == "HEAD" else data)

    def _api(self, behavior: Behavior, request: HttpRequest) -> HttpResponse:
        """An API Gateway origin: OriginPath is prepended, then the stage selects the API's routes."""
        if behavior.origin.kind == "mount":
            assert behavior.path is not None
            gateway = self.mounted.get(behavior.path)
        else:
            gateway = self.gateway
        if gateway is None:
            return _error(502, "bad_gateway", f"nothing serves {behavior.path} locally")
        path = behavior.origin.path + request.path
        stage = "/" + gateway.stage
        if path != stage and not path.startswith(stage + "/"):
            return _error(403, "forbidden", f"{path} is not under the API's stage {stage}")
        return gateway.handle(replace(request, path=path[len(stage) :] or "/", raw_path=None))

    def _proxy(self, behavior: Behavior, request: HttpRequest) -> HttpResponse:
        """Any HTTPS origin (another account's service): forwarded as CloudFront would, with a timeout."""
        origin = behavior.origin
        url = f"https://{origin.domain}:{origin.port}{origin.path}{request.path}"
        if request.raw_query:
            url += "?" + request.raw_query
        headers = {k: v for k, v in request.headers if k.lower() not in ("host", "content-length", "connection")}
        outgoing = urllib.request.Request(url, data=request.body or None, method=request.method, headers=headers)
        try:
            with urllib.request.urlopen(outgoing, timeout=10) as answer:
                return HttpResponse(answer.status, list(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as exc:
            return HttpResponse(exc.code, list(exc.headers.items()), exc.read())
        except OSError as exc:
            log.warning("site origin %s did not answer: %s", url, exc)
            return _error(502, "bad_gateway", f"the origin of {behavior.path} ({origin.domain}) did not answer")

    def _with_headers(self, response: HttpResponse) -> HttpResponse:
        """The response headers policy overrides what the origin sent (`Override: true`)."""
        if not self.headers:
            return response
        names = {name.lower() for name, _ in self.headers}
        kept = [(k, v) for k, v in response.headers if k.lower() not in names]
        return HttpResponse(response.status, kept + self.headers, response.body)


def _error(status: int, code: str, message: str) -> HttpResponse:
    request_id = str(uuid.uuid4())
    body = json.dumps(error_body(code, message, request_id=request_id)).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), ("x-amz-cf-id", request_id)], body)
