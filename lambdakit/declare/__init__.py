"""Declarations: pure data describing an app. Nothing here calls AWS.

`Service`, which every app declares, is defined here rather than in `service.py` (which names it
too, with `UsagePlan`): every function's cold start imports this package anyway, and a module of
its own would cost each one ~0.1 ms to find and load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdakit.core import DeclarationError, check_name

if TYPE_CHECKING:
    from .cors import CORS
    from .service import UsagePlan


class Service:
    """`lk.Service`: the stack a package deploys as. Settings here are defaults; routes override them."""

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
