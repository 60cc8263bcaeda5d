"""The typed manifest: round trip, stores written before it was typed, damage and settings checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ally.errors import StoreError, StoreMismatchError, StoreNotFoundError
from ally.settings import Settings
from ingest.documents import DocMeta
from ingest.store import MANIFEST, DocumentEntry, Manifest

# A manifest as `ally ingest` wrote it before the manifest was typed (one document, two chunks).
PRE_CHANGE: dict[str, Any] = {
    "collection": "ally-21edda3103a3",
    "committed_at": 1796154638.8891633,
    "corpus_version": "5b09ed9972f6be7f",
    "documents": {
        "li-2025-car-t-in-all": {
            "chunk_ids": ["3f37f2042e415c3f315b995a", "2536dfb28869377541fe6fc4"],
            "meta": {
                "authors": ["Chenyu Li"],
                "content_hash": "fe4d7faaec04ca6cb99af2f25e22cbe5bec621b77b5d1efd219cb3b2c70cf109",
                "doc_id": "li-2025-car-t-in-all",
                "doi": "10.61173/ccs0h933",
                "extra": {},
                "file_hash": "fe4d7faaec04ca6cb99af2f25e22cbe5bec621b77b5d1efd219cb3b2c70cf109",
                "keywords": ["ALL", "CAR-T cell therapy", "Clinical outcomes"],
                "kind": "journal-article-abstract",
                "path": "/work/main/corpus/li-2025-car-t-in-all.txt",
                "published": "2025-10-23",
                "publisher": None,
                "source_format": "text",
                "title": "CAR-T Cell Therapy in Acute Lymphoblastic Leukemia",
                "updated": None,
                "year": 2025,
            },
        }
    },
    "embedding_dim": 384,
    "embedding_model": "all-MiniLM-L6-v2",
    "encoder": "onnx",
    "format": 1,
    "generation": 1,
    "index_config": {
        "chunk_max_tokens": 240,
        "chunking_version": 1,
        "embedding_dim": 384,
        "embedding_model": "all-MiniLM-L6-v2",
        "prose_chunk_tokens": 120,
    },
    "index_hash": "21edda3103a3",
    "vocab_hash": "1a7c214a900f",
}


def write(store: Path, manifest: Any) -> None:
    store.mkdir(parents=True, exist_ok=True)
    (store / MANIFEST).write_text(manifest if isinstance(manifest, str) else json.dumps(manifest), encoding="utf-8")


def entry(doc_id: str, chunk_ids: list[str]) -> DocumentEntry:
    meta = DocMeta(doc_id=doc_id, title=f"Title of {doc_id}", path=f"/c/{doc_id}.txt", content_hash=f"h-{doc_id}")
    return DocumentEntry(meta=meta, chunk_ids=chunk_ids)


class TestPreChangeStores:
    def test_reads_typed(self, tmp_path: Path) -> None:
        write(tmp_path, PRE_CHANGE)
        manifest = Manifest.read(tmp_path)
        assert (manifest.generation, manifest.collection, manifest.corpus_version) == (
            1,
            "ally-21edda3103a3",
            "5b09ed9972f6be7f",
        )
        doc = manifest.documents["li-2025-car-t-in-all"]
        assert doc.meta.year == 2025 and doc.meta.authors == ["Chenyu Li"] and doc.meta.file_hash
        assert manifest.chunk_ids() == {"3f37f2042e415c3f315b995a", "2536dfb28869377541fe6fc4"}
        info = doc.info("li-2025-car-t-in-all")
        assert (info.chunks, info.published, info.doi) == (2, "2025-10-23", "10.61173/ccs0h933")

    def test_writes_back_the_same_json(self, tmp_path: Path) -> None:
        write(tmp_path, PRE_CHANGE)
        Manifest.read(tmp_path).write(tmp_path)
        text = (tmp_path / MANIFEST).read_text(encoding="utf-8")
        assert json.loads(text) == PRE_CHANGE
        assert text == json.dumps(PRE_CHANGE, ensure_ascii=False, indent=1, sort_keys=True)

    def test_unknown_keys_are_kept(self, tmp_path: Path) -> None:
        write(tmp_path, {**PRE_CHANGE, "added_later": {"x": 1}})
        Manifest.read(tmp_path).write(tmp_path)
        assert json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))["added_later"] == {"x": 1}


class TestRoundTrip:
    def test_new_then_committed_round_trips(self, tmp_path: Path) -> None:
        settings = Settings(store=tmp_path)
        new = Manifest.new(settings)
        assert (new.generation, new.documents, new.collection) == (0, {}, settings.collection_name)
        committed = new.committed({"a": entry("a", ["c1", "c2"]), "b": entry("b", ["c3"])}, settings)
        assert committed.generation == 1 and committed.bm25_current and committed.encoder == settings.encoder
        assert len(committed.corpus_version) == 16 and committed.committed_at is not None
        committed.write(tmp_path)
        again = Manifest.read(tmp_path)
        assert again == committed
        again.check(settings)  # built with these settings

    def test_corpus_version_depends_on_documents_only(self, tmp_path: Path) -> None:
        settings = Settings(store=tmp_path)
        new = Manifest.new(settings)
        one = new.committed({"a": entry("a", ["c1"])}, settings)
        assert new.committed({"a": entry("a", ["c9"])}, settings).corpus_version == one.corpus_version
        assert new.committed({"b": entry("b", ["c1"])}, settings).corpus_version != one.corpus_version


class TestDamage:
    def test_missing_names_the_build_command(self, tmp_path: Path) -> None:
        with pytest.raises(StoreNotFoundError, match=f"ally ingest corpus --store {tmp_path}"):
            Manifest.read(tmp_path)

    @pytest.mark.parametrize(
        "damage",
        [
            "{not json",
            "[1, 2]",
            {**PRE_CHANGE, "format": 99},
            {k: v for k, v in PRE_CHANGE.items() if k != "documents"},
            {k: v for k, v in PRE_CHANGE.items() if k != "collection"},
            {**PRE_CHANGE, "generation": "latest"},
            {**PRE_CHANGE, "documents": {"d": {"meta": {"title": "no id"}, "chunk_ids": []}}},
            {**PRE_CHANGE, "documents": {"d": {"meta": PRE_CHANGE["documents"]["li-2025-car-t-in-all"]["meta"]}}},
        ],
    )
    def test_damaged_raises_store_error_naming_the_repair(self, tmp_path: Path, damage: Any) -> None:
        write(tmp_path, damage)
        with pytest.raises(StoreError, match=f"rebuild with: ally ingest corpus --store {tmp_path}"):
            Manifest.read(tmp_path)

    def test_other_settings_raise_mismatch_with_the_rebuild_command(self, tmp_path: Path) -> None:
        write(tmp_path, PRE_CHANGE)
        with pytest.raises(StoreMismatchError, match=r"re-ingest into a new folder \(ally ingest corpus --store"):
            Manifest.read(tmp_path).check(Settings(store=tmp_path, chunk_max_tokens=128))


def test_vocab_hash_is_of_the_vocabulary_in_use_not_the_file_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index built while the vocabulary file changed on disk records the vocabulary it was
    tokenised with, so the next reader sees it stale and `ally ingest` rebuilds it."""
    import ally.vocab
    from ally.vocab import Vocabulary
    from ingest.store import vocab_hash

    in_use = vocab_hash()
    edited = tmp_path / "vocabulary.yaml"
    edited.write_bytes(ally.vocab.default_vocabulary().source + b"\n# edited after the process loaded it\n")
    assert vocab_hash() == in_use  # the file a process loaded is what counts
    monkeypatch.setattr(ally.vocab, "default_vocabulary", lambda: Vocabulary.from_yaml(edited))
    assert vocab_hash() != in_use
