"""Every local answer checked against the route's return annotation: a mismatch fails here, not in a client.

On Lambda the result is serialised and sent as is (re-validating it would cost
every request). Locally, and in the test client, each success body is read
back as the annotation's type in strict JSON mode, the way a generated client
would read it: `{"n": "3"}` for `n: int` is a mismatch, naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdakit.declare.functions import FunctionSpec

#: body bytes -> None when it matches, else the mismatches (`loc`, `msg`, `type`).
Checker = Callable[[bytes], "list[dict[str, Any]] | None"]


def checker(spec: FunctionSpec) -> Checker | None:
    """The check of `spec`'s success bodies, or None when its annotation documents no body."""
    from pydantic import TypeAdapter, ValidationError

    from lambdakit.derive.operations import returns

    result = returns(spec)
    if result is Any:
        return None
    adapter: TypeAdapter[Any] = TypeAdapter(result)

    def check(body: bytes) -> list[dict[str, Any]] | None:
        try:
            adapter.validate_json(body or b"null", strict=True, by_alias=True, by_name=True)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False, include_input=False)
            return [{"loc": ["response", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]
        return None

    return check


def mismatch_message(spec: FunctionSpec, errors: list[dict[str, Any]]) -> str:
    from lambdakit.derive.operations import returns

    fields = ", ".join(".".join(str(part) for part in e["loc"][1:]) or "the body" for e in errors)
    annotation = returns(spec)
    name = getattr(annotation, "__name__", None) or repr(annotation)
    return f"{spec.name} returned a body that does not match its return annotation {name}: {fields}"
