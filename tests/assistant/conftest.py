"""One Assistant over the session's ingested corpus (the model loads once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ally.settings import Settings
from assistant.service import Assistant


@pytest.fixture(scope="session")
def assistant(ingested_settings: Settings) -> Iterator[Assistant]:
    a = Assistant.open(ingested_settings)
    a.warm()
    yield a
    a.close()
