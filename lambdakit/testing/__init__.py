"""Testing lambdakit apps: the `lk_aws` and `lk_client` pytest fixtures (`lambdakit.testing.plugin`,
loaded automatically by pytest) and the in-process test `Client`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdakit.testing.client import Client, Result

__all__ = ["Client", "Result"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: the plugin module is imported by every pytest run, the client only when used.
    if name in __all__:
        from lambdakit.testing import client

        return getattr(client, name)
    raise AttributeError(name)
