"""What runs at the edge: Lambda@Edge handlers and lambdakit's own request rewrites.

Standard library only: an edge artifact holds this package, the user's module and
`lambdakit_edge.json`, and each handler imports only what it uses (Lambda@Edge has no
environment variables, no layers, and a 1 MB limit for viewer events).

This package shares its name with the decorator `lk.edge`: once a submodule is imported,
Python sets `lambdakit.edge` to this package, replacing the decorator. So the package is
callable and calling it is `@lk.edge`, here and in an edge artifact (where the decorator
has nothing to record and returns the function as it is).
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _EdgePackage(types.ModuleType):
    def __call__(self, *args: Any, **options: Any) -> Any:
        try:
            from lambdakit.declare.edge import edge
        except ImportError:  # inside an edge artifact: no declarations ship
            return _unchanged
        return edge(*args, **options)


def _unchanged(func: Any) -> Any:
    return func


sys.modules[__name__].__class__ = _EdgePackage
