"""`lk.ABTest`, `lk.Rollout`, `lk.Failover`: what a `lk.Frontend` asks of the edge, as plain data.

Each says what, not how: lambdakit picks the primitive (`lambdakit.derive.routing`: one
CloudFront Function and a KeyValueStore; `lambdakit.derive.failover`: a replica bucket and an
origin group). What only the file system or the stage can tell (a variant folder holds
`index.html`, the failover region differs from the stack's) is checked at build and deploy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lambdakit.core import Record
from lambdakit.core.names import DeclarationError

#: A cookie name (RFC 6265 token) short enough to leave room for its value.
_COOKIE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: An AWS region name: `us-west-2`, `eu-central-1`, `ap-southeast-4`, `us-gov-west-1`.
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
#: The CloudFront Function holding the weights must stay under 10 KB: far more variants than anyone tests.
MAX_VARIANTS = 20


def _cookie(where: str, name: object) -> str:
    if not isinstance(name, str) or not _COOKIE.match(name):
        raise DeclarationError(f"{where}: cookie={name!r}; give a cookie name of letters, digits, '-' and '_'")
    return name


class ABTest(Record):
    """Variants of the site by weight, each its own built folder, sticky per visitor (a cookie).

    `variants` maps a folder (relative to the module that declares the site, like `lk.Frontend`'s)
    to its share of new visitors in percent: whole numbers, each at least 1, summing to 100.
    """

    __match_args__ = ("variants", "cookie")
    __slots__ = __match_args__
    variants: tuple[tuple[str, int], ...]
    cookie: str

    def __init__(self, variants: Mapping[str, int], *, cookie: str = "lk-variant") -> None:
        where = "lk.ABTest"
        if not isinstance(variants, Mapping) or len(variants) < 2:
            raise DeclarationError(f"{where}: give at least two variants, e.g. {{'web/dist': 90, 'web/dist-b': 10}}")
        if len(variants) > MAX_VARIANTS:
            raise DeclarationError(f"{where}: {len(variants)} variants; at most {MAX_VARIANTS}")
        pairs = []
        for folder, weight in variants.items():
            if not isinstance(folder, str) or not folder.strip() or folder.startswith("/"):
                raise DeclarationError(f"{where}: {folder!r} is not a folder relative to the declaring module")
            if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
                raise DeclarationError(f"{where}: {folder!r}: {weight!r}; a weight is a whole percent, at least 1")
            pairs.append((folder, weight))
        total = sum(weight for _, weight in pairs)
        if total != 100:
            raise DeclarationError(f"{where}: the weights sum to {total}; they are percents and must sum to 100")
        names = [variant_name(folder) for folder, _ in pairs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise DeclarationError(
                f"{where}: folders {', '.join(f for f, _ in pairs if variant_name(f) in twice)} share the variant "
                f"name {twice[0]!r}; give folders whose paths differ in letters or digits"
            )
        self._set("variants", tuple(pairs))
        self._set("cookie", _cookie(where, cookie))

    @property
    def names(self) -> tuple[str, ...]:
        """Each variant's name: its prefix in the bucket and its cookie value (`web/dist-b` -> `web-dist-b`)."""
        return tuple(variant_name(folder) for folder, _ in self.variants)


def variant_name(folder: str) -> str:
    """A folder as a name a URL path and a cookie both take: lower case, `-` between words."""
    return re.sub(r"[^a-z0-9]+", "-", folder.lower()).strip("-") or "root"


class Rollout(Record):
    """Each deploy's build becomes a release; a new one reaches `percent` of visitors until promoted.

    Visitors keep their side (a cookie holds their draw); `lambdakit promote` makes the new release
    everyone's, `lambdakit rollback` sends everyone back to the previous one.
    """

    __match_args__ = ("percent", "cookie")
    __slots__ = __match_args__
    percent: int
    cookie: str

    def __init__(self, percent: int = 10, *, cookie: str = "lk-release") -> None:
        where = "lk.Rollout"
        if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 99:
            raise DeclarationError(
                f"{where}: percent={percent!r}; give a whole percent from 1 to 99 (100 is a plain deploy)"
            )
        self._set("percent", percent)
        self._set("cookie", _cookie(where, cookie))


class Failover(Record):
    """A replica of the site in `region`, served when the primary bucket answers 5xx or does not answer."""

    __match_args__ = ("region",)
    __slots__ = __match_args__
    region: str

    def __init__(self, region: str) -> None:
        if not isinstance(region, str) or not REGION.match(region):
            raise DeclarationError(f"lk.Failover: region={region!r} is not an AWS region name (e.g. 'us-west-2')")
        self._set("region", region)
