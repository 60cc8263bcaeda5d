"""Embedding overlapped with reading: chunks are embedded and their vectors written on one
background thread while the pipeline goes on loading, cleaning and chunking the next files.

The model runs outside the GIL (onnxruntime, torch), so parsing the next document costs the
embedding little. Only this thread touches the vector collection until `finish()` returns, the
encoder is loaded only when some chunk really needs a vector (a re-ingest of an unchanged corpus
never loads it), and vectors are written batch by batch, so a killed run keeps the work done.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from ally.chunks import Chunk
from ingest.embed import Encoder
from ingest.progress import Progress
from ingest.store.writer import StoreWriter

BATCH = 1024  # chunks per hand-over: embedding starts early, and each hand-over is sorted by length (less padding)


class BackgroundEmbedder:
    """Queue chunks with `submit`; `finish` embeds what is left and returns how many were embedded."""

    def __init__(self, writer: StoreWriter, encoder: Callable[[], Encoder], batch: int | None = None) -> None:
        self._writer = writer
        self._encoder_factory = encoder
        self._batch = batch or BATCH
        self._buffer: list[Chunk] = []
        self._todo: queue.Queue[list[Chunk] | None] = queue.Queue(maxsize=8)
        self._done: queue.Queue[tuple[int, int]] = queue.Queue()  # (chunks handled, of them embedded)
        self._error: BaseException | None = None
        self._submitted = 0
        self._thread: threading.Thread | None = None

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="ally-ingest-embed", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        encoder: Encoder | None = None
        while True:
            batch = self._todo.get()
            if batch is None:
                return
            if self._error is not None:  # drain after a failure; finish() re-raises it
                self._done.put((len(batch), 0))
                continue
            try:
                have = self._writer.existing_vectors([c.chunk_id for c in batch])
                needed = [c for c in batch if c.chunk_id not in have]
                if needed:
                    encoder = encoder or self._encoder_factory()
                    self._writer.add_vectors(needed, encoder.encode([c.embed_text for c in needed]))
                self._done.put((len(batch), len(needed)))
            except BaseException as exc:  # reported to the pipeline's thread by finish()
                self._error = exc
                self._done.put((len(batch), 0))

    def submit(self, chunks: list[Chunk]) -> None:
        """Chunks whose vectors may be missing; embedding starts once a batch is full."""
        self._buffer.extend(chunks)
        while len(self._buffer) >= self._batch:
            self._hand_over(self._buffer[: self._batch])
            self._buffer = self._buffer[self._batch :]

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
        if self._thread is None:
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
        self._thread.join()
        if self._error is not None:
            raise self._error
        return embedded

    def abandon(self) -> None:
        """Stop the thread without embedding the rest (the pipeline failed; nothing is committed)."""
        if self._thread is not None and self._thread.is_alive():
            self._error = self._error or RuntimeError("ingest abandoned")
            self._todo.put(None)
            self._thread.join()
