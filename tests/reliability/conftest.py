"""Fixtures of the reliability tests: a counting hypothesis profile, the real assistant over the
session store, and a real `ally serve` (uvicorn) on 127.0.0.1 with its log captured."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ally.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "assistant.cli", "serve"]

# Bounded: enough examples to find the classic crashes, small enough for a 2-core CI machine.
settings.register_profile(
    "reliability",
    max_examples=int(os.environ.get("RELIABILITY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    derandomize=True,
)


@pytest.fixture(scope="session")
def real_assistant(ingested_settings: Settings) -> Iterator[object]:
    from assistant.service import Assistant

    with Assistant.open(ingested_settings) as assistant:
        assistant.warm()
        yield assistant
