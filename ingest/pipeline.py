"""The ingest pipeline: discover files, skip unchanged ones, load/clean/chunk the rest, embed only
chunks whose vectors the store does not hold yet, and commit the new state atomically.

Bad files are reported (path + reason) and skipped; the rest still ingest. Embedding runs on a
background thread while the next files are read (`ingest.background`). Vectors are added as they
are computed, so a run killed mid-way loses no embedding work: the next run finds them. A
`CorpusReader` holds one run's reading state: the documents and chunks of the store's next state.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ally.chunks import Chunk
from ally.errors import IngestError
from ally.schema import Failure, IngestReport
from ally.settings import Settings
from ingest.background import BackgroundEmbedder
from ingest.chunk import Chunker
from ingest.documents import LoadedDocument
from ingest.embed import Encoder, encoder_for, model_path, token_counter
from ingest.loaders import SOURCES_FILE, SUPPORTED_SUFFIXES, SourceEntry, load_file, load_sources
from ingest.progress import Progress, SilentProgress
from ingest.store.manifest import DocumentEntry
from ingest.store.writer import open_writer


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

    with open_writer(settings) as writer:
        embedder = BackgroundEmbedder(writer, lambda: encoder or encoder_for(settings))
        reader = CorpusReader(
            settings, chunker, embedder, report, dict(writer.manifest.documents), dict(writer.previous_chunks())
        )
        try:
            reader.read_all(files, progress)
            if prune:
                reader.prune()
            report.embedded = embedder.finish(progress)
        except BaseException:
            embedder.abandon()
            raise

        chunks = reader.referenced_chunks()
        changed = report.added or report.updated or report.removed
        # A new vocabulary (ALLy upgrade) also commits: the BM25 index is rebuilt once, here.
        if changed or (writer.manifest.generation == 0 and reader.documents) or writer.bm25_stale:
            writer.commit(reader.documents, chunks)
        report.chunks = len(chunks)
    progress.close()
    report.failed = len(report.failures)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


@dataclass
class CorpusReader:
    """Loads, cleans and chunks each changed file into `documents`/`chunks` (the store's next state,
    starting from the committed one); chunks not seen before go to `embedder`, counts to `report`."""

    settings: Settings
    chunker: Chunker
    embedder: BackgroundEmbedder
    report: IngestReport
    documents: dict[str, DocumentEntry]
    chunks: dict[str, Chunk]
    sources: dict[Path, dict[str, SourceEntry]] = field(default_factory=dict)  # sources.yaml by folder
    by_path: dict[str, list[str]] = field(init=False)  # committed doc ids by source file

    def __post_init__(self) -> None:
        self.by_path = {}
        for doc_id, entry in self.documents.items():
            self.by_path.setdefault(entry.meta.path, []).append(doc_id)

    def read_all(self, files: list[Path], progress: Progress) -> None:
        progress.phase("reading", len(files))
        for path in files:
            progress.advance()
            self.read(path)

    def read(self, path: Path) -> None:
        """One file: skipped when unchanged, else its documents replace those it held before."""
        source = self._source(path)
        previous_ids = self.by_path.get(str(path), [])
        fhash = _file_hash(path, source)
        if previous_ids and fhash and all(self.documents[d].meta.file_hash == fhash for d in previous_ids):
            self.report.skipped += 1
            return
        loaded = self._load(path, source)
        if loaded is None:
            return
        new_ids = [self._add(path, doc, fhash) for doc in loaded]
        for gone in set(previous_ids) - set(new_ids):  # e.g. an article dropped from a PubMed export
            self._drop(gone)

    def prune(self) -> None:
        """Drop the documents whose source files are gone."""
        for doc_id in [d for d, e in self.documents.items() if not Path(e.meta.path).exists()]:
            self._drop(doc_id)

    def referenced_chunks(self) -> dict[str, Chunk]:
        """The chunks some document references (a shared chunk may belong to two documents)."""
        referenced = {cid for e in self.documents.values() for cid in e.chunk_ids}
        return {cid: c for cid, c in self.chunks.items() if cid in referenced}

    def _source(self, path: Path) -> SourceEntry | None:
        folder = path.parent
        if folder not in self.sources:
            try:
                self.sources[folder] = load_sources(folder)
            except IngestError as exc:
                self.report.failures.append(Failure(path=str(folder / SOURCES_FILE), reason=str(exc)))
                self.sources[folder] = {}
        return self.sources[folder].get(path.name)

    def _load(self, path: Path, source: SourceEntry | None) -> list[LoadedDocument] | None:
        """The documents in `path`, or None (and a failure reported) when it cannot be loaded."""
        try:
            return load_file(path, source, max_bytes=self.settings.max_file_bytes)
        except IngestError as exc:
            reason = str(exc)
        except Exception as exc:  # a loader bug must not stop the other files
            reason = f"unexpected {exc.__class__.__name__}: {exc}"
        self.report.failures.append(Failure(path=str(path), reason=reason))
        return None

    def _add(self, path: Path, doc: LoadedDocument, fhash: str | None) -> str:
        """Chunk `doc` into the next state (replacing its earlier version); its doc id."""
        owner = self.documents.get(doc.meta.doc_id)
        if owner is not None and owner.meta.path != str(path) and Path(owner.meta.path).exists():
            doc.meta.doc_id = f"{doc.meta.doc_id}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"
        doc_id = doc.meta.doc_id
        doc_chunks = self.chunker.chunk(doc)
        # vectors missing from the store are computed in the background
        self.embedder.submit([c for c in doc_chunks if c.chunk_id not in self.chunks])
        self.chunks.update((c.chunk_id, c) for c in doc_chunks)
        previous = self.documents.get(doc_id)
        entry = DocumentEntry(meta=replace(doc.meta, file_hash=fhash), chunk_ids=[c.chunk_id for c in doc_chunks])
        self.documents[doc_id] = entry
        if previous is None:
            self.report.added += 1
        else:
            self.report.updated += 1
            for cid in set(previous.chunk_ids) - set(entry.chunk_ids):
                self.chunks.pop(cid, None)
        self.report.warnings.extend(doc.warnings)
        return doc_id

    def _drop(self, doc_id: str) -> None:
        for cid in self.documents.pop(doc_id).chunk_ids:
            self.chunks.pop(cid, None)
        self.report.removed += 1
