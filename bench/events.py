"""Real event shapes: API Gateway REST proxy requests (as the AWS sample event) and an SQS batch."""

from __future__ import annotations

import copy
import json
from typing import Any

from lambdakit.testing.events import LambdaContext, rest_event

_HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate, br",
    "Accept-Language": "en-US,en;q=0.9",
    "CloudFront-Forwarded-Proto": "https",
    "CloudFront-Is-Desktop-Viewer": "true",
    "CloudFront-Is-Mobile-Viewer": "false",
    "CloudFront-Is-SmartTV-Viewer": "false",
    "CloudFront-Is-Tablet-Viewer": "false",
    "CloudFront-Viewer-Country": "IE",
    "Host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0",
    "Via": "2.0 a3650115c5e21e2b5d133ce84464bea3.cloudfront.net (CloudFront)",
    "X-Amz-Cf-Id": "Hp8JUAI0A0eV9ahRvUwTIZ8xNpc8WJz9Qf6s8wrfpBHVc3V4Q6cQtw==",
    "X-Amzn-Trace-Id": "Root=1-66b5ad2a-0c3f7e2b5a0e1d4c6b8a9f01",
    "X-Forwarded-For": "203.0.113.7, 130.176.1.1",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
}


def http_event(
    method: str, resource: str, path: str, path_params: dict[str, str] | None = None, body: Any = None
) -> dict[str, Any]:
    """The event API Gateway sends through CloudFront-fronted clients: the full header set above."""
    headers = dict(_HEADERS)
    if body is not None:
        headers["Content-Length"] = str(len(body))
    event = rest_event(method, path, resource=resource, body=body, headers=headers)
    assert event["pathParameters"] == path_params, (event["pathParameters"], path_params)
    return event


VALID = json.dumps({"name": "lamp", "price_cents": 1299, "tags": ["home", "light"]})
INVALID = json.dumps({"name": "", "price_cents": -5})


def post_event() -> dict[str, Any]:
    return http_event("POST", "/items", "/items", None, VALID)


def invalid_event() -> dict[str, Any]:
    return http_event("POST", "/items", "/items", None, INVALID)


def get_event() -> dict[str, Any]:
    return http_event("GET", "/items/{item_id}", "/items/i-1", {"item_id": "i-1"})


def sqs_event(n: int = 10, fail: tuple[int, ...] = ()) -> dict[str, Any]:
    """A batch of `n` SQS records as Lambda delivers them; records at `fail` carry an invalid body."""
    template = {
        "messageId": "",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": "",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1710064458000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1710064458010",
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders",
        "awsRegion": "eu-west-1",
    }
    records = []
    for i in range(n):
        record = copy.deepcopy(template)
        record["messageId"] = f"059f36b4-87a3-44ab-83d2-{i:012d}"
        record["body"] = json.dumps({"order_id": f"o-{i}", "qty": 0 if i in fail else i + 1})
        records.append(record)
    return {"Records": records}


Context = LambdaContext  # what Lambda passes as `context`, enough for every framework measured
