"""When a commit merges segments: tiers by size, as log-structured indexes do (Lucene's tiered merges).

Each commit adds at most one small segment; segments whose live rows fall in the same power of ten
form a tier, and a tier that reaches `MERGE_FACTOR` segments is merged into one (which may fill
the next tier). A segment more than half of whose rows are dead (their documents changed or were
removed since) is rewritten without them. So a store holds a few segments per tier, each chunk is
copied O(log n) times over its life, and a merge copies records and term counts without
re-tokenising. Merged segments go to the end of the list: a document's live version is in the
last segment that holds it (`ingest.store.state`), and a merge holds only live versions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count

from ingest.store.segment import Segment, merge

MERGE_FACTOR = 10


@dataclass(eq=False)
class Part:
    """A segment of the next state and the documents whose live version it holds (None: all of them)."""

    segment: Segment
    keep: list[int] | None

    @property
    def docs(self) -> list[int]:
        return list(range(len(self.segment.doc_ids))) if self.keep is None else self.keep

    @property
    def live_rows(self) -> int:
        starts = self.segment.doc_starts
        return sum(int(starts[k + 1]) - int(starts[k]) for k in self.docs)

    @property
    def tier(self) -> int:
        return int(math.log10(max(self.live_rows, 1)))


def _merged(names: Iterator[str], group: list[Part]) -> Part:
    return Part(merge(next(names), [(p.segment, p.docs) for p in group]), None)


def _full_tier(parts: list[Part]) -> list[Part] | None:
    tiers: dict[int, list[Part]] = {}
    for p in parts:
        tiers.setdefault(p.tier, []).append(p)
    full = [t for t, members in tiers.items() if len(members) >= MERGE_FACTOR]
    return tiers[min(full)] if full else None


def plan(parts: list[Part], generation: int) -> list[Segment]:
    """The segments of the next state, oldest first: `parts` without those holding no live document, with
    mostly-dead segments rewritten and full tiers merged (new segments are named g<generation>-<i>)."""
    names = (f"g{generation}-{i}" for i in count(1))
    parts = [p for p in parts if p.docs]  # a segment no live document needs is dropped
    stale = [p for p in parts if 2 * p.live_rows < p.segment.n_rows]
    parts = [p for p in parts if p not in stale] + [_merged(names, [p]) for p in stale]
    while (group := _full_tier(parts)) is not None:
        parts = [p for p in parts if p not in group] + [_merged(names, group)]
    return [p.segment for p in parts]
