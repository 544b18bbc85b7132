"""Path and query parameters validated by pydantic: one adapter per route, built once at cold start.

API Gateway hands every path and query value over as a string. The values of a
route are validated together, as one typed dict, so every failing parameter is
reported at once, and exactly as pydantic would validate a body field of the
same annotation (constraints, `Literal`, `Enum`, dates, UUIDs): what pydantic
refuses, lambdakit refuses (`"٣"` is not an int). Only an unconstrained `str`
path parameter skips the adapter; it cannot fail.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from lambdakit.core.binding import Param

#: A raw value from the event: one string, or a list of them for a repeated query key.
Raw = str | list[str]


class InvalidParameters(Exception):
    """The values broke their annotations; `errors` are in the framework's detail shape (`loc`, `msg`, `type`)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(", ".join(".".join(map(str, e["loc"])) for e in errors))
        self.errors = errors

    @property
    def message(self) -> str:
        names = ", ".join(f"{e['loc'][0]} parameter {e['loc'][1]}" for e in self.errors)
        return f"invalid {names}"


def _literal_values(tp: Any) -> dict[str, Any]:
    """The non-string choices of a `Literal` or `Enum`, by their text: `"1"` -> 1 for `Literal[1, 2]`.

    Pydantic compares a `Literal[1]` or an int `Enum` with the value itself, and a query string is
    never `1`: the text is mapped to the choice it spells before pydantic sees it.
    """
    import enum

    tp = _unannotated(tp)
    if typing.get_origin(tp) is list:
        return _literal_values(typing.get_args(tp)[0])
    if typing.get_origin(tp) is typing.Literal:
        choices = list(typing.get_args(tp))
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        choices = [member.value for member in tp]
    else:
        return {}
    spelled: dict[str, Any] = {}
    for value in choices:
        if isinstance(value, bool):
            spelled[str(value).lower()] = value
        elif not isinstance(value, str):
            spelled[str(value)] = value
    return spelled


#: An int (or Decimal) holds at most 38 digits: what DynamoDB stores, and far past any id or count.
INT_DIGITS = 38


def value_type(param: Param) -> Any:
    """The type a parameter's value is validated (and documented) as: its annotation, with ints bounded
    and dates, times and datetimes in ISO 8601 only, as the document's `format` says (pydantic alone
    would also read `?at=0` as a Unix timestamp)."""
    annotation = param.annotation
    if param.many:
        return list[_one_value(typing.get_args(_unannotated(annotation))[0])]  # type: ignore[misc]
    return _one_value(annotation)


def _one_value(annotation: Any) -> Any:
    import datetime
    import decimal

    from pydantic import BeforeValidator, Field

    base = _unannotated(annotation)
    if base is int:  # bounded even when constrained: `Field(ge=1)` alone lets 40 digits through
        return typing.Annotated[annotation, Field(gt=-(10**INT_DIGITS), lt=10**INT_DIGITS)]
    if base is decimal.Decimal:
        return typing.Annotated[annotation, Field(max_digits=INT_DIGITS, allow_inf_nan=False)]
    if base in (datetime.date, datetime.datetime, datetime.time):
        return typing.Annotated[annotation, BeforeValidator(_iso_only)]
    return annotation


def _iso_only(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("give an ISO 8601 value (2026-12-01, 2026-12-01T10:00:00Z, 10:00), not a number")
    return value


def _unannotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def adapter_type(params: tuple[Param, ...]) -> Any:
    """The typed dict the values of a route are validated as (a required key per required parameter)."""
    from typing import NotRequired

    from typing_extensions import TypedDict

    fields = {p.name: value_type(p) if p.required else NotRequired[value_type(p)] for p in params}
    typed = TypedDict("Parameters", fields)  # type: ignore[misc]  # built from the route's parameters
    typed.__pydantic_config__ = {"allow_inf_nan": False}  # type: ignore[attr-defined]  # JSON has no NaN
    return typed


def validator(params: tuple[Param, ...]) -> Callable[[dict[str, Raw]], dict[str, Any]]:
    """`raw values -> typed values` for these parameters, raising `InvalidParameters` naming each bad one."""
    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(adapter_type(params))
    validate = adapter.validate_python
    source = {p.name: p.source for p in params}
    defaults = {p.name: p.default for p in params if not p.required}
    spelled = {p.name: found for p in params if (found := _literal_values(p.annotation))}

    def check(raw: dict[str, Raw]) -> dict[str, Any]:
        for name, choices in spelled.items():
            value = raw.get(name)
            if isinstance(value, list):
                raw[name] = [choices.get(v, v) for v in value]
            elif value is not None:
                raw[name] = choices.get(value, value)
        try:
            values: dict[str, Any] = validate(raw)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False, include_input=False)
            details = [
                {"loc": [source[str(e["loc"][0])], *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors
            ]
            raise InvalidParameters(details) from None
        for name, default in defaults.items():
            values.setdefault(name, default)
        return values

    return check
