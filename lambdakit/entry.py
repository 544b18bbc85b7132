"""The Lambda handler every lambdakit function names: `lambdakit.entry.handler`.

It imports only the module named by LAMBDAKIT_FUNCTION and the runtime part
that the function's kind needs, and builds the binding plan once, at cold start.
"""

from __future__ import annotations

import os
from typing import Any

from lambdakit.runtime import load


def _missing(event: Any, context: Any) -> Any:
    raise RuntimeError("LAMBDAKIT_FUNCTION is not set; the template sets it to module:function")


handler = load(os.environ["LAMBDAKIT_FUNCTION"]) if "LAMBDAKIT_FUNCTION" in os.environ else _missing
