"""The manifest: the store's commit point, typed.

`manifest.json` names the index settings the store was built with, the committed generation, every
document with its metadata and chunk ids, and (format 2) the segments holding the chunk records and
term counts. It is read and validated once (`Manifest.read`), checked against the current settings
(`Manifest.check`), and replaced atomically by the writer's commit (`Manifest.write`). Only what it
names exists for readers. The JSON keeps the keys of stores built before it was typed, and keys it
does not know are kept as they are. Format 1 (one `gen-<n>/` folder per generation, chunks.jsonl
and a bm25s index rewritten whole by every commit) is still read here, so that `ally ingest`
can upgrade such a store once; readers refuse it with the command that does.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ally.errors import StoreError, StoreMismatchError, StoreNotFoundError
from ally.schema import DocumentFacts, DocumentInfo
from ally.settings import Settings
from ingest.documents import DocMeta
from ingest.store import files

MANIFEST = "manifest.json"
FORMAT = 2  # written by this version: segments (ingest.store.segment)
LEGACY_FORMAT = 1  # gen-<n>/chunks.jsonl + a bm25s index: read, upgraded by the next `ally ingest`


def vocab_hash() -> str:
    """Hash of the vocabulary and tokenizer version the BM25 index is built with: of the vocabulary
    this process loaded and tokenises with, not of the file as it is now on disk."""
    from ally.vocab import TOKENIZER_VERSION, default_vocabulary

    return hashlib.sha256(default_vocabulary().source + str(TOKENIZER_VERSION).encode()).hexdigest()[:12]


def rebuild_hint(store: Path) -> str:
    return f"ally ingest corpus --store {store}"


class DocumentEntry(BaseModel):
    """One committed document: its metadata as ingested and its chunk ids in document order."""

    model_config = ConfigDict(frozen=True)

    meta: DocMeta
    chunk_ids: list[str]

    def facts(self, doc_id: str) -> DocumentFacts:
        """The fields `info` gives that say what the document is about and who issued it."""
        meta = self.meta
        return DocumentFacts(
            doc_id,
            meta.path,
            meta.authors,
            meta.publisher,
            meta.year,
            meta.published or meta.updated,
            meta.subjects,
            meta.untrusted,
        )

    def info(self, doc_id: str) -> DocumentInfo:
        meta = self.meta
        return DocumentInfo(
            doc_id=doc_id,
            title=meta.title,
            path=meta.path,
            publisher=meta.publisher,
            kind=meta.kind,
            year=meta.year,
            doi=meta.doi,
            published=meta.published or meta.updated,
            authors=meta.authors,
            chunks=len(self.chunk_ids),
            content_hash=meta.content_hash,
            subjects=meta.subjects,
            untrusted=meta.untrusted,
            added_at=meta.added_at,
            updated_at=meta.updated_at,
        )


class Manifest(BaseModel):
    """The committed state of a store (see the module docstring)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    format: int
    index_hash: str
    index_config: dict[str, Any]
    collection: str
    embedding_model: str
    embedding_dim: int
    generation: int
    documents: dict[str, DocumentEntry]
    # Set by every commit (absent only from a new store's manifest, which is never written).
    corpus_version: str = ""
    vocab_hash: str | None = None
    encoder: str | None = None
    committed_at: float | None = None
    # Format 2: the segment folders holding the chunk records and term counts, oldest first.
    segments: list[str] | None = None

    @classmethod
    def new(cls, settings: Settings) -> Manifest:
        """The manifest of an empty store built with `settings` (generation 0)."""
        return cls(
            format=FORMAT,
            index_hash=settings.index_hash,
            index_config=settings.index_config(),
            collection=settings.collection_name,
            embedding_model=settings.embedding_model,
            embedding_dim=settings.embedding_dim,
            generation=0,
            documents={},
            segments=[],
        )

    @classmethod
    def read(cls, store: Path) -> Manifest:
        """The manifest of the store folder `store`; StoreError (naming the fix) when missing or damaged."""
        path = store / MANIFEST
        if not path.is_file():
            raise StoreNotFoundError(
                f"no ALLy store at {store} (manifest.json missing); build it with: {rebuild_hint(store)}"
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
            raise StoreError(
                f"the store manifest {path} is unreadable ({exc}); move {store} aside and rebuild with: "
                f"{rebuild_hint(store)}"
            ) from exc
        found = raw.get("format") if isinstance(raw, dict) else None
        if found not in (FORMAT, LEGACY_FORMAT) or "documents" not in raw or (found == FORMAT) != ("segments" in raw):
            raise StoreError(
                f"{path} is not an ALLy store manifest (format {found!r}); rebuild with: {rebuild_hint(store)}"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise StoreError(
                f"the store manifest {path} is damaged ({where}: {first['msg']}); move {store} aside and rebuild "
                f"with: {rebuild_hint(store)}"
            ) from exc

    def check(self, settings: Settings) -> None:
        """StoreMismatchError when the store was built with other embedding or chunking settings."""
        if self.index_hash != settings.index_hash:
            raise StoreMismatchError(
                f"the store at {settings.store} was built with other embedding/chunking settings "
                f"({self.index_config}) than the current ones ({settings.index_config()}); "
                f"re-ingest into a new folder (ally ingest corpus --store NEW_DIR) or delete {settings.store} "
                "and re-run ally ingest"
            )

    def chunk_ids(self) -> set[str]:
        """Every chunk id some committed document references."""
        return {cid for entry in self.documents.values() for cid in entry.chunk_ids}

    @property
    def bm25_current(self) -> bool:
        """True when the committed BM25 index was built with the current vocabulary and tokenizer."""
        return self.vocab_hash == vocab_hash()

    @property
    def legacy(self) -> bool:
        """True for a store written before segments (format 1): readers refuse it, `ally ingest` upgrades it."""
        return self.format == LEGACY_FORMAT

    def committed(
        self, documents: dict[str, DocumentEntry], settings: Settings, segments: list[str] | None = None
    ) -> Manifest:
        """The manifest of the next generation, holding `documents` in `segments` (not written yet)."""
        hashes = sorted(f"{doc_id}:{entry.meta.content_hash}" for doc_id, entry in documents.items())
        corpus_version = hashlib.sha256(json.dumps([settings.index_hash, hashes], sort_keys=True).encode()).hexdigest()
        return self.model_copy(
            update={
                "generation": self.generation + 1,
                "documents": documents,
                "corpus_version": corpus_version[:16],
                "vocab_hash": vocab_hash(),
                "encoder": settings.encoder,
                "committed_at": time.time(),
                "format": FORMAT if segments is not None else self.format,
                "segments": segments if segments is not None else self.segments,
            }
        )

    def to_json(self) -> str:
        # A format-1 manifest (no segments) is written back as it was read. Format 2 is compact: at 100k
        # chunks the indented JSON took the pure-Python encoder ~0.5 s per commit, the compact one ~0.1 s.
        data = self.model_dump(mode="json", exclude={"segments"} if self.segments is None else None)
        for entry in data["documents"].values():  # derived fields at their defaults are left out, so that a
            meta = entry["meta"]  # manifest from before they existed is written back as it was read
            if meta.get("subjects") is None:
                meta.pop("subjects", None)
            if not meta.get("untrusted"):
                meta.pop("untrusted", None)
            for key in ("added_at", "updated_at"):
                if meta.get(key) is None:
                    meta.pop(key, None)
        indent = 1 if self.legacy else None
        return json.dumps(data, ensure_ascii=False, indent=indent, sort_keys=True)

    def write(self, store: Path) -> None:
        """Replace the store's manifest by this one atomically: the commit point."""
        files.atomic_write_text(store / MANIFEST, self.to_json())
