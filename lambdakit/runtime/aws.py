"""boto3 clients, created on first use (boto3 costs ~300 ms to import) and dropped on `reset()`."""

from __future__ import annotations

from typing import Any

_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is None:
        import boto3

        found = _clients[service] = boto3.client(service)
    return found


def resource(service: str) -> Any:
    key = service + ":resource"
    found = _clients.get(key)
    if found is None:
        import boto3

        found = _clients[key] = boto3.resource(service)
    return found


def reset() -> None:
    """Forget every client: the next call builds new ones (a new moto backend, new credentials)."""
    _clients.clear()
    from lambdakit.runtime import data

    data.forget_names()
