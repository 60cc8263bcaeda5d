"""A real `ally serve` (uvicorn) subprocess on 127.0.0.1 for the reliability tests and the load test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.assistant.api.browser import free_port, running_server


@contextmanager
def ally_server(store: Path, log: Path, *, log_level: str = "info", env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve `store` on a free loopback port; yields the base URL; the combined output goes to `log`."""
    port = free_port()
    command = [sys.executable, "-m", "assistant.cli", "serve", "--store", str(store), "--host", "127.0.0.1",
               "--port", str(port), "--log-level", log_level]  # fmt: skip
    base_env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                "PYTHONUNBUFFERED": "1", "ALLY_RATE_LIMIT_PER_MINUTE": "1000000"}  # fmt: skip
    with running_server(command, port, base_env | (env or {}), log) as base:
        yield base
