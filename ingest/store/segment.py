"""One lexical segment: the chunk records and per-chunk term counts of the documents one commit
wrote (or one merge combined), immutable once written.

A segment holds whole documents: the rows of each document are contiguous, in chunk position
order. Per row it keeps the chunk record (one JSON line), the row's length in BM25 tokens and,
column by column, the term counts (`indptr`/`rows`/`tf`: the postings of each term, terms sorted).
BM25 scores are not stored, they depend on the whole corpus (document count, average length,
document frequencies) and are computed at query time (`ingest.store.bm25`), so adding a segment
never touches the others. A folder `segments/<name>/` holds:

    meta.json      format, counts, chunk ids, document ids and their first rows, terms
    records.jsonl  one chunk record per line (row order); offsets.npy: the byte offset of each line
    lengths.npy    tokens per row (int32)
    indptr.npy     postings of term j are rows[indptr[j]:indptr[j+1]] (int64)
    rows.npy, tf.npy   postings: row (int32) and count of the term in that row (uint16)

It is written under `segments/.<name>.tmp/`, every file fsync'd, then renamed into place, before
the manifest that names it; arrays are memory-mapped when read, and records are parsed on demand.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ally.chunks import Chunk
from ally.errors import StoreError
from ally.vocab import Vocabulary
from ingest.store.files import fsync_dir

SEGMENTS = "segments"  # the folder of a store holding the segment folders
SEGMENT_FORMAT = 1
EMPTY_TOKEN = "_"  # the token of a chunk that has none (bm25s needs one per document)
_ARRAYS = ("offsets", "lengths", "indptr", "rows", "tf")
_DTYPES = {"offsets": np.int64, "lengths": np.int32, "indptr": np.int64, "rows": np.int32, "tf": np.uint16}


def segments_dir(store: Path) -> Path:
    return store / SEGMENTS


def damaged(store: Path, what: str) -> StoreError:
    return StoreError(
        f"the store at {store} is damaged ({what}); move {store} aside and rebuild it with: "
        f"ally ingest corpus --store {store}"
    )


@dataclass(eq=False)
class Segment:
    """A segment in memory (just built or merged) or memory-mapped from its folder."""

    name: str
    ids: list[str]  # chunk id of each row
    doc_ids: list[str]  # documents in row order
    doc_starts: np.ndarray  # first row of each document, then the row count (len(doc_ids) + 1)
    blob: Any  # bytes or mmap: the records, one JSON line per row
    offsets: np.ndarray  # byte offset of each row's record in `blob`, then its size
    lengths: np.ndarray
    terms: list[str]  # sorted
    indptr: np.ndarray
    rows: np.ndarray
    tf: np.ndarray
    store: Path | None = None  # set when read from a store (names it in errors)

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    def doc_index(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.doc_ids)}

    # --- building -------------------------------------------------------------------------
    @classmethod
    def build(cls, name: str, docs: Sequence[tuple[str, Sequence[Chunk]]], vocab: Vocabulary) -> Segment:
        """The segment of `docs` (document id, its chunks in position order), tokenised with `vocab`."""
        builder = _Builder()
        doc_ids: list[str] = []
        starts: list[int] = []
        for doc_id, chunks in docs:
            doc_ids.append(doc_id)
            starts.append(len(builder.ids))
            for chunk in chunks:
                builder.add(chunk, vocab.tokens(chunk.embed_text) or [EMPTY_TOKEN])
        starts.append(len(builder.ids))
        return builder.segment(name, doc_ids, starts)

    # --- records --------------------------------------------------------------------------
    def record(self, row: int) -> Chunk:
        """The chunk record of `row` (StoreError naming the repair when it does not parse)."""
        raw = self.blob[int(self.offsets[row]) : int(self.offsets[row + 1])]
        try:
            chunk = Chunk.from_json(json.loads(raw))
        except (ValueError, TypeError) as exc:  # edited or damaged on disk
            raise damaged(self.store or Path("."), f"chunk record {row} of segment {self.name} unreadable") from exc
        if chunk.chunk_id != self.ids[row]:
            raise damaged(self.store or Path("."), f"chunk record {row} of segment {self.name} is another chunk")
        return chunk

    def record_bytes(self, start: int, end: int) -> bytes:
        return bytes(self.blob[int(self.offsets[start]) : int(self.offsets[end])])

    # --- disk -----------------------------------------------------------------------------
    def write(self, store: Path) -> None:
        """Write this segment durably to `segments/<name>/` (replacing a leftover of a killed run)."""
        parent = segments_dir(store)
        parent.mkdir(exist_ok=True)
        final, tmp = parent / self.name, parent / f".{self.name}.tmp"
        for leftover in (tmp, final):  # the folder of a run killed before its manifest was written
            if leftover.exists():
                shutil.rmtree(leftover)
        tmp.mkdir()
        meta = {
            "format": SEGMENT_FORMAT,
            "rows": self.n_rows,
            "postings": len(self.rows),
            "ids": self.ids,
            "doc_ids": self.doc_ids,
            "doc_starts": self.doc_starts.tolist(),
            "terms": self.terms,
        }
        _write_synced(tmp / "meta.json", json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        _write_synced(tmp / "records.jsonl", bytes(self.blob))
        for key in _ARRAYS:
            with open(tmp / f"{key}.npy", "wb") as fh:
                np.save(fh, np.ascontiguousarray(getattr(self, key), dtype=_DTYPES[key]))
                fh.flush()
                os.fsync(fh.fileno())
        fsync_dir(tmp)
        os.replace(tmp, final)
        fsync_dir(parent)

    @classmethod
    def open(cls, store: Path, name: str) -> Segment:
        """The segment `name` of `store`, memory-mapped; StoreError (naming the repair) when damaged."""
        folder = segments_dir(store) / name
        if not folder.is_dir():
            raise damaged(store, f"segment folder {folder} missing")
        try:
            meta = json.loads((folder / "meta.json").read_bytes())
            arrays = {key: np.load(folder / f"{key}.npy", mmap_mode="r", allow_pickle=False) for key in _ARRAYS}
            with open(folder / "records.jsonl", "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                blob: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            segment = cls(
                name=name,
                ids=meta["ids"],
                doc_ids=meta["doc_ids"],
                doc_starts=np.asarray(meta["doc_starts"], dtype=np.int64),
                blob=blob,
                terms=meta["terms"],
                store=store,
                **arrays,
            )
            problem = segment._check(meta, size)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # missing, truncated or garbage files
            raise damaged(store, f"segment {folder} unreadable: {exc.__class__.__name__}") from exc
        if problem:
            raise damaged(store, f"segment {folder} inconsistent: {problem}")
        return segment

    def _check(self, meta: dict[str, Any], size: int) -> str | None:
        """What is inconsistent between the files of a segment read from disk, or None."""
        rows = self.n_rows
        checks = [
            (meta.get("format") == SEGMENT_FORMAT, f"format {meta.get('format')!r}"),
            (meta.get("rows") == rows and len(self.lengths) == rows and len(self.offsets) == rows + 1, "row counts"),
            (int(self.offsets[-1]) == size, "records file size"),
            (len(self.doc_starts) == len(self.doc_ids) + 1 and int(self.doc_starts[-1]) == rows, "document rows"),
            (len(self.indptr) == len(self.terms) + 1, "term count"),
            (int(self.indptr[-1]) == len(self.rows) == len(self.tf) == meta.get("postings"), "postings count"),
        ]
        return next((what for ok, what in checks if not ok), None)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class _Builder:
    """Rows appended one by one, turned into a segment's arrays."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lines: list[bytes] = []
        self.lengths: list[int] = []
        self.term_ids: dict[str, int] = {}
        self.post_terms: list[int] = []
        self.post_rows: list[int] = []
        self.post_tf: list[int] = []

    def add(self, chunk: Chunk, tokens: list[str]) -> None:
        row = len(self.ids)
        self.ids.append(chunk.chunk_id)
        self.lines.append(json.dumps(chunk.to_json(), ensure_ascii=False).encode("utf-8") + b"\n")
        self.lengths.append(len(tokens))
        term_ids = self.term_ids
        for term, count in Counter(tokens).items():
            self.post_terms.append(term_ids.setdefault(term, len(term_ids)))
            self.post_rows.append(row)
            self.post_tf.append(count)

    def segment(self, name: str, doc_ids: list[str], starts: list[int]) -> Segment:
        terms = sorted(self.term_ids)
        rank = np.empty(len(terms), dtype=np.int64)
        rank[[self.term_ids[t] for t in terms]] = np.arange(len(terms))
        post_terms = rank[np.asarray(self.post_terms, dtype=np.int64)]
        order = np.argsort(post_terms, kind="stable")  # by term, rows ascending within a term
        offsets = np.zeros(len(self.lines) + 1, dtype=np.int64)
        np.cumsum([len(line) for line in self.lines], out=offsets[1:])
        return Segment(
            name=name,
            ids=self.ids,
            doc_ids=doc_ids,
            doc_starts=np.asarray(starts, dtype=np.int64),
            blob=b"".join(self.lines),
            offsets=offsets,
            lengths=np.asarray(self.lengths, dtype=np.int32),
            terms=terms,
            indptr=_indptr(post_terms, len(terms)),
            rows=np.asarray(self.post_rows, dtype=np.int32)[order],
            tf=np.asarray(self.post_tf, dtype=np.uint16)[order],
        )


def _indptr(post_terms: np.ndarray, n_terms: int) -> np.ndarray:
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(post_terms, minlength=n_terms), out=indptr[1:])
    return indptr


def merge(name: str, parts: Sequence[tuple[Segment, Sequence[int]]]) -> Segment:
    """One segment holding, in order, the documents `parts` keep (segment, indexes of its documents):
    records and term counts are copied, nothing is re-tokenised."""
    ids: list[str] = []
    doc_ids: list[str] = []
    starts: list[int] = []
    blobs: list[bytes] = []
    offsets: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    lengths: list[np.ndarray] = []
    postings: list[tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = []
    size = 0
    for seg, keep in parts:
        row_map = np.full(seg.n_rows, -1, dtype=np.int64)
        for k in keep:
            a, b = int(seg.doc_starts[k]), int(seg.doc_starts[k + 1])
            doc_ids.append(seg.doc_ids[k])
            starts.append(len(ids))
            row_map[a:b] = np.arange(len(ids), len(ids) + b - a)
            ids.extend(seg.ids[a:b])
            blobs.append(seg.record_bytes(a, b))
            offsets.append(np.asarray(seg.offsets[a + 1 : b + 1], dtype=np.int64) - int(seg.offsets[a]) + size)
            size += int(seg.offsets[b]) - int(seg.offsets[a])
            lengths.append(np.asarray(seg.lengths[a:b]))
        new_rows = row_map[np.asarray(seg.rows)]
        kept = new_rows >= 0
        post_terms = np.repeat(np.arange(len(seg.terms)), np.diff(np.asarray(seg.indptr)))[kept]
        postings.append((seg.terms, post_terms, new_rows[kept], np.asarray(seg.tf)[kept]))
    starts.append(len(ids))
    terms, indptr, rows, tf = _merge_postings(postings)
    return Segment(
        name=name,
        ids=ids,
        doc_ids=doc_ids,
        doc_starts=np.asarray(starts, dtype=np.int64),
        blob=b"".join(blobs),
        offsets=np.concatenate(offsets),
        lengths=np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int32),
        terms=terms,
        indptr=indptr,
        rows=rows,
        tf=tf,
    )


def _merge_postings(
    parts: list[tuple[list[str], np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Postings of several parts (their terms, and per posting: local term id, new row, count) as one
    CSC over the union of the terms that still have a posting."""
    used = sorted({part_terms[int(t)] for part_terms, post_terms, _, _ in parts for t in np.unique(post_terms)})
    index = {t: i for i, t in enumerate(used)}
    all_terms, all_rows, all_tf = [], [], []
    for part_terms, post_terms, rows, tf in parts:
        local = np.asarray([index.get(t, -1) for t in part_terms], dtype=np.int64)
        all_terms.append(local[post_terms] if len(post_terms) else np.zeros(0, dtype=np.int64))
        all_rows.append(rows)
        all_tf.append(tf)
    terms_arr = np.concatenate(all_terms) if all_terms else np.zeros(0, dtype=np.int64)
    rows_arr = np.concatenate(all_rows).astype(np.int32) if all_rows else np.zeros(0, dtype=np.int32)
    tf_arr = np.concatenate(all_tf).astype(np.uint16) if all_tf else np.zeros(0, dtype=np.uint16)
    order = np.argsort(terms_arr, kind="stable")
    return used, _indptr(terms_arr, len(used)), rows_arr[order], tf_arr[order]
