"""boto3 clients, created on first use (boto3 costs ~300 ms to import) and dropped on `reset()`."""

from __future__ import annotations

from typing import Any, cast

_clients: dict[str, Any] = {}
# boto3-stubs overload `client`/`resource` per Literal service name; these take a name given at run time (cast).


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is None:
        import boto3

        found = _clients[service] = cast(Any, boto3).client(service)
    return found


def resource(service: str) -> Any:
    key = service + ":resource"
    found = _clients.get(key)
    if found is None:
        import boto3

        found = _clients[key] = cast(Any, boto3).resource(service)
    return found


def reset() -> None:
    """Forget every client: the next call builds new ones (a new moto backend, new credentials)."""
    _clients.clear()
    from lambdakit.runtime import data

    data.forget_names()
