"""Ingest faults: SIGKILL inside each phase of an incremental re-ingest (embedding, the segment write,
with and without a merge, the journal of dropped vectors, the manifest, garbage collection), ingest
while the API serves, a second writer, and damaged or missing store files."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from ally.errors import StoreError, StoreNotFoundError
from ally.settings import Settings
from ingest.store import open_reader
from ingest.store.writer import JOURNAL

from .record import record
from .server import ally_server

pytestmark = [pytest.mark.slow, pytest.mark.allow_hosts(["127.0.0.1"])]
REPO = Path(__file__).resolve().parents[2]
DRIVER = [sys.executable, "-m", "tests.reliability.ingest_driver"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
WORDS = [
    "induction",
    "consolidation",
    "maintenance",
    "blinatumomab",
    "inotuzumab",
    "ponatinib",
    "dasatinib",
    "MRD",
    "remission",
    "relapse",
]


def synthetic_corpus(folder: Path, docs: int, version: str, changed: set[int]) -> None:
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(docs):
        paras = []
        for p in range(6):
            words = " ".join(rng.choice(WORDS) for _ in range(40))
            tag = version if d in changed else "A"
            paras.append(f"Section {p} of document {d} version {tag}. {words}.")
        (folder / f"doc-{d:02d}.txt").write_text(f"Document {d}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


def driver(corpus: Path, store: Path, delay: float = 0.0, merge: bool = False) -> subprocess.Popen[str]:
    extra = ["merge"] if merge else []
    return subprocess.Popen([*DRIVER, str(corpus), str(store), str(delay), *extra], cwd=REPO, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def run_to_end(corpus: Path, store: Path, merge: bool = False) -> dict[str, object]:
    proc = driver(corpus, store, delay=0.0, merge=merge)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def kill_in(proc: subprocess.Popen[str], wanted: str, extra: float) -> bool:
    """Read phases until `wanted`, then SIGKILL after `extra` seconds; False if the run ended first."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == f"PHASE {wanted}":
            time.sleep(extra)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
    proc.wait(timeout=30)
    return False


def state(store: Path) -> dict[str, set[str]]:
    """Open the store and check that manifest, chunk records, BM25 and Chroma agree, and that every
    vector no document references is in the journal (the next commit collects it)."""
    with open_reader(Settings(store=store)) as reader:
        docs = {d: set(e.chunk_ids) for d, e in reader.manifest.documents.items()}
        ids = set(reader.chunks_by_id)
        assert ids == set().union(*docs.values())
        assert set(reader.bm25.ids) == ids
        assert {c.chunk_id for c in reader.chunks_by_id.values()} == ids  # every record reads
        assert set(reader.collection.get(ids=sorted(ids), include=[])["ids"]) == ids
        orphans = set(reader.collection.get(include=[])["ids"]) - ids
        journal = store / JOURNAL
        assert orphans <= set(journal.read_text().split() if journal.exists() else []), "untracked vectors"
    return docs


def test_sigkill_in_every_phase(tmp_path: Path) -> None:
    n_docs, changed = 24, set(range(0, 24, 2))
    work, ref = tmp_path / "work", tmp_path / "ref"
    synthetic_corpus(work, n_docs, "B", changed)
    run_to_end(work, ref)
    new = state(ref)
    rng = random.Random(20261121)
    plan = [("embedding", rng.uniform(0.0, 1.2), False) for _ in range(4)]
    plan += [("segment", rng.uniform(0.0, 0.12), False), ("segment", rng.uniform(0.0, 0.12), True)]  # True: a merge
    plan += [(p, rng.uniform(0.0, 0.08), False) for p in ("journal", "manifest", "gc")]
    kills, mixed_states = 0, 0
    for i, (phase, extra, merging) in enumerate(plan):
        store = tmp_path / f"s{i}"
        synthetic_corpus(work, n_docs, "A", set())  # version A of every document
        run_to_end(work, store)
        before = state(store)
        assert sum(before[d] != new[d] for d in before) == len(changed)
        synthetic_corpus(work, n_docs, "B", changed)  # half the documents change
        kills += kill_in(driver(work, store, delay=0.02, merge=merging), phase, extra)
        now = state(store)  # opens, and manifest, chunks, BM25 and Chroma agree
        for doc_id, ids in now.items():
            assert ids in (before[doc_id], new[doc_id]), f"{doc_id} mixes versions after a kill in {phase}"
        mixed_states += now != before and now != new
        report = run_to_end(work, store, merge=merging)
        assert state(store) == new, f"the re-run after a kill in {phase} must complete the work"
        segments = json.loads((store / "manifest.json").read_text())["segments"]
        assert len(segments) == (1 if merging else 2), segments  # merged, or the first one and the change
        assert report["failed"] == 0
    assert kills == len(plan)
    assert mixed_states == 0, "a commit is all or nothing: the store is wholly the old or wholly the new state"
    record("faults", "SIGKILL of the real ingest pipeline (slow encoder, 24 documents, 12 changed) inside "
           "embedding (4 random points), the incremental commit's segment write (plain and merging), the "
           "journal of dropped vectors, the manifest replace and garbage collection", len(plan),
           "store opens; every document wholly old or wholly new; manifest, segments, BM25 and Chroma agree; "
           "no untracked vector; re-run completes", "test_ingest_faults")  # fmt: skip


def ask(base: str, question: str) -> int:
    body = json.dumps({"question": question}).encode()
    req = urllib.request.Request(base + "/v1/ask", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as response:
        return int(response.status)


def test_ingest_while_serving_and_a_second_writer(ingested_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "served"
    shutil.copytree(ingested_store, store)
    corpus = tmp_path / "more"
    synthetic_corpus(corpus, 12, "A", set())
    statuses: list[int] = []
    errors: list[str] = []
    stop = threading.Event()
    with ally_server(store, tmp_path / "server.log") as base:

        def reader() -> None:
            while not stop.is_set():
                try:
                    statuses.append(ask(base, "What is blinatumomab approved for?"))
                except Exception as exc:
                    errors.append(repr(exc))

        thread = threading.Thread(target=reader)
        thread.start()
        writer = driver(corpus, store, delay=0.05)
        assert writer.stdout is not None
        for line in writer.stdout:
            if line.strip() == "PHASE embedding":
                break
        second = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(corpus), "--store", str(store)],
                                cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120)  # fmt: skip
        during = len(statuses)
        _out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err[-2000:]
        time.sleep(1.0)
        stop.set()
        thread.join(timeout=60)
        assert ask(base, "What is the role of MRD in ALL?") == 200
    assert second.returncode == 3, second.stderr
    assert "another process is writing to the store" in second.stderr and "wait for it to finish" in second.stderr
    assert not errors and set(statuses) == {200}, (errors[:3], set(statuses))
    assert during >= 1 and len(statuses) > during, "reads were answered during and after the re-ingest"
    docs = state(store)
    assert len(docs) == 5 + 12
    record("faults", "re-ingest (12 new documents) while `ally serve` answers /v1/ask in a loop; a second "
           "`ally ingest` started mid-embedding", len(statuses) + 1, f"{len(statuses)} reads all 200 during and after; "
           "second writer exit 3 'another process is writing…'; store consistent", "test_ingest_faults")  # fmt: skip


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damage(store: Path, how: str) -> None:
    manifest = json.loads((store / "manifest.json").read_text())
    seg = store / "segments" / manifest["segments"][0]
    actions: dict[str, Callable[[], object]] = {
        "manifest missing": (store / "manifest.json").unlink,
        "manifest garbage": lambda: (store / "manifest.json").write_bytes(b"\x00{not json"),
        "manifest truncated": lambda: (store / "manifest.json").write_text(json.dumps(manifest)[:200]),
        "manifest wrong format": lambda: (store / "manifest.json").write_text(json.dumps({"format": 99})),
        "segment folder missing": lambda: shutil.rmtree(seg),
        "chunk records truncated": lambda: _truncate(seg / "records.jsonl"),
        "chunk records garbage": lambda: (seg / "records.jsonl").write_bytes(b"\xff\xfe garbage\n"),
        "term counts missing": (seg / "rows.npy").unlink,
        "term counts truncated": lambda: _truncate(seg / "tf.npy"),
        "segment metadata garbage": lambda: (seg / "meta.json").write_bytes(b'{"format": 1, "ids": ['),
        "chroma folder missing": lambda: shutil.rmtree(store / "chroma"),
        "chroma database garbage": lambda: (store / "chroma" / "chroma.sqlite3").write_bytes(b"not a database" * 100),
    }
    actions[how]()


DAMAGE = [
    "manifest missing", "manifest garbage", "manifest truncated", "manifest wrong format", "segment folder missing",
    "chunk records truncated", "chunk records garbage", "term counts missing", "term counts truncated",
    "segment metadata garbage", "chroma folder missing", "chroma database garbage",
]  # fmt: skip


def test_damaged_store_files_name_the_repair(ingested_store: Path, tmp_path: Path) -> None:
    from assistant.service import Assistant

    for i, how in enumerate(DAMAGE):
        store = tmp_path / f"d{i}"
        shutil.copytree(ingested_store, store)
        _damage(store, how)
        with pytest.raises(StoreError) as exc, Assistant.open(Settings(store=store)) as assistant:
            assistant.warm()
            assistant.ask("What is blinatumomab approved for?")
        message = str(exc.value)
        assert f"ally ingest corpus --store {store}" in message, (how, message)
        if how == "manifest missing":
            assert isinstance(exc.value, StoreNotFoundError)
    cli = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "dose?", "--store", str(tmp_path / "d5")],
                         cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert cli.returncode == 3 and "ally ingest corpus --store" in cli.stderr and "Traceback" not in cli.stderr
    record(
        "faults",
        "damaged or missing store files: " + ", ".join(DAMAGE),
        len(DAMAGE),
        "StoreError (CLI exit 3) naming the file and the repair command",
        "test_ingest_faults",
    )
