"""`lk.Service` and `lk.UsagePlan`: one service = one stack, with defaults for the functions in its package.

`memory=` and `timeout=` are the defaults of every function that does not set
its own; the resource plan (`lambdakit.derive.plan`) applies them. `Service`
itself is defined in `lambdakit.declare` (every cold start imports that package,
so it costs no module of its own) and named here too.
"""

from __future__ import annotations

from lambdakit.core import Record
from lambdakit.core.names import DeclarationError, check_name
from lambdakit.declare import Service


class UsagePlan(Record):
    """An API-key usage plan: quota per period and a throttle, for routes with `api_key=True`.

    `keys` names the API keys the stack creates in this plan, one per caller (quotas and
    throttles count per key, so callers must not share one); keys can also be added later.
    """

    __match_args__ = ("name", "quota", "period", "rate", "burst", "keys")
    __slots__ = __match_args__
    name: str
    quota: int | None
    period: str
    rate: float | None
    burst: int | None
    keys: tuple[str, ...]

    def __init__(
        self,
        name: str,
        quota: int | None = None,
        period: str = "MONTH",
        rate: float | None = None,
        burst: int | None = None,
        keys: tuple[str, ...] = (),
    ) -> None:
        self._set("name", name)
        self._set("quota", quota)
        self._set("period", period)
        self._set("rate", rate)
        self._set("burst", burst)
        self._set("keys", keys)
        self.__post_init__()

    def __post_init__(self) -> None:
        where = f"lk.UsagePlan({self.name!r})"
        check_name("usage plan", self.name)
        if self.period not in ("DAY", "WEEK", "MONTH"):
            raise DeclarationError(f"{where}: period={self.period!r}; use 'DAY', 'WEEK' or 'MONTH'")
        if self.quota is not None and (not isinstance(self.quota, int) or self.quota <= 0):
            raise DeclarationError(f"{where}: quota={self.quota!r} must be a positive number of requests per period")
        if (
            (self.rate is None) != (self.burst is None)
            or (self.rate is not None and not self.rate > 0)
            or (self.burst is not None and (not isinstance(self.burst, int) or self.burst <= 0))
        ):
            raise DeclarationError(
                f"{where}: give rate= (requests per second) and burst= (a whole number) together, both positive"
            )
        if isinstance(self.keys, str):
            object.__setattr__(self, "keys", (self.keys,))
        for key in self.keys:
            check_name(f"{where} API key", key)
        if len(set(self.keys)) != len(self.keys):
            raise DeclarationError(f"{where}: keys= names a key twice")


__all__ = ["Service", "UsagePlan"]
