"""Playwright for the browser tests, on Debian's `chromium` (never a browser Playwright downloads).

A browser test module imports Playwright's names from here: the import skips the module, naming the
command that installs what is missing, when Chromium or Playwright is not on this machine. The
`browser` fixture (tests/conftest.py) launches `CHROMIUM` once per module.
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "no chromium on PATH: install Debian's (apt-get install chromium); playwright's own browsers are not used",
        allow_module_level=True,
    )
try:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        Request,
        Response,
        expect,
        sync_playwright,
    )
except ImportError:
    pytest.skip(
        "playwright is not installed (it is in the dev extra: pip install -e '.[dev]')", allow_module_level=True
    )

__all__ = [
    "CHROMIUM",
    "Browser",
    "BrowserContext",
    "ConsoleMessage",
    "Page",
    "Request",
    "Response",
    "expect",
    "sync_playwright",
]
