"""The corpus an answer reads, one store generation at a time, and the live swap to a new one.

`CorpusView` is everything of the answer path that depends on one committed generation of the
store: the reader (chunk records, BM25 index, manifest), the retriever over it, the idf table, the
chooser with its unit cache, the pathway's chunk records and the answers' corpus version. A view
is built complete before it is used and never changes.

`LiveCorpus` holds the current view. Each answer takes it once at its start (`use()`) and keeps
it to the end; a reference count closes a view when the live corpus has moved on and its last
answer has finished. `refresh()` notices a newly committed generation (the manifest names it),
opens the new view on the calling thread -- the watcher's, never a request's -- and swaps the
reference under a lock: answers in flight finish on the old generation, answers that start after
the swap read the new one. A failed open (a damaged generation, a store built with other settings,
a manifest gone) keeps the old view, is logged, and is reported by `status()`; it is retried when
the manifest changes again, or after `RETRY_S`.

The watcher polls the manifest's `stat()` (inode, mtime, size) every `ALLY_STORE_POLL_S` seconds
(default 1). Measured against `watchfiles` (inotify) on this machine: inotify saw a replaced
manifest after 11-53 ms, the 1 s poll after 0.2-0.9 s, both at negligible idle cost (one stat is
17 us). Polling was chosen because opening a generation takes longer than either delay, and because
it also works where inotify sees nothing: a store folder on a network or shared read-only volume
written by another machine (the multi-worker deployment of docs/SCALING.md), or a store folder
replaced as a whole (the inotify watch would stay on the old directory).

Vectors: embedded Chroma keeps one client ("system") per store path in the process and holds the
HNSW index it loaded in memory; vectors another process (`ally ingest`) writes afterwards are not
in it (measured: queries kept returning the old vectors, deleted ones included). So each view
opens its collection on a Chroma system of its own (`_private_collection`), loads the index with
one query while it is opened, and stops that system when it closes. With a Chroma server
(ALLY_CHROMA_URL) every view has its own HTTP client, stopped the same way.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ally.errors import AllyError, StoreError
from ally.schema import ChunkRecord
from ally.settings import Settings
from assistant.answer.choose import Chooser
from assistant.answer.evidence import IdfTable
from assistant.answer.meaning import UnitSimilarity
from assistant.answer.retrieval import HybridRetriever
from assistant.answer.scope import Scope
from assistant.core import CorpusStatus
from ingest.embed import Encoder
from ingest.store.manifest import MANIFEST, Manifest
from ingest.store.reader import StoreReader
from ingest.store.units import UnitVectors

log = logging.getLogger("ally.corpus")

RETRY_S = 10.0  # a generation that failed to open is tried again after this long, or when the manifest changes


def answer_corpus_version(store_version: str, settings: Settings) -> str:
    """The corpus version answers carry: the store's corpus version and the answer settings."""
    return hashlib.sha256(f"{store_version}|{settings.answer_settings()}".encode()).hexdigest()[:16]


# --- vectors on a Chroma system of the view's own --------------------------------------------------

_CHROMA_LOCK = threading.Lock()


def _under(system: Any, store: Path) -> bool:
    """True for an embedded Chroma system whose folder lies in `store`."""
    settings = getattr(system, "settings", None)
    folder = getattr(settings, "persist_directory", None)
    if not folder or not getattr(settings, "is_persistent", False):
        return False
    return Path(folder).resolve().is_relative_to(store.resolve())


def _private_collection(reader: StoreReader, store: Path) -> list[Any]:
    """Open `reader`'s collection on Chroma systems no other client shares; return those systems.

    chromadb caches one system per embedded path (`SharedSystemClient`), and that system's HNSW index
    is stale once another process has written. The store's entries are taken out of the cache while
    the reader opens its collection (so a new system is made), the new system is taken out of the
    cache (so nothing else shares it, and stopping it later harms no one), and the cache is left as
    it was found."""
    from chromadb.api.shared_system_client import SharedSystemClient as Shared

    with _CHROMA_LOCK:
        systems = Shared._identifier_to_system
        refcounts = Shared._identifier_to_refcount
        saved = {
            k: (systems.pop(k), refcounts.pop(k, None)) for k in [k for k, s in systems.items() if _under(s, store)]
        }
        before = {id(s) for s in systems.values()}
        try:
            _ = reader.collection
        finally:
            created = [(k, s) for k, s in systems.items() if id(s) not in before]
            for key, _system in created:
                systems.pop(key, None)
                refcounts.pop(key, None)
            for key, (system, count) in saved.items():
                systems[key] = system
                if count is not None:
                    refcounts[key] = count
    return [s for _, s in created]


class CorpusView:
    """Everything an answer reads from one committed generation; closed by its last user."""

    def __init__(self, settings: Settings, reader: StoreReader, encoder: Encoder | None) -> None:
        self.settings = settings
        self.reader = reader
        self.generation = reader.manifest.generation
        self.store_version = reader.corpus_version
        self.retriever = HybridRetriever(reader, settings, encoder)
        self.idf = IdfTable(reader.bm25.doc_freq, len(reader.chunks_by_id))
        self.chooser = Chooser(
            settings,
            reader.vocab,
            self.idf,
            Scope.of(reader.document_facts(), reader.vocab.tokens),
            UnitSimilarity(encoder, stored=lambda: UnitVectors.open(settings))
            if encoder is not None and self.retriever.uses_dense
            else None,
            siblings=reader.chunks_by_id.of_document,
        )
        self.corpus_version = answer_corpus_version(reader.corpus_version, settings)
        self._refs = 1  # the live corpus's own reference; each answer adds one while it runs
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._records_by_doc: dict[str, list[ChunkRecord]] | None = None
        self._vectors_open = False
        self._systems: list[Any] = []
        self.closed = False
        self.on_close: Callable[[CorpusView], None] | None = None

    # --- reference count ----------------------------------------------------------------------
    def acquire(self) -> None:
        with self._lock:
            self._refs += 1

    def release(self) -> None:
        """Drop one reference; the last one closes the view."""
        with self._lock:
            self._refs -= 1
            last = self._refs == 0
        if last:
            self._close()

    @property
    def users(self) -> int:
        """References held now (the live corpus's, while current, plus one per answer in flight)."""
        with self._lock:
            return self._refs

    def _close(self) -> None:
        self.closed = True
        try:
            self.reader.close()
        finally:
            for system in self._systems:
                try:
                    system.stop()
                except Exception as exc:  # a system that will not stop must not stop the others
                    log.warning("stopping a Chroma client of generation %s failed: %s", self.generation, exc)
            self._systems = []
            if self.on_close is not None:
                self.on_close(self)

    # --- what an open view has ready ---------------------------------------------------------
    def open_vectors(self) -> None:
        """Open the vector collection on a Chroma client of this view's own and load its index
        (one query), so the first answer on this generation does not pay for it."""
        if self._vectors_open or not self.retriever.uses_dense:
            return
        with self._build_lock:
            if self._vectors_open:
                return
            self._systems = _private_collection(self.reader, self.settings.store)
            probe = np.zeros(self.settings.embedding_dim, dtype=np.float32)
            probe[0] = 1.0
            try:
                self.reader.dense_search(probe, 1)
            except AllyError:
                raise
            except Exception as exc:  # chromadb raises several types for a damaged index
                store = self.settings.store
                raise StoreError(
                    f"the vector collection of the store at {store} cannot be searched ({exc}); move {store} "
                    f"aside and rebuild it with: ally ingest corpus --store {store}"
                ) from exc
            self._vectors_open = True

    @property
    def has_records(self) -> bool:
        return self._records_by_doc is not None

    def records_by_doc(self) -> dict[str, list[ChunkRecord]]:
        """Chunk records by document, in store order (built once per view: rebuilding all records
        on every pathway answer cost ~0.1 s at 20k chunks)."""
        if self._records_by_doc is None:
            with self._build_lock:
                if self._records_by_doc is None:
                    by_doc: dict[str, list[ChunkRecord]] = {}
                    for c in self.reader.chunks_by_id.values():
                        by_doc.setdefault(c.doc_id, []).append(c.record())
                    self._records_by_doc = by_doc
        return self._records_by_doc


def _manifest_signature(store: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(store / MANIFEST)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class LiveCorpus:
    """The current `CorpusView`, moved to each newly committed generation (see the module docstring)."""

    def __init__(self, settings: Settings, first: CorpusView, open_view: Callable[[], CorpusView]) -> None:
        self.settings = settings
        self._open_view = open_view
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._views_open = 0
        self._current = self._adopt(first)
        self._seen: tuple[int, int, int] | None = None  # the first poll reads the manifest
        self._failure: str | None = None
        self._failed_at = 0.0
        self._closed = False
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.swaps = 0

    def _adopt(self, view: CorpusView) -> CorpusView:
        with self._lock:
            self._views_open += 1
        view.on_close = self._closed_view
        return view

    def _closed_view(self, view: CorpusView) -> None:
        with self._lock:
            self._views_open -= 1
        log.info("generation %s closed (its last answer finished)", view.generation)

    # --- reading -------------------------------------------------------------------------------
    @property
    def current(self) -> CorpusView:
        return self._current

    @contextmanager
    def use(self) -> Iterator[CorpusView]:
        """The current view, held until the block ends (a swap meanwhile does not close it)."""
        with self._lock:
            view = self._current
            view.acquire()
        try:
            yield view
        finally:
            view.release()

    def status(self) -> CorpusStatus:
        with self._lock:
            view, views_open, failure = self._current, self._views_open, self._failure
        return CorpusStatus(
            corpus_version=view.corpus_version,
            generation=view.generation,
            views_open=views_open,
            update_error=failure,
            watching=self._watcher is not None and self._watcher.is_alive(),
        )

    # --- swapping ------------------------------------------------------------------------------
    def swap(self, view: CorpusView) -> None:
        """Make `view` current; the old view closes when its last answer finishes."""
        self._adopt(view)
        with self._lock:
            if self._closed:
                old = view  # closed meanwhile: the new view is not needed
            else:
                old, self._current = self._current, view
                self.swaps += 1
        old.release()

    def refresh(self) -> bool:
        """Swap to the store's newly committed generation, if there is one (opened on this thread).

        True when a new view became current. A failure keeps the current view and is logged."""
        with self._refresh_lock:
            if self._closed or not self._manifest_changed():
                return False
            current = self._current
            try:
                manifest = Manifest.read(self.settings.store)
                manifest.check(self.settings)
                if (manifest.generation, manifest.corpus_version) == (current.generation, current.store_version):
                    self._failure = None
                    return False
                view = self._open_view()
            except Exception as exc:
                self._failed(exc)
                return False
            if (view.generation, view.store_version) == (current.generation, current.store_version):
                view.release()
                return False
            self.swap(view)
            self._failure = None
        log.info(
            "store generation %s is now answering (corpus version %s); generation %s closes when its last "
            "answer finishes",
            view.generation,
            view.corpus_version,
            current.generation,
        )
        return True

    def _manifest_changed(self) -> bool:
        signature = _manifest_signature(self.settings.store)
        retry = self._failure is not None and time.monotonic() - self._failed_at >= RETRY_S
        if signature == self._seen and not retry:
            return False
        self._seen = signature
        return True

    def _failed(self, exc: BaseException) -> None:
        current = self._current
        reason = str(exc) if isinstance(exc, AllyError) else f"{type(exc).__name__}: {exc}"
        self._failure = (
            f"the store's new state could not be opened ({reason}); still answering from generation "
            f"{current.generation} (corpus version {current.corpus_version})"
        )
        self._failed_at = time.monotonic()
        log.error("store update not taken: %s", self._failure, exc_info=not isinstance(exc, AllyError))

    # --- the watcher ---------------------------------------------------------------------------
    def watch(self, interval_s: float) -> bool:
        """Start the watcher thread (once; not when `interval_s` is 0). True when it was started."""
        with self._lock:
            if interval_s <= 0 or self._watcher is not None or self._closed:
                return False
            self._watcher = threading.Thread(
                target=self._watch, args=(interval_s,), name="ally-store-watcher", daemon=True
            )
        self._watcher.start()
        log.info("watching %s for new store generations every %.1f s", self.settings.store / MANIFEST, interval_s)
        return True

    def _watch(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.refresh()
            except Exception:  # the watcher must outlive any one failure
                log.exception("the store watcher failed once; it keeps watching")

    def close(self) -> None:
        """Stop watching; the current view closes when its last answer finishes."""
        self._stop.set()
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout=60)
        with self._lock:
            if self._closed:
                return
            self._closed = True
            view = self._current
        view.release()
