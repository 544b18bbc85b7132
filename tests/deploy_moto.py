"""moto's server on 127.0.0.1, with its CloudFormation change sets finished the way AWS behaves.

moto 5.2's `ExecuteChangeSet` creates the resources but then (its own TODO) neither records a
resource's events, nor computes the stack's outputs, nor rolls back: a resource that fails
raises out of the API call and leaves the stack `CREATE_IN_PROGRESS`. Deploy is written for
AWS, where execution is asynchronous and a failure is a `*_FAILED` event followed by a
rollback. `aws_like_change_sets` closes exactly those gaps (and makes `RetainExceptOnCreate`
keep a resource at stack deletion, as AWS does): the resources themselves are still moto's.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

_current = threading.local()


def _event(stack: Any, logical_id: str, kind: str, status: str, reason: str | None, physical: str = "") -> None:
    from moto.cloudformation.models import Event

    stack.events.append(Event(stack.stack_id, stack.name, logical_id, physical, kind, status, reason, None))


@contextmanager
def aws_like_change_sets() -> Iterator[None]:
    """Patch moto's CloudFormation for the duration: per-resource events, outputs, rollback on failure."""
    from moto.cloudformation import models, parsing

    patch = pytest.MonkeyPatch()
    create_resource = parsing.parse_and_create_resource
    update_resource = parsing.parse_and_update_resource
    execute = models.CloudFormationBackend.execute_change_set
    delete_all = parsing.ResourceMap.delete

    def recorded(original: Any, verb: str) -> Any:
        def run(logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            stack = getattr(_current, "stack", None)
            kind = str(resource_json.get("Type", ""))
            if stack is not None:
                _event(stack, logical_id, kind, f"{verb}_IN_PROGRESS", None)
            try:
                resource = original(logical_id, resource_json, *args, **kwargs)
            except Exception as exc:
                if stack is not None:
                    _event(stack, logical_id, kind, f"{verb}_FAILED", str(exc) or type(exc).__name__)
                raise
            if stack is not None:
                physical = str(getattr(resource, "physical_resource_id", "") or "")
                _event(stack, logical_id, kind, f"{verb}_COMPLETE", None, physical)
            return resource

        return run

    def execute_like_aws(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = next(
            (
                c
                for key, c in self.change_sets.items()
                if key == change_set_name or (c.change_set_name == change_set_name and c.stack_name == stack_name)
            ),
            None,
        )
        if change_set is None:
            return execute(self, change_set_name, stack_name)  # moto's own error
        stack = change_set.stack
        kind = change_set.change_set_type
        previous = stack.template
        _current.stack = stack
        try:
            execute(self, change_set_name, stack_name)
        except Exception:
            change_set.execution_status = "EXECUTE_FAILED"
            if kind == "CREATE":
                _event(
                    stack,
                    stack.name,
                    "AWS::CloudFormation::Stack",
                    "ROLLBACK_IN_PROGRESS",
                    "The following resource(s) failed to create",
                )
                _current.rolling_back = True
                try:
                    stack.resource_map.delete()
                finally:
                    _current.rolling_back = False
                stack.status = "ROLLBACK_COMPLETE"
            else:
                _event(
                    stack,
                    stack.name,
                    "AWS::CloudFormation::Stack",
                    "UPDATE_ROLLBACK_IN_PROGRESS",
                    "The following resource(s) failed to update",
                )
                _current.stack = None
                stack.resource_map.update(stack.parse_template(previous), stack.parameters)
                stack.template = previous
                stack.status = "UPDATE_ROLLBACK_COMPLETE"
            _event(stack, stack.name, "AWS::CloudFormation::Stack", stack.status, None)
            return None
        finally:
            _current.stack = None
        stack._parse_template()  # moto keeps the text of the new template, not its parsed form
        stack.output_map = stack._create_output_map()
        return None

    def delete_keeping_data(self: Any) -> None:
        if getattr(_current, "rolling_back", False):  # a failed first create: RetainExceptOnCreate goes too
            saved = self._resource_json_map
            self._resource_json_map = {
                key: {k: v for k, v in value.items() if value.get("DeletionPolicy") != "RetainExceptOnCreate"}
                for key, value in saved.items()
            }
        else:
            saved = self._resource_json_map
            self._resource_json_map = {
                key: {**value, "DeletionPolicy": "Retain"}
                if value.get("DeletionPolicy") == "RetainExceptOnCreate"
                else value
                for key, value in saved.items()
            }
        try:
            delete_all(self)
        finally:
            self._resource_json_map = saved

    patch.setattr(parsing, "parse_and_create_resource", recorded(create_resource, "CREATE"))
    patch.setattr(parsing, "parse_and_update_resource", recorded(update_resource, "UPDATE"))
    patch.setattr(models.CloudFormationBackend, "execute_change_set", execute_like_aws)
    patch.setattr(parsing.ResourceMap, "delete", delete_keeping_data)
    try:
        yield
    finally:
        patch.undo()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(region: str = "eu-west-1") -> Iterator[str]:
    """moto's server on a free loopback port, the environment pointing boto3 at it with fake credentials."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    url = f"http://127.0.0.1:{server._server.server_port}"  # type: ignore[union-attr]
    env = {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
    before = {key: os.environ.get(key) for key in (*env, "AWS_PROFILE")}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(env)
    try:
        with aws_like_change_sets():
            yield url
    finally:
        server.stop()
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
