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


# -- physical names where no template names the resource (`lambdakit local`, tests) ------------------
# The plan (`lambdakit.derive.plan`) gives these to the local backend; the runtime falls back to the same
# rules when no `LK_<NAME>` variable names the resource.


def queue_name(name: str, fifo: bool) -> str:
    return name + (".fifo" if fifo else "")


def dead_letter_queue_name(name: str, fifo: bool) -> str:
    return queue_name(name + "-dlq", fifo)


def failure_queue_name(function: str) -> str:
    """A Kinesis consumer's on-failure queue."""
    return function + "-failures"


def idempotency_table_name(function: str) -> str:
    return function + "-idempotency"


def log_group_name(function: str) -> str:
    return f"/aws/lambda/{function}"
