"""Crash safety: `ally ingest` killed with SIGKILL at random points, and inside the steps of an
incremental commit (while the new segment is written, while the manifest is replaced), leaves a
store that opens, with every document wholly its old or wholly its new version, and the next run
completes the work."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from ally.settings import Settings
from ingest.store import open_reader

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
ALLY = [sys.executable, "-m", "assistant.cli"]


def run_ingest(corpus: Path, store: Path, kill_after: float | None = None) -> int | None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*ALLY, "ingest", str(corpus), "--store", str(store), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if kill_after is None:
        return proc.wait(timeout=300)
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return None


def state(store: Path) -> dict[str, set[str]]:
    with open_reader(Settings(store=store)) as reader:
        docs = {d: set(e.chunk_ids) for d, e in reader.manifest.documents.items()}
        ids = set(reader.chunks_by_id)
        assert ids == set().union(*docs.values())
        assert set(reader.bm25.ids) == ids
        vectors = set(reader.collection.get(ids=sorted(ids), include=[])["ids"])
        assert vectors == ids, "Chroma must hold a vector for every committed chunk"
    return docs


@pytest.mark.slow
def test_sigkill_at_random_points(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    store = tmp_path / "store"
    assert run_ingest(corpus, store) == 0
    old = state(store)
    # Version B of two documents.
    for name in ("ma-2024-all-year-in-review.txt", "schistosite-all-2025.txt"):
        f = corpus / name
        f.write_text(f.read_text().replace("ALL", "ALL ").replace("  ", " "))
    reference = tmp_path / "reference"
    assert run_ingest(corpus, reference) == 0
    new = state(reference)
    rng = random.Random(20261121)
    for delay in sorted(rng.uniform(0.3, 9.0) for _ in range(6)):
        run_ingest(corpus, store, kill_after=delay)
        now = state(store)  # opens and is consistent
        for doc_id, ids in now.items():
            assert ids in (old[doc_id], new[doc_id]), f"{doc_id} mixes versions after kill at {delay:.1f}s"
        # put version A back half of the time so later kills interrupt a real update again
        if now == new:
            old = new
    assert run_ingest(corpus, store) == 0
    assert state(store) == new
    report = subprocess.run(
        [*ALLY, "ingest", str(corpus), "--store", str(store), "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(report.stdout)["embedded"] == 0


def kill_when(corpus: Path, store: Path, appears: Callable[[], bool], limit_s: float = 300.0) -> bool:
    """Run `ally ingest` and SIGKILL it the moment `appears()` turns true (polled every 0.2 ms);
    False when the run ended first."""
    proc = subprocess.Popen(
        [*ALLY, "ingest", str(corpus), "--store", str(store), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + limit_s
    while proc.poll() is None and time.monotonic() < deadline:
        if appears():
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.0002)
    proc.wait(timeout=30)
    return False


@pytest.mark.slow
def test_sigkill_inside_the_incremental_commit(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    base = tmp_path / "base"
    assert run_ingest(corpus, base) == 0
    old = state(base)
    target = corpus / "li-2025-car-t-in-all.txt"
    original = target.read_text()
    target.write_text(original.replace("CAR-T", "CAR T"))
    reference = tmp_path / "reference"
    assert run_ingest(corpus, reference) == 0
    new = state(reference)
    assert old != new

    def segment_being_written(store: Path) -> Callable[[], bool]:
        return lambda: any(p.name.startswith(".") for p in (store / "segments").iterdir())

    def manifest_being_replaced(store: Path) -> Callable[[], bool]:
        return lambda: any(store.glob(".manifest.json.*.tmp"))

    hits = Counter[str]()
    for name, when in (("segment", segment_being_written), ("manifest", manifest_being_replaced)):
        for attempt in range(4):
            store = tmp_path / f"{name}-{attempt}"
            shutil.copytree(base, store)
            hit = kill_when(corpus, store, when(store))
            hits[name] += hit
            now = state(store)  # opens and is consistent
            assert now in (old, new), f"a kill inside the {name} step mixes versions"
            assert run_ingest(corpus, store) == 0
            assert state(store) == new
            if hits[name] >= 2:
                break
    assert hits["segment"] and hits["manifest"], f"the kills landed inside the commit: {dict(hits)}"
