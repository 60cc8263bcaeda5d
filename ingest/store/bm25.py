"""BM25 over every segment of a store as one corpus, scored at query time exactly as bm25s scores.

The store keeps term counts, not scores (`ingest.store.segment`), so a commit only adds the
segments of what changed; document frequencies, the document count and the average length are
those of the live chunks, computed when a reader opens. The formula, constants and float types are
those of `bm25s.BM25()` with its defaults (method and idf "lucene", k1 1.5, b 0.75; idf float32,
term-frequency component float64, each term's score rounded to float32, summed in float32 in query
token order; top-k by bm25s's numpy selection), so the top-k and scores equal a full bm25s build of
the same chunks in the canonical order (tests/ingest/store/test_bm25.py checks it against bm25s).
bm25s itself is not used here: it has no incremental update (its index stores scores that depend
on the whole corpus), and importing it costs a cold process about half a second.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from ally.chunks import Chunk
from ally.vocab import Vocabulary
from ingest.store.segment import Segment
from ingest.store.state import StoreState

K1 = 1.5  # bm25s.BM25() defaults
B = 0.75


def idf(df: int, n: int) -> float:
    """bm25s's "lucene" idf (a Python float, stored as float32 like bm25s's idf array)."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """bm25s.selection's numpy top-k (same calls, so ties come out in the same order)."""
    partitioned = np.argpartition(scores, -k)[-k:]  # bm25s: .take(indices=range(-k, 0)), the same elements
    partitioned_scores = np.take(scores, partitioned)
    order = np.flip(np.argsort(partitioned_scores))
    return partitioned_scores[order], partitioned[order]


class BM25Index:
    """BM25 over the live rows of segments; `ids` in canonical order, `doc_freq` per token."""

    def __init__(
        self,
        segments: Sequence[Segment],
        gidx: Sequence[np.ndarray],
        lengths: np.ndarray,
        ids: list[str],
        vocab: Vocabulary,
    ) -> None:
        self.ids = ids
        self.vocab = vocab
        self._n = len(ids)
        self._parts = [(seg, g, bool(np.all(g >= 0))) for seg, g in zip(segments, gidx, strict=True)]
        avgdl = np.float64(int(lengths.sum(dtype=np.int64))) / self._n if self._n else np.float64(1.0)
        # per chunk: k1 * ((1 - b) + b * length / avgdl), evaluated in float64 as bm25s does per document
        self._denominator = K1 * ((1 - B) + B * lengths.astype(np.float64) / avgdl)
        # Passages holding each token: BM25's idf, and the answer composer's.
        self.doc_freq: dict[str, int] = self._document_frequencies()

    @classmethod
    def of(cls, state: StoreState, vocab: Vocabulary) -> BM25Index:
        return cls(state.segments, state.gidx, state.lengths, state.ids, vocab)

    @classmethod
    def build(cls, chunks: list[Chunk], vocab: Vocabulary) -> BM25Index:
        """The index of `chunks` (in this order) tokenised in memory with `vocab`."""
        docs: dict[str, list[Chunk]] = {}
        for c in chunks:
            docs.setdefault(c.doc_id, []).append(c)
        segment = Segment.build("memory", list(docs.items()), vocab)
        order = {c.chunk_id: i for i, c in enumerate(chunks)}
        gidx = np.asarray([order[cid] for cid in segment.ids], dtype=np.int64)
        lengths = np.zeros(len(chunks), dtype=np.int32)
        lengths[gidx] = segment.lengths
        return cls([segment], [gidx], lengths, [c.chunk_id for c in chunks], vocab)

    def _document_frequencies(self) -> dict[str, int]:
        doc_freq: dict[str, int] = {}
        for seg, gidx, all_live in self._parts:
            indptr = np.asarray(seg.indptr)
            if all_live:
                counts = np.diff(indptr)
            else:
                live = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(gidx[np.asarray(seg.rows)] >= 0)])
                counts = live[indptr[1:]] - live[indptr[:-1]]
            if not doc_freq and all_live:
                doc_freq = dict(zip(seg.terms, counts.tolist(), strict=True))
                continue
            for term, count in zip(seg.terms, counts.tolist(), strict=True):
                if count:
                    doc_freq[term] = doc_freq.get(term, 0) + count
        return doc_freq

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk (canonical order) for the query `tokens` (each in the corpus)."""
        n = self._n
        scores = np.zeros(n, dtype=np.float32)
        for token in tokens:
            token_idf = np.float64(np.float32(idf(self.doc_freq[token], n)))
            for seg, gidx, all_live in self._parts:
                j = bisect_left(seg.terms, token)
                if j == len(seg.terms) or seg.terms[j] != token:
                    continue
                start, end = int(seg.indptr[j]), int(seg.indptr[j + 1])
                places = gidx[seg.rows[start:end]]
                tf = seg.tf[start:end].astype(np.float64)
                if not all_live:
                    live = places >= 0
                    places, tf = places[live], tf[live]
                scores[places] += (token_idf * (tf / (self._denominator[places] + tf))).astype(np.float32)
        return scores

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if not self._n:
            return []
        tokens = [t for t in self.vocab.tokens(query) if t in self.doc_freq]
        if not tokens:
            return []
        scores, places = top_k(self.scores(tokens), min(k, self._n))
        return [(self.ids[int(p)], float(s)) for p, s in zip(places, scores, strict=True) if s > 0]
