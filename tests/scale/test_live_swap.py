"""Live corpus swap end to end: a real `ally serve` (uvicorn subprocess) on 127.0.0.1 answers a few
loopback clients while `ally ingest` commits new store generations (adding and removing one small
document, so two corpus versions alternate). Every request succeeds, answers switch to each new
corpus version once the server has picked it up, the old generation is closed, and the server's
memory comes back to its baseline. The second test runs the same swap on `--workers 2` over a
`chroma run` server (ALLY_CHROMA_URL) and PostgreSQL (ALLY_DATABASE_URL)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from ally.settings import Settings
from assistant.corpus import answer_corpus_version
from ingest.pipeline import ingest_paths
from ingest.store.manifest import Manifest

from .conftest import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXTRA = "zorblatinib-phase-2.txt"
EXTRA_TEXT = (
    "Zorblatinib in relapsed B-cell acute lymphoblastic leukemia\n\n"
    "Zorblatinib is an investigational oral kinase inhibitor studied in adults with relapsed B-cell acute "
    "lymphoblastic leukemia. In the phase 2 study the recommended dose of zorblatinib was 120 mg once daily, "
    "and 41% of patients reached complete remission.\n"
)
NEW_QUESTION = "What dose of zorblatinib was recommended?"
QUESTIONS = [
    NEW_QUESTION,
    "What is blinatumomab approved for?",
    "Which therapies are approved for relapsed or refractory B-ALL?",
    "What is the dose of nelarabine?",
]
BASE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "PYTHONUNBUFFERED": "1",
    "ALLY_RATE_LIMIT_PER_MINUTE": "100000000",
    "ALLY_STORE_POLL_S": "0.2",
}


def env_with(extra: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ALLY_")} | BASE_ENV | extra


@contextmanager
def serving(store: Path, log: Path, env: dict[str, str], workers: int = 1) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    command = [sys.executable, "-m", "assistant.cli", "serve", "--store", str(store), "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
            yield base, psutil.Process(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@dataclass
class Load:
    """A few loopback clients asking in a loop until stopped; every response is recorded."""

    base: str
    clients: int = 3
    pause_s: float = 0.03
    results: list[tuple[float, int, str, bool]] = field(default_factory=list)  # start, status, version, cites new
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _client(self, i: int) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            n = i
            while not self.stop.is_set():
                question = QUESTIONS[n % len(QUESTIONS)]
                n += 1
                started = time.monotonic()
                try:
                    r = client.post("/v1/ask", json={"question": question})
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                if r.status_code != 200:
                    with self.lock:
                        self.errors.append(f"{r.status_code}: {r.text[:300]}")
                    continue
                body = r.json()
                new = any(c["doc_id"].startswith("zorblatinib") for c in body["citations"])
                with self.lock:
                    self.results.append((started, r.status_code, body["corpus_version"], new))
                time.sleep(self.pause_s)

    @contextmanager
    def running(self) -> Iterator[Load]:
        threads = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(self.clients)]
        for t in threads:
            t.start()
        try:
            yield self
        finally:
            self.stop.set()
            for t in threads:
                t.join(60)


def ingest(docs: Path, store: Path, env: dict[str, str], *, extra: bool) -> Manifest:
    """One commit by a real `ally ingest` process: add or remove the extra document."""
    if extra:
        (docs / EXTRA).write_text(EXTRA_TEXT, encoding="utf-8")
    else:
        (docs / EXTRA).unlink(missing_ok=True)
    command = [sys.executable, "-m", "assistant.cli", "ingest", str(docs), "--store", str(store), "--prune", "--json"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return Manifest.read(store)


def wait_generation(base: str, generation: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        ready = httpx.get(f"{base}/readyz", timeout=10).json()
        if ready["generation"] == generation:
            return ready
        assert time.monotonic() < deadline, f"generation {generation} not picked up: {ready}"
        time.sleep(0.05)


def rss_mb(process: psutil.Process) -> float:
    procs = [process, *process.children(recursive=True)]
    return sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20


def commit_and_check(
    base: str, docs: Path, store: Path, env: dict[str, str], load: Load, commits: int
) -> list[tuple[float, float, str]]:
    """`commits` commits under load; each one must be picked up and answered from. Returns, per
    commit, (commit started, swap seen, expected corpus version)."""
    settings = Settings(store=store)
    windows: list[tuple[float, float, str]] = []
    for i in range(commits):
        extra = i % 2 == 0
        started = time.monotonic()
        manifest = ingest(docs, store, env, extra=extra)
        expected = answer_corpus_version(manifest.corpus_version, settings)
        ready = wait_generation(base, manifest.generation)
        assert ready["corpus_version"] == expected and ready["update_error"] is None, ready
        windows.append((started, time.monotonic(), expected))
        answer = httpx.post(f"{base}/v1/ask", json={"question": NEW_QUESTION}, timeout=60).json()
        assert answer["corpus_version"] == expected
        cites_new = any(c["doc_id"].startswith("zorblatinib") for c in answer["citations"])
        assert cites_new == extra, (i, answer["answer"])
        if extra:
            assert "120 mg" in answer["answer"]
    return windows


def check_answers_followed_the_swaps(load: Load, windows: list[tuple[float, float, str]]) -> None:
    """An answer that started after a swap was seen, and before the next commit began, carries
    that generation's corpus version (no request can see a generation not yet committed)."""
    assert not load.errors, load.errors[:5]
    bounds = [*(w[0] for w in windows[1:]), float("inf")]
    for (_, seen, expected), next_commit in zip(windows, bounds, strict=True):
        during = [r for r in load.results if seen <= r[0] < next_commit]
        assert all(r[2] == expected for r in during), {r[2] for r in during}
    assert len({r[2] for r in load.results}) >= 2, "the clients were answered from both corpus versions"


def test_serve_swaps_generations_under_load(ingested_store: Path, tmp_path: Path) -> None:
    store, docs = tmp_path / "store", tmp_path / "docs"
    shutil.copytree(ingested_store, store)
    shutil.copytree(REPO / "corpus", docs)
    env = env_with({})
    log = tmp_path / "server.log"
    with serving(store, log, env) as (base, process):
        with Load(base).running() as load:
            deadline = time.monotonic() + 30
            while len(load.results) < 60:  # warm: every question's passages seen, caches filled
                assert time.monotonic() < deadline and not load.errors, load.errors[:3]
                time.sleep(0.1)
            baseline = rss_mb(process)
            windows = commit_and_check(base, docs, store, env, load, commits=10)
            time.sleep(1.0)
        check_answers_followed_the_swaps(load, windows)
        assert len(load.results) > 200, len(load.results)
        ready = httpx.get(f"{base}/readyz", timeout=10).json()
        assert ready["views_open"] == 1, "every old generation was closed"
        after = rss_mb(process)
    print(
        f"live swap: {len(load.results)} answers, 0 failed, RSS {baseline:.0f} MB before 10 commits, {after:.0f} after"
    )
    logged = log.read_text()
    assert len(re.findall(r"store generation \d+ is now answering", logged)) == 10
    assert "Traceback" not in logged, logged[-3000:]
    assert after <= baseline + 100, f"RSS {baseline:.0f} MB before the commits, {after:.0f} MB after"


def test_two_workers_swap_over_chroma_server_and_postgres(
    ingested_store: Path, tmp_path: Path, chroma_url: str, postgres_url: str
) -> None:
    store, docs = tmp_path / "store", tmp_path / "docs"
    shutil.copytree(REPO / "corpus", docs)
    settings = Settings(store=store, chroma_url=chroma_url)
    assert ingest_paths([docs], settings).failed == 0  # vectors on the Chroma server
    env = env_with({"ALLY_CHROMA_URL": chroma_url, "ALLY_DATABASE_URL": postgres_url})
    log = tmp_path / "server.log"
    with serving(store, log, env, workers=2) as (base, _process):
        with Load(base, clients=4).running() as load:
            deadline = time.monotonic() + 60
            while len(load.results) < 40:
                assert time.monotonic() < deadline and not load.errors, load.errors[:3]
                time.sleep(0.1)
            windows, generations = [], []
            for i in range(3):
                extra = i % 2 == 0
                started = time.monotonic()
                manifest = ingest(docs, store, env, extra=extra)
                generations.append(manifest.generation)
                expected = answer_corpus_version(manifest.corpus_version, settings)
                # both workers: /readyz is answered by either, so ask until 30 in a row agree
                deadline, agreed = time.monotonic() + 60, 0
                while agreed < 30:
                    assert time.monotonic() < deadline, "a worker did not pick up the commit"
                    r = httpx.get(f"{base}/readyz", timeout=10).json()
                    agreed = agreed + 1 if r["corpus_version"] == expected else 0
                windows.append((started, time.monotonic(), expected))
                answer = httpx.post(f"{base}/v1/ask", json={"question": NEW_QUESTION}, timeout=60).json()
                assert answer["corpus_version"] == expected
                assert any(c["doc_id"].startswith("zorblatinib") for c in answer["citations"]) == extra
        check_answers_followed_the_swaps(load, windows)
    logged = log.read_text()
    for generation in generations:
        pids = set(re.findall(rf"\[(\d+)\] ally\.corpus: store generation {generation} is now answering", logged))
        assert len(pids) == 2, f"generation {generation} swapped in by {pids} (both workers expected)"
    assert "Traceback" not in logged, logged[-3000:]
