"""The live corpus swap (assistant/corpus.py) on real stores: a view per generation, reference
counted; answers in flight finish on the generation they started on; a failed open keeps the old
view; a generation written by another process (`ally ingest`) is searched densely after the swap
(embedded Chroma caches its index per process, so each view has a Chroma client of its own)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ally.errors import StoreMismatchError
from ally.settings import Settings
from assistant.corpus import CorpusView, LiveCorpus, answer_corpus_version
from assistant.service import Assistant
from ingest.pipeline import ingest_paths
from ingest.store.manifest import MANIFEST, Manifest
from ingest.store.reader import open_reader

REPO = Path(__file__).resolve().parents[2]
EXTRA = "zorblatinib-phase-2.txt"
EXTRA_TEXT = (
    "Zorblatinib in relapsed B-cell acute lymphoblastic leukemia\n\n"
    "Zorblatinib is an investigational oral kinase inhibitor studied in adults with relapsed B-cell acute "
    "lymphoblastic leukemia. In the phase 2 study the recommended dose of zorblatinib was 120 mg once daily, "
    "and 41% of patients reached complete remission.\n"
)
QUESTION = "What dose of zorblatinib was recommended?"


@pytest.fixture()
def live(ingested_store: Path, tmp_path: Path) -> Iterator[tuple[Settings, Path]]:
    """A copy of the session's store (its own database) and of the corpus folder it was built from."""
    store, docs = tmp_path / "store", tmp_path / "docs"
    shutil.copytree(ingested_store, store)
    shutil.copytree(REPO / "corpus", docs)
    settings = Settings(store=store, database_url=f"sqlite:///{tmp_path / 'ally.sqlite3'}")
    yield settings, docs


def commit(settings: Settings, docs: Path, *, extra: bool) -> Manifest:
    """Add (or remove) the extra document and commit the corpus folder in this process."""
    path = docs / EXTRA
    if extra:
        path.write_text(EXTRA_TEXT, encoding="utf-8")
    else:
        path.unlink(missing_ok=True)
    report = ingest_paths([docs], settings, prune=True)
    assert report.failed == 0, report
    return Manifest.read(settings.store)


def extra_doc(manifest: Manifest) -> str:
    return next(d for d, e in manifest.documents.items() if e.meta.path.endswith(EXTRA))


def cited_docs(assistant: Assistant, question: str = QUESTION) -> set[str]:
    return {c.doc_id for c in assistant.ask(question).citations}


def test_a_view_closes_when_its_last_answer_leaves(live: tuple[Settings, Path]) -> None:
    settings, _ = live
    first = CorpusView(settings, open_reader(settings), None)
    corpus = LiveCorpus(settings, first, lambda: CorpusView(settings, open_reader(settings), None))
    with corpus.use() as held, corpus.use() as also:
        assert held is also is first and first.users == 3  # the live corpus's reference + two answers
        second = CorpusView(settings, open_reader(settings), None)
        corpus.swap(second)
        assert corpus.current is second and not first.closed, "answers in flight keep their view open"
        assert corpus.status().views_open == 2
        with corpus.use() as later:
            assert later is second, "an answer that starts after the swap reads the new view"
    assert first.closed and first.users == 0
    assert not second.closed and corpus.status().views_open == 1
    corpus.close()
    assert second.closed and corpus.status().views_open == 0


def test_in_flight_answer_finishes_on_the_old_generation(live: tuple[Settings, Path]) -> None:
    settings, docs = live
    with Assistant.open(settings) as assistant:
        assistant.warm()
        old_view = assistant.corpus.current
        old_version = assistant.corpus_version
        assert cited_docs(assistant) == set(), "no document mentions zorblatinib yet"

        entered, go_on = threading.Event(), threading.Event()
        real_retrieve = old_view.retriever.retrieve

        def held(query: str, k: int | None = None, vector=None):  # type: ignore[no-untyped-def]
            entered.set()
            assert go_on.wait(60)
            return real_retrieve(query, k, vector)

        old_view.retriever.retrieve = held  # type: ignore[method-assign]
        in_flight: dict[str, object] = {}
        worker = threading.Thread(target=lambda: in_flight.update(answer=assistant.ask(QUESTION)))
        worker.start()
        assert entered.wait(60)

        manifest = commit(settings, docs, extra=True)
        assert assistant.refresh_corpus() is True
        assert assistant.corpus_status().generation == manifest.generation
        new_version = answer_corpus_version(manifest.corpus_version, settings)
        assert assistant.corpus_version == new_version != old_version
        fresh = assistant.ask(QUESTION)  # starts after the swap: the new generation, the new document
        assert fresh.corpus_version == new_version and extra_doc(manifest) in {c.doc_id for c in fresh.citations}
        assert "120 mg" in fresh.answer
        assert not old_view.closed and assistant.corpus_status().views_open == 2

        go_on.set()
        worker.join(60)
        answer = in_flight["answer"]
        assert answer.corpus_version == old_version and not answer.citations  # type: ignore[attr-defined]
        assert old_view.closed, "the old generation closes when its last answer leaves"
        assert assistant.corpus_status().views_open == 1
        assert assistant.refresh_corpus() is False, "nothing new committed"


def _files(store: Path) -> set[Path]:
    return {p for p in store.rglob("*") if p.is_file() and "chroma" not in p.parts and p.suffix != ".sqlite3"}


def test_a_failed_open_keeps_the_old_view(live: tuple[Settings, Path], caplog: pytest.LogCaptureFixture) -> None:
    settings, docs = live
    with Assistant.open(settings) as assistant:
        assistant.warm()
        first = assistant.corpus_status()
        manifest_path = settings.store / MANIFEST
        good = manifest_path.read_text(encoding="utf-8")

        # 1. a manifest that cannot be read
        manifest_path.write_text(good[: len(good) // 2], encoding="utf-8")
        assert assistant.refresh_corpus() is False
        status = assistant.corpus_status()
        assert status.generation == first.generation and status.update_error
        assert "unreadable" in status.update_error and f"generation {first.generation}" in status.update_error
        assert any("store update not taken" in r.getMessage() for r in caplog.records)
        assert assistant.ask("What is blinatumomab approved for?").corpus_version == first.corpus_version

        # 2. a store rebuilt with other embedding or chunking settings
        raw = json.loads(good)
        raw["index_hash"] = "0" * 12
        manifest_path.write_text(json.dumps(raw), encoding="utf-8")
        assert assistant.refresh_corpus() is False
        assert "other embedding/chunking settings" in (assistant.corpus_status().update_error or "")
        with pytest.raises(StoreMismatchError):
            open_reader(settings)
        manifest_path.write_text(good, encoding="utf-8")
        assert assistant.refresh_corpus() is False and assistant.corpus_status().update_error is None

        # 3. a new generation whose files are damaged (those its commit wrote are gone)
        before = _files(settings.store)
        manifest = commit(settings, docs, extra=True)
        written = {p: p.read_bytes() for p in _files(settings.store) - before if p.name != MANIFEST}
        assert written, "a commit writes files beside the manifest"
        for path in written:
            path.unlink()
        assert assistant.refresh_corpus() is False
        assert "ally ingest corpus --store" in (assistant.corpus_status().update_error or "")
        assert assistant.corpus_status().generation == first.generation
        assert cited_docs(assistant) == set(), "still answering from the old generation"

        # 4. repaired: the same generation opens once the manifest is written again
        for path, data in written.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        tmp = manifest_path.with_suffix(".tmp")
        tmp.write_text(manifest_path.read_text(encoding="utf-8"), encoding="utf-8")
        os.replace(tmp, manifest_path)
        assert assistant.refresh_corpus() is True
        status = assistant.corpus_status()
        assert status.generation == manifest.generation and status.update_error is None
        assert extra_doc(manifest) in cited_docs(assistant)


@pytest.mark.slow
def test_vectors_written_by_another_process_are_searched_after_the_swap(live: tuple[Settings, Path]) -> None:
    settings, docs = live
    (docs / EXTRA).write_text(EXTRA_TEXT, encoding="utf-8")
    with Assistant.open(settings) as assistant:
        assistant.warm()
        old_retriever = assistant.retriever
        assert old_retriever.dense(QUESTION, 20)  # the index is loaded in this process
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALLY_")} | {
            "HF_HUB_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
        command = [sys.executable, "-m", "assistant.cli", "ingest", str(docs), "--store", str(settings.store)]
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        manifest = Manifest.read(settings.store)
        new_doc = extra_doc(manifest)
        started = time.monotonic()
        assistant.watch()
        settings_poll = settings.store_poll_s
        while assistant.corpus_status().generation != manifest.generation:
            assert time.monotonic() - started < 30 * settings_poll, "the watcher did not pick up the commit"
            time.sleep(0.05)
        dense = assistant.retriever.dense(QUESTION, 5)
        assert assistant.reader.chunk(dense[0][0]).doc_id == new_doc, "the new vectors are in the dense ranking"
        old_ids = {cid for cid, _ in old_retriever.dense(QUESTION, 20)}
        assert not any(cid in assistant.reader.chunks_by_id and assistant.reader.chunk(cid).doc_id == new_doc
                       for cid in old_ids), "the old generation never shows a chunk it does not have"  # fmt: skip
        answer = assistant.ask(QUESTION)
        assert new_doc in {c.doc_id for c in answer.citations} and "120 mg" in answer.answer
        assert assistant.corpus_status().watching


def test_the_chooser_reads_a_documents_passages_from_the_view(live: tuple[Settings, Path]) -> None:
    """A view gives its chooser the generation's passages of a document (a study's finding beside an
    aim retrieval alone returned), in document order, from its own reader."""
    settings, _ = live
    view = CorpusView(settings, open_reader(settings), None)
    try:
        doc = next(iter(view.reader.manifest.documents))
        assert view.chooser.siblings is not None
        passages = view.chooser.siblings(doc)
        assert [c.chunk_id for c in passages] == view.reader.manifest.documents[doc].chunk_ids
        assert view.chooser.siblings("no-such-document") == []
    finally:
        view.release()
