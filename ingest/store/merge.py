"""When a commit merges segments (and unit-vector batches): tiers by size, as log-structured indexes
do (Lucene's tiered merges).

`tiered` is the one policy, over any items that know their live and total rows; `plan` applies it to
segments, `ingest.store.units` to unit-vector batches. Each commit adds at most one small segment; segments whose live rows fall in the same power of ten
form a tier, and a tier that reaches `MERGE_FACTOR` segments is merged into one (which may fill
the next tier). A segment more than half of whose rows are dead (their documents changed or were
removed since) is rewritten without them. So a store holds a few segments per tier, each chunk is
copied O(log n) times over its life, and a merge copies records and term counts without
re-tokenising. Merged segments go to the end of the list: a document's live version is in the
last segment that holds it (`ingest.store.state`), and a merge holds only live versions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import TypeVar

from ingest.store.segment import Segment, merge

MERGE_FACTOR = 10

T = TypeVar("T")


def tier(live_rows: int) -> int:
    """The tier of an item with this many live rows: the power of ten they fall in."""
    return int(math.log10(max(live_rows, 1)))


def tiered(
    items: list[T], live: Callable[[T], int], total: Callable[[T], int], merge_group: Callable[[list[T]], T]
) -> list[T]:
    """The items after one commit's merges, oldest first: those more than half dead rewritten alone,
    and every tier holding `MERGE_FACTOR` items merged into one (which may fill the next tier).
    `merge_group` writes one item holding the live rows of a group. (Callers drop the items nothing
    live needs before.)"""
    stale = [i for i in items if 2 * live(i) < total(i)]
    items = [i for i in items if not any(i is s for s in stale)] + [merge_group([i]) for i in stale]
    while True:
        tiers: dict[int, list[T]] = {}
        for i in items:
            tiers.setdefault(tier(live(i)), []).append(i)
        full = [t for t, members in tiers.items() if len(members) >= MERGE_FACTOR]
        if not full:
            return items
        group = tiers[min(full)]
        items = [i for i in items if not any(i is g for g in group)] + [merge_group(group)]


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


def _merged(names: Iterator[str], group: list[Part]) -> Part:
    return Part(merge(next(names), [(p.segment, p.docs) for p in group]), None)


def plan(parts: list[Part], generation: int) -> list[Segment]:
    """The segments of the next state, oldest first: `parts` without those holding no live document, with
    mostly-dead segments rewritten and full tiers merged (new segments are named g<generation>-<i>)."""
    names = (f"g{generation}-{i}" for i in count(1))
    merged = tiered(
        [p for p in parts if p.docs],  # a segment no live document needs is dropped
        live=lambda p: p.live_rows,
        total=lambda p: p.segment.n_rows,
        merge_group=lambda group: _merged(names, group),
    )
    return [p.segment for p in merged]
