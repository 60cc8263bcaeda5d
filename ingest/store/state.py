"""The committed state of a store: the segments the manifest names, which one holds the live
version of each document, and the canonical order of the chunks.

A document's live version is in the last segment (in the manifest's order) that holds it; its
rows in earlier segments are dead (a commit that changes or removes a document writes nothing
into the old segment). The canonical order is the one a full rebuild would write: documents by
id, each document's chunks by position. `StoreState` maps each live chunk to its place in that
order, and each segment row to its chunk's place (-1 for a dead row), so BM25 (`ingest.store.bm25`)
and the chunk records (`ingest.store.records`) read every segment as one corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.store.manifest import DocumentEntry, Manifest
from ingest.store.segment import Segment, damaged


@dataclass(eq=False)
class StoreState:
    segments: list[Segment]
    ids: list[str]  # live chunk ids in canonical order
    loc: dict[str, int]  # chunk id -> its place in `ids`
    seg_of: np.ndarray  # per chunk: index of its segment
    row_of: np.ndarray  # per chunk: its row in that segment
    gidx: list[np.ndarray]  # per segment: each row's place in `ids`, -1 for a dead row
    lengths: np.ndarray  # per chunk: BM25 tokens
    owner: dict[str, int]  # document id -> index of the segment holding its live version
    doc_span: dict[str, tuple[int, int]]  # document id -> its chunks' places [start, end)

    @classmethod
    def open(cls, store: Path, manifest: Manifest) -> StoreState:
        """The state `manifest` commits (StoreError naming the repair when the files disagree with it)."""
        segments = [Segment.open(store, name) for name in manifest.segments or []]
        return cls.of(segments, manifest.documents, store)

    @classmethod
    def of(cls, segments: list[Segment], documents: dict[str, DocumentEntry], store: Path) -> StoreState:
        owner: dict[str, int] = {}
        indexes = [seg.doc_index() for seg in segments]
        for si, index in enumerate(indexes):
            owner.update((d, si) for d in index if d in documents)
        ids: list[str] = []
        doc_span: dict[str, tuple[int, int]] = {}
        spans: list[tuple[int, int, int]] = []  # (segment, first row, rows) per document, canonical order
        for doc_id in sorted(documents):
            holder = owner.get(doc_id)
            if holder is None:
                raise damaged(store, f"no chunk records for document {doc_id!r}")
            seg = segments[holder]
            k = indexes[holder][doc_id]
            a, b = int(seg.doc_starts[k]), int(seg.doc_starts[k + 1])
            if seg.ids[a:b] != documents[doc_id].chunk_ids:
                raise damaged(store, f"manifest and chunk records disagree on document {doc_id!r}")
            doc_span[doc_id] = (len(ids), len(ids) + b - a)
            ids.extend(seg.ids[a:b])
            spans.append((holder, a, b - a))
        return cls._assemble(segments, ids, owner, doc_span, spans)

    @classmethod
    def _assemble(
        cls,
        segments: list[Segment],
        ids: list[str],
        owner: dict[str, int],
        doc_span: dict[str, tuple[int, int]],
        spans: Sequence[tuple[int, int, int]],
    ) -> StoreState:
        n = len(ids)
        table = np.asarray(spans, dtype=np.int64).reshape(-1, 3)
        counts = table[:, 2]
        first = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)[:-1]]) if len(counts) else counts
        seg_of = np.repeat(table[:, 0], counts).astype(np.int32)
        row_of = (np.repeat(table[:, 1] - first, counts) + np.arange(n)).astype(np.int32)
        gidx: list[np.ndarray] = []
        lengths = np.zeros(n, dtype=np.int32)
        for si, seg in enumerate(segments):
            places = np.flatnonzero(seg_of == si)
            rows = row_of[places]
            g = np.full(seg.n_rows, -1, dtype=np.int64)
            g[rows] = places
            gidx.append(g)
            lengths[places] = np.asarray(seg.lengths)[rows]
        loc = dict(zip(ids, range(n), strict=True))
        return cls(segments, ids, loc, seg_of, row_of, gidx, lengths, owner, doc_span)

    def live_docs(self, si: int) -> list[int]:
        """Indexes (in segment `si`'s document list) of the documents whose live version it holds."""
        return [k for k, d in enumerate(self.segments[si].doc_ids) if self.owner.get(d) == si]

    def live_rows(self, si: int) -> int:
        return int(np.count_nonzero(self.gidx[si] >= 0))
