"""Ingest pipeline and store: idempotence, incremental updates, prune, bad files, locking, mismatches."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from ally.errors import StoreLockedError, StoreMismatchError, StoreNotFoundError
from ally.settings import Settings
from ally.units import unit_parts
from ingest.pipeline import ingest_paths
from ingest.store import open_reader, open_writer

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


class HashEncoder:
    """Deterministic stand-in for the model in pipeline-mechanics tests (counts its calls)."""

    name = "hash"
    dim = 384

    def __init__(self) -> None:
        self.encoded = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int(hashlib.sha256(t.encode()).hexdigest()[:8], 16)
            out[i] = np.random.default_rng(seed).standard_normal(self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


def settings(tmp_path: Path) -> Settings:
    return Settings(store=tmp_path / "store")


class TestIdempotence:
    def test_second_run_embeds_nothing(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        first = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        assert (first.added, first.failed, first.embedded) == (5, 0, first.chunks)
        with open_reader(settings(tmp_path)) as reader:  # each chunk's text and each of its units, once
            chunks = [reader.chunk(r.chunk_id) for r in reader.chunks()]
        assert enc.encoded == first.chunks + sum(len(unit_parts(c)) for c in chunks)
        encoded = enc.encoded
        second = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        assert (second.added, second.updated, second.skipped, second.embedded) == (0, 0, 5, 0)
        assert second.chunks == first.chunks
        assert enc.encoded == encoded

    def test_a_new_vocabulary_rebuilds_bm25_once_without_embedding(
        self, tmp_path: Path, corpus: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        import json

        from ingest.store import MANIFEST, vocab_hash

        enc = HashEncoder()
        first = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        path = tmp_path / "store" / MANIFEST
        manifest = json.loads(path.read_text())
        manifest["vocab_hash"] = "older-vocab"  # as left by an earlier ALLy release
        path.write_text(json.dumps(manifest))
        with caplog.at_level(logging.WARNING, logger="ingest.store.reader"), open_reader(settings(tmp_path)) as reader:
            assert reader.bm25.search("blinatumomab", 3)  # still answers, re-tokenised in memory
        assert "rebuild it once with: ally ingest" in caplog.text and "nothing is embedded again" in caplog.text
        again = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        assert (again.skipped, again.embedded, again.chunks) == (5, 0, first.chunks)
        rebuilt = json.loads(path.read_text())
        assert rebuilt["vocab_hash"] == vocab_hash() and rebuilt["generation"] == manifest["generation"] + 1
        third = ingest_paths([corpus], settings(tmp_path), encoder=enc)  # now current: nothing to do
        assert json.loads(path.read_text())["generation"] == rebuilt["generation"] and third.embedded == 0

    def test_changed_file_replaces_only_its_chunks(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        ingest_paths([corpus], settings(tmp_path), encoder=enc)
        with open_reader(settings(tmp_path)) as r:
            before = {c.chunk_id: c for c in r.chunks()}
        f = corpus / "ma-2024-all-year-in-review.txt"
        f.write_text(f.read_text().replace("93 adult B-ALL patients", "94 adult B-ALL patients"))
        report = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        with open_reader(settings(tmp_path)) as r:
            after = {c.chunk_id: c for c in r.chunks()}
            changed = [c for c in after.values() if "94 adult" in c.text]
            assert not any("93 adult" in c.text for c in after.values())
            # Only the passages holding the edit are embedded again (overlapping windows may hold it twice).
            assert (report.updated, report.skipped, report.embedded) == (1, 4, len(changed))
            assert 1 <= len(changed) <= 2
            assert r.bm25.ids and set(r.bm25.ids) == set(after)
            assert len(r.collection.get(include=[])["ids"]) == len(after)  # old vector collected
        assert len(after) == len(before)

    def test_prune_drops_documents_whose_files_are_gone(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        ingest_paths([corpus], settings(tmp_path), encoder=enc)
        (corpus / "li-2025-car-t-in-all.txt").unlink()
        kept = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        assert kept.removed == 0
        pruned = ingest_paths([corpus], settings(tmp_path), encoder=enc, prune=True)
        assert pruned.removed == 1
        with open_reader(settings(tmp_path)) as r:
            assert "li-2025-car-t-in-all" not in {d.doc_id for d in r.documents()}
            assert not any(c.doc_id == "li-2025-car-t-in-all" for c in r.chunks())

    def test_document_facts_are_the_documents_fields(self, tmp_path: Path, corpus: Path) -> None:
        """The answer path's per-document facts (read from the manifest) equal the documents' own."""
        ingest_paths([corpus], settings(tmp_path), encoder=HashEncoder())
        with open_reader(settings(tmp_path)) as r:
            docs, facts = r.documents(), r.document_facts()
        assert [f.doc_id for f in facts] == [d.doc_id for d in docs] and len(facts) == 5
        fields = ("path", "authors", "publisher", "year", "published", "subjects", "untrusted")
        for d, f in zip(docs, facts, strict=True):
            assert {k: getattr(f, k) for k in fields} == {k: getattr(d, k) for k in fields}
        assert any(f.subjects for f in facts) and any(f.published for f in facts)


class TestBadFiles:
    def test_bad_files_reported_rest_ingested(self, tmp_path: Path, corpus: Path) -> None:
        (corpus / "empty.txt").write_bytes(b"")
        (corpus / "binary.txt").write_bytes(b"\x00\x00garbage")
        (corpus / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
        report = ingest_paths([corpus, tmp_path / "missing.txt"], settings(tmp_path), encoder=HashEncoder())
        assert report.added == 5
        reasons = {Path(f.path).name: f.reason for f in report.failures}
        assert set(reasons) == {"empty.txt", "binary.txt", "latin1.txt", "missing.txt"}
        assert "UTF-8" in reasons["latin1.txt"] and "no such file" in reasons["missing.txt"]


class TestStoreGuards:
    def test_missing_store_names_the_fix(self, tmp_path: Path) -> None:
        with pytest.raises(StoreNotFoundError, match="ally ingest corpus --store"):
            open_reader(settings(tmp_path))

    def test_other_settings_refused_nothing_touched(self, tmp_path: Path, corpus: Path) -> None:
        ingest_paths([corpus], settings(tmp_path), encoder=HashEncoder())
        manifest = (tmp_path / "store" / "manifest.json").read_bytes()
        other = Settings(store=tmp_path / "store", chunk_max_tokens=128)
        with pytest.raises(StoreMismatchError, match="re-ingest"):
            ingest_paths([corpus], other, encoder=HashEncoder())
        with pytest.raises(StoreMismatchError):
            open_reader(other)
        assert (tmp_path / "store" / "manifest.json").read_bytes() == manifest

    def test_second_writer_refused(self, tmp_path: Path, corpus: Path) -> None:
        with open_writer(settings(tmp_path)), pytest.raises(StoreLockedError, match="another process"):
            ingest_paths([corpus], settings(tmp_path), encoder=HashEncoder())

    def test_corrupted_manifest_names_the_fix(self, tmp_path: Path, corpus: Path) -> None:
        ingest_paths([corpus], settings(tmp_path), encoder=HashEncoder())
        (tmp_path / "store" / "manifest.json").write_text("{not json")
        with pytest.raises(Exception, match="rebuild"):
            open_reader(settings(tmp_path))


class TestDocumentDates:
    def test_added_stays_updated_moves_only_when_the_content_changes(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        ingest_paths([corpus], settings(tmp_path), encoder=enc)
        with open_reader(settings(tmp_path)) as r:
            first = {d.doc_id: d for d in r.documents()}
        assert all(d.added_at and d.updated_at == d.added_at for d in first.values())
        doc = "ma-2024-all-year-in-review"
        stamp = "2000-01-01T00:00:00+00:00"  # older stamps, so that a new one is told apart
        manifest = tmp_path / "store" / "manifest.json"
        data = json.loads(manifest.read_text(encoding="utf-8"))
        data["documents"][doc]["meta"].update(added_at=stamp, updated_at=stamp)
        manifest.write_text(json.dumps(data), encoding="utf-8")
        f = corpus / "ma-2024-all-year-in-review.txt"
        f.write_text(f.read_text().replace("93 adult B-ALL patients", "94 adult B-ALL patients"))
        ingest_paths([corpus], settings(tmp_path), encoder=enc)
        with open_reader(settings(tmp_path)) as r:
            after = {d.doc_id: d for d in r.documents()}
        assert after[doc].added_at == stamp and after[doc].updated_at != stamp
        unchanged = next(d for d in after if d != doc)
        assert after[unchanged].updated_at == first[unchanged].updated_at
