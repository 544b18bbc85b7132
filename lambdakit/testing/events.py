"""API Gateway REST proxy events in the shape AWS documents (the `aws-proxy` sample), and a Lambda context:
for tests that call a handler the way Lambda does (`lambdakit.runtime.loader.handler_for(spec)(event, context)`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from lambdakit.core.paths import matcher


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
