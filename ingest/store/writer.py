"""The store's single writer (used only by ingest), holding `.lock` for its life.

A commit adds vectors first (content-addressed chunk ids, so unchanged chunks are never embedded
twice), writes the next generation folder, then atomically replaces the manifest, then
garbage-collects old generations and unreferenced vectors. A writer killed at any point leaves
either the old or the new manifest, both complete; the next run finds already-embedded chunks in
Chroma and completes the work.
"""

from __future__ import annotations

import fcntl
import os
from types import TracebackType
from typing import Any

import numpy as np

from ally.chunks import Chunk
from ally.errors import StoreError, StoreLockedError
from ally.settings import Settings
from ally.vocab import default_vocabulary
from ingest.store.chroma import open_or_create_collection
from ingest.store.generation import CHUNKS_FILE, generation_dir, read_chunks, remove_other_generations, write_generation
from ingest.store.manifest import MANIFEST, DocumentEntry, Manifest


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
        self._previous_chunks: dict[str, Chunk] | None = None

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

    @property
    def bm25_stale(self) -> bool:
        """True when the committed BM25 index was built with another vocabulary or tokenizer (readers
        would re-tokenise every chunk at each start until the next commit rebuilds it)."""
        return bool(self.manifest.documents) and not self.manifest.bm25_current

    def previous_chunks(self) -> dict[str, Chunk]:
        """Chunk records of the committed generation (empty for a new store)."""
        if self._previous_chunks is None:
            self._previous_chunks = {}
            gen_file = generation_dir(self.store, self.manifest.generation) / CHUNKS_FILE
            if self.manifest.generation and gen_file.is_file():
                self._previous_chunks = read_chunks(gen_file, self.store)
        return self._previous_chunks

    def existing_vectors(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 5000):
            got = self.collection.get(ids=ids[start : start + 5000], include=[])
            found.update(got["ids"])
        return found

    def add_vectors(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        if not chunks:
            return
        for start in range(0, len(chunks), 1000):
            part = chunks[start : start + 1000]
            self.collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start : start + len(part)].tolist(),
                documents=[c.text for c in part],
                metadatas=[{"doc_id": c.doc_id, "section": c.section, "position": c.position} for c in part],
            )

    def commit(self, documents: dict[str, DocumentEntry], chunks: dict[str, Chunk]) -> None:
        """Make `documents` with `chunks` the store's new state."""
        manifest = self.manifest.committed(documents, self.settings)
        ordered = sorted(chunks.values(), key=lambda c: (c.doc_id, c.position))
        write_generation(self.store, manifest.generation, ordered, default_vocabulary())
        manifest.write(self.store)
        self.manifest = manifest
        self._previous_chunks = dict(chunks)
        self.collect_garbage()

    def collect_garbage(self) -> int:
        """Drop old generation folders and vectors no committed document references."""
        remove_other_generations(self.store, self.manifest.generation)
        if not self.manifest.generation:
            return 0
        keep = self.manifest.chunk_ids()
        all_ids = self.collection.get(include=[])["ids"]
        orphans = [cid for cid in all_ids if cid not in keep]
        for start in range(0, len(orphans), 5000):
            self.collection.delete(ids=orphans[start : start + 5000])
        return len(orphans)


def open_writer(settings: Settings) -> StoreWriter:
    """The single writer of the store at `settings.store` (StoreLockedError while another holds it)."""
    return StoreWriter(settings)
