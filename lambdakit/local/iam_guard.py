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

The check fails closed: an operation missing from `OPERATIONS`, or a call
whose parameters do not name its resource, is refused whatever the policy
says; only the calls in `FREE` (which AWS answers for any caller) pass
unchecked. A refused call fails as AWS fails it: an HTTP 403 that boto3 raises
as the client's `AccessDenied`/`AccessDeniedException` `ClientError`, whose
message names the function, the operation, the action, the resource and the
declaration that would allow the call (or that lambdakit grants it to no
function). Calls made on threads the function starts carry no context, so
they are not checked.
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


@dataclass(frozen=True)
class Refusal:
    """Why one call was refused: what `Policy.explain` turns into the declaration to add (or why none helps)."""

    operation: str  # the API call, "dynamodb:TransactWriteItems"
    action: str  # the IAM action refused, "dynamodb:PutItem" (an unmapped operation: its own name)
    resource: str | None  # the ARN; None when the call's parameters do not say which resource it touches
    mapped: bool  # False: the check has no mapping for the operation, so it refused it unseen (fails closed)


#: Explains a refusal in words a user can act on: the declaration to add, or why no declaration allows it.
Explainer = Callable[[Refusal], str]


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
        """Whether a statement allows `action` on `resource` ("*" for an action without resource-level
        permissions, which only a Resource "*" statement allows); an unidentified resource (None) never is."""
        if resource is None:
            return False
        for grant in self.grants:
            if not any(_matches(pattern, action, fold=True) for pattern in grant.actions):
                continue
            if any(_matches(pattern, resource) for pattern in grant.resources):
                return True
        return False


@dataclass(frozen=True)
class Call:
    """One AWS call a running function made, as the check judged it: what the local console lists."""

    operation: str  # the API call, "dynamodb:PutItem" (IAM service prefix : operation name)
    action: str | None  # the IAM action it needs; None when AWS answers it whatever the policy says (`FREE`)
    resource: str | None  # the ARN it touches ("*": the action has none); None when the parameters do not say
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
    operation = operation_of(model)
    if (model.service_model.service_name, model.name) in FREE:
        if calls is not None:
            calls.append(Call(operation, None, None, True))
        return
    region = context.get("client_region") or "us-east-1"
    needs = requested(model, params, region, policy.account)
    if needs is None:  # no mapping: refused whatever the policy says (the check fails closed)
        _deny(policy, model, context, denials, calls, Refusal(operation, operation, None, mapped=False))
        return
    for action, resource in needs:
        if resource is not None and policy.allows(action, resource):
            if calls is not None:
                calls.append(Call(operation, action, resource, True))
            continue
        _deny(policy, model, context, denials, calls, Refusal(operation, action, resource, mapped=True))
        return


def _deny(
    policy: Policy,
    model: Any,
    context: dict[str, Any],
    denials: list[str],
    calls: list[Call] | None,
    refusal: Refusal,
) -> None:
    """Make the call fail as AWS fails it (`_refuse` answers it), and record why."""
    service = model.service_model
    code = (
        "AccessDenied"
        if service.protocol in ("query", "rest-xml", "ec2") or service.endpoint_prefix in ("sqs", "s3", "sts", "iam")
        else "AccessDeniedException"
    )
    action, resource = refusal.action, refusal.resource
    shown = resource or "(one lambdakit cannot identify)"
    message = (
        f"User: {policy.principal} is not authorized to perform: {action} on resource: {shown} "
        f"because no identity-based policy allows the {action} action. "
        f"lambdakit: {policy.function} {policy.explain(refusal)}"
    )
    context[_DENIED] = {"Code": code, "Message": message}
    denials.append(message)
    if calls is not None:
        calls.append(Call(refusal.operation, action, resource, False, message))


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
#
# Every operation the check lets a function make is listed here, by botocore service name and operation;
# any other is refused unseen (`requested` answers None), whatever the policy says: a mapping that is
# missing fails closed. A mapper answers each (IAM action, resource) the call needs: the resource is an
# ARN, "*" for an action AWS has no resource-level permissions for, or None when the parameters do not
# say which resource the call touches (refused too). The actions lambdakit grants (`derive.iam`) are
# DynamoDB, SQS and Kinesis data access, writes to the function's own log group and X-Ray; the other
# operations listed (DescribeTable, GetQueueUrl, S3, ...) are mapped so a refusal can name what the call
# touches and say that no declaration grants it.

#: Calls AWS answers whatever the caller's policy says, so the check lets them through, with why.
FREE: dict[tuple[str, str], str] = {
    ("sts", "GetCallerIdentity"): "AWS answers it for any signed caller; no IAM policy can deny it",
}

_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "runtime.sagemaker": "sagemaker", "streams.dynamodb": "dynamodb"}

Request = tuple[str, "str | None"]
Mapper = Callable[[str, dict[str, Any], str, str], list[Request]]


def prefix_of(model: Any) -> str:
    """The IAM service prefix: the signing name, which is the endpoint prefix for most services."""
    service = model.service_model
    name: str = service.signing_name or service.endpoint_prefix
    return _PREFIX.get(name, name)


def operation_of(model: Any) -> str:
    """The call as the check names it: IAM service prefix and operation, "dynamodb:BatchWriteItem"."""
    return f"{prefix_of(model)}:{model.name}"


def requested(model: Any, params: dict[str, Any], region: str, account: str) -> list[Request] | None:
    """Each (action, resource) the call needs, in order, without repeats; None when the operation has no
    mapping (refused). A mapper that cannot read the parameters leaves the resource unidentified (refused)."""
    mapper = OPERATIONS.get((model.service_model.service_name, model.name))
    if mapper is None:
        return None
    try:
        needs = mapper(model.name, params, region, account)
    except Exception:  # parameters botocore would reject anyway: nothing to identify
        needs = []
    if not needs:
        return [(f"{prefix_of(model)}:{model.name}", None)]
    return list(dict.fromkeys(needs))


def _text(params: dict[str, Any], *names: str) -> str | None:
    """The first of `names` given as a non-empty string."""
    for name in names:
        value = params.get(name)
        if isinstance(value, str) and value:
            return value
    return None


# DynamoDB


def table_arn(name: str, region: str, account: str, index: str | None = None) -> str:
    """A table named by name or ARN (DynamoDB takes either), or one of its indexes."""
    arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def _on_table(action: str | None = None) -> Mapper:
    """The table (or, with `IndexName`, the index) in `TableName`."""

    def needs(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
        name = _text(params, "TableName")
        arn = table_arn(name, region, account, _text(params, "IndexName")) if name else None
        return [(action or f"dynamodb:{op}", arn)]

    return needs


def _batch(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    """BatchGetItem / BatchWriteItem: their own action, on every table in `RequestItems`."""
    return [(f"dynamodb:{op}", table_arn(name, region, account)) for name in params["RequestItems"]]


_TRANSACT = {
    "TransactGetItems": {"Get": "dynamodb:GetItem"},
    "TransactWriteItems": {
        "Put": "dynamodb:PutItem",
        "Update": "dynamodb:UpdateItem",
        "Delete": "dynamodb:DeleteItem",
        "ConditionCheck": "dynamodb:ConditionCheckItem",
    },
}


def _transact(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    """A transaction needs the action of each of its items on that item's table (AWS has no Transact* action)."""
    out: list[Request] = []
    for item in params["TransactItems"]:
        for kind, body in item.items():
            action = _TRANSACT[op].get(kind)
            name = _text(body, "TableName") if isinstance(body, dict) else None
            out.append((action or f"dynamodb:{op}", table_arn(name, region, account) if action and name else None))
    return out


def _account_wide(action: str) -> Mapper:
    """An action AWS grants on "*" only (ListTables, ListQueues, ListStreams, X-Ray, ...)."""
    return lambda op, params, region, account: [(action, "*")]


_DYNAMODB: dict[str, Mapper] = {
    # granted by reads= / writes= of an lk.Table (lambdakit's handles make the first six)
    "GetItem": _on_table(),
    "PutItem": _on_table(),
    "UpdateItem": _on_table(),
    "DeleteItem": _on_table(),
    "Query": _on_table(),
    "Scan": _on_table(),
    "BatchGetItem": _batch,
    "BatchWriteItem": _batch,
    "TransactGetItems": _transact,
    "TransactWriteItems": _transact,
    # granted to no function
    "DescribeTable": _on_table(),
    "DescribeTimeToLive": _on_table(),
    "UpdateTimeToLive": _on_table(),
    "CreateTable": _on_table(),
    "UpdateTable": _on_table(),
    "DeleteTable": _on_table(),
    "ListTables": _account_wide("dynamodb:ListTables"),
}


# SQS


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


def _on_queue(action: str | None = None) -> Mapper:
    """The queue in `QueueUrl`; the Batch operations need the action of one message (SendMessage, ...)."""

    def needs(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
        url = _text(params, "QueueUrl")
        return [(action or f"sqs:{op}", queue_arn(url, region, account) if url else None)]

    return needs


def _queue_named(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    """GetQueueUrl / CreateQueue: the queue in `QueueName` (of `QueueOwnerAWSAccountId`, if given)."""
    name = _text(params, "QueueName")
    owner = _text(params, "QueueOwnerAWSAccountId") or account
    return [(f"sqs:{op}", f"arn:aws:sqs:{region}:{owner}:{name}" if name else None)]


_SQS: dict[str, Mapper] = {
    # granted by writes= of an lk.Queue (lambdakit's handle sends one message)
    "SendMessage": _on_queue(),
    "SendMessageBatch": _on_queue("sqs:SendMessage"),
    # granted by reads= of an lk.Queue (and, but for ChangeMessageVisibility, by a consumer's trigger)
    "ReceiveMessage": _on_queue(),
    "DeleteMessage": _on_queue(),
    "DeleteMessageBatch": _on_queue("sqs:DeleteMessage"),
    "ChangeMessageVisibility": _on_queue(),
    "ChangeMessageVisibilityBatch": _on_queue("sqs:ChangeMessageVisibility"),
    "GetQueueAttributes": _on_queue(),
    # granted to no function (a declared queue's URL is in its LK_<NAME> variable: no GetQueueUrl needed)
    "GetQueueUrl": _queue_named,
    "PurgeQueue": _on_queue(),
    "SetQueueAttributes": _on_queue(),
    "DeleteQueue": _on_queue(),
    "ListQueueTags": _on_queue(),
    "ListDeadLetterSourceQueues": _on_queue(),
    "CreateQueue": _queue_named,
    "ListQueues": _account_wide("sqs:ListQueues"),
}


# Kinesis


def stream_arn(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def _on_stream(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    """The stream in `StreamARN` or `StreamName` (a `StreamId` alone names no ARN: unidentified)."""
    name = _text(params, "StreamARN", "StreamName")
    return [(f"kinesis:{op}", stream_arn(name, region, account) if name else None)]


def _shard_iterator_stream(iterator: str) -> str | None:
    """moto's shard iterators are base64 of `STREAM:SHARD:SEQUENCE`; AWS's are opaque (None)."""
    try:
        text = base64.b64decode(iterator.strip().encode(), validate=True).decode()
    except Exception:
        return None
    name, _, rest = text.partition(":")
    return name if name and rest and re.fullmatch(r"[a-zA-Z0-9_.-]{1,128}", name) else None


def _get_records(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    """GetRecords names its stream by `StreamARN`, else only inside the shard iterator."""
    if _text(params, "StreamARN"):
        return _on_stream(op, params, region, account)
    iterator = _text(params, "ShardIterator")
    name = _shard_iterator_stream(iterator) if iterator else None
    return [("kinesis:GetRecords", stream_arn(name, region, account) if name else None)]


def _on_consumer(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    """An enhanced fan-out consumer, by `ConsumerARN`, else its stream."""
    arn = _text(params, "ConsumerARN")
    return [(f"kinesis:{op}", arn)] if arn else _on_stream(op, params, region, account)


_KINESIS: dict[str, Mapper] = {
    # granted by writes= of an lk.Stream (lambdakit's handle puts one record)
    "PutRecord": _on_stream,
    "PutRecords": _on_stream,
    # granted by reads= of an lk.Stream, and to a consumer by its trigger
    "GetRecords": _get_records,
    "GetShardIterator": _on_stream,
    "DescribeStream": _on_stream,
    "DescribeStreamSummary": _on_stream,
    "ListShards": _on_stream,  # a page named by NextToken alone names no stream: unidentified
    # granted to no function (lambdakit's consumers read through Lambda's polling, not enhanced fan-out)
    "SubscribeToShard": _on_consumer,
    "RegisterStreamConsumer": _on_stream,
    "DescribeStreamConsumer": _on_consumer,
    "ListStreamConsumers": _on_stream,
    "CreateStream": _on_stream,
    "DeleteStream": _on_stream,
    "ListStreams": _account_wide("kinesis:ListStreams"),
}


# S3: lambdakit declares no bucket a function may use, so no function is granted any of these


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
    "ListParts": "ListMultipartUploadParts",
    "GetObjectAttributes": "GetObject",
}


def _s3(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    action = f"s3:{_S3_ACTION.get(op, op)}"
    bucket = _text(params, "Bucket")
    if not bucket:
        return [(action, None)]
    keys = [_text(params, "Key")]
    if op == "DeleteObjects":
        keys = [_text(o, "Key") for o in (params.get("Delete") or {}).get("Objects") or [] if isinstance(o, dict)]
    out: list[Request] = [(action, f"arn:aws:s3:::{bucket}/{key}" if key else None) for key in keys if key]
    if op in ("ListObjects", "ListObjectsV2", "HeadBucket", "ListObjectVersions", "ListMultipartUploads"):
        out = [(action, f"arn:aws:s3:::{bucket}")]
    source = params.get("CopySource")
    if source:
        if isinstance(source, dict):
            path = f"{source.get('Bucket')}/{source.get('Key')}"
        else:
            path = str(source).lstrip("/").split("?", 1)[0]
        out.append(("s3:GetObject", f"arn:aws:s3:::{path}"))
    return out


_S3: dict[str, Mapper] = {
    op: _s3
    for op in (
        "GetObject",
        "PutObject",
        "DeleteObject",
        "AbortMultipartUpload",
        *_S3_ACTION,
    )
}
_S3["ListBuckets"] = _account_wide("s3:ListAllMyBuckets")


# CloudWatch Logs: granted on the function's own log group (Lambda writes it; the function's code need not)


def _on_log_group(op: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    """The group in `logGroupName` / `logGroupIdentifier` (name or ARN), or its stream in `logStreamName`."""
    group = _text(params, "logGroupName", "logGroupIdentifier")
    if not group:
        return [(f"logs:{op}", None)]
    arn = group.removesuffix(":*") if group.startswith("arn:") else f"arn:aws:logs:{region}:{account}:log-group:{group}"
    stream = _text(params, "logStreamName")
    return [(f"logs:{op}", f"{arn}:log-stream:{stream}" if stream else f"{arn}:*")]


_LOGS: dict[str, Mapper] = {
    op: _on_log_group
    for op in (
        # granted on the function's own log group
        "CreateLogStream",
        "PutLogEvents",
        # granted to no function
        "CreateLogGroup",
        "DeleteLogGroup",
        "DeleteLogStream",
        "PutRetentionPolicy",
        "DescribeLogStreams",
        "GetLogEvents",
        "FilterLogEvents",
    )
}
_LOGS["DescribeLogGroups"] = _account_wide("logs:DescribeLogGroups")


# X-Ray has no resource-level permissions: every action is on "*", granted to every function for two of them

_XRAY: dict[str, Mapper] = {
    op: (lambda op, params, region, account: [(f"xray:{op}", "*")])
    for op in (
        # granted to every function (the Tracing statement)
        "PutTraceSegments",
        "PutTelemetryRecords",
        # granted to no function
        "GetSamplingRules",
        "GetSamplingTargets",
        "GetTraceSummaries",
        "BatchGetTraces",
    )
}

#: (botocore service name, operation) -> its mapper: every call the check can judge; any other is refused.
OPERATIONS: dict[tuple[str, str], Mapper] = {
    (service, op): mapper
    for service, table in (
        ("dynamodb", _DYNAMODB),
        ("sqs", _SQS),
        ("kinesis", _KINESIS),
        ("s3", _S3),
        ("logs", _LOGS),
        ("xray", _XRAY),
    )
    for op, mapper in table.items()
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
