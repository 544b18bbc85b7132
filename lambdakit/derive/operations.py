"""The HTTP surface of a plan, derived once: each route's parameters, body, responses and security.

Two documents render it: the API Gateway body in the template
(`derive.openapi`, the dialect API Gateway imports) and the public OpenAPI 3.1
document (`derive.public_openapi`, for people and client generators). A status
is listed when the route can answer it: its success, what the gateway and the
runtime refuse for its parameters, body and auth, and the `lk.HTTPError`
subclasses its function raises by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from typing_extensions import TypedDict

from lambdakit.core.binding import Param, hints, http_plan
from lambdakit.core.names import camel
from lambdakit.declare.app import App
from lambdakit.declare.auth import Public
from lambdakit.declare.functions import FunctionSpec
from lambdakit.derive.plan import FunctionPlan, Plan

#: What each status means on any route; a route's own answers (its success, its raised errors) add to these.
MEANING = {
    "400": "the request is malformed: the body is not JSON, or not valid base64",
    "401": "no valid credentials",
    "403": "the credentials do not allow this call (scope, policy or API key)",
    "404": "nothing at this path",
    "409": "the request conflicts with the current state",
    "413": "the body is over the size API Gateway (10 MB) or Lambda (6 MB) accepts",
    "415": "the body is not application/json",
    "422": "a parameter or the body breaks its declared type; `details` names each",
    "429": "over the rate limit or quota; retry later",
    "500": "an unexpected error; quote the request id",
    "503": "a dependency is unavailable; retry",
}


@dataclass(frozen=True)
class Answer:
    """One status a route can answer: its description, and the type its JSON body has (None: no body)."""

    status: str
    description: str
    schema: Any = None  # a type (documented with pydantic) or "error" for the framework's error shape


@dataclass(frozen=True)
class Operation:
    fn: FunctionPlan
    method: str
    path: str
    operation_id: str
    tag: str
    summary: str | None
    description: str | None
    parameters: tuple[Param, ...]
    body: Param | None
    answers: tuple[Answer, ...]
    security: tuple[tuple[str, tuple[str, ...]], ...]  # (scheme, scopes); empty: public

    @property
    def spec(self) -> FunctionSpec:
        return self.fn.spec


def operations(plan: Plan) -> list[Operation]:
    """Every route of the plan, sorted by path then method."""
    found = [operation(plan.app, fn) for fn in plan.functions if fn.spec.kind == "http" and fn.spec.route]
    return sorted(found, key=lambda op: (op.path, op.method))


def operation(app: App, fn: FunctionPlan) -> Operation:
    spec = fn.spec
    route = spec.route
    assert route is not None
    bound = http_plan(spec.func, route.path_params, spec.where)
    doc = (spec.func.__doc__ or "").strip()
    summary, _, rest = doc.partition("\n")
    return Operation(
        fn=fn,
        method=route.method,
        path=route.path,
        operation_id=camel(spec.name),
        tag=spec.module.rsplit(".", 1)[-1],
        summary=summary.strip() or None,
        description=_dedent(rest) or None,
        parameters=bound.values,
        body=bound.body,
        answers=tuple(sorted(_answers(app, spec), key=lambda a: a.status)),
        security=_security(app, spec),
    )


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip()


def returns(spec: FunctionSpec) -> Any:
    """The return annotation as the response's type: None for no body, `Any` when it documents nothing."""
    annotation = hints(spec.func).get("return", Any)
    if annotation is type(None):
        return None
    response = _response_class()
    if annotation is response or (isinstance(annotation, type) and issubclass(annotation, response)):
        return Any  # lk.Response: the function decides, the annotation says nothing
    return annotation


def _response_class() -> type:
    from lambdakit.response import Response

    return Response


def _answers(app: App, spec: FunctionSpec) -> set[Answer]:
    route = spec.route
    assert route is not None
    bound = http_plan(spec.func, route.path_params, spec.where)
    auth = app.effective_auth(spec)
    needs_auth = auth is not None and not isinstance(auth, Public)
    statuses = {"500"}
    answers: set[Answer] = set()
    if spec.storage_first:
        from lambdakit.declare.resources import Queue

        stored = Queued if isinstance(spec.source, Queue) else Streamed
        answers.add(Answer("202", "stored: the consumer will process it", stored))
        statuses |= {"400", "413", "415", "503"}
    else:
        result = returns(spec)
        status = str(route.status or (204 if result is None else 200))
        if result is None:
            answers.add(Answer(status, "done; no body"))
        else:
            answers.add(Answer(status, "success", result))
        if bound.body is not None:
            statuses |= {"400", "413", "415", "422"}
        if any(p.validated for p in bound.values):
            statuses.add("422")
        if route.path_params:
            statuses.add("404")
        if bound.wants_identity:
            statuses.add("401")
        statuses |= {str(status) for status in raised_statuses(spec)}
    if needs_auth:
        statuses |= {"401", "403"}
    if route.api_key:
        statuses.add("403")
    if route.throttle or app.service.throttle or route.api_key or app.service.usage_plans:
        statuses.add("429")
    for status in statuses - {a.status for a in answers}:
        answers.add(Answer(status, MEANING.get(status, "an error"), "error"))
    return answers


class Queued(TypedDict):
    """What a storage-first route into SQS answers: the id of the message it sent."""

    message_id: str
    request_id: str


class Streamed(TypedDict):
    """What a storage-first route into Kinesis answers: where the record went."""

    sequence_number: str
    shard_id: str
    request_id: str


def raised_statuses(spec: FunctionSpec) -> set[int]:
    """The statuses of the `lk.HTTPError` subclasses the function names (`raise lk.NotFound(...)`)."""
    import lambdakit
    from lambdakit.errors import HTTPError

    names: set[str] = set()
    codes = [spec.func.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes += [c for c in code.co_consts if hasattr(c, "co_names")]
    found = set()
    for name in names:
        value = spec.func.__globals__.get(name, getattr(lambdakit, name, None))
        if isinstance(value, type) and issubclass(value, HTTPError) and value is not HTTPError:
            found.add(value.status)
    return found


def _security(app: App, spec: FunctionSpec) -> tuple[tuple[str, tuple[str, ...]], ...]:
    from lambdakit.derive.openapi import security

    requirement = security(app, spec)
    return tuple((name, tuple(scopes)) for name, scopes in (requirement[0] if requirement else {}).items())


def type_problems(spec: FunctionSpec) -> list[str]:
    """Parameter and return types pydantic cannot validate or document: build errors, not 500s."""
    from pydantic import TypeAdapter

    from lambdakit.core.params import adapter_type

    route = spec.route
    assert route is not None
    problems = []
    bound = http_plan(spec.func, route.path_params, spec.where)
    try:
        if bound.values:
            TypeAdapter(adapter_type(bound.values)).json_schema()
    except Exception as exc:
        names = ", ".join(p.name for p in bound.values)
        problems.append(f"{spec.where}: the types of parameters {names} cannot be validated: {_first_line(exc)}")
    else:
        problems += [found for p in bound.values if (found := _probe(spec, p))]
    if not spec.storage_first:
        result = returns(spec)
        try:
            if result is not None and result is not Any:
                TypeAdapter(result).json_schema(mode="serialization")
        except Exception as exc:
            problems.append(
                f"{spec.where}: the return annotation {result!r} cannot describe a JSON response "
                f"({_first_line(exc)}); return a pydantic model, dict, list or lk.Response"
            )
    return problems


def _probe(spec: FunctionSpec, param: Param) -> str:
    """A constraint that does not fit its type (`Annotated[str, Field(gt=1)]`) fails only when a value
    arrives, with a TypeError: a 500 on every request. One sample value finds it at build time."""
    from pydantic import TypeAdapter, ValidationError

    from lambdakit.core.params import value_type

    try:
        TypeAdapter(value_type(param)).validate_python(["1"] if param.many else "1")
    except ValidationError:
        return ""
    except Exception as exc:
        return (
            f"{spec.where}: parameter {param.name!r} cannot be validated ({_first_line(exc)}); "
            "use constraints its type has (gt/ge/lt/le for numbers, min_length/max_length/pattern for str)"
        )
    return ""


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
