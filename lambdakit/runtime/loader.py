"""Turn `module:function` into the Lambda handler for that function's kind.

The functions live in `lambdakit.runtime` itself, which every cold start imports anyway.
"""

from __future__ import annotations

from lambdakit.runtime import handler_for, load

__all__ = ["handler_for", "load"]
