"""Segments and incremental commits: a commit writes what changed and nothing else, collects only
the vectors it dropped, old readers keep their generation, damage names the repair, and a store of
the earlier format is refused by readers and upgraded once by `ally ingest` without embedding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ally.chunks import Chunk
from ally.errors import StoreError
from ally.settings import Settings
from ingest.pipeline import ingest_paths
from ingest.store import MANIFEST, open_reader, open_writer
from ingest.store.records import ChunkOverlay
from ingest.store.segment import segments_dir
from ingest.store.state import StoreState
from ingest.store.writer import JOURNAL
from tests.reliability.fakes import HashEncoder

CORPUS = Path(__file__).resolve().parents[3] / "corpus"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


def ingest(corpus: Path, settings: Settings, **kw: Any) -> Any:
    return ingest_paths([corpus], settings, encoder=HashEncoder(), **kw)


def segment_files(store: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every file of every segment."""
    return {
        str(p.relative_to(store)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in segments_dir(store).rglob("*")
        if p.is_file()
    }


class SpyCollection:
    """The real collection, recording every get/delete call's arguments."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get(self, **kw: Any) -> Any:
        self.calls.append(("get", kw))
        return self.inner.get(**kw)

    def delete(self, **kw: Any) -> Any:
        self.calls.append(("delete", kw))
        return self.inner.delete(**kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class TestIncrementalCommit:
    def test_changing_one_document_writes_one_segment_and_drops_only_its_vectors(
        self, tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings = Settings(store=tmp_path / "store")
        ingest(corpus, settings)
        before_files = segment_files(settings.store)
        with open_reader(settings) as reader:
            before = {d: list(e.chunk_ids) for d, e in reader.manifest.documents.items()}
        target = corpus / "schistosite-all-2025.txt"
        target.write_text(target.read_text(encoding="utf-8").replace("leukemia", "leukaemia"), encoding="utf-8")
        spies: list[SpyCollection] = []
        real = open_writer

        def spied(s: Settings) -> Any:
            writer = real(s)
            spy = SpyCollection(writer.collection)
            writer._collection = spy
            spies.append(spy)
            return writer

        monkeypatch.setattr("ingest.pipeline.open_writer", spied)
        report = ingest(corpus, settings)
        assert (report.updated, report.added, report.removed) == (1, 0, 0)
        after_files = segment_files(settings.store)
        assert before_files.items() <= after_files.items(), "the segment of the other documents is untouched"
        new = {k for k in after_files if k not in before_files}
        with open_reader(settings) as reader:
            segments = reader.manifest.segments or []
            assert len(segments) == 2 and {Path(k).parts[1] for k in new} == {segments[1]}
            meta = json.loads((segments_dir(settings.store) / segments[1] / "meta.json").read_text())
            changed = reader.manifest.documents["schistosite-all-2025"].chunk_ids
            assert meta["doc_ids"] == ["schistosite-all-2025"] and meta["ids"] == changed
        dropped = set(before["schistosite-all-2025"]) - set(changed)
        assert dropped, "the change dropped some chunks"
        (spy,) = spies
        assert all("ids" in kw for name, kw in spy.calls if name == "get"), "no listing of the whole collection"
        deleted = {cid for name, kw in spy.calls if name == "delete" for cid in kw["ids"]}
        assert deleted == dropped
        with open_reader(settings) as reader:
            assert set(reader.collection.get(include=[])["ids"]) == set(reader.chunks_by_id)
        assert (settings.store / JOURNAL).read_text() == ""

    def test_an_old_reader_keeps_its_generation_after_later_commits(self, tmp_path: Path, corpus: Path) -> None:
        settings = Settings(store=tmp_path / "store")
        ingest(corpus, settings)
        old = open_reader(settings)
        first = old.manifest.segments
        query_hits = old.bm25.search("blinatumomab dose", 5)
        for i in range(3):  # every document changes: the first segment becomes garbage and is removed
            for f in corpus.glob("*.txt"):
                f.write_text(f.read_text(encoding="utf-8") + f"\n\nAddendum {i}.\n", encoding="utf-8")
            ingest(corpus, settings)
        assert not any((segments_dir(settings.store) / name).exists() for name in first or [])
        assert [c.to_json()["chunk_id"] for c in old.chunks_by_id.values()] == list(old.chunks_by_id)
        assert old.bm25.search("blinatumomab dose", 5) == query_hits
        old.close()

    def test_a_commit_landing_while_a_reader_opens_is_retried(
        self, tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings = Settings(store=tmp_path / "store")
        ingest(corpus, settings)
        real_open = StoreState.open
        calls: list[int] = []

        def racing(store: Path, manifest: Any) -> StoreState:
            calls.append(manifest.generation)
            if len(calls) == 1:  # a writer commits after the manifest was read, before the segments are
                for f in corpus.glob("*.txt"):
                    f.write_text(f.read_text(encoding="utf-8") + "\n\nLater.\n", encoding="utf-8")
                ingest(corpus, settings)
            return real_open(store, manifest)

        monkeypatch.setattr(StoreState, "open", staticmethod(racing))
        with open_reader(settings) as reader:
            assert reader.manifest.generation == calls[-1] == calls[0] + 1

    def test_removing_every_document(self, tmp_path: Path, corpus: Path) -> None:
        settings = Settings(store=tmp_path / "store")
        ingest(corpus, settings)
        for f in corpus.glob("*.txt"):
            f.unlink()
        report = ingest(corpus, settings, prune=True)
        assert report.removed == 5 and report.chunks == 0
        with open_reader(settings) as reader:
            assert reader.manifest.segments == [] and not reader.chunks_by_id
            assert reader.bm25.search("blinatumomab", 5) == [] and reader.collection.count() == 0


class TestDamage:
    def test_an_edited_record_is_a_store_error_naming_the_repair(self, tmp_path: Path, corpus: Path) -> None:
        settings = Settings(store=tmp_path / "store")
        ingest(corpus, settings)
        seg = segments_dir(settings.store) / json.loads((settings.store / MANIFEST).read_text())["segments"][0]
        data = bytearray((seg / "records.jsonl").read_bytes())
        data[2] = ord("#")  # same size, no longer JSON
        (seg / "records.jsonl").write_bytes(bytes(data))
        with open_reader(settings) as reader:  # opening reads no record
            first = next(iter(reader.chunks_by_id))
            with pytest.raises(StoreError, match=f"rebuild it with: ally ingest corpus --store {settings.store}"):
                reader.chunk(first)

    def test_a_manifest_naming_a_missing_segment(self, tmp_path: Path, corpus: Path) -> None:
        settings = Settings(store=tmp_path / "store")
        ingest(corpus, settings)
        path = settings.store / MANIFEST
        raw = json.loads(path.read_text())
        raw["segments"] = [*raw["segments"], "g9-0"]
        path.write_text(json.dumps(raw))
        with pytest.raises(StoreError, match=r"segment folder .*g9-0 missing.*ally ingest corpus --store"):
            open_reader(settings)


class TestOverlay:
    def test_reads_only_what_it_is_asked_for(self) -> None:
        reads: list[str] = []

        class Base(dict[str, Chunk]):
            def __getitem__(self, key: str) -> Chunk:
                reads.append(key)
                return super().__getitem__(key)

        def chunk(cid: str) -> Chunk:
            return Chunk(cid, "d", "", cid, cid, 0, "t")

        overlay = ChunkOverlay(Base({"a": chunk("a"), "b": chunk("b")}))
        overlay["c"] = chunk("c")
        assert "a" in overlay and "c" in overlay and "z" not in overlay and reads == []
        assert overlay.pop("b").chunk_id == "b" and "b" not in overlay
        del overlay["c"]
        assert sorted(overlay) == ["a"] and len(overlay) == 1
        with pytest.raises(KeyError):
            overlay["b"]
        overlay["b"] = chunk("b2")
        assert overlay["b"].text == "b2" and sorted(overlay) == ["a", "b"]


def to_format_1(store: Path) -> None:
    """Rewrite a store in the layout of the earlier ALLy (gen-<n>/chunks.jsonl, manifest format 1)."""
    with open_reader(Settings(store=store)) as reader:
        records = [c.to_json() for c in reader.chunks_by_id.values()]
        generation = reader.manifest.generation
    gen = store / f"gen-{generation}"
    gen.mkdir()
    (gen / "chunks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    raw = json.loads((store / MANIFEST).read_text())
    raw["format"] = 1
    del raw["segments"]
    (store / MANIFEST).write_text(json.dumps(raw))
    shutil.rmtree(segments_dir(store))
    (store / JOURNAL).unlink()


class TestEarlierFormat:
    def test_readers_refuse_it_and_ingest_upgrades_it_once_without_embedding(
        self, tmp_path: Path, corpus: Path
    ) -> None:
        settings, fresh = Settings(store=tmp_path / "store"), Settings(store=tmp_path / "fresh")
        ingest(corpus, settings)
        ingest(corpus, fresh)
        to_format_1(settings.store)
        with pytest.raises(
            StoreError, match=f"store format 1.*upgrade it once with: ally ingest corpus --store {settings.store}"
        ):
            open_reader(settings)
        report = ingest(corpus, settings)
        assert report.embedded == 0 and (report.added, report.updated) == (0, 0)
        assert any("upgraded to segments" in w for w in report.warnings)
        assert not list(settings.store.glob("gen-*"))
        with open_reader(settings) as up, open_reader(fresh) as ref:
            assert up.manifest.format == 2 and up.bm25.ids == ref.bm25.ids and up.bm25.doc_freq == ref.bm25.doc_freq
            assert [c.to_json() for c in up.chunks_by_id.values()] == [c.to_json() for c in ref.chunks_by_id.values()]
            assert up.bm25.search("blinatumomab dose in adults", 10) == ref.bm25.search(
                "blinatumomab dose in adults", 10
            )
        again = ingest(corpus, settings)
        assert not any("upgraded" in w for w in again.warnings)
        assert json.loads((settings.store / MANIFEST).read_text())["generation"] == 2  # upgraded once
