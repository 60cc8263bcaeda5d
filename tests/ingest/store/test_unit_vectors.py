"""Unit vectors (ingest.store.units): one per evidence unit of every live chunk, written with the
chunk vectors, garbage-collected with them, computed once for a store built before them, and a
damaged file named with its repair."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from ally.errors import StoreError
from ally.settings import Settings
from ally.units import unit_parts
from ingest.pipeline import ingest_paths
from ingest.store import open_reader
from ingest.store.merge import MERGE_FACTOR
from ingest.store.units import UnitVectors, UnitVectorWriter, units_dir
from tests.reliability.fakes import HashEncoder

CORPUS = Path(__file__).resolve().parents[3] / "corpus"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    target.mkdir()
    for path in CORPUS.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    return target


def settings(tmp_path: Path) -> Settings:
    return Settings(store=tmp_path / "store")


def live_chunks(s: Settings) -> list:  # type: ignore[type-arg]
    with open_reader(s) as reader:
        return [reader.chunk(r.chunk_id) for r in reader.chunks()]


def assert_complete(s: Settings, enc: HashEncoder, *, only_live: bool = False) -> None:
    """Every live chunk holds one vector per unit, equal to its unit encoded as quoted (the fake
    encoder has no late pooling); `only_live`: and nothing else is stored (dead rows wait for a
    compaction)."""
    stored = UnitVectors.open(s)
    chunks = live_chunks(s)
    live = {c.chunk_id for c in chunks}
    assert live <= set(stored.where)
    if only_live:
        assert set(stored.where) == live
    for c in chunks:
        parts = unit_parts(c)
        got = stored.get(c.chunk_id)
        assert got is not None and got.shape == (len(parts), enc.dim)
        if parts:
            want = enc.encode([p.display for p in parts])
            assert float(np.abs(got - want).max()) < 2e-3  # float16 on disk


class TestUnitVectors:
    def test_every_unit_of_every_chunk_has_its_vector(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        report = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        assert report.embedded == report.chunks > 0
        assert_complete(settings(tmp_path), enc, only_live=True)

    def test_a_store_without_unit_vectors_gets_them_once(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        first = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        import shutil

        shutil.rmtree(units_dir(settings(tmp_path)))  # as a store built before unit vectors
        again = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        assert again.embedded == first.chunks and (again.added, again.updated) == (0, 0)
        assert any("unit vectors computed" in w for w in again.warnings)
        assert_complete(settings(tmp_path), enc)
        third = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        assert third.embedded == 0 and not any("unit vectors" in w for w in third.warnings)

    def test_another_mode_starts_its_own_folder_and_drops_the_old_one(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        ingest_paths([corpus], settings(tmp_path), encoder=enc)
        late = Settings(store=tmp_path / "store", unit_vectors="late")
        assert units_dir(late) != units_dir(settings(tmp_path))
        report = ingest_paths([corpus], late, encoder=enc)
        assert report.embedded == report.chunks
        assert [p.name for p in units_dir(late).parent.iterdir()] == [units_dir(late).name]

    def test_removed_documents_lose_their_unit_vectors(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        ingest_paths([corpus], settings(tmp_path), encoder=enc)
        docs = sorted(corpus.iterdir(), key=lambda p: p.stat().st_size)
        for victim in docs[1:]:  # all but the smallest: the dead rows are most of every batch
            victim.unlink()
        report = ingest_paths([corpus], settings(tmp_path), encoder=enc, prune=True)
        assert report.removed == len(docs) - 1
        assert_complete(settings(tmp_path), enc, only_live=True)

    def test_a_changed_document_gets_vectors_for_its_new_chunks_only(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        ingest_paths([corpus], settings(tmp_path), encoder=enc)
        path = next(p for p in sorted(corpus.iterdir()) if p.suffix in (".md", ".txt"))
        path.write_text(path.read_text(encoding="utf-8") + "\n\nA new closing sentence about MRD.\n", encoding="utf-8")
        report = ingest_paths([corpus], settings(tmp_path), encoder=enc)
        assert report.updated == 1 and 0 < report.embedded < report.chunks
        assert_complete(settings(tmp_path), enc)

    def test_an_unfinished_batch_is_ignored_and_removed(self, tmp_path: Path, corpus: Path) -> None:
        enc = HashEncoder()
        ingest_paths([corpus], settings(tmp_path), encoder=enc)
        folder = units_dir(settings(tmp_path))
        np.save(folder / "00000099.npy", np.zeros((3, 384), dtype=np.float16))  # killed before its index
        (folder / ".00000099.json.tmp").write_text("{", encoding="utf-8")
        assert_complete(settings(tmp_path), enc)
        path = next(p for p in sorted(corpus.iterdir()) if p.suffix in (".md", ".txt"))
        path.write_text(path.read_text(encoding="utf-8") + "\n\nAnother closing sentence.\n", encoding="utf-8")
        ingest_paths([corpus], settings(tmp_path), encoder=enc)  # a commit collects the leftovers
        assert not (folder / "00000099.npy").exists() and not (folder / ".00000099.json.tmp").exists()

    @pytest.mark.parametrize(
        "damage",
        [
            lambda folder: next(folder.glob("*.json")).write_text("{not json", encoding="utf-8"),
            lambda folder: next(folder.glob("*.json")).write_text(json.dumps({"ids": ["x"], "starts": [0, 999]})),
            lambda folder: next(folder.glob("*.npy")).write_bytes(b"garbage"),
        ],
        ids=["index-unreadable", "index-mismatch", "vectors-unreadable"],
    )
    def test_a_damaged_file_names_the_repair(self, tmp_path: Path, corpus: Path, damage) -> None:  # type: ignore[no-untyped-def]
        ingest_paths([corpus], settings(tmp_path), encoder=HashEncoder())
        folder = units_dir(settings(tmp_path))
        damage(folder)
        with pytest.raises(StoreError) as err:
            UnitVectors.open(settings(tmp_path))
        assert str(folder) in str(err.value) and "ally ingest" in str(err.value)


def ids_of(commit: int, n: int = 10) -> list[str]:
    return [f"c{commit:04d}-{i}" for i in range(n)]


def vectors_of(ids: list[str], dim: int) -> list[np.ndarray]:
    """Each chunk's rows, derived from its id (1-3 units) so a copy can be checked."""
    out = []
    for cid in ids:
        seed = int(hashlib.sha256(cid.encode()).hexdigest()[:8], 16)
        rows = np.random.default_rng(seed).standard_normal((1 + seed % 3, dim)).astype(np.float32)
        out.append(rows / np.linalg.norm(rows, axis=1, keepdims=True))
    return out


class CountingWriter(UnitVectorWriter):
    """Counts the chunk rows each write copies."""

    def __init__(self, s: Settings) -> None:
        super().__init__(s)
        self.written = 0

    def write(self, ids: list[str], vectors: list[np.ndarray]) -> None:
        self.written += len(ids)
        super().write(ids, vectors)


class TestTieredCompaction:
    """Batches are merged by the segments' tiers: a commit rewrites its tier, not the store."""

    def test_batches_stay_few_and_each_row_is_copied_log_times(self, tmp_path: Path) -> None:
        s = settings(tmp_path)
        writer = CountingWriter(s)
        live: list[str] = []
        for commit in range(200):
            ids = ids_of(commit)
            writer.write(ids, vectors_of(ids, s.embedding_dim))
            live += ids
            writer.collect(set(live))
            assert len(writer.known().batches) <= MERGE_FACTOR * 4  # a few per tier, tiers of 10..1000
        n = len(live)
        assert writer.written <= n * (1 + 2)  # written once, then copied at most once per tier above
        stored = UnitVectors.open(s)
        assert set(stored.where) == set(live)
        for cid, want in zip(live, vectors_of(live, s.embedding_dim), strict=True):
            got = stored.get(cid)
            assert got is not None and float(np.abs(got - want).max()) < 2e-3

    def test_a_small_change_does_not_rewrite_the_store(self, tmp_path: Path) -> None:
        s = settings(tmp_path)
        writer = CountingWriter(s)
        big = [f"big-{i}" for i in range(3000)]
        writer.write(big, vectors_of(big, s.embedding_dim))
        live = set(big)
        for commit in range(30):  # one chunk replaced per commit
            live.discard(big[commit])
            ids = ids_of(commit, 1)
            writer.write(ids, vectors_of(ids, s.embedding_dim))
            live |= set(ids)
            before = writer.written
            writer.collect(live)
            assert writer.written - before < 100  # at most a tier of small batches, never the 3000 rows
        stored = set(UnitVectors.open(s).where)
        assert live <= stored and stored - live <= set(big)  # the big batch's few dead rows wait

    def test_a_batch_mostly_dead_is_rewritten_alone(self, tmp_path: Path) -> None:
        s = settings(tmp_path)
        writer = CountingWriter(s)
        first, second = ids_of(1, 100), ids_of(2, 100)
        writer.write(first, vectors_of(first, s.embedding_dim))
        writer.write(second, vectors_of(second, s.embedding_dim))
        before = writer.written
        dropped = writer.collect(set(first[:40]) | set(second))
        assert dropped == 60 and writer.written - before == 40
        assert set(UnitVectors.open(s).where) == set(first[:40]) | set(second)

    def test_a_compaction_killed_before_removing_the_old_batches_reads_right_and_heals(self, tmp_path: Path) -> None:
        s = settings(tmp_path)
        folder = units_dir(s)
        writer = UnitVectorWriter(s)
        live: list[str] = []
        for commit in range(MERGE_FACTOR - 1):
            ids = ids_of(commit)
            writer.write(ids, vectors_of(ids, s.embedding_dim))
            live += ids
        saved = {p.name: p.read_bytes() for p in folder.iterdir()}
        ids = ids_of(99)
        writer.write(ids, vectors_of(ids, s.embedding_dim))
        live += ids
        writer.collect(set(live))  # the tier of ten is merged into one batch
        assert len(list(folder.glob("*.json"))) == 1
        for name, data in saved.items():  # as if killed after the merged batch, before the removals
            (folder / name).write_bytes(data)
        stored = UnitVectors.open(s)
        assert set(stored.where) == set(live)
        for cid, want in zip(live, vectors_of(live, s.embedding_dim), strict=True):
            got = stored.get(cid)
            assert got is not None and float(np.abs(got - want).max()) < 2e-3
        assert UnitVectorWriter(s).collect(set(live)) == len(live) - len(ids_of(99))  # the stale copies go
        assert len(list(folder.glob("*.json"))) == 1 and set(UnitVectors.open(s).where) == set(live)
