"""The store's single writer (used only by ingest), holding `.lock` for its life.

A commit costs what changed. Vectors are added first (content-addressed chunk ids, so unchanged
chunks are never embedded twice; each batch's ids are journaled in `vectors.pending` before it is
written), each chunk's unit vectors with it (`ingest.store.units`). Then the commit writes one new segment holding the documents added or changed (their
chunk records and term counts; the segments of unchanged documents are not touched, and merges
small segments now and then, see `ingest.store.merge`), atomically replaces the manifest naming
the new segment list, and garbage-collects: the vectors of the chunks this commit dropped and
those journaled but never committed, and the segment folders no manifest names.

A writer killed at any point leaves either the old or the new manifest, both complete, each naming
segments that are complete on disk; the next run finds already-embedded chunks in Chroma (the
journal keeps them until a commit references or drops them) and completes the work. A store of
the earlier format (one `gen-<n>/` folder rewritten per commit) is upgraded by its next commit.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import numpy as np

from ally.chunks import Chunk
from ally.errors import StoreError, StoreLockedError
from ally.settings import Settings
from ally.vocab import default_vocabulary
from ingest.store import generation
from ingest.store.chroma import open_or_create_collection
from ingest.store.files import atomic_write_text
from ingest.store.manifest import MANIFEST, DocumentEntry, Manifest
from ingest.store.merge import Part, plan
from ingest.store.records import ChunkOverlay, ChunkTable
from ingest.store.segment import Segment
from ingest.store.state import StoreState
from ingest.store.units import UnitVectorWriter

JOURNAL = "vectors.pending"  # ids of vectors written since the last commit's garbage collection


class StoreWriter:
    """The single writer of a store (holds `.lock`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = settings.store
        try:
            self.store.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store folder {self.store}: {exc.strerror or exc}") from exc
        self._lock_fh = open(self.store / ".lock", "a+")  # noqa: SIM115 - held for the writer's life
        try:
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_fh.close()
            raise StoreLockedError(
                f"another process is writing to the store {self.store}; wait for it to finish and run again"
            ) from None
        self._lock_fh.seek(0)
        self._lock_fh.truncate()
        self._lock_fh.write(str(os.getpid()))
        self._lock_fh.flush()
        if (self.store / MANIFEST).exists():
            self.manifest = Manifest.read(self.store)
            self.manifest.check(settings)
        else:
            self.manifest = Manifest.new(settings)
        self._collection: Any = None
        self.units = UnitVectorWriter(settings)
        self._state: StoreState | None = None
        self._base: Mapping[str, Chunk] | None = None

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if not self._lock_fh.closed:
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
            self._lock_fh.close()

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = open_or_create_collection(self.settings, self.manifest.collection)
        return self._collection

    # --- what the committed store needs -------------------------------------------------------
    @property
    def bm25_stale(self) -> bool:
        """True when the next run must commit even if no document changed: the lexical index was built
        with another vocabulary or tokenizer (readers would re-tokenise every chunk at each start), or
        the store has the earlier format (readers refuse it). That commit rebuilds it once."""
        return bool(self.manifest.documents) and (self.manifest.legacy or not self.manifest.bm25_current)

    @property
    def upgrade_note(self) -> str | None:
        """What the next commit upgrades, for the ingest report (None when nothing)."""
        if self.manifest.documents and self.manifest.legacy:
            return (
                f"the store at {self.store} had the earlier format (store format 1, every commit rewrote it whole); "
                "it is upgraded to segments by this run (no chunk is embedded again)"
            )
        return None

    def state(self) -> StoreState:
        """The committed state (segments and where each live chunk is); only for a format-2 store."""
        if self._state is None:
            self._state = StoreState.open(self.store, self.manifest)
        return self._state

    def previous_chunks(self) -> ChunkOverlay:
        """The committed chunk records by id, as a copy this run may change (records are read only
        when asked for; a new store has none)."""
        if self._base is None:
            if self.manifest.legacy:
                self._base = generation.legacy_chunks(self.store, self.manifest.generation)
            elif self.manifest.generation:
                self._base = ChunkTable(self.state())
            else:
                self._base = {}
        return ChunkOverlay(self._base)

    # --- vectors -----------------------------------------------------------------------------
    def existing_vectors(self, ids: list[str]) -> set[str]:
        """The chunks of `ids` whose vector and unit vectors are both stored."""
        have_units = set(ids) - set(self.units.missing(ids))
        found: set[str] = set()
        for start in range(0, len(ids), 5000):
            got = self.collection.get(ids=ids[start : start + 5000], include=[])
            found.update(got["ids"])
        return found & have_units

    def add_vectors(self, chunks: list[Chunk], vectors: np.ndarray, units: list[np.ndarray] | None = None) -> None:
        """The chunks' vectors and (when given) their unit vectors, journaled first."""
        if not chunks:
            return
        self._journal([c.chunk_id for c in chunks])  # before the vectors: none is ever untracked
        for start in range(0, len(chunks), 1000):
            part = chunks[start : start + 1000]
            self.collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start : start + len(part)].tolist(),
                documents=[c.text for c in part],
                metadatas=[{"doc_id": c.doc_id, "section": c.section, "position": c.position} for c in part],
            )
        if units is not None:
            self.units.write([c.chunk_id for c in chunks], units)

    def _journal(self, ids: Iterable[str]) -> None:
        text = "".join(f"{cid}\n" for cid in ids)
        if not text:
            return
        with open(self.store / JOURNAL, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    def _journaled(self) -> set[str]:
        try:
            return set((self.store / JOURNAL).read_text(encoding="utf-8").split())
        except FileNotFoundError:
            return set()

    # --- commit ------------------------------------------------------------------------------
    def commit(self, documents: dict[str, DocumentEntry], chunks: Mapping[str, Chunk]) -> None:
        """Make `documents` the store's new state; `chunks` holds (at least) the chunks of every document
        added or changed since the committed state (only those are read)."""
        old = self.manifest
        next_generation = old.generation + 1
        rebuild = old.legacy or not old.bm25_current or not old.generation
        if rebuild:  # a new store, the earlier format or another vocabulary: one segment of everything
            parts: list[Part] = []
            changed = sorted(documents)
        else:
            state = self.state()
            changed = sorted(d for d, entry in documents.items() if old.documents.get(d) != entry)
            gone = set(changed) | (old.documents.keys() - documents.keys())
            parts = [
                Part(seg, [k for k in state.live_docs(si) if seg.doc_ids[k] not in gone])
                for si, seg in enumerate(state.segments)
            ]
        if changed:
            docs = [(d, [chunks[cid] for cid in documents[d].chunk_ids]) for d in changed]
            parts.append(Part(Segment.build(f"g{next_generation}-0", docs, default_vocabulary()), None))
        segments = plan(parts, next_generation)
        for seg in segments:
            if seg.store is None:  # built or merged by this commit
                seg.write(self.store)
        dropped = self._dropped_chunks(old.documents, documents)
        self._journal(dropped)  # a kill after the manifest leaves them to the next commit's collection
        manifest = old.committed(documents, self.settings, [seg.name for seg in segments])
        manifest.write(self.store)
        self.manifest = manifest
        self._state = None
        self._base = None
        self.collect_garbage(everything=rebuild)

    @staticmethod
    def _dropped_chunks(before: dict[str, DocumentEntry], after: dict[str, DocumentEntry]) -> list[str]:
        """Chunk ids the documents changed or removed held before and no longer hold."""
        dropped: list[str] = []
        for doc_id, entry in before.items():
            now = after.get(doc_id)
            if now is None:
                dropped.extend(entry.chunk_ids)
            elif now is not entry and now.chunk_ids != entry.chunk_ids:
                kept = set(now.chunk_ids)
                dropped.extend(c for c in entry.chunk_ids if c not in kept)
        return dropped

    def collect_garbage(self, everything: bool = False) -> int:
        """Drop segment folders the manifest does not name and the vectors no committed document
        references among those journaled (or, with `everything`, among all the collection holds)."""
        generation.remove_unnamed(self.store, self.manifest.segments or [])
        self.units.collect(self.manifest.chunk_ids())
        candidates = self._journaled()
        if everything and self.manifest.generation:
            candidates.update(self.collection.get(include=[])["ids"])
        if not candidates:
            return 0
        keep = self.manifest.chunk_ids()
        orphans = sorted(cid for cid in candidates if cid not in keep)
        for start in range(0, len(orphans), 5000):
            self.collection.delete(ids=orphans[start : start + 5000])
        atomic_write_text(self.store / JOURNAL, "")
        return len(orphans)


def open_writer(settings: Settings) -> StoreWriter:
    """The single writer of the store at `settings.store` (StoreLockedError while another holds it)."""
    return StoreWriter(settings)
