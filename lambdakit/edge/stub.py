"""`lambdakit/__init__.py` inside an edge artifact: `import lambdakit as lk` and `@lk.edge`, nothing else.

The artifact holds no pydantic, no Powertools and no declarations. The handler lives in the
`lambdakit.edge` package, which is imported first and is itself the (callable) decorator; any
other `lk.` name is an error that says what to do.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "edge":
        import importlib

        return importlib.import_module("lambdakit.edge")
    raise AttributeError(
        f"lambdakit.{name} is not in a Lambda@Edge artifact: an edge function's module may use lk.edge only "
        "(move other declarations to another module of the package)"
    )
