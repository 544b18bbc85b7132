"""Frozen records: what `@dataclass(frozen=True)` gives, without its cost at cold start.

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

    def _fields(self) -> tuple[str, ...]:
        return self.__match_args__

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record) and other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields())
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # copy, deepcopy and pickle rebuild through __init__
        return type(self), self._values()
