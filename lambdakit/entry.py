"""The Lambda handler every lambdakit function names: `lambdakit.entry.handler`.

It imports only the module named by LAMBDAKIT_FUNCTION and the runtime part
that the function's kind needs, and builds the binding plan once, at cold start.
Without LAMBDAKIT_FUNCTION the import fails, so Lambda reports the cause at init
rather than on every invocation.
"""

from __future__ import annotations

import os

from lambdakit.runtime import load

if "LAMBDAKIT_FUNCTION" not in os.environ:
    raise RuntimeError("LAMBDAKIT_FUNCTION is not set; the template sets it to module:function")
handler = load(os.environ["LAMBDAKIT_FUNCTION"])
