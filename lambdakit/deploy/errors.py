"""The one error deploy's steps raise: its message says what failed and what to do (the CLI prints it)."""

from __future__ import annotations


class DeployError(Exception):
    """A deploy step that failed in a way the message explains (the CLI prints it)."""


class StageError(DeployError):
    """The stage refused before anything touched AWS (its name, its settings file, the account): bad input,
    which the CLI reports with exit code 2, as it does build errors."""
