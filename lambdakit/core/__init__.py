"""The small shared core: names, path templates, records and the binding plan, shipped with the runtime.

What every declaration needs lives here rather than in modules of its own (every cold start imports
this package anyway, and each module costs a cold start ~0.1 ms to find and load): `Record`, the
base of every frozen record, and `DeclarationError` and `check_name` (named in `core.names` too).

Frozen records: what `@dataclass(frozen=True)` gives, without its cost at cold start.
A dataclass compiles each method it generates (`__init__`, `__repr__`, `__eq__`,
`__hash__`, `__setattr__`, ...) with `exec` when its class is created: about
1 ms per class (docs/performance.md), paid at every cold start by every
function that imports the class. A `Record` writes those methods once, here:
a subclass lists its fields in `__match_args__` (in `__init__` order, as a
dataclass does), makes them its `__slots__`, and assigns them in `__init__`
with `_set`. Instances compare, hash, print, copy and pickle as the equivalent
frozen dataclass would, and refuse assignment the same way.
"""

from __future__ import annotations

from typing import Any


class Record:
    __match_args__: tuple[str, ...] = ()
    __slots__ = ()

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(map(self.__getattribute__, self.__match_args__))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record) and other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(map("{}={!r}".format, self.__match_args__, self._values()))
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # copy, deepcopy and pickle rebuild through __init__
        return type(self), self._values()


#: The longest name a service or resource may have.
MAX_NAME = 48


def where_of(func: Any) -> str:
    """`file:line (name)`: where a declared function is, the start of every message about it."""
    code = getattr(func, "__code__", None)
    if code is None:  # a callable object: its module, without a line
        return f"{func.__module__}:0 ({func.__name__})"
    return f"{code.co_filename}:{code.co_firstlineno} ({func.__name__})"


class DeclarationError(Exception):
    """A mistake in what the user declared; the message says where and how to fix it."""


def _valid(name: str) -> bool:
    """1-48 ASCII letters, digits, '-' or '_', starting with a letter; string methods, not a regex,
    which would cost every cold start its compilation (~0.2 ms)."""
    return (
        0 < len(name) <= MAX_NAME
        and name.isascii()
        and name[0].isalpha()
        and name.replace("-", "").replace("_", "").isalnum()
    )


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _valid(name):
        raise DeclarationError(
            f"{kind} name {name!r} is not valid: use 1-48 letters, digits, '-' or '_', "
            "starting with a letter (AWS rejects other characters in table, queue, "
            "stream and function names)"
        )
    return name
