"""`lk.Service`: one service = one stack, with defaults for the functions in its package.

`memory=` and `timeout=` are the defaults of every function that does not set
its own; the resource plan (`lambdakit.derive.plan`) applies them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdakit.core.names import DeclarationError, check_name
from lambdakit.core.record import Record

if TYPE_CHECKING:
    from .cors import CORS


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


class Service:
    """The stack a package deploys as. Settings here are defaults; routes override them."""

    def __init__(
        self,
        name: str,
        *,
        auth: Any = None,
        throttle: tuple[float, int] | None = None,
        usage_plans: tuple[UsagePlan, ...] = (),
        memory: int | None = None,
        timeout: int | None = None,
        log_retention_days: int = 365,
        runtime: str = "python3.11",
        architecture: str = "arm64",
        domain: str | None = None,
        base_path: str | None = None,
        stage: str = "api",
        cors: Any = None,
        cdn: bool = False,
        certificate: str | None = None,
        integration_timeout: int | None = None,
    ) -> None:
        self.name = check_name("service", name)
        from .functions import _auth

        self.auth = _auth(f"lk.Service({name!r})", auth)
        self.throttle = throttle
        self.usage_plans = tuple(usage_plans)
        self.memory = memory
        self.timeout = timeout
        self.log_retention_days = log_retention_days
        self.runtime = runtime
        self.architecture = architecture
        # the API's Regional custom domain, or a path of one several services share: checked at build and
        # rendered by derive/domains.py (declarations stay plain data)
        self.domain = domain
        self.base_path = base_path
        self.stage = stage
        self.cors: CORS | None = None
        if cors is not None:  # lk.CORS and its checks load only for a service that sets cors=
            from .cors import cors_of

            self.cors = cors_of(cors, f"lk.Service({name!r})")
        self.cdn = cdn  # CloudFront in front of the Regional API (pattern 4); `domain=` is then the distribution's
        self.certificate = certificate
        # how long API Gateway waits for its routes' functions (default 29 s); checked at build (derive/limits.py)
        self.integration_timeout = integration_timeout
        if throttle is not None and (len(throttle) != 2 or throttle[0] <= 0 or throttle[1] <= 0):
            raise DeclarationError(f"lk.Service({name!r}): throttle=(rate_per_second, burst), both positive")
        if architecture not in ("arm64", "x86_64"):
            raise DeclarationError(f"lk.Service({name!r}): architecture={architecture!r}; use 'arm64' or 'x86_64'")
        if log_retention_days not in _RETENTION_DAYS:
            raise DeclarationError(
                f"lk.Service({name!r}): log_retention_days={log_retention_days} is not one CloudWatch "
                f"accepts: {', '.join(map(str, _RETENTION_DAYS))}"
            )

    def __repr__(self) -> str:
        return f"Service({self.name!r})"


_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
