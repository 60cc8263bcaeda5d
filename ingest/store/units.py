"""Unit vectors: one vector per evidence unit of every chunk (`ally.units`), computed by ingest with
the chunk's own vector (`ingest.embed.embed_with_units`), so an answer scores its candidate units by
meaning without running the model on them.

Like the dense vectors they are keyed by chunk id (content-addressed: a chunk's units and their
vectors never change while its id stays), written before the commit that names their chunks and
garbage-collected after it, so every generation finds the vectors of all its chunks and a killed
run keeps what it wrote. A folder `unit-vectors/<key>/` (the key names the embedding index, the
unit mode and `UNITS_VERSION`: another model or segmentation starts an empty folder, which the next
`ally ingest` fills once) holds batches; batch `<n>` is

    <n>.npy    the unit vectors of its chunks, row after row (float16, L2-normalised)
    <n>.json   its chunk ids and the first row of each (then the row count): written last, by an
               atomic rename, so a batch without its index was never finished and is ignored

Batches are merged by the segments' tiered policy (`ingest.store.merge.tiered`): a batch more than
half dead is rewritten alone, and ten batches of the same size tier become one, so each row is
copied O(log n) times and a commit rewrites only what its tier holds, not the store. The new batch is
complete before the old ones are removed; a reader that opened the old files keeps them until it
closes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ally.errors import StoreError
from ally.settings import Settings
from ally.units import UNITS_VERSION
from ingest.store.files import fsync_dir
from ingest.store.merge import tiered

UNIT_VECTORS = "unit-vectors"


def units_key(settings: Settings) -> str:
    raw = f"{settings.index_hash}|{settings.unit_vectors}|{UNITS_VERSION}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def units_dir(settings: Settings) -> Path:
    return settings.store / UNIT_VECTORS / units_key(settings)


def _damaged(folder: Path, what: str, store: Path) -> StoreError:
    return StoreError(
        f"the unit vectors at {folder} are damaged ({what}); delete {folder} and recompute them with: "
        f"ally ingest <your corpus folder> --store {store} (only the unit vectors are computed again)"
    )


@dataclass
class _Batch:
    name: str
    ids: list[str]
    starts: np.ndarray  # first row of each chunk, then the row count
    vectors: np.ndarray  # memory-mapped


class UnitVectors:
    """The unit vectors of a store: chunk id → its units' vectors (rows in `ally.units` order)."""

    def __init__(self, folder: Path, store: Path) -> None:
        self.folder = folder
        self.store = store
        self.batches: list[_Batch] = []
        self.where: dict[str, tuple[int, int]] = {}  # chunk id → (batch, index within the batch)

    @classmethod
    def open(cls, settings: Settings) -> UnitVectors:
        """The vectors as they are on disk now (an empty set when none were written)."""
        found = cls(units_dir(settings), settings.store)
        try:
            found._load()
        except FileNotFoundError:  # a compaction removed a batch between listing and reading it: list again
            found.batches, found.where = [], {}
            try:
                found._load()
            except FileNotFoundError:
                raise _damaged(found.folder, "a batch's vectors are missing", found.store) from None
        return found

    def _load(self) -> None:
        if not self.folder.is_dir():
            return
        names = sorted((p.stem for p in self.folder.glob("*.json")), key=_batch_number)
        for name in names:
            index = self.folder / f"{name}.json"
            try:
                raw = json.loads(index.read_text(encoding="utf-8"))
                ids = list(raw["ids"])
                starts = np.asarray(raw["starts"], dtype=np.int64)
            except (ValueError, KeyError, TypeError) as exc:
                raise _damaged(self.folder, f"{index.name} unreadable: {exc}", self.store) from exc
            try:
                vectors = np.load(self.folder / f"{name}.npy", mmap_mode="r")
            except ValueError as exc:
                raise _damaged(self.folder, f"{name}.npy unreadable: {exc}", self.store) from exc
            if len(starts) != len(ids) + 1 or vectors.ndim != 2 or int(starts[-1]) != vectors.shape[0]:
                raise _damaged(self.folder, f"batch {name} does not match its index", self.store)
            b = len(self.batches)
            self.batches.append(_Batch(name, ids, starts, vectors))
            for i, cid in enumerate(ids):
                self.where[cid] = (b, i)

    def __contains__(self, chunk_id: str) -> bool:
        return chunk_id in self.where

    def __len__(self) -> int:
        return len(self.where)

    def get(self, chunk_id: str) -> np.ndarray | None:
        """The chunk's unit vectors (float32, one row per unit), or None when none are stored."""
        if chunk_id not in self.where:
            return None
        return np.asarray(self.rows(chunk_id), dtype=np.float32)

    def rows(self, chunk_id: str) -> np.ndarray:
        """The stored rows of a chunk this set holds, as on disk (a float16 view of the mapped file)."""
        b, i = self.where[chunk_id]
        batch = self.batches[b]
        return batch.vectors[int(batch.starts[i]) : int(batch.starts[i + 1])]


class UnitVectorWriter:
    """Writes batches of unit vectors (ingest only, under the store's writer lock)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.folder = units_dir(settings)
        self._known: UnitVectors | None = None

    def known(self) -> UnitVectors:
        if self._known is None:
            self._known = UnitVectors.open(self.settings)
        return self._known

    def write(self, ids: list[str], vectors: list[np.ndarray]) -> None:
        """One batch: the unit vectors of each chunk of `ids` (a chunk without units holds no row)."""
        if not ids:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        known = self.known()
        number = 1 + max((_batch_number(b.name) for b in known.batches), default=0)
        name = f"{number:08d}"
        starts = np.zeros(len(ids) + 1, dtype=np.int64)
        starts[1:] = np.cumsum([len(v) for v in vectors])
        dim = self.settings.embedding_dim
        # streamed chunk by chunk after the .npy header: a merge of many batches never holds them in memory
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float16)), "fortran_order": False}
        with open(self.folder / f"{name}.npy", "wb") as fh:
            np.lib.format.write_array_header_1_0(fh, {**header, "shape": (int(starts[-1]), dim)})
            for v in vectors:
                fh.write(np.ascontiguousarray(np.asarray(v, dtype=np.float16).reshape(-1, dim)).tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        tmp = self.folder / f".{name}.json.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"ids": ids, "starts": starts.tolist()}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.folder / f"{name}.json")
        fsync_dir(self.folder)
        b = len(known.batches)
        known.batches.append(_Batch(name, list(ids), starts, np.load(self.folder / f"{name}.npy", mmap_mode="r")))
        for i, cid in enumerate(ids):
            known.where[cid] = (b, i)

    def missing(self, ids: list[str]) -> list[str]:
        known = self.known()
        return [cid for cid in ids if cid not in known]

    def collect(self, keep: set[str]) -> int:
        """Drop the vectors of chunks no committed document holds (batches merged by tiers, a mostly-dead
        batch rewritten); remove unfinished batches and folders of other keys. The dead rows dropped."""
        parent = self.folder.parent
        if parent.is_dir():
            for other in parent.iterdir():
                if other.is_dir() and other.name != self.folder.name:
                    shutil.rmtree(other, ignore_errors=True)
        if not self.folder.is_dir():
            return 0
        known = self.known()
        finished = {b.name for b in known.batches}
        for path in self.folder.iterdir():
            if path.name.lstrip(".").split(".")[0] not in finished:
                path.unlink(missing_ok=True)  # a batch a killed run never finished
        # a chunk's live row is the one `where` names (a compaction killed before it removed the old
        # batches leaves a second copy); rows of chunks no committed document holds are dead
        groups = [
            _Live(
                b.name, [cid for i, cid in enumerate(b.ids) if cid in keep and known.where[cid] == (n, i)], len(b.ids)
            )
            for n, b in enumerate(known.batches)
        ]

        def merge_group(group: list[_Live]) -> _Live:
            ids = [cid for g in group for cid in g.ids]
            self.write(ids, [known.rows(cid) for cid in ids])
            return _Live(known.batches[-1].name, ids, len(ids))

        kept = {g.name for g in tiered([g for g in groups if g.ids], len_live, total_rows, merge_group)}
        gone = [g for g in groups if g.name not in kept]
        if not gone:
            return 0
        for g in gone:  # the batches that replace them are complete (a reader keeps the files it opened)
            (self.folder / f"{g.name}.json").unlink(missing_ok=True)
            (self.folder / f"{g.name}.npy").unlink(missing_ok=True)
        fsync_dir(self.folder)
        self._known = None
        return sum(g.total - len(g.ids) for g in gone)


@dataclass
class _Live:
    """A batch as the merge policy sees it: its live chunk ids and all the rows it holds."""

    name: str
    ids: list[str]
    total: int


def len_live(batch: _Live) -> int:
    return len(batch.ids)


def total_rows(batch: _Live) -> int:
    return batch.total


def _batch_number(name: str) -> int:
    try:
        return int(name)
    except ValueError:
        return 0
