"""The API Gateway emulation that `lambdakit local` and the test client share: request -> event -> function -> response.

For each request: find the route as API Gateway would (literal segments
before parameters), check its auth (Cognito, Lambda authorizer, SigV4) and
API key, then either store the validated body (storage-first routes) or
build the REST proxy event and invoke the function. API Gateway's own
refusals are answered with the gateway responses the template declares
(`derive.openapi.GATEWAY_RESPONSES`), in the framework's one error shape.
Nothing here speaks HTTP: the front doors turn their requests into `HttpRequest`.

The limits AWS enforces are enforced here too, so both front doors answer
them alike: a body over API Gateway's 10 MB (413), an event over Lambda's
6 MB invocation payload (413) and a function's answer over Lambda's response
limit (502). Whatever the input, `handle` answers in the error shape: an
unexpected exception in the emulation itself becomes a 500 `internal_error`
naming the request id, logged as one structured line (`log_failure`).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambdakit.core.matcher import Matcher, matcher, normal
from lambdakit.declare.auth import IAM, Cognito, Public
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive.plan import Plan
from lambdakit.errors import error_body
from lambdakit.local.auth import AuthorizerCache, CognitoVerifier, Refusal, verify_sigv4
from lambdakit.local.backend import Backend
from lambdakit.local.invoker import Invocation, Invoker, log

API_ID = "local"
#: The API key a route with `api_key=True` accepts locally when the service names no keys.
LOCAL_API_KEY = "lambdakit-local-key"
#: API Gateway's request payload quota (REST APIs, 10 MB): a longer body is refused before anything runs.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
#: Lambda's synchronous invocation payload: the event, as JSON ("Request must be smaller than 6291456 bytes").
MAX_EVENT_BYTES = 6 * 1024 * 1024
#: Lambda's response payload, as Lambda counts it ("Exceeded maximum allowed payload size (6291556 bytes)").
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100
#: What API Gateway says when either request limit is passed (its REQUEST_TOO_LARGE gateway response).
TOO_LARGE = "Request Too Long"


@dataclass
class HttpRequest:
    """A request as the gateway sees it; `raw_path`/`raw_query` are as sent (for SigV4)."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    raw_path: str | None = None
    raw_query: str = ""

    def header(self, name: str) -> str | None:
        lower = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == lower:
                found = value
        return found


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in reversed(self.headers) if k.lower() == lower), None)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Route:
    spec: FunctionSpec
    method: str
    path: str
    matcher: Matcher

    @property
    def rank(self) -> tuple[int, ...]:
        """Literal segments sort before parameters, parameters before greedy ones."""
        return self.matcher.rank


def _compile(spec: FunctionSpec) -> Route:
    assert spec.route is not None
    return Route(spec, spec.route.method, normal(spec.route.path), matcher(spec.route.path))


class Gateway:
    """One app's REST API, emulated: routes, auth, validation, storage-first integrations, proxy events."""

    def __init__(self, plan: Plan, backend: Backend, invoker: Invoker) -> None:
        app = plan.app
        self.plan = plan
        self.app = app
        self.backend = backend
        self.invoker = invoker
        self.stage = app.service.stage
        routes = [_compile(s) for s in app.functions if s.kind == "http" and s.route is not None]
        self.routes = sorted(routes, key=lambda r: r.rank)
        self.cognito = CognitoVerifier(backend)
        self.authorizer_cache = AuthorizerCache()
        self.api_keys = {f"{key}-local-key": key for plan in app.service.usage_plans for key in plan.keys} or {
            LOCAL_API_KEY: "local"
        }
        self._validators: dict[int, Any] = {}
        self._media: dict[int, set[str]] = {}
        self._response_checks: dict[int, Any] = {}

    # -- the pipeline ---------------------------------------------------------------
    def handle(self, request: HttpRequest) -> HttpResponse:
        """API Gateway's answer to `request`, whatever it holds: never an exception."""
        request_id = str(uuid.uuid4())
        try:
            return self._handle(request, request_id)
        except Exception as exc:  # a bug of the emulation, not of the app: say so, in the error shape
            log_failure(f"the local gateway failed on {request.method} {request.path[:200]}", exc, request_id)
            try:
                return self.refuse(Refusal(500, "DEFAULT_5XX", internal_message(request_id)), request, request_id)
            except Exception:
                return internal_error(request_id)

    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        if len(request.body) > MAX_REQUEST_BYTES:
            log.warning(
                "%s %s: a body of over %d bytes; API Gateway answers 413",
                request.method,
                request.path[:200],
                MAX_REQUEST_BYTES,
            )
            return self.refuse(Refusal(413, "REQUEST_TOO_LARGE", TOO_LARGE), request, request_id)
        path = request.path.rstrip("/") or "/"
        cors = self.app.service.cors
        if cors is not None and request.method.upper() == "OPTIONS":
            methods = self.methods_at(path)
            if methods:  # the mock integration of the template's OPTIONS operation
                headers = cors.preflight_headers(request.header("Origin"), tuple(sorted({*methods, "OPTIONS"})))
                return HttpResponse(204, [*headers.items(), ("x-amzn-RequestId", request_id)], b"")
        route, params = self.match(request.method, path)
        if route is None:
            return self.refuse(
                Refusal(403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"), request, request_id
            )
        event = self.event(route, request, path, params, request_id)
        try:
            self._authorize(route, request, event)
            self._check_api_key(route, request, event)
        except Refusal as refusal:
            return self.refuse(refusal, request, request_id)
        if route.spec.storage_first:
            return self._store(route.spec, request, request_id)
        size = payload_size(event)
        if size > MAX_EVENT_BYTES:  # Lambda refuses the invocation; API Gateway answers 413
            self.invoker.record(
                Invocation(route.spec.name, "http", f"413 event of {size} bytes > {MAX_EVENT_BYTES}", 0.0, request_id)
            )
            return self.refuse(Refusal(413, "REQUEST_TOO_LARGE", TOO_LARGE), request, request_id)
        return self._invoke(route.spec, event, request_id)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        """The route for `method` on the resource `path` selects, as API Gateway does: the most specific
        resource wins, whatever its methods (a GET on `/notes/search` that only has POST is not sent to
        `GET /notes/{id}`)."""
        resource, found = self._resource(path)
        for route in self.routes:
            if route.path == resource and route.method == method.upper():
                return route, found
        return None, {}

    def _resource(self, path: str) -> tuple[str | None, dict[str, str]]:
        for route in self.routes:
            found = route.matcher.match(path)
            if found is not None:
                return route.path, found
        return None, {}

    def methods_at(self, path: str) -> set[str]:
        """The methods of the resource `path` selects (a preflight asks for the path, not a method)."""
        resource, _ = self._resource(path)
        return {route.method for route in self.routes if route.path == resource}

    def method_arn(self, method: str, path: str) -> str:
        return (
            f"arn:aws:execute-api:{self.backend.region}:{self.backend.account}:{API_ID}/{self.stage}/"
            f"{method.upper()}/{path.lstrip('/')}"
        )

    def event(
        self, route: Route, request: HttpRequest, path: str, params: dict[str, str], request_id: str
    ) -> dict[str, Any]:
        """The REST API proxy event (payload version 1.0) the function receives."""
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for key, value in request.headers:
            headers[key] = value
            multi_headers.setdefault(key, []).append(value)
        query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for key, value in request.query:
            query[key] = value
            multi_query.setdefault(key, []).append(value)
        body: str | None = None
        encoded = False
        if request.body:
            try:
                body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                body, encoded = base64.b64encode(request.body).decode(), True
        now = datetime.now(UTC)
        return {
            "resource": route.spec.route.path if route.spec.route else route.path,
            "path": path,
            "httpMethod": request.method.upper(),
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": API_ID,
                "resourcePath": route.spec.route.path if route.spec.route else route.path,
                "httpMethod": request.method.upper(),
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{self.stage}{path}",
                "accountId": self.backend.account,
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": "localhost",
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request_id,
                "identity": {
                    "sourceIp": request.source_ip,
                    "userAgent": request.header("User-Agent"),
                    "accessKey": None,
                    "accountId": None,
                    "caller": None,
                    "user": None,
                    "userArn": None,
                    "apiKey": None,
                    "apiKeyId": None,
                    "cognitoIdentityId": None,
                },
                "domainName": request.header("Host") or "localhost",
                "apiId": API_ID,
            },
            "body": body,
            "isBase64Encoded": encoded,
        }

    # -- auth ------------------------------------------------------------------------
    def _authorize(self, route: Route, request: HttpRequest, event: dict[str, Any]) -> None:
        auth = self.app.effective_auth(route.spec)
        context = event["requestContext"]
        if auth is None or isinstance(auth, Public):
            return
        if isinstance(auth, Cognito):
            context["authorizer"] = self.cognito.verify(request.header("Authorization"), auth)
        elif isinstance(auth, FunctionSpec):
            context["authorizer"] = self._lambda_authorizer(auth, event)
        elif auth == IAM:
            identity = verify_sigv4(
                request.method.upper(),
                request.raw_path or _quoted(request.path),
                request.raw_query,
                request.header,
                request.body,
                self.backend.credentials,
                self.backend.account,
            )
            context["identity"].update(identity)

    def _lambda_authorizer(self, spec: FunctionSpec, event: dict[str, Any]) -> dict[str, Any]:
        """Run the authorizer as API Gateway does, with its result cache keyed by the identity sources."""
        from lambdakit.core.authorizer_binding import gateway_identity_source
        from lambdakit.local.lambda_authorizer import authorize
        from lambdakit.runtime.authorizer import source_value

        context = event["requestContext"]
        arn = self.method_arn(event["httpMethod"], event["path"])
        if spec.identity_sources:
            key_values = tuple(source_value(event, s) for s in gateway_identity_source(spec))
        else:
            key_values = (_header(event, "Authorization"),)
        key = (spec.name, key_values)
        cached = self.authorizer_cache.get(key) if spec.authorizer_ttl > 0 else None

        def run(auth_event: dict[str, Any], auth_context: Any) -> Any:
            if cached is not None:
                return cached
            response = self.invoker.call(spec, auth_event, "authorizer", auth_context, context["requestId"])
            if isinstance(response, dict) and "policyDocument" in response:
                self.authorizer_cache.put(key, spec.authorizer_ttl, response)
            return response

        decision = authorize(spec, event, arn, handler=run)
        if decision.status == 200 and decision.authorizer is not None:
            return dict(decision.authorizer)
        if decision.status == 401:
            raise Refusal(401, "UNAUTHORIZED", decision.message or "Unauthorized")
        if decision.status == 403:
            raise Refusal(403, "ACCESS_DENIED", decision.message)
        raise Refusal(500, "AUTHORIZER_CONFIGURATION_ERROR", decision.message or "AuthorizerConfigurationException")

    def _check_api_key(self, route: Route, request: HttpRequest, event: dict[str, Any]) -> None:
        if route.spec.route is None or not route.spec.route.api_key:
            return
        value = request.header("x-api-key")
        if value is None or value not in self.api_keys:
            raise Refusal(403, "INVALID_API_KEY", "Forbidden")
        event["requestContext"]["identity"].update(apiKey=value, apiKeyId=self.api_keys[value])

    # -- integrations ----------------------------------------------------------------
    def _invoke(self, spec: FunctionSpec, event: dict[str, Any], request_id: str) -> HttpResponse:
        def bad_gateway() -> HttpResponse:
            return self.refuse(
                Refusal(502, "DEFAULT_5XX", "Internal server error"), None, request_id, _header(event, "Origin")
            )

        try:
            result = self.invoker.call(spec, event, "http", request_id=request_id)
        except Exception as exc:
            log_failure(f"{spec.name} failed; API Gateway answers 502", exc, request_id, function=spec.name)
            return bad_gateway()
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            log.error(
                "%s returned %r, not a Lambda proxy response ({'statusCode': int, ...}); API Gateway answers 502",
                spec.name,
                type(result).__name__,
            )
            return bad_gateway()
        size = response_size(result)
        if size is None or size > MAX_RESPONSE_BYTES:
            reason = (
                "its answer does not serialize to JSON (Runtime.MarshalError)"
                if size is None
                else f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes): "
                f"{size} bytes"
            )
            log.error("%s: %s; API Gateway answers 502", spec.name, reason)
            return bad_gateway()
        try:
            response = _proxy_response(result, request_id)
        except (AttributeError, TypeError, ValueError, binascii.Error) as exc:
            log.error("%s returned a malformed Lambda proxy response (%s); API Gateway answers 502", spec.name, exc)
            return bad_gateway()
        return self._checked(spec, response, request_id)

    def _checked(self, spec: FunctionSpec, response: HttpResponse, request_id: str) -> HttpResponse:
        """A success whose JSON body breaks the return annotation becomes a 500 naming the fields."""
        media = (response.header("Content-Type") or "").split(";", 1)[0].strip().lower()
        if not 200 <= response.status < 300 or not (media == "application/json" or media.endswith("+json")):
            return response
        if id(spec) not in self._response_checks:
            from lambdakit.local.responses import checker

            self._response_checks[id(spec)] = checker(spec)
        check = self._response_checks[id(spec)]
        errors = check(response.body) if check is not None else None
        if not errors:
            return response
        from lambdakit.local.responses import mismatch_message

        message = mismatch_message(spec, errors)
        log.error("%s (on Lambda this body would reach the caller as is)", message)
        body = error_body("response_validation_error", message, errors, request_id)
        refused = _json_response(500, body, request_id)
        cors = [(k, v) for k, v in response.headers if k.lower().startswith("access-control-") or k == "Vary"]
        refused.headers += cors  # what the function's answer carried, so a browser shows the message
        return refused

    def _validator(self, spec: FunctionSpec) -> Any:
        found = self._validators.get(id(spec))
        if found is None:
            from lambdakit.core.binding import http_plan
            from lambdakit.local.validation import validator

            assert spec.route is not None
            body = http_plan(spec.func, spec.route.path_params, spec.where).body
            assert body is not None
            found = self._validators[id(spec)] = validator(body.model, body.required)
        return found

    def _store(self, spec: FunctionSpec, request: HttpRequest, request_id: str) -> HttpResponse:
        """The storage-first integration: validate as the gateway does, then run the template's integration."""
        from lambdakit.local import integration

        start = time.perf_counter()
        media = (request.header("Content-Type") or "application/json").split(";", 1)[0].strip().lower()
        if media not in self._media_types(spec):
            return self.refuse(Refusal(415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type"), request, request_id)
        problem: str | None
        try:
            text = request.body.decode("utf-8")  # API Gateway reads a JSON body as UTF-8 (never UTF-16 or 32)
            problem = "the body is not UTF-8 JSON" if "\x00" in text else self._validator(spec)(request.body)
        except UnicodeDecodeError:
            text, problem = "", "the body is not UTF-8"
        except (ValueError, RecursionError) as exc:  # a body the validator cannot even parse
            text, problem = "", f"the body does not parse ({type(exc).__name__})"

        def refused(problem: str) -> HttpResponse:
            # The deployed gateway answers only "Invalid request body" (see derive.openapi.GATEWAY_RESPONSES);
            # the local log line says which field, for the developer.
            self.invoker.record(
                Invocation(spec.name, "store", f"400 {problem}", (time.perf_counter() - start) * 1000, request_id)
            )
            return self.refuse(Refusal(400, "BAD_REQUEST_BODY", "Invalid request body"), request, request_id)

        if problem is not None:
            return refused(problem)
        try:
            status, body = integration.store(self.plan.of(spec), self.backend, text, request_id)
        except integration.UnreadableBody as exc:
            return refused(str(exc))
        self.invoker.record(
            Invocation(spec.name, "store", str(status), (time.perf_counter() - start) * 1000, request_id)
        )
        headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
        if self.app.service.cors is not None:  # what the integration's response templates set
            headers += self.app.service.cors.response_headers(request.header("Origin")).items()
        return HttpResponse(status, headers, body.encode())

    def _media_types(self, spec: FunctionSpec) -> set[str]:
        found = self._media.get(id(spec))
        if found is None:
            from lambdakit.local.integration import media_types

            found = self._media[id(spec)] = media_types(self.plan.of(spec))
        return found

    # -- API Gateway's own answers -------------------------------------------------------
    def refuse(
        self, refusal: Refusal, request: HttpRequest | None, request_id: str, origin: str | None = None
    ) -> HttpResponse:
        """A gateway response, rendered as the template's `x-amazon-apigateway-gateway-responses` renders it."""
        response = self._gateway_response(refusal, request, request_id)
        cors = self.app.service.cors
        if cors is not None:
            response.headers += cors.gateway_headers(origin or (request.header("Origin") if request else None)).items()
        return response

    def _gateway_response(self, refusal: Refusal, request: HttpRequest | None, request_id: str) -> HttpResponse:
        from lambdakit.derive.openapi import GATEWAY_RESPONSES

        entry = GATEWAY_RESPONSES.get(refusal.kind) or GATEWAY_RESPONSES.get(
            "DEFAULT_5XX" if refusal.status >= 500 else "DEFAULT_4XX"
        )
        if entry is None:
            return _json_response(refusal.status, {"message": refusal.message}, request_id)
        code, template = entry
        if template.startswith("$context.error."):
            message = refusal.message
        else:
            method, path = (request.method.upper(), request.path) if request is not None else ("", "")
            message = template.replace("$context.httpMethod", method).replace("$context.path", path)
        return _json_response(refusal.status, error_body(code, message, request_id=request_id), request_id)


def _proxy_response(result: dict[str, Any], request_id: str) -> HttpResponse:
    """A Lambda proxy response as API Gateway returns it."""
    headers: list[tuple[str, str]] = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(key, str(v)) for v in values if (key, str(v)) not in headers]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("x-amzn-RequestId", request_id))
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    if not 100 <= result["statusCode"] <= 599:
        raise ValueError(f"statusCode {result['statusCode']} is not an HTTP status")
    return HttpResponse(result["statusCode"], headers, body)


def payload_size(event: Any) -> int:
    """The bytes of an invocation payload as API Gateway sends it to Lambda: the event as compact UTF-8 JSON."""
    text = json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8", "surrogatepass"))


def response_size(result: Any) -> int | None:
    """The bytes of a function's answer as the Python runtime serializes it (None: it does not serialize)."""
    try:
        return len(json.dumps(result, default=str).encode())
    except (TypeError, ValueError, RecursionError):
        return None


def internal_message(request_id: str) -> str:
    return f"lambdakit local failed on this request; its log line names request {request_id}"


def internal_error(request_id: str | None = None) -> HttpResponse:
    """The 500 of a front door whose emulation failed (already logged with `log_failure`)."""
    request_id = request_id or str(uuid.uuid4())
    body = error_body("internal_error", internal_message(request_id), request_id=request_id)
    return _json_response(500, body, request_id)


def log_failure(message: str, exc: BaseException | None, request_id: str, **fields: Any) -> None:
    """One structured line for a failure on the server's side, in the keys the runtime's logger (Powertools)
    writes: level, message, request_id, exception_name, exception (its message), location (where it was
    raised) and the innermost frames, as one JSON line rather than a multi-line traceback."""
    line: dict[str, Any] = {"level": "ERROR", "message": message, "request_id": request_id, **fields}
    if exc is not None:
        frames = traceback.extract_tb(exc.__traceback__)
        line["exception_name"] = type(exc).__name__
        line["exception"] = str(exc)[:500]
        if frames:
            line["location"] = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}"
            line["stack"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in frames[-8:]]
    log.error("%s", json.dumps(line, default=str))


def answer(handle: Callable[[HttpRequest], HttpResponse], request: HttpRequest) -> HttpResponse:
    """`handle(request)` for a front door: an exception becomes the logged 500 in the error shape."""
    try:
        return handle(request)
    except Exception as exc:
        request_id = str(uuid.uuid4())
        log_failure(f"lambdakit local failed on {request.method} {request.path[:200]}", exc, request_id)
        return internal_error(request_id)


def _json_response(status: int, body: Any, request_id: str) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)], json.dumps(body).encode()
    )


def _header(event: dict[str, Any], name: str) -> str | None:
    lower = name.lower()
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == lower), None)


def _quoted(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/~")
