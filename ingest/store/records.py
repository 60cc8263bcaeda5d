"""Chunk records, parsed when first asked for: `ChunkTable` (a reader's chunks by id, in canonical
order) and `ChunkOverlay` (the writer's copy-on-write view of the committed chunks, which a run
changes without reading the records it does not touch).

A cold reader of a 100k-chunk store only maps the record files and knows where each chunk is; an
answer parses the few dozen records it retrieves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from itertools import chain

from ally.chunks import Chunk
from ingest.store.state import StoreState


class ChunkTable(Mapping[str, Chunk]):
    """The live chunks of a committed state by id; iteration follows the canonical order
    (documents by id, chunks by position). Records are parsed once, on first access."""

    def __init__(self, state: StoreState) -> None:
        self._state = state
        self._parsed: dict[int, Chunk] = {}

    def _at(self, place: int) -> Chunk:
        chunk = self._parsed.get(place)
        if chunk is None:
            state = self._state
            chunk = state.segments[int(state.seg_of[place])].record(int(state.row_of[place]))
            self._parsed[place] = chunk
        return chunk

    def __getitem__(self, chunk_id: str) -> Chunk:
        return self._at(self._state.loc[chunk_id])

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._state.loc

    def __iter__(self) -> Iterator[str]:
        return iter(self._state.ids)

    def __len__(self) -> int:
        return len(self._state.ids)

    def of_document(self, doc_id: str) -> list[Chunk]:
        """The chunks of `doc_id` in position order (empty when it is not in the store)."""
        start, end = self._state.doc_span.get(doc_id, (0, 0))
        return [self._at(place) for place in range(start, end)]


class ChunkOverlay(MutableMapping[str, Chunk]):
    """Chunks by id: the committed ones (`base`, read on demand) with this run's changes on top."""

    def __init__(self, base: Mapping[str, Chunk]) -> None:
        self._base = base
        self._added: dict[str, Chunk] = {}
        self._removed: set[str] = set()

    def __getitem__(self, chunk_id: str) -> Chunk:
        if chunk_id in self._added:
            return self._added[chunk_id]
        if chunk_id in self._removed:
            raise KeyError(chunk_id)
        return self._base[chunk_id]

    def __contains__(self, chunk_id: object) -> bool:
        if chunk_id in self._added:
            return True
        return chunk_id not in self._removed and chunk_id in self._base

    def __setitem__(self, chunk_id: str, chunk: Chunk) -> None:
        self._added[chunk_id] = chunk

    def __delitem__(self, chunk_id: str) -> None:
        if chunk_id not in self:
            raise KeyError(chunk_id)
        self._added.pop(chunk_id, None)
        if chunk_id in self._base:
            self._removed.add(chunk_id)

    def __iter__(self) -> Iterator[str]:
        base = (c for c in self._base if c not in self._removed and c not in self._added)
        return chain(self._added, base)

    def __len__(self) -> int:
        return sum(1 for _ in self)
