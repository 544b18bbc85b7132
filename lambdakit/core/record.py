"""`Record`, the base of lambdakit's frozen records: defined in `lambdakit.core` (see its docstring)."""

from __future__ import annotations

from lambdakit.core import Record

__all__ = ["Record"]
