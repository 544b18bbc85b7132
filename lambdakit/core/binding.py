"""The binding plan: how each parameter of a function gets its value.

Computed once per function (at build time to report mistakes, at cold start
to serve), never per request, in the manner of FastAPI's dependant graph.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdakit.core.names import DeclarationError
from lambdakit.core.record import Record

if TYPE_CHECKING:
    from weakref import WeakKeyDictionary

_SCALARS: dict[Any, Callable[[str], Any]] = {}


def _bool(raw: str) -> bool:
    low = raw.lower()
    if low in ("true", "1", "yes", "on"):
        return True
    if low in ("false", "0", "no", "off"):
        return False
    raise ValueError("not a boolean (use true or false)")


def _int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("not an integer") from None
    if abs(value) >= 10**38:  # beyond what DynamoDB (38 digits) or any sane id holds
        raise ValueError("integer out of range")
    return value


def _float(raw: str) -> float:
    import math

    try:
        value = float(raw)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


_SCALARS.update({str: str, int: _int, float: _float, bool: _bool})


class Param(Record):
    """One parameter: where its value comes from (`path`, `query`, `body`, `identity`, `request`)."""

    __match_args__ = ("name", "source", "convert", "many", "required", "default", "model")
    __slots__ = __match_args__
    name: str
    source: str
    convert: Callable[[str], Any] | None
    many: bool
    required: bool
    default: Any
    model: Any  # the body type: a pydantic model class, dict or list

    def __init__(
        self,
        name: str,
        source: str,
        convert: Callable[[str], Any] | None = None,
        many: bool = False,
        required: bool = True,
        default: Any = None,
        model: Any = None,
    ) -> None:
        self._set("name", name)
        self._set("source", source)
        self._set("convert", convert)
        self._set("many", many)
        self._set("required", required)
        self._set("default", default)
        self._set("model", model)


class Plan(Record):
    __match_args__ = ("params", "body", "wants_identity")
    __slots__ = __match_args__
    params: tuple[Param, ...]
    body: Param | None
    wants_identity: bool

    def __init__(self, params: tuple[Param, ...], body: Param | None, wants_identity: bool) -> None:
        self._set("params", params)
        self._set("body", body)
        self._set("wants_identity", wants_identity)

    @property
    def query(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.source == "query")


_NEVER = object()  # what Identity / Request are while nothing has imported them


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "model_validate_json") and hasattr(tp, "model_json_schema")


def _is_body_type(tp: Any) -> bool:
    return is_model(tp) or tp in (dict, list) or (typing.get_origin(tp) in (dict, list) and not _scalar_list(tp))


def _scalar_list(tp: Any) -> Any:
    if typing.get_origin(tp) is list:
        args = typing.get_args(tp)
        if len(args) == 1 and args[0] in _SCALARS:
            return args[0]
    return None


def hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception as exc:  # a forward reference that does not resolve
        raise DeclarationError(f"cannot read the type hints of {func.__qualname__}: {exc}") from None


# function -> {path parameters: Plan}, weakly: discovery, OpenAPI and the template all ask
_plans: WeakKeyDictionary[Callable[..., Any], dict[tuple[str, ...], Plan]] | None = None


def http_plan(func: Callable[..., Any], path_params: tuple[str, ...], where: str) -> Plan:
    """The plan of an HTTP function, computed once per function (and path): a plan is immutable."""
    global _plans
    if _plans is None:
        import weakref

        _plans = weakref.WeakKeyDictionary()
    try:
        known = _plans.get(func)
    except TypeError:  # not weakly referenceable: not cached
        return _http_plan(func, path_params, where)
    if known is None:
        known = _plans[func] = {}
    plan = known.get(path_params)
    if plan is None:
        plan = known[path_params] = _http_plan(func, path_params, where)
    return plan


def _http_plan(func: Callable[..., Any], path_params: tuple[str, ...], where: str) -> Plan:
    import inspect

    sig = inspect.signature(func)
    types_ = hints(func)
    # lk.Identity and lk.Request load on first use; a hint can only name them once they are loaded
    identity = sys.modules.get("lambdakit.identity")
    Identity, Request = (identity.Identity, identity.Request) if identity is not None else (_NEVER, _NEVER)
    params: list[Param] = []
    body: Param | None = None
    names = set()
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise DeclarationError(f"{where}: *{p.name} / **{p.name} cannot be bound; name each parameter")
        names.add(p.name)
        tp = types_.get(p.name, str)
        has_default = p.default is not inspect.Parameter.empty
        default = p.default if has_default else None
        inner, optional = _unwrap_optional(tp)
        if p.name in path_params:
            if inner not in (str, int, float):
                raise DeclarationError(f"{where}: path parameter {p.name!r} must be str, int or float, not {tp!r}")
            params.append(Param(p.name, "path", _SCALARS[inner]))
        elif inner is Identity:
            params.append(Param(p.name, "identity", required=not optional))
        elif inner is Request:
            params.append(Param(p.name, "request"))
        elif inner in _SCALARS:
            params.append(
                Param(p.name, "query", _SCALARS[inner], required=not (has_default or optional), default=default)
            )
        elif _scalar_list(inner) is not None:
            params.append(
                Param(
                    p.name,
                    "query",
                    _SCALARS[_scalar_list(inner)],
                    many=True,
                    required=not (has_default or optional),
                    default=default,
                )
            )
        elif _is_body_type(inner):
            if body is not None:
                raise DeclarationError(
                    f"{where}: parameters {body.name!r} and {p.name!r} both take the body; a route has one body"
                )
            body = Param(p.name, "body", required=not (has_default or optional), default=default, model=inner)
            params.append(body)
        else:
            raise DeclarationError(
                f"{where}: parameter {p.name!r} has type {tp!r}, which cannot be bound; use str, int, float, "
                "bool (or Optional / list of them) for a query parameter, a pydantic model, dict or list for "
                "the body, lk.Identity or lk.Request"
            )
    missing = [name for name in path_params if name not in names]
    if missing:
        unmatched = [p.name for p in params if p.source == "query" and p.required]
        hint = (
            f" (function parameter {unmatched[0]!r} matches no path parameter: rename one to match)"
            if unmatched
            else ""
        )
        raise DeclarationError(
            f"{where}: path parameter {{{missing[0]}}} has no function parameter; add `{missing[0]}: str`{hint}"
        )
    return Plan(tuple(params), body, any(p.source == "identity" and p.required for p in params))


def message_type(func: Callable[..., Any], where: str) -> Any:
    """A consumer's one parameter type: a model, dict, list, str, or anything JSON (unannotated)."""
    import inspect

    params = list(inspect.signature(func).parameters.values())
    if len(params) != 1 or params[0].kind in (params[0].VAR_POSITIONAL, params[0].VAR_KEYWORD):
        raise DeclarationError(f"{where}: a consumer takes exactly one parameter, the message")
    tp = hints(func).get(params[0].name, Any)
    if tp is Any or tp in (dict, list, str, bytes) or is_model(tp) or typing.get_origin(tp) in (dict, list):
        return tp
    raise DeclarationError(
        f"{where}: message parameter {params[0].name!r} has type {tp!r}; use a pydantic model, dict, list, str or bytes"
    )
