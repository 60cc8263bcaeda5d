"""The merge policy: full tiers merge, mostly-dead segments are rewritten, empty ones dropped, and the
segment count stays logarithmic over many one-document commits; a merge keeps records and counts."""

from __future__ import annotations

import numpy as np

from ally.chunks import Chunk
from ally.vocab import default_vocabulary
from ingest.store.merge import MERGE_FACTOR, Part, plan
from ingest.store.segment import Segment, merge


def doc(doc_id: str, n: int) -> tuple[str, list[Chunk]]:
    return doc_id, [
        Chunk(f"{doc_id}-{i}", doc_id, "S", f"word{i} blinatumomab", f"S\nword{i}", i, doc_id) for i in range(n)
    ]


def segment(name: str, *docs: tuple[str, list[Chunk]]) -> Segment:
    return Segment.build(name, list(docs), default_vocabulary())


def test_a_full_tier_is_merged_and_appended_last() -> None:
    parts = [Part(segment("big", doc("big", 200)), None)]
    parts += [Part(segment(f"s{i}", doc(f"d{i}", 20)), None) for i in range(MERGE_FACTOR)]
    out = plan(parts, 7)
    assert [s.name for s in out] == ["big", "g7-1"]
    assert out[1].doc_ids == [f"d{i}" for i in range(MERGE_FACTOR)] and out[1].n_rows == 20 * MERGE_FACTOR


def test_dead_and_empty_segments() -> None:
    seg = segment("old", doc("a", 30), doc("b", 10))
    empty = segment("gone", doc("c", 5))
    out = plan([Part(seg, [1]), Part(empty, []), Part(segment("new", doc("a", 31)), None)], 3)
    # "old" keeps 10 of 40 rows: rewritten without the dead ones; "gone" holds nothing live
    assert [s.name for s in out] == ["new", "g3-1"] and out[1].doc_ids == ["b"] and out[1].n_rows == 10
    assert plan([Part(seg, [0])], 4) == [seg]  # 30 of 40 rows live: kept as it is


def test_segment_count_stays_logarithmic() -> None:
    parts: list[Part] = []
    most = 0
    for i in range(300):  # 300 one-document commits
        parts.append(Part(segment(f"c{i}", doc(f"d{i}", 3)), None))
        parts = [Part(s, None) for s in plan(parts, i)]
        most = max(most, len(parts))
    assert sum(s.n_rows for p in parts for s in [p.segment]) == 900
    assert most <= 3 * (MERGE_FACTOR - 1) + 1, most


def test_merge_copies_records_and_counts() -> None:
    a = segment("a", doc("x", 4), doc("y", 3))
    b = segment("b", doc("z", 2))
    m = merge("m", [(a, [1]), (b, [0])])
    rebuilt = segment("r", doc("y", 3), doc("z", 2))
    assert m.ids == rebuilt.ids and m.doc_ids == ["y", "z"] and m.terms == rebuilt.terms
    assert [m.record(r).to_json() for r in range(m.n_rows)] == [rebuilt.record(r).to_json() for r in range(5)]
    for key in ("lengths", "indptr", "rows", "tf", "offsets", "doc_starts"):
        assert np.array_equal(getattr(m, key), getattr(rebuilt, key)), key


def test_a_document_without_chunks_keeps_its_segment() -> None:
    empty = segment("e", doc("no-chunks", 0))
    assert plan([Part(empty, None)], 2) == [empty]
