"""Events in the shapes AWS delivers them (its published sample events), and a Lambda context: for tests
that call a handler the way Lambda does (`lambdakit.runtime.loader.handler_for(spec)(event, context)`).

- `rest_event`: an API Gateway REST proxy request (the `aws-proxy` sample).
- `sqs_event`: a batch of SQS messages, standard or FIFO, as the event source mapping delivers it.
- `kinesis_event`: a batch of Kinesis Data Streams records.
- `cloudfront_event`: a Lambda@Edge request or response event (any of its four triggers).
- `cloudfront_function_event`: a CloudFront Functions viewer request or response event.
- `LambdaContext`: the context attributes handlers read.

The builders are deterministic: the same arguments give the same event, ids included.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from lambdakit.core.matcher import matcher


def rest_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    body: Any = None,
    query: dict[str, str | list[str]] | None = None,
    headers: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    identity: dict[str, Any] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An event as API Gateway's Lambda proxy integration sends it. `resource` is the route template."""
    resource = resource or path
    path_params = matcher(resource).match(path) or None
    hdrs = {
        "Accept": "application/json",
        "Host": "abcdef123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "curl/8.5.0",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    raw: str | None = None
    if body is not None:
        raw = body if isinstance(body, str) else json.dumps(body)
        hdrs["Content-Type"] = "application/json"
        if base64_body:
            raw = base64.b64encode(raw.encode()).decode()
    hdrs.update(headers or {})
    multi_query = {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "2gxmpl",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": "JJbxmHc1IAMFtGg=",
            "requestTime": "10/Mar/2026:00:03:59 +0000",
            "path": f"/api{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "api",
            "domainPrefix": "abcdef123",
            "requestTimeEpoch": 1773101039000,
            "requestId": "e0a6b2a0-7b61-11e6-9a41-93e8deadbeef",
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": "203.0.113.7",
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": "curl/8.5.0",
                "user": None,
                **(identity or {}),
            },
            "domainName": "abcdef123.execute-api.us-east-1.amazonaws.com",
            "apiId": "abcdef123",
            **({"authorizer": authorizer} if authorizer is not None else {}),
        },
        "body": raw,
        "isBase64Encoded": base64_body,
    }


class LambdaContext:
    """The attributes of Lambda's context object that handlers read."""

    function_name = "test-function"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    memory_limit_in_mb = 256
    aws_request_id = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "2026/03/10/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


# Fixed instants and ids keep events reproducible: 2026-03-10T00:03:59Z, as in `rest_event`.
_EPOCH_MS = 1773101039000
_SQS_SENDER = "AIDAIENQZJOLO23YVJ4VO"
_SQS_FIFO_SEQUENCE = 18849496460467696128  # 20 digits, as SQS gives FIFO messages
_KINESIS_SEQUENCE = 49590338271490256608559692538361571095921575989136588898  # 56 digits, as Kinesis gives
_KINESIS_STEP = 2564131663402632533  # sequence numbers grow, but not by one
_ID_NAMESPACE = uuid.UUID("6f1c1d3e-5b0e-4c47-9a51-6c6b8a1d2f00")


def _text(payload: Any) -> str:
    """A message as the text a producer sends: str as is, bytes decoded, a pydantic model or any value as JSON."""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, bytes | bytearray):
        return bytes(payload).decode("utf-8")
    if hasattr(payload, "model_dump_json") and not isinstance(payload, type):
        return str(payload.model_dump_json())
    return json.dumps(payload)


def _bytes(payload: Any) -> bytes:
    """A record's data as bytes: bytes as they are (a stream carries any bytes), else `_text` encoded."""
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return _text(payload).encode("utf-8")


def sqs_event(
    *messages: Any,
    queue: str = "my-queue",
    fifo: bool = False,
    group_id: str | None = None,
    attributes: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    account: str = "123456789012",
) -> dict[str, Any]:
    """A batch as Lambda's SQS event source delivers it, one record per message, in order.

    A message's id derives from the queue, its body and how many equal bodies came before it in the batch: the
    same message built again gets the same id (what a redelivery looks like), different messages differ.
    `attributes` become every message's String message attributes. On a FIFO queue (`.fifo` added to the name
    when missing) each message carries SequenceNumber, MessageGroupId (`group_id`, else "default", as
    lambdakit's `queue.send` uses) and a content-based MessageDeduplicationId; on a standard queue `group_id`
    adds only MessageGroupId, as SQS fair queues deliver it.
    """
    if fifo and not queue.endswith(".fifo"):
        queue += ".fifo"
    arn = f"arn:aws:sqs:{region}:{account}:{queue}"
    seen: dict[str, int] = {}
    records = []
    for index, message in enumerate(messages):
        body = _text(message)
        occurrence = seen[body] = seen.get(body, -1) + 1
        message_id = str(uuid.uuid5(_ID_NAMESPACE, f"{arn}\n{occurrence}\n{body}"))
        sent = _EPOCH_MS + index
        attrs = {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(sent),
            "SenderId": _SQS_SENDER,
            "ApproximateFirstReceiveTimestamp": str(sent + 2),
        }
        if fifo:
            attrs["SequenceNumber"] = str(_SQS_FIFO_SEQUENCE + index)
            attrs["MessageGroupId"] = group_id or "default"
            attrs["MessageDeduplicationId"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
        elif group_id is not None:
            attrs["MessageGroupId"] = group_id
        receipt = base64.b64encode(hashlib.sha256(f"{message_id}\n{sent}".encode()).digest() * 3).decode()
        records.append(
            {
                "messageId": message_id,
                "receiptHandle": "AQEB" + receipt,
                "body": body,
                "attributes": attrs,
                "messageAttributes": {
                    name: {"stringValue": value, "stringListValues": [], "binaryListValues": [], "dataType": "String"}
                    for name, value in (attributes or {}).items()
                },
                "md5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def kinesis_event(
    *records: Any,
    stream: str = "my-stream",
    partition_key: str | None = None,
    region: str = "us-east-1",
    account: str = "123456789012",
) -> dict[str, Any]:
    """A batch as Lambda's Kinesis Data Streams event source delivers it: one shard, records in order.

    Payloads follow `sqs_event`'s rules (bytes are sent as they are). Sequence numbers are 56-digit strings that
    increase along the batch; a record's partition key is `partition_key`, else its position ("0", "1", ...).
    """
    out = []
    for index, record in enumerate(records):
        sequence = str(_KINESIS_SEQUENCE + index * _KINESIS_STEP)
        out.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": partition_key if partition_key is not None else str(index),
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(_bytes(record)).decode("ascii"),
                    "approximateArrivalTimestamp": (_EPOCH_MS + index) / 1000,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{account}:role/lambda-role",
                "awsRegion": region,
                "eventSourceARN": f"arn:aws:kinesis:{region}:{account}:stream/{stream}",
            }
        )
    return {"Records": out}


EDGE_EVENT_TYPES = ("viewer-request", "viewer-response", "origin-request", "origin-response")
FUNCTION_EVENT_TYPES = ("viewer-request", "viewer-response")
_EDGE_REQUEST_ID = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="
_FUNCTION_REQUEST_ID = "EXAMPLEntjQpEXAMPLE_SG5Z-EXAMPLEPmPfEXAMPLEu3EqEXAMPLE=="
_RESPONSE_HEADERS = {
    "Date": "Tue, 10 Mar 2026 00:03:59 GMT",
    "Server": "ExampleCustomOriginServer",
    "Content-Type": "text/html; charset=UTF-8",
}


def _status_description(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _edge_headers(*layers: Mapping[str, str | list[str]] | None) -> dict[str, list[dict[str, str]]]:
    """Lambda@Edge headers: keyed by lower-case name, each a list of {key: name as sent, value}. Later layers
    replace a header of earlier ones whatever its case; a list value is a header repeated."""
    out: dict[str, list[dict[str, str]]] = {}
    for layer in layers:
        for name, value in (layer or {}).items():
            values = value if isinstance(value, list) else [value]
            out[name.lower()] = [{"key": name, "value": v} for v in values]
    return out


def cloudfront_event(
    event_type: str = "viewer-request",
    uri: str = "/",
    method: str = "GET",
    querystring: str = "",
    headers: Mapping[str, str | list[str]] | None = None,
    response: Mapping[str, Any] | None = None,
    distribution_id: str = "EDFDVBD6EXAMPLE",
    domain: str = "d111111abcdef8.cloudfront.net",
    client_ip: str = "203.0.113.178",
    body: str | bytes | None = None,
    origin: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Lambda@Edge event as CloudFront sends it for `event_type`, one of its four triggers.

    Every event carries the request; origin events add its `origin` (an S3 origin unless `origin=` gives one,
    e.g. `{"custom": {...}}`) and, like CloudFront's samples, the headers CloudFront sends the origin (Host is
    the origin's domain, plus Via and X-Forwarded-For); response events add the `response`. `headers` merge into
    the request's defaults. `response=` may give `status` (int or str, default 200), `statusDescription` and
    `headers`. `body=` is the request body as the "include body" option exposes it, read-only and base64;
    CloudFront exposes it to request triggers only. `querystring` is the raw query string, without "?".
    """
    if event_type not in EDGE_EVENT_TYPES:
        raise ValueError(
            f"event_type {event_type!r} is not a Lambda@Edge trigger; use one of {', '.join(EDGE_EVENT_TYPES)}"
        )
    on_origin = event_type.startswith("origin-")
    on_response = event_type.endswith("-response")
    if origin is not None and not on_origin:
        raise ValueError(f"origin= is for origin-request and origin-response events, not {event_type}")
    if response is not None and not on_response:
        raise ValueError(f"response= is for viewer-response and origin-response events, not {event_type}")
    if body is not None and on_response:
        raise ValueError(f"body= is the request body, which CloudFront exposes to request triggers, not {event_type}")
    if on_origin:
        if origin is None:
            origin = {
                "s3": {
                    "authMethod": "origin-access-identity",
                    "customHeaders": {},
                    "domainName": "my-bucket.s3.amazonaws.com",
                    "path": "",
                    "region": "us-east-1",
                }
            }
        target: Any = next(iter(origin.values()), {})
        defaults: dict[str, str | list[str]] = {
            "X-Forwarded-For": client_ip,
            "User-Agent": "Amazon CloudFront",
            "Via": "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)",
            "Host": str(target.get("domainName") or domain) if isinstance(target, Mapping) else domain,
        }
    else:
        defaults = {"Host": domain, "User-Agent": "curl/8.5.0", "Accept": "*/*"}
    request: dict[str, Any] = {
        "clientIp": client_ip,
        "headers": _edge_headers(defaults, headers),
        "method": method,
        "querystring": querystring.removeprefix("?"),
        "uri": uri,
    }
    if origin is not None:
        request["origin"] = json.loads(json.dumps(origin))  # a copy: a test may change the event freely
    if body is not None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        request["body"] = {
            "inputTruncated": False,
            "action": "read-only",
            "encoding": "base64",
            "data": base64.b64encode(raw).decode("ascii"),
        }
    cf: dict[str, Any] = {
        "config": {
            "distributionDomainName": domain,
            "distributionId": distribution_id,
            "eventType": event_type,
            "requestId": _EDGE_REQUEST_ID,
        },
        "request": request,
    }
    if on_response:
        given = response or {}
        status = int(given.get("status", 200))
        cf["response"] = {
            "headers": _edge_headers(_RESPONSE_HEADERS, given.get("headers")),
            "status": str(status),
            "statusDescription": str(given.get("statusDescription", _status_description(status))),
        }
    return {"Records": [{"cf": cf}]}


def _function_fields(values: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """CloudFront Functions' query string, header and cookie shape: {name: {value}}, and a repeated name (a list)
    as {value: the first, multiValue: [{value}, ...]}. A dict value (a cookie with `attributes`) is kept as is."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in (values or {}).items():
        items = [v if isinstance(v, Mapping) else {"value": v} for v in (value if isinstance(value, list) else [value])]
        field = dict(items[0]) if items else {"value": ""}
        if len(items) > 1:
            field["multiValue"] = [dict(i) for i in items]
        out[name] = field
    return out


def _split_headers(
    headers: Mapping[str, str | list[str]], cookie_header: str
) -> tuple[dict[str, str | list[str]], list[str]]:
    """Lower-case header names, with the cookie header's values taken out: CloudFront Functions moves them to
    `cookies`."""
    plain: dict[str, str | list[str]] = {}
    cookies: list[str] = []
    for name, value in headers.items():
        if name.lower() == cookie_header:
            cookies += value if isinstance(value, list) else [value]
        else:
            plain[name.lower()] = value
    return plain, cookies


def cloudfront_function_event(
    uri: str = "/",
    method: str = "GET",
    querystring: Mapping[str, str | list[str]] | str | None = None,
    headers: Mapping[str, str | list[str]] | None = None,
    cookies: Mapping[str, str | list[str]] | None = None,
    event_type: str = "viewer-request",
    response: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A CloudFront Functions event (the same shape for JavaScript runtimes 1.0 and 2.0), `viewer-request` or
    `viewer-response`.

    Header names are lower-cased, as CloudFront Functions delivers them; a `Cookie` header given in `headers` is
    parsed into `cookies` (which the event keeps apart from headers). `querystring` is a mapping, or a raw query
    string to parse. A list value is a repeated name (`multiValue`). `response=` (viewer-response only) may give
    `statusCode` (default 200), `statusDescription`, `headers` and `cookies` (a value, or a dict with `value`
    and `attributes`); a `Set-Cookie` response header is parsed into the response's cookies.
    """
    if event_type not in FUNCTION_EVENT_TYPES:
        names = ", ".join(FUNCTION_EVENT_TYPES)
        raise ValueError(f"event_type {event_type!r} is not a CloudFront Functions event; use one of {names}")
    if response is not None and event_type != "viewer-response":
        raise ValueError(f"response= is for viewer-response events, not {event_type}")
    domain = "d111111abcdef8.cloudfront.net"
    if isinstance(querystring, str):
        from urllib.parse import parse_qsl

        parsed: dict[str, str | list[str]] = {}
        for name, value in parse_qsl(querystring.removeprefix("?"), keep_blank_values=True):
            before = parsed.get(name)
            parsed[name] = value if before is None else [*([before] if isinstance(before, str) else before), value]
        querystring = parsed
    plain, cookie_lines = _split_headers({"Host": domain, "User-Agent": "curl/8.5.0", **(headers or {})}, "cookie")
    request_cookies: dict[str, str | list[str]] = {}
    for line in cookie_lines:
        for pair in line.split(";"):
            name, _, value = pair.strip().partition("=")
            if name:
                before = request_cookies.get(name)
                request_cookies[name] = (
                    value if before is None else [*([before] if isinstance(before, str) else before), value]
                )
    request_cookies.update(cookies or {})
    event: dict[str, Any] = {
        "version": "1.0",
        "context": {
            "distributionDomainName": domain,
            "distributionId": "EDFDVBD6EXAMPLE",
            "eventType": event_type,
            "requestId": _FUNCTION_REQUEST_ID,
        },
        "viewer": {"ip": "203.0.113.178"},
        "request": {
            "method": method,
            "uri": uri,
            "querystring": _function_fields(querystring),
            "headers": _function_fields(plain),
            "cookies": _function_fields(request_cookies),
        },
    }
    if event_type == "viewer-response":
        given = response or {}
        status = int(given.get("statusCode", 200))
        response_headers, set_cookies = _split_headers({**_RESPONSE_HEADERS, **given.get("headers", {})}, "set-cookie")
        response_cookies: dict[str, list[dict[str, str]]] = {}
        for line in set_cookies:
            pair, _, attributes = line.partition(";")
            name, _, value = pair.strip().partition("=")
            cookie = {"value": value}
            if attributes.strip():
                cookie["attributes"] = attributes.strip()
            response_cookies.setdefault(name, []).append(cookie)
        given_cookies = {
            name: value if isinstance(value, list) else [value] for name, value in given.get("cookies", {}).items()
        }
        event["response"] = {
            "statusCode": status,
            "statusDescription": str(given.get("statusDescription", _status_description(status))),
            "headers": _function_fields(response_headers),
            "cookies": _function_fields({**response_cookies, **given_cookies}),
        }
    return event
