"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from moto import mock_aws

from lambdakit.declare.app import App
from lambdakit.derive.plan import plan_of
from lambdakit.local.backend import Backend
from lambdakit.runtime import aws

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty in-memory AWS with fake credentials, and lambdakit's cached clients dropped on both sides."""
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LK_IDEMPOTENCY_TABLE", raising=False)
    with mock_aws():
        aws.reset()
        yield
    aws.reset()


@pytest.fixture
def provision(moto_env: None) -> Iterator[Callable[[App], Backend]]:
    """The product's local provisioning (`Backend.provision` of the app's plan) on the running moto."""
    made: list[Backend] = []

    def run(app: App) -> Backend:
        backend = Backend()
        backend.provision(plan_of(app))
        made.append(backend)
        return backend

    yield run
    for backend in made:
        backend.stop()


@pytest.fixture
def quiet() -> Iterator[None]:
    """Silence lambdakit's per-record failure warnings for tests that cause hundreds of failures on purpose."""
    from lambdakit.runtime.log import logger

    log = logger()
    level = log.log_level
    log.setLevel("ERROR")
    yield
    log.setLevel(level)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for a browser test module (which imports tests.browsers, so it is skipped without one)."""
    from tests.browsers import CHROMIUM, sync_playwright

    assert CHROMIUM is not None
    with sync_playwright() as playwright:
        # --no-sandbox: Chromium's sandbox needs user namespaces, which containers (and root) rarely have.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()
