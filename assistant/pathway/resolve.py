"""Resolve pathway citations to stored passages (pure: the chunks are passed in).

Each citation names a document and a verbatim quote; `resolve_citations` fills its `chunk_id` with
the stored chunk of that document whose text contains the quote. A bullet that only introduces
sub-bullets ("ABL domain testing:", "CALGB 10403:") is stored by the chunker as a component of the
chunk's section path, not in its text; such a quote matches the chunk whose section path has it
(`quote_in_chunk`). A short quote ("TKI") can occur in several chunks; then a text match beats a
section match, then the chunk holding the most of the result's other quotes from the same
document wins (the bullets listed with it), then the first in store order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TypeVar

from ally.schema import ChunkRecord, PathwayBranch, PathwayCitation, PathwayOption, PathwayResult

_R = TypeVar("_R", PathwayResult, PathwayBranch)

_SPACE_RE = re.compile(r"\s+")
NORM_MEMO_SIZE = 20_000  # texts (quotes, chunk texts, section paths) whose normal form is kept


@lru_cache(maxsize=NORM_MEMO_SIZE)
def _norm(text: str) -> str:
    """Whitespace runs as one space. Memoised: every answer with a pathway result matches its quotes
    against the same documents' chunks again."""
    return _SPACE_RE.sub(" ", text).strip()


def _own_citations(result: PathwayResult | PathwayBranch) -> list[PathwayCitation]:
    """The citations of a result's (or one branch's) options and conditional options."""
    return [c for o in (*result.options, *result.conditional) for c in o.citations]


def all_citations(result: PathwayResult) -> list[PathwayCitation]:
    """Every citation of `result`: options, conditional options, the therapy check, then the branches."""
    out = _own_citations(result)
    if result.check is not None:
        out.extend(result.check.citations)
    for branch in result.branches:
        out.extend(_own_citations(branch))
    return out


@lru_cache(maxsize=NORM_MEMO_SIZE)
def _section_parts(section: str) -> frozenset[str]:
    return frozenset(_norm(part).rstrip(":").strip() for part in section.split(" > ") if part.strip())


def quote_in_chunk(quote: str, chunk: ChunkRecord) -> int:
    """2 when the quote is in the chunk's text, 1 when it is a component of its section path, else 0."""
    wanted = _norm(quote)
    if wanted in _norm(chunk.text):
        return 2
    if wanted.rstrip(":").strip() in _section_parts(chunk.section):
        return 1
    return 0


def find_chunk(quote: str, doc_id: str, chunks: Iterable[ChunkRecord], context: Iterable[str] = ()) -> str | None:
    """The id of the chunk of `doc_id` that contains `quote`, preferring the one with most `context` quotes."""
    wanted = _norm(quote)
    others = [_norm(c) for c in context if _norm(c) != wanted]
    best: tuple[int, int, int] | None = None
    best_id: str | None = None
    for order, chunk in enumerate(chunks):
        if chunk.doc_id != doc_id:
            continue
        where = quote_in_chunk(wanted, chunk)
        if not where:
            continue
        text = _norm(chunk.text)
        score = (where, sum(1 for o in others if o in text), -order)
        if best is None or score > best:
            best, best_id = score, chunk.chunk_id
    return best_id


def resolve_citations(result: PathwayResult, chunks: Iterable[ChunkRecord]) -> PathwayResult:
    """A copy of `result` whose citations carry the chunk id of the stored passage holding the quote
    (new citation and option objects; the rest is shared with `result`, which is left as it was).

    A quote found in no chunk keeps `chunk_id = None` (the quote-verbatim test keeps that from
    happening with the shipped data and corpus).
    """
    records = list(chunks)
    # fresh citation objects everywhere (the rest is shared, unchanged): each branch on its own, since
    # an option object shared with the result (or another branch) may resolve to another chunk there;
    # a deep copy of the whole result cost ~6 ms an answer
    out = _with_fresh_citations(result)
    if result.check is not None:
        out.check = result.check.model_copy(update={"citations": [c.model_copy() for c in result.check.citations]})
    out.branches = [_with_fresh_citations(b) for b in result.branches]
    own = _own_citations(out)
    _resolve(own + (out.check.citations if out.check is not None else []), records)
    for branch in out.branches:  # each as the result for the patient with the branch's field set
        _resolve(_own_citations(branch), records)
    return out


def _fresh(options: list[PathwayOption]) -> list[PathwayOption]:
    return [o.model_copy(update={"citations": [c.model_copy() for c in o.citations]}) for o in options]


def _with_fresh_citations(result: _R) -> _R:
    """A shallow copy of a result (or branch) whose options carry copies of their citations."""
    return result.model_copy(update={"options": _fresh(result.options), "conditional": _fresh(result.conditional)})


def _resolve(citations: list[PathwayCitation], records: list[ChunkRecord]) -> None:
    """Fill each citation's chunk id, the other quotes of the same document as context."""
    by_doc: dict[str, list[str]] = {}
    for c in citations:
        by_doc.setdefault(c.doc_id, []).append(c.text)
    cache: dict[tuple[str, str], str | None] = {}
    for c in citations:
        key = (c.doc_id, c.text)
        if key not in cache:
            cache[key] = find_chunk(c.text, c.doc_id, records, by_doc.get(c.doc_id, ()))
        c.chunk_id = cache[key]
