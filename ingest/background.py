"""Embedding overlapped with reading: chunks are embedded on one background thread and their vectors
written on another while the pipeline goes on loading, cleaning and chunking the next files.

The model runs outside the GIL (onnxruntime, torch), so parsing the next document costs the
embedding little, and the next batch is encoded while the last one is written to the collection
(Chroma's upsert builds the HNSW graph: about a twentieth of the encoding time, no longer added to
it). The first hand-over is small, so the model starts after the first few documents rather than
after a thousand chunks; later ones are `BATCH` chunks, sorted by length by the encoder (less
padding). The encoder is loaded only when some chunk really needs a vector (a re-ingest of an
unchanged corpus never loads it), and vectors are written batch by batch, so a killed run keeps the
work done. The vector collection is touched by one thread at a time (a lock), and not at all by the
pipeline until `finish()` returns. Which vectors already exist is asked only when the collection
held vectors when this run began (those a killed run left); a collection that started empty holds
only what this run wrote, and the pipeline never submits a chunk twice.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import numpy as np

from ally.chunks import Chunk
from ingest.embed import Encoder, embed_with_units
from ingest.progress import Progress
from ingest.store.writer import StoreWriter

BATCH = 1024  # chunks per hand-over once embedding runs (each is sorted by length: less padding)
FIRST_BATCH = 64  # the first hand-over: the model starts while the rest is being read


class BackgroundEmbedder:
    """Queue chunks with `submit`; `finish` embeds what is left and returns how many were embedded."""

    def __init__(self, writer: StoreWriter, encoder: Callable[[], Encoder], batch: int | None = None) -> None:
        self._writer = writer
        self._encoder_factory = encoder
        self._batch = batch or BATCH
        self._next_batch = min(FIRST_BATCH, self._batch)
        self._buffer: list[Chunk] = []
        self._todo: queue.Queue[list[Chunk] | None] = queue.Queue(maxsize=8)
        self._written: queue.Queue[tuple[list[Chunk], int, tuple[np.ndarray, list[np.ndarray]] | None] | None] = (
            queue.Queue(maxsize=2)
        )
        self.submitted_ids: set[str] = set()  # every chunk handed to `submit`
        self._done: queue.Queue[tuple[int, int]] = queue.Queue()  # (chunks handled, of them embedded)
        self._collection_lock = threading.Lock()
        self._started_empty: bool | None = None  # did the collection hold no vector when this run began?
        self._error: BaseException | None = None
        self._submitted = 0
        self._threads: list[threading.Thread] = []

    def _start(self) -> None:
        if not self._threads:
            self._threads = [
                threading.Thread(target=self._embed_loop, name="ally-ingest-embed", daemon=True),
                threading.Thread(target=self._write_loop, name="ally-ingest-write", daemon=True),
            ]
            for thread in self._threads:
                thread.start()

    def _missing(self, batch: list[Chunk]) -> list[Chunk]:
        """The chunks of `batch` whose vectors the collection does not hold."""
        with self._collection_lock:
            if self._started_empty is None:
                self._started_empty = self._writer.collection.count() == 0
            if self._started_empty:
                return batch
            have = self._writer.existing_vectors([c.chunk_id for c in batch])
        return [c for c in batch if c.chunk_id not in have]

    def _embed_loop(self) -> None:
        encoder: Encoder | None = None
        while True:
            batch = self._todo.get()
            if batch is None:
                self._written.put(None)
                return
            if self._error is not None:  # drain after a failure; finish() re-raises it
                self._done.put((len(batch), 0))
                continue
            try:
                needed = self._missing(batch)
                vectors = None
                if needed:
                    encoder = encoder or self._encoder_factory()
                    vectors = embed_with_units(encoder, needed, self._writer.settings.unit_vectors)
                self._written.put((needed, len(batch), vectors))
            except BaseException as exc:  # reported to the pipeline's thread by finish()
                self._error = exc
                self._done.put((len(batch), 0))

    def _write_loop(self) -> None:
        while True:
            item = self._written.get()
            if item is None:
                return
            needed, handled, vectors = item
            if self._error is not None or vectors is None:
                self._done.put((handled, 0 if self._error is not None else len(needed)))
                continue
            try:
                with self._collection_lock:
                    self._writer.add_vectors(needed, *vectors)
                self._done.put((handled, len(needed)))
            except BaseException as exc:
                self._error = exc
                self._done.put((handled, 0))

    def submit(self, chunks: list[Chunk]) -> None:
        """Chunks whose vectors may be missing; embedding starts once a batch is full."""
        self._buffer.extend(chunks)
        self.submitted_ids.update(c.chunk_id for c in chunks)
        while len(self._buffer) >= self._next_batch:
            self._hand_over(self._buffer[: self._next_batch])
            self._buffer = self._buffer[self._next_batch :]
            self._next_batch = self._batch

    def _hand_over(self, batch: list[Chunk]) -> None:
        if self._error is not None:
            raise self._error
        self._start()
        self._submitted += len(batch)
        self._todo.put(batch)

    def finish(self, progress: Progress) -> int:
        """Embed what is still queued (showing the `embedding` phase); the number of chunks embedded."""
        if self._buffer:
            self._hand_over(self._buffer)
            self._buffer = []
        if not self._threads:
            return 0
        self._todo.put(None)
        handled = 0
        embedded = 0
        progress.phase("embedding", self._submitted)
        while handled < self._submitted:
            n_handled, n_embedded = self._done.get()
            handled += n_handled
            embedded += n_embedded
            progress.advance(n_handled)
        for thread in self._threads:
            thread.join()
        if self._error is not None:
            raise self._error
        return embedded

    def abandon(self) -> None:
        """Stop the threads without embedding the rest (the pipeline failed; nothing is committed)."""
        if any(t.is_alive() for t in self._threads):
            self._error = self._error or RuntimeError("ingest abandoned")
            self._todo.put(None)
            for thread in self._threads:
                thread.join()
