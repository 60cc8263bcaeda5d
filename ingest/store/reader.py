"""The store's read model: one committed generation, as the assistant (and `ally docs`/`chunks`) sees it.

`open_reader(settings)` reads and checks the manifest, maps the segments it names and places every
live chunk in the canonical order (`ingest.store.state`): chunk records are parsed when first asked
for (`ingest.store.records`), BM25 is scored over the segments' term counts (re-tokenising in memory
when the vocabulary changed since ingest), and the vector collection is opened on first use. Only
what the manifest names exists here: vectors of uncommitted chunks are filtered out of dense search.
Everything a reader uses is mapped when it opens, so it keeps answering from its generation after
a later commit removes that generation's files.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from ally.chunks import Chunk
from ally.errors import NotFoundError, StoreError
from ally.schema import ChunkRecord, DocumentFacts, DocumentInfo, Passage
from ally.settings import Settings
from ally.vocab import default_vocabulary
from ingest.store.bm25 import BM25Index
from ingest.store.chroma import open_collection
from ingest.store.manifest import Manifest
from ingest.store.records import ChunkTable
from ingest.store.state import StoreState

log = logging.getLogger(__name__)


class StoreReader:
    """Read access to one committed generation of the store."""

    def __init__(self, settings: Settings, manifest: Manifest) -> None:
        self.settings = settings
        self.manifest = manifest
        self.vocab = default_vocabulary()
        store = settings.store
        if manifest.legacy:
            raise StoreError(
                f"the store at {store} was written by an earlier version of ALLy (store format 1); upgrade it "
                f"once with: ally ingest corpus --store {store} (nothing is embedded again)"
            )
        state = StoreState.open(store, manifest)
        self.chunks_by_id: ChunkTable = ChunkTable(state)
        if manifest.bm25_current or not manifest.documents:
            self.bm25 = BM25Index.of(state, self.vocab)
        else:  # the vocabulary changed since ingest: re-tokenise in memory (until `ally ingest` rebuilds it)
            started = time.perf_counter()
            self.bm25 = BM25Index.build(list(self.chunks_by_id.values()), self.vocab)
            log.warning(
                "the store at %s was indexed with another vocabulary; its lexical index was rebuilt in memory "
                "(%.1f s, on every start) - rebuild it once with: ally ingest <your corpus folder> --store %s "
                "(nothing is embedded again)",
                store,
                time.perf_counter() - started,
                store,
            )
        self._collection: Any = None
        self._open_lock = threading.Lock()

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

    def document_facts(self) -> list[DocumentFacts]:
        """Every document's subjects and provenance (`DocumentFacts`), in `documents()` order."""
        docs = self.manifest.documents
        return [docs[doc_id].facts(doc_id) for doc_id in sorted(docs)]

    def document(self, doc_id: str) -> DocumentInfo:
        entry = self.manifest.documents.get(doc_id)
        if entry is None:
            raise NotFoundError(f"no document '{doc_id}' in the store; list them with: ally docs")
        return entry.info(doc_id)

    def chunks(self, doc_id: str | None = None) -> list[ChunkRecord]:
        if doc_id is not None:
            self.document(doc_id)
            return [c.record() for c in self.chunks_by_id.of_document(doc_id)]
        return [c.record() for c in self.chunks_by_id.values()]  # canonical order: by document, then position

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
    """The committed store at `settings.store`, checked against `settings` (the one way to open it for reading).

    A commit may land while the segments are being mapped and remove some of them: the reader then
    opens the new generation (a few times at most) instead of reporting damage."""
    for attempt in range(3):
        manifest = Manifest.read(settings.store)
        manifest.check(settings)
        try:
            return StoreReader(settings, manifest)
        except StoreError:
            if attempt == 2 or Manifest.read(settings.store).generation == manifest.generation:
                raise
    raise AssertionError("unreachable")
