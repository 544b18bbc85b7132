"""The structured logger (Powertools), created on first use so the happy path never imports it."""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any


class _CurrentStdout:
    """Writes to whatever `sys.stdout` is at the time, so a replaced stdout (a test's capture) is honoured."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@lru_cache(maxsize=1)
def logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(stream=_CurrentStdout())  # type: ignore[arg-type]
