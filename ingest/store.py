"""The store: Chroma (vectors), a BM25 index (bm25s) and the manifest, kept consistent.

Layout of a store folder:

    manifest.json     the commit point: index settings, documents, their chunk ids, generation
    gen-<n>/          chunk records (chunks.jsonl) and the BM25 index of generation n
    chroma/           embedded Chroma (unless ALLY_CHROMA_URL points at a `chroma run` server)
    .lock             held by the single writer

Only what the manifest names exists for readers. A writer adds vectors (content-addressed chunk
ids, so unchanged chunks are never embedded twice), writes the next generation folder, then
atomically replaces the manifest, then garbage-collects old generations and unreferenced vectors.
A writer killed at any point leaves either the old or the new manifest, both complete; the next
run finds already-embedded chunks in Chroma and completes the work.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from ally.errors import StoreError, StoreLockedError, StoreMismatchError, StoreNotFoundError
from ally.schema import ChunkRecord, DocumentInfo, Passage
from ally.settings import Settings
from ally.vocab import Vocabulary, default_vocabulary

MANIFEST = "manifest.json"
FORMAT = 1


def _vocab_hash() -> str:
    from importlib import resources

    from ally.vocab import TOKENIZER_VERSION

    data = resources.files("ally").joinpath("data/vocabulary.yaml").read_bytes()
    return hashlib.sha256(data + str(TOKENIZER_VERSION).encode()).hexdigest()[:12]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@dataclass
class StoredChunk:
    chunk_id: str
    doc_id: str
    section: str
    text: str
    embed_text: str
    position: int
    title: str
    flags: list[str] = field(default_factory=list)

    def record(self) -> ChunkRecord:
        return ChunkRecord(chunk_id=self.chunk_id, doc_id=self.doc_id, section=self.section, text=self.text)


def chroma_client(settings: Settings) -> Any:
    """Embedded Chroma in the store folder, or a `chroma run` server; telemetry off either way."""
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    return chromadb.PersistentClient(path=str(settings.store / "chroma"), settings=chroma_settings)


class BM25Index:
    """bm25s over vocabulary-expanded tokens of each chunk's embed text (section path + text)."""

    def __init__(
        self, retriever: Any, ids: list[str], vocab: Vocabulary, doc_freq: dict[str, int] | None = None
    ) -> None:
        self._retriever = retriever
        self.ids = ids
        self.vocab = vocab
        self._known: set[str] = set(retriever.vocab_dict) if retriever is not None else set()
        # Passages holding each token: the answer composer's idf, computed once at ingest.
        self.doc_freq: dict[str, int] = doc_freq or {}

    @classmethod
    def build(cls, chunks: list[StoredChunk], vocab: Vocabulary) -> BM25Index:
        import bm25s

        if not chunks:
            return cls(None, [], vocab)
        retriever = bm25s.BM25()
        tokenised = [vocab.tokens(c.embed_text) or ["_"] for c in chunks]
        doc_freq: Counter[str] = Counter()
        for tokens in tokenised:
            doc_freq.update(set(tokens))
        retriever.index(tokenised, show_progress=False)
        return cls(retriever, [c.chunk_id for c in chunks], vocab, dict(doc_freq))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(folder / "bm25"))
        (folder / "bm25_ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        (folder / "doc_freq.json").write_text(json.dumps(self.doc_freq), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, vocab: Vocabulary) -> BM25Index:
        import bm25s

        ids = json.loads((folder / "bm25_ids.json").read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(folder / "bm25")) if ids else None
        doc_freq = json.loads((folder / "doc_freq.json").read_text(encoding="utf-8"))
        return cls(retriever, ids, vocab, doc_freq)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if self._retriever is None or not self.ids:
            return []
        tokens = [t for t in self.vocab.tokens(query) if t in self._known]
        if not tokens:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._retriever.retrieve([tokens], k=k, show_progress=False)
        out = [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        return out


def _read_manifest(store: Path) -> dict[str, Any]:
    path = store / MANIFEST
    if not path.is_file():
        raise StoreNotFoundError(
            f"no ALLy store at {store} (manifest.json missing); build it with: ally ingest corpus --store {store}"
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise StoreError(
            f"the store manifest {path} is unreadable ({exc}); move {store} aside and rebuild with: "
            f"ally ingest corpus --store {store}"
        ) from exc
    if manifest.get("format") != FORMAT or "documents" not in manifest:
        raise StoreError(
            f"{path} is not an ALLy store manifest (format {manifest.get('format')!r}); rebuild with: "
            f"ally ingest corpus --store {store}"
        )
    return manifest


def _check_settings(manifest: dict[str, Any], settings: Settings) -> None:
    if manifest.get("index_hash") != settings.index_hash:
        raise StoreMismatchError(
            f"the store at {settings.store} was built with other embedding/chunking settings "
            f"({manifest.get('index_config')}) than the current ones ({settings.index_config()}); "
            f"re-ingest into a new folder (ally ingest corpus --store NEW_DIR) or delete {settings.store} and re-run "
            "ally ingest"
        )


class StoreReader:
    """Read access to one committed generation of the store."""

    def __init__(self, settings: Settings, manifest: dict[str, Any]) -> None:
        self.settings = settings
        self.manifest = manifest
        self.vocab = default_vocabulary()
        gen_dir = settings.store / f"gen-{manifest['generation']}"
        chunks_file = gen_dir / "chunks.jsonl"
        if not chunks_file.is_file():
            raise StoreError(
                f"the store at {settings.store} is damaged ({chunks_file} missing); move it aside and rebuild it with: "
                f"ally ingest corpus --store {settings.store}"
            )
        self.chunks_by_id: dict[str, StoredChunk] = {}
        try:
            with open(chunks_file, encoding="utf-8") as fh:
                for line in fh:
                    raw = json.loads(line)
                    self.chunks_by_id[raw["chunk_id"]] = StoredChunk(**raw)
        except (ValueError, KeyError, TypeError, OSError) as exc:  # truncated or edited by hand
            raise StoreError(
                f"the store at {settings.store} is damaged ({chunks_file} unreadable: {exc.__class__.__name__}); "
                f"move {settings.store} aside and rebuild it with: ally ingest corpus --store {settings.store}"
            ) from exc
        expected = {cid for d in manifest["documents"].values() for cid in d["chunk_ids"]}
        if expected != set(self.chunks_by_id):
            raise StoreError(
                f"the store at {settings.store} is inconsistent (manifest and chunk records disagree); "
                f"move {settings.store} aside and rebuild it with: ally ingest corpus --store {settings.store}"
            )
        if manifest.get("vocab_hash") == _vocab_hash() and (gen_dir / "bm25_ids.json").is_file():
            try:
                self.bm25 = BM25Index.load(gen_dir, self.vocab)
            except Exception as exc:  # bm25s raises several types for missing or damaged files
                raise StoreError(
                    f"the BM25 index of the store at {settings.store} is damaged ({exc.__class__.__name__}); "
                    f"move {settings.store} aside and rebuild it with: ally ingest corpus --store {settings.store}"
                ) from exc
        else:  # the vocabulary changed since ingest: re-tokenise in memory
            self.bm25 = BM25Index.build(list(self.chunks_by_id.values()), self.vocab)
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
        return str(self.manifest.get("corpus_version", ""))

    def _doc_info(self, doc_id: str, entry: dict[str, Any]) -> DocumentInfo:
        meta = entry["meta"]
        return DocumentInfo(
            doc_id=doc_id,
            title=meta["title"],
            path=meta.get("path", ""),
            publisher=meta.get("publisher"),
            kind=meta.get("kind"),
            year=meta.get("year"),
            doi=meta.get("doi"),
            published=meta.get("published") or meta.get("updated"),
            authors=meta.get("authors", []),
            chunks=len(entry["chunk_ids"]),
            content_hash=meta.get("content_hash", ""),
        )

    def documents(self) -> list[DocumentInfo]:
        docs = self.manifest["documents"]
        return [self._doc_info(doc_id, docs[doc_id]) for doc_id in sorted(docs)]

    def document(self, doc_id: str) -> DocumentInfo:
        from ally.errors import NotFoundError

        entry = self.manifest["documents"].get(doc_id)
        if entry is None:
            raise NotFoundError(f"no document '{doc_id}' in the store; list them with: ally docs")
        return self._doc_info(doc_id, entry)

    def chunks(self, doc_id: str | None = None) -> list[ChunkRecord]:
        if doc_id is not None:
            self.document(doc_id)
        ordered = sorted(self.chunks_by_id.values(), key=lambda c: (c.doc_id, c.position))
        return [c.record() for c in ordered if doc_id is None or c.doc_id == doc_id]

    def chunk(self, chunk_id: str) -> StoredChunk:
        from ally.errors import NotFoundError

        found = self.chunks_by_id.get(chunk_id)
        if found is None:
            raise NotFoundError(f"no passage '{chunk_id}' in the store; list them with: ally chunks --json")
        return found

    def passage(self, chunk_id: str) -> Passage:
        c = self.chunk(chunk_id)
        return Passage(
            chunk_id=c.chunk_id,
            doc_id=c.doc_id,
            section=c.section,
            text=c.text,
            title=c.title,
            position=c.position,
            flags=c.flags,
            document=self.document(c.doc_id),
        )

    # --- search ---------------------------------------------------------------------------
    @property
    def collection(self) -> Any:
        if self._collection is None:
            with self._open_lock:  # answer threads may arrive together: open the client once
                return self._open_collection()
        return self._collection

    def _open_collection(self) -> Any:
        if self._collection is None:
            try:
                client = chroma_client(self.settings)
                self._collection = client.get_collection(self.manifest["collection"], embedding_function=None)
            except Exception as exc:  # chromadb raises several types for a missing collection
                raise StoreError(
                    f"the vector collection of the store at {self.settings.store} is missing or damaged ({exc}); move "
                    f"{self.settings.store} aside and rebuild with: ally ingest corpus --store {self.settings.store}"
                ) from exc
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
            self.manifest = _read_manifest(self.store)
            _check_settings(self.manifest, settings)
        else:
            self.manifest = {
                "format": FORMAT,
                "index_hash": settings.index_hash,
                "index_config": settings.index_config(),
                "collection": settings.collection_name,
                "embedding_model": settings.embedding_model,
                "embedding_dim": settings.embedding_dim,
                "generation": 0,
                "documents": {},
            }
        self._collection: Any = None
        self._previous_chunks: dict[str, StoredChunk] | None = None

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
            client = chroma_client(self.settings)
            self._collection = client.get_or_create_collection(
                self.manifest["collection"],
                embedding_function=None,
                metadata={
                    "hnsw:space": "cosine",
                    "embedding_model": self.settings.embedding_model,
                    "embedding_dim": self.settings.embedding_dim,
                    "index_hash": self.settings.index_hash,
                },
            )
        return self._collection

    @property
    def bm25_stale(self) -> bool:
        """True when the committed BM25 index was built with another vocabulary or tokenizer (readers
        would re-tokenise every chunk at each start until the next commit rebuilds it)."""
        return bool(self.manifest["documents"]) and self.manifest.get("vocab_hash") != _vocab_hash()

    def previous_chunks(self) -> dict[str, StoredChunk]:
        """Chunk records of the committed generation (empty for a new store)."""
        if self._previous_chunks is None:
            self._previous_chunks = {}
            gen_file = self.store / f"gen-{self.manifest['generation']}" / "chunks.jsonl"
            if self.manifest["generation"] and gen_file.is_file():
                with open(gen_file, encoding="utf-8") as fh:
                    for line in fh:
                        raw = json.loads(line)
                        self._previous_chunks[raw["chunk_id"]] = StoredChunk(**raw)
        return self._previous_chunks

    def existing_vectors(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 5000):
            got = self.collection.get(ids=ids[start : start + 5000], include=[])
            found.update(got["ids"])
        return found

    def add_vectors(self, chunks: list[StoredChunk], vectors: np.ndarray) -> None:
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

    def commit(self, documents: dict[str, dict[str, Any]], chunks: dict[str, StoredChunk]) -> None:
        """Make `documents` (doc_id -> {meta, chunk_ids}) with `chunks` the store's new state."""
        generation = int(self.manifest["generation"]) + 1
        gen_dir = self.store / f"gen-{generation}"
        tmp_dir = self.store / f".gen-{generation}.tmp"
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir)
        if gen_dir.exists():  # left over from a run killed after writing it but before the manifest
            shutil.rmtree(gen_dir)
        tmp_dir.mkdir()
        ordered = sorted(chunks.values(), key=lambda c: (c.doc_id, c.position))
        with open(tmp_dir / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for c in ordered:
                fh.write(json.dumps(c.__dict__, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        BM25Index.build(ordered, default_vocabulary()).save(tmp_dir)
        os.replace(tmp_dir, gen_dir)
        _fsync_dir(self.store)

        hashes = sorted(f"{d}:{e['meta']['content_hash']}" for d, e in documents.items())
        corpus_version = hashlib.sha256(
            json.dumps([self.settings.index_hash, hashes], sort_keys=True).encode()
        ).hexdigest()[:16]
        manifest = {
            **self.manifest,
            "generation": generation,
            "documents": documents,
            "corpus_version": corpus_version,
            "vocab_hash": _vocab_hash(),
            "encoder": self.settings.encoder,
            "committed_at": time.time(),
        }
        atomic_write_text(self.store / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
        self.manifest = manifest
        self._previous_chunks = dict(chunks)
        self.collect_garbage()

    def collect_garbage(self) -> int:
        """Drop old generation folders and vectors no committed document references."""
        current = f"gen-{self.manifest['generation']}"
        for child in self.store.iterdir():
            if (
                child.is_dir()
                and (child.name.startswith("gen-") or child.name.startswith(".gen-"))
                and child.name != current
            ):
                shutil.rmtree(child, ignore_errors=True)
        if not self.manifest["generation"]:
            return 0
        keep = {cid for d in self.manifest["documents"].values() for cid in d["chunk_ids"]}
        all_ids = self.collection.get(include=[])["ids"]
        orphans = [cid for cid in all_ids if cid not in keep]
        for start in range(0, len(orphans), 5000):
            self.collection.delete(ids=orphans[start : start + 5000])
        return len(orphans)


def open_reader(settings: Settings) -> StoreReader:
    manifest = _read_manifest(settings.store)
    _check_settings(manifest, settings)
    return StoreReader(settings, manifest)


class Store:
    """Entry points: `Store.open_reader(settings)` and `Store.open_writer(settings)`."""

    open_reader = staticmethod(open_reader)

    @staticmethod
    def open_writer(settings: Settings) -> StoreWriter:
        return StoreWriter(settings)
