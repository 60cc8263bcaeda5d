"""Shared fixtures: offline mode for every test, and one store built from corpus/ per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ally.runtime import enforce_offline

enforce_offline()

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


@pytest.fixture(autouse=True)
def _clean_ally_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ALLY_* variable from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("ALLY_"):
            monkeypatch.delenv(key, raising=False)
    yield


@pytest.fixture(scope="session")
def ingested_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store folder built once per session from the real corpus (loads the embedding model)."""
    from ally.settings import Settings
    from ingest.pipeline import ingest_paths

    store = tmp_path_factory.mktemp("store")
    report = ingest_paths([CORPUS], Settings(store=store))
    assert report.failed == 0 and report.added == 5, report
    return store


@pytest.fixture(scope="session")
def ingested_settings(ingested_store: Path):  # type: ignore[no-untyped-def]
    """Settings whose store holds the ingested corpus."""
    from ally.settings import Settings

    return Settings(store=ingested_store)
