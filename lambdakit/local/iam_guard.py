"""Hold a running function to its derived IAM policy, for every AWS call it makes through any boto3 client.

moto checks IAM resources for a few services only, so lambdakit checks calls
itself, in-process: botocore emits `before-parameter-build` with the API
parameters of every call on every client, and `before-call` just before
sending it. Both hooks are appended to botocore's `BUILTIN_HANDLERS` (as moto
appends its own stubber), so every session made afterwards carries them.
They do nothing unless `acting_as(policy)` names the function being invoked:
calls lambdakit makes itself (creating resources, polling) are never checked.
Given a `calls` list, `acting_as` also records each call the check judged,
allowed or refused (the local console shows them per invocation); recording
changes nothing about what is allowed.

A refused call fails as AWS fails it: an HTTP 403 that boto3 raises as the
client's `AccessDenied`/`AccessDeniedException` `ClientError`, whose message
names the function, the action, the resource and the declaration that would
allow the call.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

#: Explains a refusal: (action, resource or None) -> what to declare, in words a user can act on.
Explainer = Callable[[str, "str | None"], str]


@dataclass(frozen=True)
class Grant:
    """One Allow statement, its resources resolved to concrete ARNs (or patterns, or "*")."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """What one function may call: its statements, and how to explain a refusal."""

    function: str
    grants: tuple[Grant, ...]
    account: str
    principal: str
    explain: Explainer

    def allows(self, action: str, resource: str | None) -> bool:
        for grant in self.grants:
            if not any(_matches(pattern, action, fold=True) for pattern in grant.actions):
                continue
            if resource is None:
                if "*" in grant.resources:
                    return True
            elif any(_matches(pattern, resource) for pattern in grant.resources):
                return True
        return False


@dataclass(frozen=True)
class Call:
    """One AWS call a running function made, as the check judged it: what the local console lists."""

    operation: str  # the API call, "dynamodb:PutItem" (IAM service prefix : operation name)
    action: str | None  # the IAM action it needs; None when AWS answers it whatever the policy says
    resource: str | None  # the ARN it touches; None when the parameters do not say
    allowed: bool
    message: str | None = None  # the refusal (with the declaration to add) when not allowed


_current: ContextVar[tuple[Policy, list[str], list[Call] | None] | None] = ContextVar("lambdakit_policy", default=None)
_DENIED = "lambdakit_denied"
_installed = 0  # how many backends use the hooks now; they leave botocore when the last one stops


@contextmanager
def acting_as(policy: Policy, denials: list[str] | None = None, calls: list[Call] | None = None) -> Iterator[None]:
    """Check every AWS call made in this context (this thread or task) against `policy`;
    the message of each refused call is appended to `denials`, and each judged call, allowed or not, to `calls`."""
    token = _current.set((policy, denials if denials is not None else [], calls))
    try:
        yield
    finally:
        _current.reset(token)


_HOOKS: tuple[tuple[str, Any], ...] = ()


def install() -> None:
    """Register the hooks for every botocore session created from now on; `uninstall()` once for each call."""
    global _installed, _HOOKS
    _installed += 1
    if _installed > 1:
        return
    import boto3
    from botocore.handlers import BUILTIN_HANDLERS

    _HOOKS = (("before-parameter-build", _check), ("before-call", _refuse))
    BUILTIN_HANDLERS.extend(_HOOKS)
    boto3.DEFAULT_SESSION = None  # the next default session is built with the hooks


def uninstall() -> None:
    """Take the hooks out of botocore again once no backend uses them (sessions made meanwhile keep them,
    inert: they act only while a function runs under `acting_as`)."""
    global _installed
    if _installed == 0:
        return
    _installed -= 1
    if _installed:
        return
    from botocore.handlers import BUILTIN_HANDLERS

    for hook in _HOOKS:
        while hook in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.remove(hook)


def installed() -> bool:
    return _installed > 0


# -- the hooks ---------------------------------------------------------------


def _check(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    acting = _current.get()
    if acting is None:
        return
    policy, denials, calls = acting
    region = context.get("client_region") or "us-east-1"
    for action, resource in requested(model, params, region, policy.account):
        if action is None or policy.allows(action, resource):
            if calls is not None:
                calls.append(Call(f"{prefix_of(model)}:{model.name}", action, resource, True))
            continue
        service = model.service_model
        code = (
            "AccessDenied"
            if service.protocol in ("query", "rest-xml", "ec2")
            or service.endpoint_prefix in ("sqs", "s3", "sts", "iam")
            else "AccessDeniedException"
        )
        shown = resource or "*"
        message = (
            f"User: {policy.principal} is not authorized to perform: {action} on resource: {shown} "
            f"because no identity-based policy allows the {action} action. "
            f"lambdakit: {policy.function} {policy.explain(action, resource)}"
        )
        context[_DENIED] = {"Code": code, "Message": message}
        denials.append(message)
        if calls is not None:
            calls.append(Call(f"{prefix_of(model)}:{model.name}", action, resource, False, message))
        return


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def _refuse(model: Any, context: dict[str, Any], **_: Any) -> Any:
    error = context.pop(_DENIED, None)
    if error is None:
        return None
    from botocore.awsrequest import AWSResponse

    headers = {"x-amzn-RequestId": "lambdakit-local-iam", "Content-Type": "application/json"}
    # botocore-stubs want HTTPHeaders, but AWSResponse copies any mapping (botocore's own Stubber passes {})
    http = AWSResponse(
        "https://lambdakit.local/iam",
        403,
        headers,  # type: ignore[arg-type]
        _Body(json.dumps(error).encode()),
    )
    parsed = {"Error": {**error}, "ResponseMetadata": {"HTTPStatusCode": 403, "HTTPHeaders": headers}}
    return http, parsed


# -- operation -> (IAM action, resource ARN) ----------------------------------

_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "runtime.sagemaker": "sagemaker", "streams.dynamodb": "dynamodb"}
_FREE = {("sts", "GetCallerIdentity")}  # AWS answers these whatever the policy says
_SQS_ACTION = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_S3_ACTION = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "HeadObject": "GetObject",
    "DeleteObjects": "DeleteObject",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "CopyObject": "PutObject",
    "UploadPartCopy": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "ListParts": "ListMultipartUploadParts",
    "GetObjectAttributes": "GetObject",
}
_TRANSACT = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}

Request = tuple["str | None", "str | None"]


def prefix_of(model: Any) -> str:
    """The IAM service prefix: the signing name, which is the endpoint prefix for most services."""
    service = model.service_model
    name: str = service.signing_name or service.endpoint_prefix
    return _PREFIX.get(name, name)


def requested(model: Any, params: dict[str, Any], region: str, account: str) -> list[Request]:
    """Each (action, resource) the call needs; resource None when lambdakit cannot tell which it touches."""
    prefix, op = prefix_of(model), model.name
    if (prefix, op) in _FREE:
        return [(None, None)]
    mapper = _MAPPERS.get(prefix)
    if mapper is not None:
        return mapper(op, params, region, account)
    return [(f"{prefix}:{op}", _generic_arn(params))]


def _dynamodb(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if op in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{op}", table(name)) for name in params.get("RequestItems", {})] or [
            (f"dynamodb:{op}", None)
        ]
    if op in ("TransactWriteItems", "TransactGetItems"):
        out: list[Request] = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                out.append((f"dynamodb:{_TRANSACT.get(kind, kind)}", table(body.get("TableName", "?"))))
        return out or [(f"dynamodb:{op}", None)]
    if "TableName" in params:
        return [(f"dynamodb:{op}", table(params["TableName"], params.get("IndexName")))]
    if "StreamArn" in params:
        return [(f"dynamodb:{op}", params["StreamArn"])]
    if "ResourceArn" in params:
        return [(f"dynamodb:{op}", params["ResourceArn"])]
    return [(f"dynamodb:{op}", None)]


def queue_arn(url: str, region: str, account: str) -> str:
    """`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME` (or `.../queue/...`) -> the queue's ARN."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 2:
        account, name = parts[-2], parts[-1]
    else:
        name = parts[-1] if parts else url
    host = urlsplit(url).hostname or ""
    found = re.match(r"^(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-\d)\.", host)
    return f"arn:aws:sqs:{found.group(1) if found else region}:{account}:{name}"


def _sqs(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    action = f"sqs:{_SQS_ACTION.get(op, op)}"
    if "QueueUrl" in params:
        return [(action, queue_arn(params["QueueUrl"], region, account))]
    if op == "GetQueueUrl" and "QueueName" in params:
        owner = params.get("QueueOwnerAWSAccountId", account)
        return [(action, f"arn:aws:sqs:{region}:{owner}:{params['QueueName']}")]
    if op == "CreateQueue" and "QueueName" in params:
        return [(action, f"arn:aws:sqs:{region}:{account}:{params['QueueName']}")]
    return [(action, None)]


def _shard_iterator_stream(iterator: str) -> str | None:
    """moto's shard iterators are base64 of `STREAM:SHARD:SEQUENCE`; AWS's are opaque."""
    try:
        text = base64.b64decode(iterator.encode(), validate=False).decode()
    except Exception:
        return None
    name = text.split(":", 1)[0]
    return name or None


def _kinesis(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    action = f"kinesis:{op}"
    if params.get("StreamARN"):
        return [(action, params["StreamARN"])]
    if params.get("StreamName"):
        return [(action, f"arn:aws:kinesis:{region}:{account}:stream/{params['StreamName']}")]
    if params.get("ConsumerARN"):
        return [(action, params["ConsumerARN"])]
    if op == "GetRecords" and params.get("ShardIterator"):
        name = _shard_iterator_stream(params["ShardIterator"])
        return [(action, f"arn:aws:kinesis:{region}:{account}:stream/{name}" if name else None)]
    return [(action, None)]


def _s3(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    action = f"s3:{_S3_ACTION.get(op, op)}"
    bucket = params.get("Bucket")
    if not bucket:
        return [(action, None)]
    if params.get("Key"):
        out: list[Request] = [(action, f"arn:aws:s3:::{bucket}/{params['Key']}")]
    else:
        out = [(action, f"arn:aws:s3:::{bucket}")]
    source = params.get("CopySource")
    if source:
        if isinstance(source, dict):
            path = f"{source.get('Bucket')}/{source.get('Key')}"
        else:
            path = str(source).lstrip("/").split("?", 1)[0]
        out.append(("s3:GetObject", f"arn:aws:s3:::{path}"))
    return out


def _logs(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    group = params.get("logGroupName")
    if not group:
        return [(f"logs:{op}", None)]
    arn = f"arn:aws:logs:{region}:{account}:log-group:{group}"
    stream = params.get("logStreamName")
    return [(f"logs:{op}", f"{arn}:log-stream:{stream}" if stream else f"{arn}:*")]


def _xray(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    return [(f"xray:{op}", None)]  # X-Ray has no resource-level permissions


def _generic_arn(params: dict[str, Any]) -> str | None:
    """Most services name their resource by an `...Arn` parameter; without one, only "*" can allow the call."""
    for key, value in params.items():
        if isinstance(value, str) and key.lower().endswith("arn") and value.startswith("arn:"):
            return value
    return None


_MAPPERS: dict[str, Callable[[str, dict[str, Any], str, str], list[Request]]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "kinesis": _kinesis,
    "s3": _s3,
    "logs": _logs,
    "xray": _xray,
}


@lru_cache(maxsize=4096)
def _pattern(pattern: str, fold: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE if fold else 0)


def _matches(pattern: str, value: str, fold: bool = False) -> bool:
    """IAM wildcard matching: `*` any run of characters, `?` one; actions ignore case, ARNs do not."""
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if fold else pattern == value
    return bool(_pattern(pattern, fold).match(value))
