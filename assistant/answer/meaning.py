"""Meaning: how close a candidate evidence unit is to the question, by the store's own encoder.

The lexical score (idf-weighted share of the question's terms a unit covers) cannot tell "why is
asparaginase part of therapy" from a drug card's "Cycle Length: as part of multi-agent
chemotherapy"; the sentence about depleting asparagine is closer in meaning. The best-scoring
candidate units of a question get their cosine with the question fused with the lexical score
(`Settings.unit_similarity_weight`). Their vectors were computed by ingest and stored with the
chunks (`ingest.store.units`, in `ally.units` order), so an answer runs the model on the question
only. A unit without a stored vector (a store built before unit vectors, not yet re-ingested) is
encoded as it is quoted, cached by text (bounded LRU).

Measured and not used: an absolute similarity floor for abstention. On the eval set the best
unit of answerable questions ranges down to 0.19 while unanswerable ones reach 0.68, so no floor
separates them; abstention stays with coverage and the named-thing checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from cachetools import LRUCache

from ingest.embed import Encoder

UNIT_VECTOR_CACHE = 50_000  # unit texts whose vectors are kept (least recently used dropped first)


class StoredUnits(Protocol):
    def get(self, chunk_id: str) -> np.ndarray | None: ...


class UnitSimilarity:
    def __init__(
        self,
        encoder: Encoder,
        max_units: int = UNIT_VECTOR_CACHE,
        stored: Callable[[], StoredUnits | None] | None = None,
    ) -> None:
        self.encoder = encoder
        self._vectors: LRUCache[str, np.ndarray] = LRUCache(maxsize=max(1, max_units))
        self._lock = threading.Lock()
        self._stored_factory = stored
        self._stored: StoredUnits | None = None
        self._stored_lock = threading.Lock()
        self.encoded_units = 0  # units encoded at answer time (none stored for them)

    def stored(self) -> StoredUnits | None:
        """The store's unit vectors, opened on first use."""
        if self._stored is None and self._stored_factory is not None:
            with self._stored_lock:
                if self._stored is None:
                    self._stored = self._stored_factory()
                    self._stored_factory = None
        return self._stored

    def _encoded(self, texts: list[str]) -> np.ndarray:
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
                self.encoded_units += len(missing)
                for text, vector in zip(missing, fresh, strict=True):
                    self._vectors[text] = vector
                    known[text] = vector
        return np.stack([known[t] for t in texts])

    def vectors(self, units: Sequence[tuple[str, int, str]]) -> np.ndarray:
        """A vector per unit given as (chunk id, position among its chunk's units, quoted text)."""
        stored = self.stored()
        rows: list[np.ndarray | None] = []
        for chunk_id, position, _ in units:
            found = stored.get(chunk_id) if stored is not None else None
            rows.append(found[position] if found is not None and position < len(found) else None)
        todo = [i for i, r in enumerate(rows) if r is None]
        if todo:
            fresh = self._encoded([units[i][2] for i in todo])
            for i, v in zip(todo, fresh, strict=True):
                rows[i] = v
        return np.stack([r for r in rows if r is not None])

    def similarities(
        self, question: str, units: Sequence[tuple[str, int, str]], vector: np.ndarray | None = None
    ) -> list[float]:
        """Cosine of the question with each unit (the encoder's vectors are L2-normalised); `vector`:
        the question's vector when the caller has it."""
        if not units:
            return []
        q = np.asarray(vector if vector is not None else self.encoder.encode([question])[0], dtype=np.float32)
        return [float(x) for x in self.vectors(units) @ q]
