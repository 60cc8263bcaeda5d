"""The load test's CI mode: 15 s, 8 concurrent clients, mixed ask/pathway/chat against a real
uvicorn on 127.0.0.1. The full mode (120 s, 32 clients) is documented in docs/RELIABILITY.md."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .load import run
from .record import OUT, record

pytestmark = [pytest.mark.slow, pytest.mark.allow_hosts(["127.0.0.1"])]


def test_short_load(ingested_store: Path, tmp_path: Path) -> None:
    duration = float(os.environ.get("RELIABILITY_LOAD_S", "15"))
    clients = int(os.environ.get("RELIABILITY_LOAD_CLIENTS", "8"))
    report = run(ingested_store, duration, clients, 0.10, tmp_path / "server.log")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load-short.json").write_text(__import__("json").dumps(report, indent=1) + "\n")
    assert report["errors"] == 0, report["error_samples"]
    assert report["requests"] >= clients * 2
    assert report["rss_mib"]["growth"] <= 0.10, report["rss_mib"]
    lat = report["latency_ms"]["all"]
    record("load", f"load test, short mode: {duration:.0f} s, {clients} clients, mixed ask/pathway/chat on loopback",
           report["requests"], f"0 errors; p50/p95/p99 {lat['p50']}/{lat['p95']}/{lat['p99']} ms; RSS "
           f"{report['rss_mib']['first']} -> {report['rss_mib']['last']} MiB", "test_load_short")  # fmt: skip
