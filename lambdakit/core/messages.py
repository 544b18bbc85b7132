"""A consumer's message: the type of its one parameter, which each record is parsed into.

Apart from `core.binding` (an HTTP function's parameters), so that an HTTP function's cold start does not load it.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from lambdakit.core import DeclarationError
from lambdakit.core.binding import hints, is_model


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
