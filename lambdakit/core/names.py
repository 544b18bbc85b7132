"""Names users give to services and resources, checked once so every AWS service accepts them."""

from __future__ import annotations

import re

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,47}$")


class DeclarationError(Exception):
    """A mistake in what the user declared; the message says where and how to fix it."""


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DeclarationError(
            f"{kind} name {name!r} is not valid: use 1-48 letters, digits, '-' or '_', "
            "starting with a letter (AWS rejects other characters in table, queue, "
            "stream and function names)"
        )
    return name


def normalized(name: str) -> str:
    """The form in which two names clash: case and separators ignored."""
    return name.replace("-", "").replace("_", "").lower()


def camel(name: str) -> str:
    """A CloudFormation logical-id fragment: `get_order` -> `GetOrder`."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", name) if part)


def env_var(name: str) -> str:
    """The environment variable that carries a resource's physical name to the runtime."""
    return "LK_" + normalized(name).upper()
