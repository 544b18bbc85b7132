"""Names users give to services and resources, checked once so every AWS service accepts them.

`DeclarationError` and `check_name` are defined in `lambdakit.core`, which every cold start imports
anyway (a module costs each ~0.1 ms to find and load), and named here too.
"""

from __future__ import annotations

from lambdakit.core import MAX_NAME as MAX_NAME
from lambdakit.core import DeclarationError as DeclarationError
from lambdakit.core import check_name as check_name


def normalized(name: str) -> str:
    """The form in which two names clash: case and separators ignored."""
    return name.replace("-", "").replace("_", "").lower()


def camel(name: str) -> str:
    """A CloudFormation logical-id fragment: `get_order` -> `GetOrder`."""
    import re

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
