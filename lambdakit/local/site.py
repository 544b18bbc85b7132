"""The distribution, emulated: one local origin serving the SPA, the API and the mounts as CloudFront would.

A request takes the first behavior whose path matches (most specific first, from the same
`SitePlan` the template renders) and goes through CloudFront's pipeline for it (`Site.handle`):
viewer request -> [cache] -> origin request -> the origin -> origin response -> viewer response
-> the response headers policy. The CloudFront Functions run as shipped (under Node when
present, else their Python twins); the Lambda@Edge functions run through `lambdakit.local.edge`
with real CloudFront events. The origins are the site folder in place of the bucket, this app's
gateway, a mounted package's gateway, or an HTTPS origin. Nothing here speaks HTTP either.

Each step is one method, so what later features add plugs into one place: a CloudFront Function
on an event (`SitePlan.function_associations`), a Lambda@Edge function on an event
(`SitePlan.edge`, a built-in's local handler through `edge_handlers=`), an origin (`_origin`).
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from lambdakit.derive import site_auth
from lambdakit.derive.site import SPA_FUNCTION, Behavior, SitePlan, cache_control, content_type, published
from lambdakit.edge import rewrites
from lambdakit.errors import error_body
from lambdakit.local.cloudfront_functions import Functions, Twin
from lambdakit.local.edge import EdgeFunctions, Failed, Handler
from lambdakit.local.gateway import Gateway, HttpRequest, HttpResponse
from lambdakit.local.invoker import log
from lambdakit.local.routing import LocalRouting, origin_group


def spa_twin(index: str, keep_viewer_uri: bool = False, areas: Sequence[str] = ()) -> Twin:
    """The SPA fallback in Python, for machines without Node: the step Lambda@Edge runs too (the tests hold
    both to the JS). `keep_viewer_uri`: the viewer's path goes on in a header, for the site's sign-in."""

    def run(event: dict[str, Any]) -> dict[str, Any]:
        return rewrites.spa(dict(event["request"]), index, areas, keep_viewer_uri)

    return run


def strip_twin(prefix: str) -> Twin:
    def run(event: dict[str, Any]) -> dict[str, Any]:
        return rewrites.strip(dict(event["request"]), prefix)

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

    def __init__(
        self,
        plan: SitePlan,
        gateway: Gateway | None,
        mounted: dict[str, Gateway],
        service: str = "site",
        edge_handlers: Mapping[str, Handler] | None = None,  # built-in Lambda@Edge functions (site auth)
    ) -> None:
        self.plan = plan
        self.gateway = gateway
        self.mounted = mounted
        self.headers = list(plan.headers.headers().items()) if plan.headers is not None else []
        self.routing = LocalRouting(plan.routing, service)  # ab_test=, rollout=, failover= (local/routing.py)
        twins: dict[str, Twin] = self.routing.twins()
        if plan.frontend is not None:
            twins[SPA_FUNCTION] = spa_twin(
                plan.frontend.index, bool(site_auth.areas(plan.frontend)), site_auth.entry_areas(plan.frontend)
            )
        for behavior in plan.behaviors:
            if behavior.function_id is not None and behavior.strip is not None:
                twins[behavior.function_id] = strip_twin(behavior.strip)
        self.functions = Functions(plan.functions, twins)
        self.edge = EdgeFunctions(plan, edge_handlers)  # Lambda@Edge (local/edge.py)

    def close(self) -> None:
        self.functions.close()

    def behavior(self, path: str) -> Behavior:
        for behavior in self.plan.behaviors:
            assert behavior.path is not None
            if path == behavior.path or path.startswith(behavior.path + "/"):
                return behavior
        return self.plan.default

    def handle(self, request: HttpRequest) -> HttpResponse:
        """CloudFront's pipeline for one request, on the behavior its path matches, in CloudFront's order:

        1. viewer request: the behavior's CloudFront Function, or its Lambda@Edge function (which runs
           lambdakit's own step after the user's code); an answer here goes straight back (no viewer response);
        2. [the cache: not emulated, so every request goes on];
        3. origin request (Lambda@Edge); an answer here skips the origin and the origin response;
        4. the origin: the bucket (or origin group), this app's API, a mounted one, an HTTPS host;
        5. origin response (Lambda@Edge);
        6. viewer response: the CloudFront Function or Lambda@Edge function (Lambda@Edge skips answers >= 400);
        7. the response headers policy (`Override: true`).
        """
        behavior = self.behavior(request.path)
        viewer = self._viewer_request(behavior, request)
        if isinstance(viewer, HttpResponse):
            return self._with_headers(viewer)
        request, function_request = viewer
        response = self._origin_side(behavior, request)
        response = self._viewer_response(behavior, request, function_request, response)
        return self._with_headers(response)

    # -- 1. viewer request ---------------------------------------------------------------
    def _viewer_request(
        self, behavior: Behavior, request: HttpRequest
    ) -> tuple[HttpRequest, dict[str, Any] | None] | HttpResponse:
        """The request going on (and the CloudFront Functions request, for a viewer-response function), or an
        answer."""
        edge = self.edge.on(behavior, "viewer-request")
        if edge is not None:
            answer = self.edge.request_event(edge, behavior, request)
            if isinstance(answer, Failed):
                return answer.response
            return answer if isinstance(answer, HttpResponse) else (answer, None)
        function_id = self._function(behavior, "viewer-request")
        if function_id is None:
            return request, None
        event = function_event(request)
        try:
            result = self.functions.run(function_id, event, self.routing.kvs())
        except Exception as exc:  # CloudFront answers 503 when a function throws
            log.error("CloudFront Function %s failed: %s", function_id, exc)
            return _error(503, "service_unavailable", f"the site's function {function_id} failed")
        if "statusCode" in result:  # the function answered itself
            return HttpResponse(int(result["statusCode"]), _function_headers(result), _function_body(result))
        return function_applied(request, event["request"], result), result

    def _function(self, behavior: Behavior, event_type: str) -> str | None:
        return dict(self.plan.function_associations(behavior)).get(event_type)

    # -- 3-5. origin request, the origin, origin response ----------------------------------
    def _origin_side(self, behavior: Behavior, request: HttpRequest) -> HttpResponse:
        edge = self.edge.on(behavior, "origin-request")
        if edge is not None:
            answer = self.edge.request_event(edge, behavior, request)
            if isinstance(answer, Failed):
                return answer.response
            if isinstance(answer, HttpResponse):  # generated: no origin, no origin response
                return answer
            request = answer
        response = self._origin(behavior, request)
        edge = self.edge.on(behavior, "origin-response")
        if edge is not None:
            changed = self.edge.response_event(edge, behavior, request, response)
            return changed.response if isinstance(changed, Failed) else changed
        return response

    def _origin(self, behavior: Behavior, request: HttpRequest) -> HttpResponse:
        if behavior.origin.kind == "s3":
            return self._s3(request)
        if behavior.origin.kind == "http":
            return self._proxy(behavior, request)
        return self._api(behavior, request)

    # -- 6. viewer response --------------------------------------------------------------
    def _viewer_response(
        self,
        behavior: Behavior,
        request: HttpRequest,
        function_request: dict[str, Any] | None,
        response: HttpResponse,
    ) -> HttpResponse:
        edge = self.edge.on(behavior, "viewer-response")
        if edge is not None:
            if response.status >= 400:  # Lambda@Edge does not run viewer-response on the origin's errors
                return response
            changed = self.edge.response_event(edge, behavior, request, response)
            return changed.response if isinstance(changed, Failed) else changed
        function_id = self._function(behavior, "viewer-response")
        if function_id is None:
            return response
        event = function_response_event(function_event(request), function_request, response)
        try:
            result = self.functions.run(function_id, event, self.routing.kvs())
        except Exception as exc:
            log.error("CloudFront Function %s failed: %s", function_id, exc)
            return _error(503, "service_unavailable", f"the site's function {function_id} failed")
        headers = _function_headers(result) if "headers" in result else response.headers
        status = int(result.get("statusCode", response.status))
        return HttpResponse(status, headers + _set_cookies(result), response.body)

    # -- origins ------------------------------------------------------------------------
    def _s3(self, request: HttpRequest) -> HttpResponse:
        """The site's bucket, or with `failover=` its origin group (primary, then replica)."""
        if self.plan.failover is None:
            return self._bucket(request)
        return origin_group(self.routing, request, self._bucket)

    def _bucket(self, request: HttpRequest) -> HttpResponse:
        """The private bucket through OAC: GET and HEAD only; a missing key is S3's 404 (ListBucket is granted)."""
        if request.method.upper() not in ("GET", "HEAD"):
            return _error(403, "forbidden", f"{request.method.upper()} is not allowed on the site's files")
        frontend = self.plan.frontend
        assert frontend is not None
        key = request.path.lstrip("/") or frontend.index
        folder, inner = self.routing.locate(frontend.root, key)  # variants/ and releases/ have folders of their own
        root = os.path.realpath(folder)
        path = os.path.realpath(os.path.join(root, inner))
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
        if behavior.origin.parameter is not None:  # a custom domain: its mapping strips OriginPath, selects the stage
            return gateway.handle(replace(request, path=request.path or "/", raw_path=None))
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


def function_applied(request: HttpRequest, before: dict[str, Any], result: dict[str, Any]) -> HttpRequest:
    """The local request after a CloudFront Function changed it: its URI, and its query string, headers and
    cookies when the function changed them (else they stay as sent, raw query and header case included)."""
    changed = {part: result.get(part) != before.get(part) for part in ("querystring", "headers", "cookies")}
    if not changed["querystring"] and not changed["headers"] and not changed["cookies"]:
        return replace(request, path=str(result.get("uri", request.path)), raw_path=None)

    def values(fields: Any) -> list[tuple[str, str]]:
        out = []
        for name, field in (fields or {}).items():
            for item in field.get("multiValue") or [field]:
                out.append((name, str(item.get("value", ""))))
        return out

    query = values(result.get("querystring"))
    headers = values(result.get("headers"))
    cookies = values(result.get("cookies"))
    if cookies:
        headers.append(("cookie", "; ".join(f"{name}={value}" for name, value in cookies)))
    return replace(
        request,
        path=str(result.get("uri", request.path)),
        raw_path=None,
        query=query,
        raw_query=urlencode(query),
        headers=headers,
    )


def function_response_event(
    request_event: dict[str, Any], function_request: dict[str, Any] | None, response: HttpResponse
) -> dict[str, Any]:
    """The CloudFront Functions viewer-response event: the request (as the viewer-request function left it)
    and the origin's response, with `Set-Cookie` as `cookies`."""
    headers: dict[str, dict[str, Any]] = {}
    cookies: dict[str, dict[str, Any]] = {}
    for name, value in response.headers:
        if name.lower() == "set-cookie":
            pair, _, attributes = value.partition(";")
            key, _, val = pair.strip().partition("=")
            cookies[key] = {"value": val, **({"attributes": attributes.strip()} if attributes.strip() else {})}
        else:
            headers.setdefault(name.lower(), {"value": value})
    return {
        **request_event,
        "context": {**request_event["context"], "eventType": "viewer-response"},
        "request": function_request if function_request is not None else request_event["request"],
        "response": {
            "statusCode": response.status,
            "statusDescription": "",
            "headers": headers,
            "cookies": cookies,
        },
    }


def _function_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for name, field in (result.get("headers") or {}).items():
        for item in field.get("multiValue") or [field]:
            out.append((name, str(item.get("value", ""))))
    return out


def _function_body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if isinstance(body, dict):  # cloudfront-js-2.0: {data, encoding}
        import base64

        data = str(body.get("data", ""))
        return base64.b64decode(data) if body.get("encoding") == "base64" else data.encode()
    return str(body or "").encode()


def _set_cookies(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The `Set-Cookie` headers of a CloudFront Function's response cookies."""
    out = []
    for name, cookie in (result.get("cookies") or {}).items():
        for item in cookie.get("multiValue") or [cookie]:
            attributes = item.get("attributes")
            out.append(("Set-Cookie", f"{name}={item.get('value', '')}" + (f"; {attributes}" if attributes else "")))
    return out


def _error(status: int, code: str, message: str) -> HttpResponse:
    request_id = str(uuid.uuid4())
    body = json.dumps(error_body(code, message, request_id=request_id)).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), ("x-amz-cf-id", request_id)], body)
