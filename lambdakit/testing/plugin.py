"""The pytest plugin (entry point `lambdakit` in `pytest11`): fixtures for testing lambdakit apps.

- `lk_aws`: moto, with every table, queue (and its dead-letter queue), stream
  and user pool declared by the lambdakit modules imported so far, created
  under their declared names, and the handles pointed at them.
- `lk_client`: `lk_client("shop")` builds a `lambdakit.testing.Client` on that
  backend and closes it after the test.

The IAM guard is installed when pytest loads the plugin, before test modules
import anything that creates boto3 clients; it checks calls only while a
function runs under the test client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from lambdakit.local import iam_guard

if TYPE_CHECKING:
    from lambdakit.local.backend import Backend
    from lambdakit.testing.client import Client

iam_guard.install()

_active: list[Backend] = []


def active_backend() -> Backend | None:
    """The backend of the running `lk_aws` fixture, if any (the test client shares it)."""
    return _active[-1] if _active else None


@pytest.fixture
def lk_aws(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """moto with the declared resources of every lambdakit module imported so far."""
    from lambdakit.declare.functions import REGISTRY, FunctionSpec
    from lambdakit.local.backend import Backend, declared, modules_near

    backend = Backend().start()
    try:
        # The test module's own declarations, and those of the functions it imports, come first: when two apps
        # imported in one session declare a table of the same name, the one this test uses is created.
        module = getattr(request, "module", None)
        own = [module] if module is not None else []
        own_specs = [s for m in own for v in vars(m).values() if isinstance(s := getattr(v, "__lambdakit__", None),
                                                                              FunctionSpec)]
        specs = own_specs + [s for s in REGISTRY if all(s is not o for o in own_specs)]
        backend.provision(declared(specs, own + modules_near(own_specs) + modules_near(specs)))
        _active.append(backend)
        yield backend
    finally:
        if backend in _active:
            _active.remove(backend)
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
