"""The pytest plugin (entry point `lambdakit` in `pytest11`): fixtures for testing lambdakit apps.

- `lk_aws`: moto, with every table, queue (and its dead-letter queue), stream
  and user pool declared by the lambdakit modules imported so far, created
  under their declared names, and the handles pointed at them.
- `lk_client`: `lk_client("shop")` builds a `lambdakit.testing.Client` on that
  backend and closes it after the test.

Importing the plugin changes nothing: the fixtures start moto and the local
IAM check (botocore hooks) when a test asks for them, and remove both after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from lambdakit.testing.imported import activate, active_backend, deactivate

if TYPE_CHECKING:
    from lambdakit.local.backend import Backend
    from lambdakit.testing.client import Client

__all__ = ["active_backend", "lk_aws", "lk_client"]


@pytest.fixture
def lk_aws(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """moto with the declared resources of every lambdakit module imported so far."""
    from lambdakit.local.backend import Backend
    from lambdakit.testing.imported import imported_plan

    backend = Backend().start()
    try:
        # The test module's own declarations come first: when two apps imported in one session declare a
        # table of the same name, the one this test uses is created.
        module = getattr(request, "module", None)
        backend.provision(imported_plan([module] if module is not None else []))
        activate(backend)
        yield backend
    finally:
        deactivate(backend)
        backend.stop()


@pytest.fixture
def lk_client(lk_aws: Backend) -> Iterator[Callable[..., Client]]:
    """A factory: `lk_client("package")` -> a test client on the `lk_aws` backend, closed after the test."""
    from lambdakit.testing.client import Client

    made: list[Client] = []

    def make(target: Any) -> Client:
        client = Client(target, backend=lk_aws)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
