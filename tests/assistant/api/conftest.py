"""Fixtures for the API tests: settings on a temporary store path, the fake assistant, clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ally.settings import Settings
from assistant.api.app import create_app
from tests.fakes import FakeAssistant

ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        return Settings(store=tmp_path / "store", **overrides)

    return build


@pytest.fixture
def fake(make_settings: Callable[..., Settings]) -> FakeAssistant:
    return FakeAssistant(settings=make_settings())


@pytest.fixture
def make_client(make_settings: Callable[..., Settings]) -> Iterator[ClientFactory]:
    """Build a TestClient (lifespan running) over a fresh fake with the given settings overrides."""
    opened: list[TestClient] = []

    def build(
        fake: FakeAssistant | None = None, client: tuple[str, int] = ("127.0.0.1", 50000), **overrides: Any
    ) -> TestClient:
        settings = make_settings(**overrides)
        core = fake if fake is not None else FakeAssistant(settings=settings)
        tc = TestClient(create_app(settings, core), client=client)
        tc.__enter__()
        opened.append(tc)
        return tc

    yield build
    for tc in opened:
        tc.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory, fake: FakeAssistant) -> TestClient:
    return make_client(fake)
