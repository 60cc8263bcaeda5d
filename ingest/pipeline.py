"""The ingest pipeline: discover files, skip unchanged ones, load/clean/chunk the rest, embed only
chunks whose vectors the store does not hold yet, and commit the new state atomically.

Bad files are reported (path + reason) and skipped; the rest still ingest. Nothing vanishes without a
word: an unsupported file found in a folder, and each part of a file that is no document (a PubMed
article without a PMID or any text), is a failure of the report too. Embedding runs on a
background thread while the next files are read (`ingest.background`). Vectors are added as they
are computed, so a run killed mid-way loses no embedding work: the next run finds them. A
`CorpusReader` holds one run's reading state: the documents and chunks of the store's next state.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ally.chunks import Chunk
from ally.errors import IngestError
from ally.schema import Failure, IngestReport
from ally.settings import Settings
from ally.subjects import SUBJECTS_VERSION, document_subjects
from ally.untrusted import UNTRUSTED_VERSION, document_reasons
from ally.vocab import default_vocabulary
from ingest.background import BackgroundEmbedder
from ingest.chunk import Chunker
from ingest.documents import DocMeta, LoadedDocument
from ingest.embed import Encoder, encoder_for, model_path, token_counter
from ingest.loaders import SOURCES_FILE, SUPPORTED_SUFFIXES, SourceEntry, load_source, load_sources
from ingest.progress import Progress, SilentProgress
from ingest.store.manifest import DocumentEntry
from ingest.store.stats import FileStats, Key, stat_key
from ingest.store.writer import StoreWriter, open_writer


def discover(paths: list[Path]) -> tuple[list[Path], list[Failure]]:
    """Files to ingest under `paths` (folders are walked), and failures for paths that are unusable."""
    files: list[Path] = []
    failures: list[Failure] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            failures.append(Failure(path=str(path), reason="no such file or folder"))
        elif path.is_dir():
            folders: dict[Path, Path] = {}  # resolved once per folder, not once per file
            for f in sorted(path.rglob("*")):
                rel_parts = f.relative_to(path).parts
                if not f.is_file() or any(p.startswith(".") for p in rel_parts) or f.name == SOURCES_FILE:
                    continue
                if f.suffix.lower() in SUPPORTED_SUFFIXES:
                    if f.parent not in folders:
                        folders[f.parent] = f.parent.resolve()
                    files.append(f.resolve() if f.is_symlink() else folders[f.parent] / f.name)
                else:  # nothing in a folder is left out without a word (hidden files aside)
                    failures.append(Failure(path=str(f), reason=_unsupported(f)))
        elif path.is_file():
            if path.name == SOURCES_FILE:
                continue
            files.append(path.resolve())
        else:
            failures.append(Failure(path=str(path), reason="not a regular file or folder"))
    unique = list(dict.fromkeys(files))
    return unique, failures


def _unsupported(path: Path) -> str:
    kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
    return f"unsupported file type '{path.suffix.lower() or '(none)'}', not ingested; supported: {kinds}"


# What the pipeline derives from a document's text besides its chunks (subjects, untrusted-text
# flags). Part of every file's hash, so that a store ingested before a derivation changed has its
# files read again once by the next `ally ingest` (their chunks, and so their vectors, are unchanged).
DERIVED_VERSION = f"subjects-{SUBJECTS_VERSION}/untrusted-{UNTRUSTED_VERSION}"


def _file_hash(path: Path, entry: SourceEntry | None) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    described = (entry.model_dump_json() if entry else "") + DERIVED_VERSION
    return hashlib.sha256(data + described.encode()).hexdigest()


def _dates(previous: DocumentEntry | None, content_hash: str) -> tuple[str, str]:
    """(added_at, updated_at) of a document being (re)written: kept while its content is unchanged."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    if previous is None:
        return now, now
    old = previous.meta
    changed = old.content_hash != content_hash
    return old.added_at or now, (now if changed or not old.updated_at else old.updated_at)


def _texts(doc: LoadedDocument) -> list[str]:
    return [doc.meta.title] + [b.text for b in doc.blocks] + [f"{k}: {v}" for b in doc.blocks for k, v in b.fields]


def derive(doc: LoadedDocument) -> DocMeta:
    """The document's metadata with what is derived from its text: its subjects (the diseases it is
    about) and, when some of its text addresses the reader or the assistant, why it is untrusted."""
    texts = _texts(doc)
    return replace(
        doc.meta,
        subjects=document_subjects(doc.meta.title, texts[1:]),
        untrusted=document_reasons(texts),
    )


def ingest_paths(
    paths: list[Path],
    settings: Settings,
    *,
    prune: bool = False,
    progress: Progress | None = None,
    encoder: Encoder | None = None,
    rehash: bool = False,
) -> IngestReport:
    """Ingest `paths` into the store; `rehash` reads and hashes every file, trusting no recorded
    file stat (`ingest.store.stats`)."""
    started = time.perf_counter()
    progress = progress or SilentProgress()
    report = IngestReport()
    files, failures = discover(paths)
    report.failures.extend(failures)

    count = token_counter(model_path(settings))
    chunker = Chunker(count, settings.chunk_max_tokens, settings.prose_chunk_tokens)

    with open_writer(settings) as writer:
        embedder = BackgroundEmbedder(writer, lambda: encoder or encoder_for(settings, bulk=True))
        stats = FileStats.open(settings.store, DERIVED_VERSION, ignore=rehash)
        reader = CorpusReader(
            settings, chunker, embedder, report, dict(writer.manifest.documents), writer.previous_chunks(), stats
        )
        try:
            reader.read_all(files, progress)
            if prune:
                reader.prune()
            backfilled = _backfill_units(writer, reader, embedder, report)
            report.embedded = embedder.finish(progress)
        except BaseException:
            embedder.abandon()
            raise

        changed = report.added or report.updated or report.removed
        # A new vocabulary or an earlier store format (ALLy upgrade) also commits: the index is rebuilt once, here.
        if changed or (writer.manifest.generation == 0 and reader.documents) or writer.bm25_stale:
            if writer.upgrade_note:
                report.warnings.append(writer.upgrade_note)
            writer.commit(reader.documents, reader.chunks)  # reads the chunks of changed documents only
        elif backfilled:  # unit vectors only: the folders of other unit settings go now, not at the next commit
            writer.units.collect(writer.manifest.chunk_ids())
        # after the commit: a stat recorded for a file whose new documents were not committed would
        # only cost a re-read (the hash is still checked), but there is no reason to risk even that
        stats.save({entry.meta.path for entry in writer.manifest.documents.values()})
        report.chunks = len({cid for entry in reader.documents.values() for cid in entry.chunk_ids})
    progress.close()
    report.failed = len(report.failures)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _backfill_units(
    writer: StoreWriter, reader: CorpusReader, embedder: BackgroundEmbedder, report: IngestReport
) -> bool:
    """Committed chunks without unit vectors (a store built before them, or another `unit_vectors`
    mode) are embedded once, with the rest of this run; whether there were any."""
    if not writer.manifest.generation:
        return False
    live = [c for e in reader.documents.values() for c in e.chunk_ids if c not in embedder.submitted_ids]
    missing = writer.units.missing(live)
    if missing:
        report.warnings.append(
            f"unit vectors computed for {len(missing)} chunk(s) already in the store (built before unit "
            "vectors, or with another unit_vectors setting); this happens once"
        )
        embedder.submit([reader.chunks[cid] for cid in missing])
    return bool(missing)


@dataclass
class CorpusReader:
    """Loads, cleans and chunks each changed file into `documents`/`chunks` (the store's next state,
    starting from the committed one); chunks not seen before go to `embedder`, counts to `report`."""

    settings: Settings
    chunker: Chunker
    embedder: BackgroundEmbedder
    report: IngestReport
    documents: dict[str, DocumentEntry]
    chunks: MutableMapping[str, Chunk]  # the committed chunks (read on demand) with this run's changes
    stats: FileStats  # recorded file stats: an unchanged file is skipped before it is read
    sources: dict[Path, dict[str, SourceEntry]] = field(default_factory=dict)  # sources.yaml by folder
    sources_stats: dict[Path, Key | None] = field(default_factory=dict)  # its stat, taken once per run
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
        previous_ids = self.by_path.get(str(path), [])
        key, sources = stat_key(path), self._sources_stat(path.parent)  # before the file is read
        known = self.stats.known_hash(path, key, sources) if previous_ids else None
        if known and all(self.documents[d].meta.file_hash == known for d in previous_ids):
            self.report.skipped += 1  # unchanged by its stat: not read, not hashed
            return
        source = self._source(path)
        fhash = _file_hash(path, source)
        self.stats.record(path, key, sources, fhash)
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

    def _source(self, path: Path) -> SourceEntry | None:
        folder = path.parent
        if folder not in self.sources:
            self.sources[folder] = self._folder_sources(folder)
        return self.sources[folder].get(path.name)

    def _sources_stat(self, folder: Path) -> Key | None:
        if folder not in self.sources_stats:
            self.sources_stats[folder] = stat_key(folder / SOURCES_FILE)
        return self.sources_stats[folder]

    def _folder_sources(self, folder: Path) -> dict[str, SourceEntry]:
        """The folder's sources.yaml entries: parsed when it changed since the last run, else as
        parsed then (`FileStats.known_sources`)."""
        sources_file = folder / SOURCES_FILE
        key = self._sources_stat(folder)
        known = self.stats.known_sources(sources_file, key)
        if known is not None:
            return {name: SourceEntry.model_validate(entry) for name, entry in known.items()}
        try:
            parsed = load_sources(folder)
        except IngestError as exc:
            self.report.failures.append(Failure(path=str(sources_file), reason=str(exc)))
            return {}
        self.stats.record_sources(sources_file, key, {n: e.model_dump(mode="json") for n, e in parsed.items()})
        return parsed

    def _load(self, path: Path, source: SourceEntry | None) -> list[LoadedDocument] | None:
        """The documents in `path`, or None (and a failure reported) when it cannot be loaded; each part
        of the file that is no document (a PubMed article without a PMID, ...) is a failure too."""
        try:
            loaded = load_source(path, source, max_bytes=self.settings.max_file_bytes)
            self.report.failures.extend(Failure(path=str(path), reason=why) for why in loaded.skipped)
            return loaded.documents
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
        # The commit indexes this document's chunks for BM25: tokenised now, while the model runs, the
        # vocabulary's memo (concept matches, stems) hands the commit its work done.
        vocab = default_vocabulary()
        for c in doc_chunks:
            vocab.tokens(c.embed_text)
        self.chunks.update((c.chunk_id, c) for c in doc_chunks)
        previous = self.documents.get(doc_id)
        added_at, updated_at = _dates(self.documents.get(doc_id), doc.meta.content_hash)
        meta = replace(derive(doc), file_hash=fhash, added_at=added_at, updated_at=updated_at)
        entry = DocumentEntry(meta=meta, chunk_ids=[c.chunk_id for c in doc_chunks])
        if meta.untrusted:
            self.report.warnings.append(
                f"{path}: document '{meta.title}' ({doc_id}) is kept out of answers: its text "
                f"{'; '.join(meta.untrusted)} (an instruction-injection attempt, not a statement of fact)"
            )
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
