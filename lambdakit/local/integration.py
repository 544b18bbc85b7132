"""Storage-first routes' AWS service integrations, run from the very definition the template deploys.

`derive.storage.storage_integration(fn)` is what API Gateway executes: a
request template (VTL) that turns the body into an SQS `SendMessage` form or a
Kinesis `PutRecord` document, and response templates chosen by the service's
status code. This module evaluates those templates (the small VTL subset they
use) and makes the same call through boto3, so what is stored locally (body,
message attributes, group, partition key) and what the caller gets back are
what the deployed API would store and answer. An expression outside the subset
is an error, never silently ignored.

The services' own refusals are reproduced where moto does not make them
(a message over the queue's `MaximumMessageSize`, counted in bytes with its
attributes as SQS counts it; a record over Kinesis's 1 MiB; a parameter
botocore would refuse before sending), so the integration response the
template maps for a refusal is what the caller gets. Nothing here raises for
a body: one the integration cannot read is `UnreadableBody` (the gateway's 400).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote_plus

from lambdakit.derive.plan import FunctionPlan
from lambdakit.local.backend import Backend

#: Kinesis's largest record (data blob and partition key), unless the stream was given another maximum.
MAX_RECORD_BYTES = 1024 * 1024
#: What SQS refuses in a message body (it allows XML's characters only).
_NOT_SQS_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class TemplateError(ValueError):
    """A template uses VTL that the local gateway does not evaluate."""


class UnreadableBody(ValueError):
    """A value the template reads from the body cannot be sent (a lone surrogate): the gateway answers 400."""


def _refused(code: str, message: str, operation: str) -> Exception:
    """The error the service answers with, as boto3 raises it (HTTP 400)."""
    from botocore.exceptions import ClientError

    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    return ClientError(response, operation)


class _Evaluator:
    """`$input.body`, `$input.path('$.a.b')`, `$context.requestId`, `$util.urlEncode/base64Encode/
    escapeJavaScript(...)`, `.replaceAll("x", "y")`: what lambdakit's integration templates use."""

    def __init__(self, body: str, request_id: str) -> None:
        self.body = body
        self.request_id = request_id
        self._parsed: Any = None

    def render(self, template: str) -> str:
        out, i = [], 0
        while i < len(template):
            if template[i] == "$" and i + 1 < len(template) and template[i + 1].isalpha():
                value, i = self._expression(template, i)
                out.append(value)
            else:
                out.append(template[i])
                i += 1
        return "".join(out)

    def _expression(self, text: str, i: int) -> tuple[str, int]:
        found = re.match(r"\$(util\.\w+|input\.body|input\.path|context\.requestId)", text[i:])
        if found is None:
            raise TemplateError(f"lambdakit local cannot evaluate {text[i : i + 40]!r} in an integration template")
        name, i = found.group(1), i + found.end()
        if name == "input.body":
            value = self.body
        elif name == "context.requestId":
            value = self.request_id
        elif name == "input.path":
            arg = re.match(r"\('([^']*)'\)", text[i:])
            if arg is None:
                raise TemplateError(f"$input.path needs a quoted JSONPath: {text[i : i + 40]!r}")
            value, i = self.path(arg.group(1)), i + arg.end()
        else:
            if text[i : i + 1] != "(":
                raise TemplateError(f"${name} needs an argument: {text[i : i + 40]!r}")
            inner, i = self._expression(text, i + 1)
            if text[i : i + 1] != ")":
                raise TemplateError(f"${name}(...) is not closed: {text[i : i + 40]!r}")
            value, i = self._util(name, inner), i + 1
        while True:  # Java string methods chained on a value
            call = re.match(r'\.replaceAll\("((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"\)', text[i:])
            if call is None:
                return value, i
            old, new = call.groups()  # Velocity keeps backslashes in string literals; `old` is a Java regex
            literal = re.sub(r"\\(.)", r"\1", new)  # Java's replacement: a backslash quotes the next character
            value, i = re.sub(old, lambda _m, text=literal: text, value), i + call.end()

    def _util(self, name: str, value: str) -> str:
        if name == "util.urlEncode":
            return quote_plus(value)
        if name == "util.base64Encode":
            return base64.b64encode(value.encode()).decode()
        if name == "util.escapeJavaScript":
            return json.dumps(value)[1:-1].replace("'", "\\'").replace("/", "\\/")
        raise TemplateError(f"lambdakit local does not evaluate ${name}")

    def path(self, jsonpath: str) -> str:
        """`$input.path('$.a.b')` in a template string: a string as is, anything else as JSON, missing as ''."""
        if self._parsed is None:
            try:
                self._parsed = json.loads(self.body) if self.body else {}
            except (ValueError, RecursionError):
                self._parsed = {}
        value: Any = self._parsed
        for part in [p for p in jsonpath.removeprefix("$").split(".") if p]:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return ""
        try:
            text = value if isinstance(value, str) else json.dumps(value)
        except (ValueError, RecursionError):
            raise UnreadableBody(f"{jsonpath} does not serialize") from None
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UnreadableBody(f"{jsonpath} holds a lone surrogate ({ascii(text)[:60]}), not Unicode text") from None
        return text


def _sub(backend: Backend, value: Any) -> str:
    """A template value that may be `{"Fn::Sub": ...}`, resolved to local names."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        return backend.resolve(value["Fn::Sub"])
    return str(value)


def media_types(fn: FunctionPlan) -> set[str]:
    """With passthroughBehavior "never", only bodies of these media types are accepted (else 415)."""
    from lambdakit.derive.storage import storage_integration

    return set(storage_integration(fn).get("requestTemplates") or {})


def store(fn: FunctionPlan, backend: Backend, body: str, request_id: str) -> tuple[int, str]:
    """Run the route's integration: the status and the body API Gateway answers with. Raises
    `UnreadableBody` for a body whose values cannot be sent, never for what the service refuses."""
    from botocore.exceptions import ClientError, ParamValidationError

    from lambdakit.derive.storage import storage_integration

    integration = storage_integration(fn)
    uri = _sub(backend, integration["uri"])
    request = _Evaluator(body, request_id).render(_sub(backend, integration["requestTemplates"]["application/json"]))
    result: Mapping[str, Any]  # the service's answer, or the error boto3 raised with
    try:
        if ":sqs:path/" in uri:
            status, result = 200, _send(backend, uri.rsplit("/", 1)[-1], request)
        elif uri.endswith(":kinesis:action/PutRecord"):
            status, result = 200, _put(backend, request)
        else:
            raise TemplateError(f"lambdakit local does not emulate the integration {uri}")
    except ClientError as exc:
        status, result = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)), exc.response
    except ParamValidationError as exc:  # what the service's own validation refuses (an empty partition key)
        status, result = 400, {"Error": {"Code": "ValidationException", "Message": str(exc).replace("\n", " ")}}
    return _respond(integration["responses"], status, json.dumps(result, default=str), request_id)


def _send(backend: Backend, queue_name: str, form: str) -> dict[str, Any]:
    """The SQS query-API form (`Action=SendMessage&MessageBody=...`) as a boto3 call, answered in the
    JSON the response templates read (`SendMessageResponse.SendMessageResult`)."""
    fields = dict(parse_qsl(form, keep_blank_values=True))
    if fields.pop("Action", None) != "SendMessage":
        raise TemplateError(f"the SQS integration must send Action=SendMessage: {form[:80]!r}")
    kwargs: dict[str, Any] = {
        "QueueUrl": backend.queue_url_named(queue_name),
        "MessageBody": fields.pop("MessageBody", ""),
    }
    attributes: dict[str, dict[str, str]] = {}
    for key in sorted(fields):
        found = re.fullmatch(r"MessageAttribute\.(\d+)\.Name", key)
        if found:
            n = found.group(1)
            kind = fields.get(f"MessageAttribute.{n}.Value.DataType", "String")
            value_key = "BinaryValue" if kind.startswith("Binary") else "StringValue"
            value = fields.get(f"MessageAttribute.{n}.Value.{value_key}", "")
            attributes[fields[key]] = {"DataType": kind, value_key: value}
    if attributes:
        kwargs["MessageAttributes"] = attributes
    for name in ("MessageGroupId", "MessageDeduplicationId"):
        if fields.get(name):
            kwargs[name] = fields[name]
    if fields.get("DelaySeconds"):
        kwargs["DelaySeconds"] = int(fields["DelaySeconds"])
    invalid = _NOT_SQS_TEXT.search(kwargs["MessageBody"])
    if invalid is not None:  # moto stores them
        raise _refused(
            "InvalidMessageContents",
            f"Invalid binary character '#x{ord(invalid.group()):X}' was found in the message body, the set of "
            "allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
            "SendMessage",
        )
    size = len(kwargs["MessageBody"].encode("utf-8")) + sum(
        len(name.encode()) + sum(len(str(v).encode()) for v in value.values()) for name, value in attributes.items()
    )
    if size > 1024:  # the smallest maximum a queue can have; moto counts characters of the body only
        attribute = backend.client("sqs").get_queue_attributes(
            QueueUrl=kwargs["QueueUrl"], AttributeNames=["MaximumMessageSize"]
        )
        limit = int(attribute["Attributes"]["MaximumMessageSize"])
        if size > limit:
            raise _refused(
                "InvalidParameterValue",
                f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.",
                "SendMessage",
            )
    sent = backend.client("sqs").send_message(**kwargs)
    return {
        "SendMessageResponse": {
            "SendMessageResult": {"MessageId": sent["MessageId"], "MD5OfMessageBody": sent.get("MD5OfMessageBody")}
        }
    }


def _put(backend: Backend, document: str) -> dict[str, Any]:
    try:
        fields = json.loads(document)
    except ValueError as exc:
        raise TemplateError(
            f"the Kinesis request template did not render to JSON ({exc}): {document[:120]!r}"
        ) from None
    data, key = base64.b64decode(fields.get("Data", "")), str(fields.get("PartitionKey", ""))
    try:
        size = len(data) + len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise UnreadableBody(f"the partition key {ascii(key)[:60]} holds a lone surrogate") from None
    if size > MAX_RECORD_BYTES:  # moto stores any size
        raise _refused(
            "ValidationException",
            "1 validation error detected: Value at 'data' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_RECORD_BYTES}",
            "PutRecord",
        )
    out = backend.client("kinesis").put_record(StreamName=fields["StreamName"], Data=data, PartitionKey=key)
    return {"SequenceNumber": out["SequenceNumber"], "ShardId": out["ShardId"]}


def _respond(responses: dict[str, Any], status: int, service_body: str, request_id: str) -> tuple[int, str]:
    """Pick the integration response whose selection pattern matches the service status (else `default`)."""
    chosen = responses.get("default", {})
    for key, response in responses.items():
        pattern = response.get("selectionPattern", key)
        if key != "default" and re.fullmatch(pattern, str(status)):
            chosen = response
            break
    template = (chosen.get("responseTemplates") or {}).get("application/json", "")
    rendered = _Evaluator(service_body, request_id).render(template)
    return int(chosen.get("statusCode", 200)), rendered
