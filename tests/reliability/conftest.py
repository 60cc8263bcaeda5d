"""Shared settings of the reliability tests: the bounded hypothesis profile `reliability`.

The session store comes from tests/conftest.py (`ingested_store`, `ingested_settings`); a real
`ally serve` is started by `tests/reliability/server.py`."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Bounded: enough examples to find the classic crashes, small enough for a 2-core CI machine.
settings.register_profile(
    "reliability",
    max_examples=int(os.environ.get("RELIABILITY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    derandomize=True,
)
