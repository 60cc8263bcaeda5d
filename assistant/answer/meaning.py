"""Meaning: how close a candidate evidence unit is to the question, by the store's own encoder.

The lexical score (idf-weighted share of the question's terms a unit covers) cannot tell "why is
asparaginase part of therapy" from a drug card's "Cycle Length: as part of multi-agent
chemotherapy"; the sentence about depleting asparagine is closer in meaning. The best-scoring
candidate units of a question are encoded on their own (each unit with its context, as it is
quoted) by the same model that embeds the passages, and their cosine with the question is fused
with the lexical score (`Settings.unit_similarity_weight`). Vectors are cached by unit text
(bounded LRU), so a unit is encoded once per server however often it is a candidate; only the
question is encoded for every answer.

Measured and not used: an absolute similarity floor for abstention. On the eval set the best
unit of answerable questions ranges down to 0.19 while unanswerable ones reach 0.68, so no floor
separates them; abstention stays with coverage and the named-thing checks.
"""

from __future__ import annotations

import threading

import numpy as np
from cachetools import LRUCache

from ingest.embed import Encoder

UNIT_VECTOR_CACHE = 50_000  # unit texts whose vectors are kept (least recently used dropped first)


class UnitSimilarity:
    def __init__(self, encoder: Encoder, max_units: int = UNIT_VECTOR_CACHE) -> None:
        self.encoder = encoder
        self._vectors: LRUCache[str, np.ndarray] = LRUCache(maxsize=max(1, max_units))
        self._lock = threading.Lock()

    def _unit_vectors(self, texts: list[str]) -> np.ndarray:
        known: dict[str, np.ndarray] = {}
        with self._lock:
            for t in texts:
                cached = self._vectors.get(t)
                if cached is not None:
                    known[t] = cached
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = np.asarray(self.encoder.encode(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._vectors[text] = vector
                    known[text] = vector
        return np.stack([known[t] for t in texts])

    def similarities(self, question: str, texts: list[str]) -> list[float]:
        """Cosine of the question with each text (the encoder's vectors are L2-normalised)."""
        if not texts:
            return []
        q = np.asarray(self.encoder.encode([question]), dtype=np.float32)[0]
        return [float(x) for x in self._unit_vectors(texts) @ q]
