"""Lambda@Edge on this machine: a site's edge functions run on the requests the local distribution serves.

`lambdakit.local.site.Site` runs CloudFront's pipeline for each request and calls this module
for the Lambda@Edge steps of the matching behavior: it builds the real event (`Records[0].cf`:
`config`, the `request` with headers as `{lower: [{key, value}]}`, the raw `querystring`, `uri`,
`method`, `clientIp`, the `origin` on origin events, the `response` on response events), runs
the function (the user's, through the same `lambdakit.edge.handler.run` the artifact uses, or a
built-in), checks what came back as CloudFront does, and turns it back into the local request or
response. A function that raises, or runs past its timeout, is CloudFront's 503 (a Lambda
execution error); an answer CloudFront would not accept (no status, a status changed on a viewer
response, a generated response over 40 KB on a viewer event, 1 MB on an origin one) is its 502
(a Lambda validation error).
"""

from __future__ import annotations

import base64
import importlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from lambdakit.derive.edge import EdgeFunctionPlan, on_behavior
from lambdakit.derive.site import Behavior, SitePlan
from lambdakit.edge.handler import run
from lambdakit.edge.rewrites import is_response
from lambdakit.errors import error_body
from lambdakit.local.gateway import HttpRequest, HttpResponse
from lambdakit.local.invoker import log

#: `(event, context) -> result`: how a built-in edge function (site auth) runs locally.
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

DISTRIBUTION_ID = "ELOCALDISTRIB"
#: Headers CloudFront itself manages on a viewer request; a function that changes them is refused.
READ_ONLY_VIEWER = frozenset({"content-length", "host", "transfer-encoding", "via"})


@dataclass(frozen=True)
class Failed:
    """A function's failure as CloudFront answers it: 503 (execution error) or 502 (validation error)."""

    response: HttpResponse


class EdgeFunctions:
    """The Lambda@Edge functions of one site, by logical id, ready to run on the events of its behaviors."""

    def __init__(self, plan: SitePlan, builtins: Mapping[str, Handler] | None = None, domain: str = "") -> None:
        self.plan = plan
        self.domain = domain or "localhost"
        self.handlers: dict[str, Handler] = dict(builtins or {})
        for fn in plan.edge:
            if fn.module is not None and fn.function is not None and fn.logical_id not in self.handlers:
                self.handlers[fn.logical_id] = _user_handler(fn)

    def on(self, behavior: Behavior, event_type: str) -> EdgeFunctionPlan | None:
        return next((fn for fn in on_behavior(self.plan, behavior) if fn.event == event_type), None)

    # -- the four events ------------------------------------------------------------------------------
    def request_event(
        self, fn: EdgeFunctionPlan, behavior: Behavior, request: HttpRequest
    ) -> HttpRequest | HttpResponse | Failed:
        """viewer-request / origin-request: the request CloudFront goes on with, or the function's answer."""
        cf_request = edge_request(request, fn.include_body)
        if fn.event == "origin-request":
            cf_request["origin"] = origin_of(behavior)
        result = self._invoke(fn, self._event(fn.event, cf_request))
        if isinstance(result, Failed):
            return result
        if is_response(result):
            problem = generated_problem(fn, result)
            return _validation(fn, problem) if problem else http_response(result)
        problem = request_problem(fn, cf_request, result)
        return _validation(fn, problem) if problem else applied(request, result)

    def response_event(
        self, fn: EdgeFunctionPlan, behavior: Behavior, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse | Failed:
        """origin-response / viewer-response: the response CloudFront goes on with."""
        cf_request = edge_request(request, False)
        if fn.event == "origin-response":
            cf_request["origin"] = origin_of(behavior)
        cf_response = edge_response(response)
        result = self._invoke(fn, self._event(fn.event, cf_request, cf_response))
        if isinstance(result, Failed):
            return result
        problem = response_problem(fn, cf_response, result)
        if problem:
            return _validation(fn, problem)
        return http_response(result, keep=response.body)

    # -- running one function -------------------------------------------------------------------------
    def _event(
        self, event_type: str, cf_request: dict[str, Any], cf_response: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        cf: dict[str, Any] = {
            "config": {
                "distributionDomainName": self.domain,
                "distributionId": DISTRIBUTION_ID,
                "eventType": event_type,
                "requestId": uuid.uuid4().hex,
            },
            "request": cf_request,
        }
        if cf_response is not None:
            cf["response"] = cf_response
        return {"Records": [{"cf": cf}]}

    def _invoke(self, fn: EdgeFunctionPlan, event: dict[str, Any]) -> dict[str, Any] | Failed:
        handler = self.handlers.get(fn.logical_id)
        if handler is None:
            log.error("Lambda@Edge %s has no local runner", fn.name)
            return Failed(_error(503, "LambdaExecutionError", f"the site's {fn.name} does not run locally"))
        started = time.perf_counter()
        try:
            result = handler(json.loads(json.dumps(event)), None)  # a copy, as Lambda deserialises one
        except Exception as exc:  # CloudFront: 503, "the Lambda function ... failed"
            log.exception("Lambda@Edge %s (%s) raised", fn.name, fn.event)
            return Failed(_error(503, "LambdaExecutionError", f"the edge function {fn.name} failed: {exc}"))
        elapsed = time.perf_counter() - started
        if elapsed > fn.timeout:
            log.error("Lambda@Edge %s ran %.1f s, over its %d s timeout", fn.name, elapsed, fn.timeout)
            return Failed(_error(503, "LambdaExecutionError", f"the edge function {fn.name} timed out"))
        if not isinstance(result, dict):
            return _validation(fn, f"returned {type(result).__name__}, not a request or a response")
        return result


def _user_handler(fn: EdgeFunctionPlan) -> Handler:
    """The user's function, dispatched as in the artifact (with lambdakit's viewer-request steps after it)."""
    assert fn.module is not None and fn.function is not None
    func = getattr(importlib.import_module(fn.module), fn.function)
    steps = [list(step) for step in fn.steps]

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return run(func, fn.event, event, steps)

    return handle


# -- shapes: the local request and response <-> CloudFront's -------------------------------------------


def edge_headers(pairs: list[tuple[str, str]]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for name, value in pairs:
        out.setdefault(name.lower(), []).append({"key": name, "value": value})
    return out


def header_pairs(headers: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(item.get("key") or name), str(item.get("value", "")))
        for name, items in headers.items()
        for item in items or ()
    ]


def edge_request(request: HttpRequest, include_body: bool) -> dict[str, Any]:
    """The `cf.request` of a local request, as CloudFront builds it."""
    query = request.raw_query or urlencode(request.query)
    out: dict[str, Any] = {
        "clientIp": request.source_ip,
        "headers": edge_headers(request.headers),
        "method": request.method.upper(),
        "querystring": query,
        "uri": request.path,
    }
    if include_body and request.body:
        out["body"] = {
            "inputTruncated": False,
            "action": "read-only",
            "encoding": "base64",
            "data": base64.b64encode(request.body).decode("ascii"),
        }
    return out


def origin_of(behavior: Behavior) -> dict[str, Any]:
    """The `request.origin` an origin event carries: the bucket (S3), or the API / other host (custom)."""
    origin = behavior.origin
    if origin.kind == "s3":
        return {
            "s3": {
                "authMethod": "none",  # OAC signs after the function, so the event carries no identity
                "customHeaders": {},
                "domainName": "site-bucket.s3.localhost",
                "path": origin.path,
                "region": "us-east-1",
            }
        }
    domain = origin.domain if isinstance(origin.domain, str) else f"{origin.id}.localhost"
    return {
        "custom": {
            "customHeaders": {},
            "domainName": domain,
            "keepaliveTimeout": 5,
            "path": origin.path,
            "port": origin.port,
            "protocol": "https",
            "readTimeout": 30,
            "sslProtocols": ["TLSv1.2"],
        }
    }


def applied(request: HttpRequest, result: dict[str, Any]) -> HttpRequest:
    """The local request after a function changed CloudFront's request (URI, query string, headers, body)."""
    from urllib.parse import parse_qsl

    query = str(result.get("querystring", request.raw_query) or "")
    body = request.body
    given = result.get("body")
    if isinstance(given, dict) and given.get("action") == "replace":
        data = str(given.get("data", ""))
        body = base64.b64decode(data) if given.get("encoding") == "base64" else data.encode()
    return replace(
        request,
        method=str(result.get("method", request.method)),
        path=str(result.get("uri", request.path)),
        raw_path=None,
        query=parse_qsl(query, keep_blank_values=True),
        raw_query=query,
        headers=header_pairs(result.get("headers") or {}),
        body=body,
    )


def edge_response(response: HttpResponse) -> dict[str, Any]:
    """The `cf.response` of an origin's answer (the body is not given to functions)."""
    return {
        "headers": edge_headers(response.headers),
        "status": str(response.status),
        "statusDescription": _description(response.status),
    }


def http_response(result: dict[str, Any], keep: bytes = b"") -> HttpResponse:
    """A function's response as the viewer receives it: its body if it set one, else the origin's."""
    body = keep
    if "body" in result:
        text = str(result.get("body") or "")
        body = base64.b64decode(text) if result.get("bodyEncoding") == "base64" else text.encode()
    pairs = header_pairs(result.get("headers") or {})
    if "body" in result:  # the origin's length no longer holds
        pairs = [(k, v) for k, v in pairs if k.lower() != "content-length"]
    return HttpResponse(int(result["status"]), pairs, body)


# -- what CloudFront accepts back ------------------------------------------------------------------------


def _headers_problem(headers: Any) -> str | None:
    if not isinstance(headers, dict):
        return "headers must be an object of lower-case names"
    for name, items in headers.items():
        if name != name.lower():
            return f"header {name!r}: the names are lower case"
        if not isinstance(items, list) or not all(isinstance(i, dict) and "value" in i for i in items):
            return f"header {name!r}: give a list of {{key, value}}"
        if any(str(i.get("key", name)).lower() != name for i in items):
            return f"header {name!r}: its key must be the same name"
    return None


def _status_problem(result: dict[str, Any]) -> str | None:
    try:
        status = int(result.get("status", ""))
    except (TypeError, ValueError):
        return f"status {result.get('status')!r} is not an HTTP status"
    return None if 100 <= status <= 599 else f"status {status} is not an HTTP status"


def generated_problem(fn: EdgeFunctionPlan, result: dict[str, Any]) -> str | None:
    """A response a request function generates: a status, valid headers, within the event's size limit."""
    problem = _status_problem(result) or _headers_problem(result.get("headers", {}))
    if problem:
        return problem
    size = len(str(result.get("body") or "")) + sum(
        len(str(i.get("key", name))) + len(str(i.get("value", "")))
        for name, items in (result.get("headers") or {}).items()
        for i in items
    )
    limit = fn.limits.generated
    if size > limit:
        return f"the generated response is {size} bytes; {_an(fn.event)} function may generate {limit // 1024} KB"
    return None


def request_problem(fn: EdgeFunctionPlan, before: dict[str, Any], result: dict[str, Any]) -> str | None:
    if not isinstance(result.get("uri"), str) or not str(result["uri"]).startswith("/"):
        return f"the request's uri {result.get('uri')!r} must start with '/'"
    problem = _headers_problem(result.get("headers", {}))
    if problem:
        return problem
    if fn.event == "viewer-request":
        for name in READ_ONLY_VIEWER:
            if (result.get("headers") or {}).get(name) != before["headers"].get(name):
                return f"header {name!r} is read-only on a viewer request"
    return None


def response_problem(fn: EdgeFunctionPlan, before: dict[str, Any], result: dict[str, Any]) -> str | None:
    problem = _status_problem(result) or _headers_problem(result.get("headers", {}))
    if problem:
        return problem
    if fn.event == "viewer-response" and str(result["status"]) != before["status"]:
        return "a viewer-response function cannot change the status"
    if fn.event == "viewer-response" and "body" in result:
        return "a viewer-response function cannot replace the body"
    if "body" in result and len(str(result.get("body") or "")) > fn.limits.generated:
        return f"the body is over the {fn.limits.generated // 1024} KB {_an(fn.event)} function may set"
    return None


def _an(event: str) -> str:
    return ("an " if event.startswith("origin") else "a ") + event


def _validation(fn: EdgeFunctionPlan, problem: str) -> Failed:
    log.error("Lambda@Edge %s (%s): CloudFront refuses its answer: %s", fn.name, fn.event, problem)
    return Failed(_error(502, "LambdaValidationError", f"the edge function {fn.name}'s answer is invalid: {problem}"))


def _description(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _error(status: int, code: str, message: str) -> HttpResponse:
    request_id = str(uuid.uuid4())
    body = json.dumps(error_body(code, message, request_id=request_id)).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), ("x-amz-cf-id", request_id)], body)
