"""Hybrid retrieval: dense (Chroma) and BM25 (bm25s) rankings fused with weighted reciprocal-rank fusion.

The ALL vocabulary is applied on both sides: BM25 documents and queries carry one token per
concept mentioned (so "blina" finds "blinatumomab"), and the dense query is extended with the
canonical names of the concepts it mentions. A ranking whose weight is 0 is not computed at all
(so a BM25-only retriever never loads the embedding model).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ally.chunks import Chunk
from ally.settings import Settings
from ally.vocab import Vocabulary
from ingest.embed import Encoder
from ingest.store.reader import StoreReader


@dataclass
class Hit:
    chunk: Chunk
    score: float
    rank: int
    dense: float | None = None
    bm25: float | None = None
    sources: list[str] = field(default_factory=list)


def expand_query(query: str, vocab: Vocabulary) -> str:
    """The query plus the canonical names of concepts it names by abbreviation or brand."""
    additions: list[str] = []
    lowered = query.lower()
    for match in vocab.matches(query):
        concept = vocab.concepts[match.concept]
        canonical = concept.label or concept.terms[0]
        if canonical.lower() not in lowered and canonical not in additions:
            additions.append(canonical)
    return f"{query} ({', '.join(additions)})" if additions else query


def rrf(rankings: list[tuple[float, list[str]]], k: int) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of ranked id lists: sum of weight / (k + rank)."""
    fused: dict[str, float] = {}
    for weight, ids in rankings:
        for rank, cid in enumerate(ids, start=1):
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank)
    return fused


class HybridRetriever:
    """Dense + BM25 retrieval over one store reader."""

    def __init__(self, reader: StoreReader, settings: Settings, encoder: Encoder | None) -> None:
        self.reader = reader
        self.settings = settings
        self.encoder = encoder
        self.vocab = reader.vocab

    @property
    def uses_dense(self) -> bool:
        return self.settings.dense_weight > 0 and self.encoder is not None

    def query_vectors(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """The query's vector for dense search (its vocabulary expansion) and for unit similarity
        (the question as asked), from one encoder call; the same vector when they are one text."""
        assert self.encoder is not None
        expanded = expand_query(query, self.vocab)
        vectors = self.encoder.encode([expanded] if expanded == query else [expanded, query])
        return vectors[0], vectors[-1]

    def dense(self, query: str, k: int, vector: np.ndarray | None = None) -> list[tuple[str, float]]:
        if vector is None:
            vector = self.query_vectors(query)[0]
        return self.reader.dense_search(vector, k)

    def bm25(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.reader.bm25.search(query, k)

    def retrieve(self, query: str, k: int | None = None, vector: np.ndarray | None = None) -> list[Hit]:
        """The fused top `k`; `vector`: the query's dense vector when the caller already has it."""
        k = k or self.settings.top_k
        rankings: list[tuple[float, list[str]]] = []
        dense_scores: dict[str, float] = {}
        bm25_scores: dict[str, float] = {}
        if self.uses_dense:
            dense_hits = self.dense(query, self.settings.dense_k, vector)
            dense_scores = dict(dense_hits)
            rankings.append((self.settings.dense_weight, [cid for cid, _ in dense_hits]))
        if self.settings.bm25_weight > 0:
            bm25_hits = self.bm25(query, self.settings.bm25_k)
            bm25_scores = dict(bm25_hits)
            rankings.append((self.settings.bm25_weight, [cid for cid, _ in bm25_hits]))
        fused = rrf(rankings, self.settings.rrf_k)
        ordered = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        hits: list[Hit] = []
        for rank, (cid, score) in enumerate(ordered):
            chunk = self.reader.chunks_by_id.get(cid)
            if chunk is None:
                continue
            sources = [name for name, table in (("dense", dense_scores), ("bm25", bm25_scores)) if cid in table]
            hits.append(Hit(chunk, score, rank, dense_scores.get(cid), bm25_scores.get(cid), sources))
        return hits
