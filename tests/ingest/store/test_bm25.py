"""BM25 over segments equals a full bm25s build: same top-k (ties in the same order), same scores,
same document frequencies, after any sequence of incremental commits (adds, changes, removals,
merges) and against a store built in one go from the final corpus."""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np
import pytest

import ingest.store.merge as merge_policy
from ally.chunks import Chunk
from ally.settings import Settings
from ally.vocab import Vocabulary, default_vocabulary
from ingest.documents import DocMeta
from ingest.pipeline import ingest_paths
from ingest.store import DocumentEntry, open_reader, open_writer
from ingest.store.bm25 import BM25Index, top_k
from ingest.store.segment import EMPTY_TOKEN
from tests.reliability.fakes import HashEncoder

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "corpus"
QUESTIONS = REPO / "evals" / "datasets" / "questions.jsonl"
WORDS = [
    "blinatumomab",
    "inotuzumab",
    "ponatinib",
    "dasatinib",
    "imatinib",
    "MRD",
    "remission",
    "relapse",
    "induction",
    "consolidation",
    "maintenance",
    "transplant",
    "Philadelphia",
    "adult",
    "pediatric",
    "dose",
    "toxicity",
    "survival",
    "trial",
    "CAR-T",
    "leukemia",
]

Search = Callable[[str, int], list[tuple[str, float]]]


def reference(chunks: list[Chunk], vocab: Vocabulary) -> tuple[Search, dict[str, int]]:
    """A full bm25s build over `chunks` in this order, searched as the store searched before segments."""
    tokenised = [vocab.tokens(c.embed_text) or [EMPTY_TOKEN] for c in chunks]
    retriever = bm25s.BM25()
    retriever.index(tokenised, show_progress=False)
    doc_freq: Counter[str] = Counter()
    for tokens in tokenised:
        doc_freq.update(set(tokens))
    known = set(retriever.vocab_dict)

    def search(query: str, k: int) -> list[tuple[str, float]]:
        tokens = [t for t in vocab.tokens(query) if t in known]
        if not tokens:
            return []
        docs, scores = retriever.retrieve([tokens], k=min(k, len(chunks)), show_progress=False)
        return [(chunks[int(d)].chunk_id, float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    return search, dict(doc_freq)


def assert_same(index: BM25Index, chunks: list[Chunk], queries: list[str], k: int = 20) -> None:
    search, doc_freq = reference(chunks, index.vocab)
    assert index.ids == [c.chunk_id for c in chunks]
    assert index.doc_freq == doc_freq
    for q in queries:
        got, want = index.search(q, k), search(q, k)
        assert [cid for cid, _ in got] == [cid for cid, _ in want], q
        assert np.allclose([s for _, s in got], [s for _, s in want], rtol=0, atol=1e-6), q
        assert got == want, f"scores differ in the last bits for {q!r}"  # the same float32 arithmetic


def canonical(reader_chunks: dict[str, Chunk]) -> list[Chunk]:
    return sorted(reader_chunks.values(), key=lambda c: (c.doc_id, c.position))


def test_top_k_is_bm25s_selection() -> None:
    rng = np.random.default_rng(3)
    for n, k in [(50, 10), (7, 7), (1000, 100)]:
        scores = rng.integers(0, 4, n).astype(np.float32)  # many ties
        want = bm25s.selection.topk(scores, k, backend="numpy", sorted=True)
        got = top_k(scores, k)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


# --- random commits through the writer ----------------------------------------------------------
def random_doc(rng: random.Random, doc_id: str, version: int) -> tuple[DocumentEntry, list[Chunk]]:
    chunks = []
    for position in range(rng.randint(1, 6)):
        # short texts over a small vocabulary: many equal scores, so tie order is tested too
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12)))
        cid = f"{doc_id}-v{version}-{position}"
        chunks.append(Chunk(cid, doc_id, "Section", words, f"Section\n{words}", position, doc_id))
    meta = DocMeta(doc_id=doc_id, title=doc_id, path=f"/c/{doc_id}.txt", content_hash=f"{doc_id}-{version}")
    return DocumentEntry(meta=meta, chunk_ids=[c.chunk_id for c in chunks]), chunks


def test_random_commits_equal_a_full_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merge_policy, "MERGE_FACTOR", 3)  # merges and compactions within a few commits
    rng = random.Random(16)
    settings = Settings(store=tmp_path / "store")
    documents: dict[str, DocumentEntry] = {}
    chunks: dict[str, Chunk] = {}
    queries = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5))) for _ in range(40)]
    merged = 0
    for step in range(30):
        ops = rng.randint(1, 4)
        for _ in range(ops):
            doc_id = f"d{rng.randint(0, 25):02d}"
            if doc_id in documents and rng.random() < 0.3:
                del documents[doc_id]
            else:
                entry, doc_chunks = random_doc(rng, doc_id, step)
                documents[doc_id] = entry
                chunks.update((c.chunk_id, c) for c in doc_chunks)
        with open_writer(settings) as writer:
            writer.commit(dict(documents), chunks)
            merged += any(not name.endswith("-0") for name in writer.manifest.segments or [])
        with open_reader(settings) as reader:
            live = canonical({cid: chunks[cid] for e in documents.values() for cid in e.chunk_ids})
            assert [c.to_json() for c in reader.chunks_by_id.values()] == [c.to_json() for c in live]
            assert_same(reader.bm25, live, queries)
    assert merged, "the sequence exercised merges"


def test_in_memory_build_equals_bm25s() -> None:
    rng = random.Random(5)
    chunks = [c for d in range(12) for c in random_doc(rng, f"m{d}", 0)[1]]
    assert_same(BM25Index.build(chunks, default_vocabulary()), chunks, [" ".join(WORDS[i : i + 3]) for i in range(20)])


# --- the real pipeline on the real corpus -------------------------------------------------------
def eval_questions(n: int) -> list[str]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines[:n]]


def test_incremental_ingest_equals_a_full_rebuild(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    files = sorted(corpus.glob("*.txt"))
    settings = Settings(store=tmp_path / "store")
    encoder = HashEncoder()
    queries = [*eval_questions(60), "blinatumomab dose", "MRD", "ponatinib ponatinib Ph+", "zzz unknown"]
    ingest_paths([corpus], settings, encoder=encoder)
    steps: list[Callable[[], object]] = [
        lambda: files[0].write_text(files[0].read_text(encoding="utf-8").replace("ALL", "ALL (acute)")),
        lambda: shutil.copy(files[1], corpus / "copy-of-one.txt"),
        lambda: files[2].write_text(files[2].read_text(encoding="utf-8") + "\n\nA new closing paragraph on MRD.\n"),
        lambda: files[3].unlink(),
        lambda: (corpus / "copy-of-one.txt").write_text("Title only\n\nBlinatumomab dose is 28 mcg/day.\n"),
    ]
    for step in steps:
        step()
        report = ingest_paths([corpus], settings, prune=True, encoder=encoder)
        assert report.added + report.updated + report.removed >= 1
        with open_reader(settings) as reader:
            assert_same(reader.bm25, canonical(dict(reader.chunks_by_id)), queries)
    full = Settings(store=tmp_path / "full")
    ingest_paths([corpus], full, encoder=encoder)
    with open_reader(settings) as inc, open_reader(full) as ref:
        assert len(inc.manifest.segments or []) > 1 and len(ref.manifest.segments or []) == 1
        assert inc.bm25.ids == ref.bm25.ids and inc.bm25.doc_freq == ref.bm25.doc_freq
        assert [c.to_json() for c in inc.chunks_by_id.values()] == [c.to_json() for c in ref.chunks_by_id.values()]
        for q in queries:
            assert inc.bm25.search(q, 50) == ref.bm25.search(q, 50), q
