"""The BM25 index of a store generation: bm25s over vocabulary-expanded tokens of each chunk's
embed text (section path + text), plus each token's document frequency for the answer composer."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from ally.chunks import Chunk
from ally.vocab import Vocabulary


class BM25Index:
    """bm25s over vocabulary-expanded tokens of each chunk's embed text (section path + text)."""

    def __init__(
        self, retriever: Any, ids: list[str], vocab: Vocabulary, doc_freq: dict[str, int] | None = None
    ) -> None:
        self._retriever = retriever
        self.ids = ids
        self.vocab = vocab
        self._known: set[str] = set(retriever.vocab_dict) if retriever is not None else set()
        # Passages holding each token: the answer composer's idf, computed once at ingest.
        self.doc_freq: dict[str, int] = doc_freq or {}

    @classmethod
    def build(cls, chunks: list[Chunk], vocab: Vocabulary) -> BM25Index:
        import bm25s

        if not chunks:
            return cls(None, [], vocab)
        retriever = bm25s.BM25()
        tokenised = [vocab.tokens(c.embed_text) or ["_"] for c in chunks]
        doc_freq: Counter[str] = Counter()
        for tokens in tokenised:
            doc_freq.update(set(tokens))
        retriever.index(tokenised, show_progress=False)
        return cls(retriever, [c.chunk_id for c in chunks], vocab, dict(doc_freq))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(folder / "bm25"))
        (folder / "bm25_ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        (folder / "doc_freq.json").write_text(json.dumps(self.doc_freq), encoding="utf-8")

    @staticmethod
    def saved_in(folder: Path) -> bool:
        return (folder / "bm25_ids.json").is_file()

    @classmethod
    def load(cls, folder: Path, vocab: Vocabulary) -> BM25Index:
        import bm25s

        ids = json.loads((folder / "bm25_ids.json").read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(folder / "bm25")) if ids else None
        doc_freq = json.loads((folder / "doc_freq.json").read_text(encoding="utf-8"))
        return cls(retriever, ids, vocab, doc_freq)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if self._retriever is None or not self.ids:
            return []
        tokens = [t for t in self.vocab.tokens(query) if t in self._known]
        if not tokens:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._retriever.retrieve([tokens], k=k, show_progress=False)
        out = [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        return out
