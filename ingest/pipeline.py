"""The ingest pipeline: discover files, skip unchanged ones, load/clean/chunk the rest, embed only
chunks whose vectors the store does not hold yet, and commit the new state atomically.

Bad files are reported (path + reason) and skipped; the rest still ingest. Embedding runs on a
background thread while the next files are read (`ingest.background`). Vectors are added as they
are computed, so a run killed mid-way loses no embedding work: the next run finds them.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from ally.errors import IngestError
from ally.schema import Failure, IngestReport
from ally.settings import Settings
from ingest.background import BackgroundEmbedder
from ingest.chunk import Chunker
from ingest.embed import Encoder, encoder_for, model_path, token_counter
from ingest.loaders import SOURCES_FILE, SUPPORTED_SUFFIXES, SourceEntry, load_file, load_sources
from ingest.progress import Progress, SilentProgress
from ingest.store import Store, StoredChunk


def discover(paths: list[Path]) -> tuple[list[Path], list[Failure]]:
    """Files to ingest under `paths` (folders are walked), and failures for paths that are unusable."""
    files: list[Path] = []
    failures: list[Failure] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            failures.append(Failure(path=str(path), reason="no such file or folder"))
        elif path.is_dir():
            for f in sorted(path.rglob("*")):
                rel_parts = f.relative_to(path).parts
                if not f.is_file() or any(p.startswith(".") for p in rel_parts) or f.name == SOURCES_FILE:
                    continue
                if f.suffix.lower() in SUPPORTED_SUFFIXES:
                    files.append(f.resolve())
        elif path.is_file():
            if path.name == SOURCES_FILE:
                continue
            files.append(path.resolve())
        else:
            failures.append(Failure(path=str(path), reason="not a regular file or folder"))
    unique = list(dict.fromkeys(files))
    return unique, failures


def _file_hash(path: Path, entry: SourceEntry | None) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return hashlib.sha256(data + (entry.model_dump_json() if entry else "").encode()).hexdigest()


def ingest_paths(
    paths: list[Path],
    settings: Settings,
    *,
    prune: bool = False,
    progress: Progress | None = None,
    encoder: Encoder | None = None,
) -> IngestReport:
    started = time.perf_counter()
    progress = progress or SilentProgress()
    report = IngestReport()
    files, failures = discover(paths)
    report.failures.extend(failures)

    count = token_counter(model_path(settings))
    chunker = Chunker(count, settings.chunk_max_tokens, settings.prose_chunk_tokens)
    sources_cache: dict[Path, dict[str, SourceEntry]] = {}

    with Store.open_writer(settings) as writer:
        documents: dict[str, dict[str, Any]] = {k: dict(v) for k, v in writer.manifest["documents"].items()}
        chunks: dict[str, StoredChunk] = dict(writer.previous_chunks())
        by_path: dict[str, list[str]] = {}
        for doc_id, entry in documents.items():
            by_path.setdefault(entry["meta"]["path"], []).append(doc_id)

        embedder = BackgroundEmbedder(writer, lambda: encoder or encoder_for(settings))
        try:
            _read_all(files, settings, chunker, sources_cache, documents, chunks, by_path, embedder, report, progress)
            if prune:
                for doc_id in [d for d, e in documents.items() if not Path(e["meta"]["path"]).exists()]:
                    for cid in documents.pop(doc_id)["chunk_ids"]:
                        chunks.pop(cid, None)
                    report.removed += 1
            report.embedded = embedder.finish(progress)
        except BaseException:
            embedder.abandon()
            raise

        # Keep only chunks some document references (a shared chunk may belong to two documents).
        referenced = {cid for e in documents.values() for cid in e["chunk_ids"]}
        chunks = {cid: c for cid, c in chunks.items() if cid in referenced}

        changed = report.added or report.updated or report.removed
        # A new vocabulary (ALLy upgrade) also commits: the BM25 index is rebuilt once, here.
        if changed or (writer.manifest["generation"] == 0 and documents) or writer.bm25_stale:
            writer.commit(documents, chunks)
        report.chunks = len(chunks)
    progress.close()
    report.failed = len(report.failures)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _read_all(
    files: list[Path],
    settings: Settings,
    chunker: Chunker,
    sources_cache: dict[Path, dict[str, SourceEntry]],
    documents: dict[str, dict[str, Any]],
    chunks: dict[str, StoredChunk],
    by_path: dict[str, list[str]],
    embedder: BackgroundEmbedder,
    report: IngestReport,
    progress: Progress,
) -> None:
    """Load, clean and chunk each changed file into `documents`/`chunks`; new chunks go to `embedder`."""
    progress.phase("reading", len(files))
    for path in files:
        progress.advance()
        folder = path.parent
        if folder not in sources_cache:
            try:
                sources_cache[folder] = load_sources(folder)
            except IngestError as exc:
                report.failures.append(Failure(path=str(folder / SOURCES_FILE), reason=str(exc)))
                sources_cache[folder] = {}
        source = sources_cache[folder].get(path.name)
        previous_ids = by_path.get(str(path), [])
        fhash = _file_hash(path, source)
        if previous_ids and fhash and all(documents[d]["meta"].get("file_hash") == fhash for d in previous_ids):
            report.skipped += 1
            continue
        try:
            loaded = load_file(path, source, max_bytes=settings.max_file_bytes)
        except IngestError as exc:
            report.failures.append(Failure(path=str(path), reason=str(exc)))
            continue
        except Exception as exc:  # a loader bug must not stop the other files
            report.failures.append(Failure(path=str(path), reason=f"unexpected {exc.__class__.__name__}: {exc}"))
            continue
        new_ids: list[str] = []
        for doc in loaded:
            owner = documents.get(doc.meta.doc_id)
            if owner is not None and owner["meta"]["path"] != str(path) and Path(owner["meta"]["path"]).exists():
                doc.meta.doc_id = f"{doc.meta.doc_id}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"
            doc_chunks = chunker.chunk(doc)
            meta = {**doc.meta.__dict__, "file_hash": fhash}
            new_chunks: list[StoredChunk] = []
            for c in doc_chunks:
                stored = StoredChunk(
                    chunk_id=c.chunk_id,
                    doc_id=c.doc_id if c.doc_id == doc.meta.doc_id else doc.meta.doc_id,
                    section=c.section,
                    text=c.text,
                    embed_text=c.embed_text,
                    position=c.position,
                    title=doc.meta.title,
                    flags=c.flags,
                )
                if stored.chunk_id not in chunks:
                    new_chunks.append(stored)
                chunks[stored.chunk_id] = stored
            embedder.submit(new_chunks)  # vectors missing from the store are computed in the background
            existed = doc.meta.doc_id in documents
            old_ids = set(documents[doc.meta.doc_id]["chunk_ids"]) if existed else set()
            documents[doc.meta.doc_id] = {"meta": meta, "chunk_ids": [c.chunk_id for c in doc_chunks]}
            if existed:
                report.updated += 1
                for cid in old_ids - set(documents[doc.meta.doc_id]["chunk_ids"]):
                    chunks.pop(cid, None)
            else:
                report.added += 1
            report.warnings.extend(doc.warnings)
            new_ids.append(doc.meta.doc_id)
        for gone in set(previous_ids) - set(new_ids):  # e.g. an article dropped from a PubMed export
            for cid in documents.pop(gone)["chunk_ids"]:
                chunks.pop(cid, None)
            report.removed += 1
