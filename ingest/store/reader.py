"""The store's read model: one committed generation, as the assistant (and `ally docs`/`chunks`) sees it.

`open_reader(settings)` reads and checks the manifest, loads every chunk record of the generation
it names and that generation's BM25 index (re-tokenising in memory when the vocabulary changed
since ingest), and opens the vector collection on first use. Only what the manifest names exists
here: vectors of uncommitted chunks are filtered out of dense search.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ally.chunks import Chunk
from ally.errors import NotFoundError, StoreError
from ally.schema import ChunkRecord, DocumentInfo, Passage
from ally.settings import Settings
from ally.vocab import default_vocabulary
from ingest.store.bm25 import BM25Index
from ingest.store.chroma import open_collection
from ingest.store.generation import CHUNKS_FILE, generation_dir, read_chunks
from ingest.store.manifest import Manifest


class StoreReader:
    """Read access to one committed generation of the store."""

    def __init__(self, settings: Settings, manifest: Manifest) -> None:
        self.settings = settings
        self.manifest = manifest
        self.vocab = default_vocabulary()
        self.chunks_by_id: dict[str, Chunk] = self._load_chunks()
        self.bm25 = self._load_bm25()
        self._collection: Any = None
        self._open_lock = threading.Lock()

    def _load_chunks(self) -> dict[str, Chunk]:
        store = self.settings.store
        chunks_file = generation_dir(store, self.manifest.generation) / CHUNKS_FILE
        if not chunks_file.is_file():
            raise StoreError(
                f"the store at {store} is damaged ({chunks_file} missing); move it aside and rebuild it with: "
                f"ally ingest corpus --store {store}"
            )
        chunks = read_chunks(chunks_file, store)
        if self.manifest.chunk_ids() != set(chunks):
            raise StoreError(
                f"the store at {store} is inconsistent (manifest and chunk records disagree); "
                f"move {store} aside and rebuild it with: ally ingest corpus --store {store}"
            )
        return chunks

    def _load_bm25(self) -> BM25Index:
        gen_dir = generation_dir(self.settings.store, self.manifest.generation)
        if not (self.manifest.bm25_current and BM25Index.saved_in(gen_dir)):
            # the vocabulary changed since ingest: re-tokenise in memory
            return BM25Index.build(list(self.chunks_by_id.values()), self.vocab)
        try:
            return BM25Index.load(gen_dir, self.vocab)
        except Exception as exc:  # bm25s raises several types for missing or damaged files
            raise StoreError(
                f"the BM25 index of the store at {self.settings.store} is damaged ({exc.__class__.__name__}); "
                f"move {self.settings.store} aside and rebuild it with: ally ingest corpus --store {self.settings.store}"
            ) from exc

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._collection = None

    # --- metadata -------------------------------------------------------------------------
    @property
    def corpus_version(self) -> str:
        return self.manifest.corpus_version

    def documents(self) -> list[DocumentInfo]:
        docs = self.manifest.documents
        return [docs[doc_id].info(doc_id) for doc_id in sorted(docs)]

    def document(self, doc_id: str) -> DocumentInfo:
        entry = self.manifest.documents.get(doc_id)
        if entry is None:
            raise NotFoundError(f"no document '{doc_id}' in the store; list them with: ally docs")
        return entry.info(doc_id)

    def chunks(self, doc_id: str | None = None) -> list[ChunkRecord]:
        if doc_id is not None:
            self.document(doc_id)
        ordered = sorted(self.chunks_by_id.values(), key=lambda c: (c.doc_id, c.position))
        return [c.record() for c in ordered if doc_id is None or c.doc_id == doc_id]

    def chunk(self, chunk_id: str) -> Chunk:
        found = self.chunks_by_id.get(chunk_id)
        if found is None:
            raise NotFoundError(f"no passage '{chunk_id}' in the store; list them with: ally chunks --json")
        return found

    def passage(self, chunk_id: str) -> Passage:
        c = self.chunk(chunk_id)
        return c.to_passage(self.document(c.doc_id))

    # --- search ---------------------------------------------------------------------------
    @property
    def collection(self) -> Any:
        if self._collection is None:
            with self._open_lock:  # answer threads may arrive together: open the client once
                if self._collection is None:
                    self._collection = open_collection(self.settings, self.manifest.collection)
        return self._collection

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Nearest chunks by cosine similarity, restricted to committed chunks (filtered after retrieval)."""
        if not self.chunks_by_id:
            return []
        n = min(k + 10, len(self.chunks_by_id) + 10)
        result = self.collection.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
        out: list[tuple[str, float]] = []
        for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True):
            if cid in self.chunks_by_id:
                out.append((cid, 1.0 - float(dist)))
            if len(out) >= k:
                break
        return out


def open_reader(settings: Settings) -> StoreReader:
    """The committed store at `settings.store`, checked against `settings` (the one way to open it for reading)."""
    manifest = Manifest.read(settings.store)
    manifest.check(settings)
    return StoreReader(settings, manifest)
