"""The binding plan: how each parameter of a function gets its value.

Computed once per function (at build time to report mistakes, at cold start
to serve), never per request, in the manner of FastAPI's dependant graph.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from lambdakit.core import DeclarationError, Record

#: The scalar types a path or query parameter may have (besides `Literal[...]` and `Enum`s).
SCALARS: tuple[type, ...] = (str, int, float, bool)


def _scalar_types() -> tuple[type, ...]:
    """The scalars, with the standard-library ones imported only when a function needs to be bound."""
    import datetime
    import decimal
    import uuid

    return (*SCALARS, datetime.date, datetime.datetime, datetime.time, uuid.UUID, decimal.Decimal)


def _unannotated(tp: Any) -> Any:
    """`Annotated[T, ...]` -> T (the constraints stay on the parameter's annotation)."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def is_scalar(tp: Any) -> bool:
    """A type a single path or query value can be validated as."""
    import enum

    tp = _unannotated(tp)
    if typing.get_origin(tp) is typing.Literal:
        return all(isinstance(v, (str, int, bool)) for v in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return True
    return tp in _scalar_types()


class Param(Record):
    """One parameter: where its value comes from (`path`, `query`, `body`, `identity`, `request`).

    `annotation` is the declared type with its constraints (`Annotated[int, Field(ge=1)]`), less any
    `Optional`; `model` the body's type. A `plain` parameter is an unconstrained `str`: it needs no validation.
    """

    __match_args__ = ("name", "source", "annotation", "many", "required", "default", "model")
    __slots__ = __match_args__
    name: str
    source: str
    annotation: Any
    many: bool
    required: bool
    default: Any
    model: Any  # the body type: a pydantic model class, dict or list

    def __init__(
        self,
        name: str,
        source: str,
        annotation: Any = str,
        many: bool = False,
        required: bool = True,
        default: Any = None,
        model: Any = None,
    ) -> None:
        self._set("name", name)
        self._set("source", source)
        self._set("annotation", annotation)
        self._set("many", many)
        self._set("required", required)
        self._set("default", default)
        self._set("model", model)

    @property
    def validated(self) -> bool:
        """Whether the value goes through `core.params` (an unconstrained `str` path value cannot fail)."""
        return self.source in ("path", "query") and not (self.source == "path" and self.annotation is str)


class Plan(Record):
    """A function's parameters in order, its body parameter, and whether it needs a caller."""

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
    def values(self) -> tuple[Param, ...]:
        """The path and query parameters: the ones validated from strings."""
        return tuple(p for p in self.params if p.source in ("path", "query"))


_NEVER = object()  # what Identity / Request are while nothing has imported them


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """`T | None` -> (T, True), looking through `Annotated` on either side."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        inner, optional = _unwrap_optional(typing.get_args(tp)[0])
        if optional:  # Annotated[T | None, ...] -> Annotated[T, ...]
            return typing.Annotated[(inner, *tp.__metadata__)], True
        return tp, False
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if len(args) == 2 and type(None) in args:
            return args[0] if args[1] is type(None) else args[1], True
    return tp, False


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "model_validate_json") and hasattr(tp, "model_json_schema")


def _is_body_type(tp: Any) -> bool:
    tp = _unannotated(tp)
    return is_model(tp) or tp in (dict, list) or (typing.get_origin(tp) in (dict, list) and not _scalar_list(tp))


def _scalar_list(tp: Any) -> bool:
    """`list[T]` of a scalar T: a query parameter given once per value (`?tag=a&tag=b`)."""
    tp = _unannotated(tp)
    if typing.get_origin(tp) is list:
        args = typing.get_args(tp)
        return len(args) == 1 and is_scalar(args[0])
    return False


def hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception as exc:  # a forward reference that does not resolve
        name = getattr(func, "__qualname__", None) or repr(func)
        raise DeclarationError(f"cannot read the type hints of {name}: {exc}") from None


#: Where a function keeps its plans, {path parameters: Plan}, beside its spec: discovery, OpenAPI and the
#: template all ask, and the plans go with the function (a cache in its `__dict__`, not a registry).
PLANS_ATTRIBUTE = "__lambdakit_plans__"


def http_plan(func: Callable[..., Any], path_params: tuple[str, ...], where: str) -> Plan:
    """The plan of an HTTP function, computed once per function (and path): a plan is immutable."""
    if type(func) is not types.FunctionType:  # a method, partial or callable object: not cached
        return _http_plan(func, path_params, where)
    known: dict[tuple[str, ...], Plan] = func.__dict__.setdefault(PLANS_ATTRIBUTE, {})
    plan = known.get(path_params)
    if plan is None:
        plan = known[path_params] = _http_plan(func, path_params, where)
    return plan


_EMPTY = object()  # a parameter without a default


def parameters(func: Callable[..., Any]) -> list[tuple[str, bool, Any]]:
    """`(name, variadic, default or _EMPTY)` for each parameter, in `inspect.signature` order.

    A plain function's are read from its code object, as `inspect.signature` does, at a tenth of its
    cost on a cold start (~50 µs); a wrapper (`__wrapped__`), a `__signature__`, a partial or a
    callable object goes through `inspect.signature` itself."""
    if type(func) is not types.FunctionType or hasattr(func, "__wrapped__") or hasattr(func, "__signature__"):
        import inspect

        empty = inspect.Parameter.empty
        return [
            (p.name, p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD), _EMPTY if p.default is empty else p.default)
            for p in inspect.signature(func).parameters.values()
        ]
    code = func.__code__
    positional, keyword_only = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames
    defaults = func.__defaults__ or ()
    keyword_defaults = func.__kwdefaults__ or {}
    first_default = positional - len(defaults)
    out = []
    for i in range(positional):
        out.append((names[i], False, defaults[i - first_default] if i >= first_default else _EMPTY))
    extra = positional + keyword_only  # where *args and **kwargs are named, after the keyword-only ones
    if code.co_flags & _CO_VARARGS:
        out.append((names[extra], True, _EMPTY))
        extra += 1
    for name in names[positional : positional + keyword_only]:
        out.append((name, False, keyword_defaults.get(name, _EMPTY)))
    if code.co_flags & _CO_VARKEYWORDS:
        out.append((names[extra], True, _EMPTY))
    return out


_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08  # inspect.CO_VARARGS, inspect.CO_VARKEYWORDS


def _http_plan(func: Callable[..., Any], path_params: tuple[str, ...], where: str) -> Plan:
    types_ = hints(func)
    # lk.Identity and lk.Request load on first use; a hint can only name them once they are loaded
    identity = sys.modules.get("lambdakit.identity")
    Identity, Request = (identity.Identity, identity.Request) if identity is not None else (_NEVER, _NEVER)
    params: list[Param] = []
    body: Param | None = None
    wants_identity = False  # a required lk.Identity: the route needs an authenticated caller
    names = set()
    for name, variadic, given in parameters(func):
        if variadic:
            raise DeclarationError(f"{where}: *{name} / **{name} cannot be bound; name each parameter")
        names.add(name)
        tp = types_.get(name, str)
        has_default = given is not _EMPTY
        default = given if has_default else None
        inner, optional = _unwrap_optional(tp)
        kind = _unannotated(inner)
        if name in path_params:
            if not is_scalar(inner) or optional:
                raise DeclarationError(
                    f"{where}: path parameter {name!r} has type {tp!r}; use str, int, float, bool, a date, "
                    "datetime, UUID, Decimal, Literal or Enum (constrained with Annotated[..., Field(...)] if need be)"
                )
            params.append(Param(name, "path", inner))
        elif kind is Identity:
            params.append(Param(name, "identity", required=not optional))
            wants_identity = wants_identity or not optional
        elif kind is Request:
            params.append(Param(name, "request"))
        elif is_scalar(inner) or _scalar_list(inner):
            params.append(
                Param(
                    name,
                    "query",
                    inner,
                    many=_scalar_list(inner),
                    required=not (has_default or optional),
                    default=default,
                )
            )
        elif _is_body_type(inner):
            if body is not None:
                raise DeclarationError(
                    f"{where}: parameters {body.name!r} and {name!r} both take the body; a route has one body"
                )
            body = Param(name, "body", inner, required=not (has_default or optional), default=default, model=kind)
            params.append(body)
        else:
            raise DeclarationError(
                f"{where}: parameter {name!r} has type {tp!r}, which cannot be bound; use str, int, float, "
                "bool, a date, datetime, UUID, Decimal, Literal or Enum (or Optional / list of them) for a query "
                "parameter, a pydantic model, dict or list for the body, lk.Identity or lk.Request"
            )
    for missing in path_params:
        if missing not in names:
            raise DeclarationError(_unbound(where, missing, params))
    return Plan(tuple(params), body, wants_identity)


def _unbound(where: str, missing: str, params: list[Param]) -> str:
    """A path parameter no function parameter takes, and the query parameter that was likely meant for it."""
    unmatched = [p.name for p in params if p.source == "query" and p.required]
    hint = f" (function parameter {unmatched[0]!r} matches no path parameter: rename one to match)" if unmatched else ""
    return f"{where}: path parameter {{{missing}}} has no function parameter; add `{missing}: str`{hint}"
