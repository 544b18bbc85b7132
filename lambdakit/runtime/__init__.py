"""What ships to Lambda: the entry point, request binding, batch processing and data handles.

The loader (`module:function` -> the handler for its kind) lives here rather than in a module of its
own, since every cold start imports this package anyway: one module less to find and read.
`lambdakit.runtime.loader` names the same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdakit.declare.functions import FunctionSpec

    Handler = Callable[[dict[str, Any], Any], Any]  # an alias for the type checker: no generic built at import


def handler_for(spec: FunctionSpec) -> Handler:
    if spec.kind == "consumer" or spec.storage_first:
        from lambdakit.runtime.batch import make_handler
    elif spec.kind == "http":
        from lambdakit.runtime.http import make_handler
    else:
        from lambdakit.runtime.authorizer import make_handler
    return make_handler(spec)


def load(target: str) -> Handler:
    """`module:function` as its Lambda handler: the module is imported, its declaration read."""
    from importlib import import_module

    from lambdakit.declare.functions import spec_of  # loaded already, by the module's own declarations

    module, _, name = target.partition(":")
    spec = spec_of(getattr(import_module(module), name))
    if spec is None:
        raise RuntimeError(f"{target} is not declared with a lambdakit decorator")
    return handler_for(spec)
