"""Every quote in the pathway data is verbatim in the corpus and names what it supports.

- against the raw corpus files, with ingest's own character repair (fast, no store): each quote lies
  within one line (one bullet or one sentence) of its source document;
- against the ingested store (`ingested_settings`): each quote is a substring of a stored chunk of
  the document it names, and `resolve_citations` fills every citation's chunk id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ally.schema import ChunkRecord
from ally.vocab import default_vocabulary
from assistant.pathway import evaluate, resolve_citations
from assistant.pathway.models import PathwayBook, Quote
from assistant.pathway.resolve import all_citations, quote_in_chunk

from .cases import make

CORPUS = Path(__file__).resolve().parents[3] / "corpus"


def all_quotes(book: PathwayBook) -> list[Quote]:
    quotes: list[Quote] = []
    for node in book.nodes():
        quotes.extend(node.quotes)
        for option in node.options:
            quotes.extend(option.quotes)
            quotes.extend(r.quote for r in option.requires)
    for constraint in book.constraints:
        quotes.extend(r.quote for r in constraint.requires)
    return quotes


def _raw_lines(doc_id: str) -> list[str]:
    from ingest.repair import repair_text

    text, _ = repair_text((CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8"))
    return [line.strip().removeprefix("•").strip() for line in text.splitlines()]


def test_every_quote_is_within_one_line_of_its_raw_document(book: PathwayBook) -> None:
    lines = {s.doc_id: _raw_lines(s.doc_id) for s in book.sources.values()}
    for quote in all_quotes(book):
        doc_id = book.sources[quote.source].doc_id
        assert "\n" not in quote.text and "•" not in quote.text
        assert any(quote.text in line for line in lines[doc_id]), f"{doc_id}: not verbatim: {quote.text!r}"


def test_therapy_options_cite_a_quote_naming_the_therapy(book: PathwayBook) -> None:
    vocab = default_vocabulary()
    for _, option in book.options():
        if option.kind not in ("therapy", "test"):
            continue
        named: set[str] = set()
        for q in option.quotes:
            named |= vocab.concepts_in(q.text)
            named |= {m.concept for m in vocab.matches(q.text)}
        explicit = set(option.concepts)
        assert named & explicit, f"{option.id}: no quote names one of {sorted(explicit)[:4]}"


def test_options_quote_only_their_own_source(book: PathwayBook) -> None:
    for _, option in book.options():
        assert {q.source for q in option.quotes} == {option.source}, option.id
        for req in option.requires:
            assert req.quote.source == req.source


@pytest.fixture(scope="module")
def stored_chunks(ingested_settings: Any) -> list[ChunkRecord]:
    from ingest.store import open_reader

    with open_reader(ingested_settings) as store:
        return list(store.chunks())


@pytest.mark.slow
def test_every_quote_is_a_substring_of_a_stored_chunk(book: PathwayBook, stored_chunks: list[ChunkRecord]) -> None:
    """In the chunk's text, or (for a bullet that only heads sub-bullets) a component of its section path."""
    by_doc: dict[str, list[ChunkRecord]] = {}
    for chunk in stored_chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    for source in book.sources.values():
        assert by_doc.get(source.doc_id), f"no stored chunks for {source.doc_id}"
    missing = [
        (book.sources[q.source].doc_id, q.text)
        for q in all_quotes(book)
        if not any(quote_in_chunk(q.text, c) for c in by_doc[book.sources[q.source].doc_id])
    ]
    assert not missing, missing
    in_text = [
        q
        for q in all_quotes(book)
        if any(quote_in_chunk(q.text, c) == 2 for c in by_doc[book.sources[q.source].doc_id])
    ]
    assert len(in_text) >= 0.9 * len(all_quotes(book))


@pytest.mark.slow
def test_resolve_citations_fills_every_chunk_id(book: PathwayBook, stored_chunks: list[ChunkRecord]) -> None:
    texts = {c.chunk_id: c for c in stored_chunks}
    seen_nodes: set[str] = set()
    for values in (
        {"lineage": "B", "ph": "positive", "phase": "relapsed_refractory", "age": 50, "t315i": True},
        {"lineage": "B", "ph": "negative", "phase": "post_induction", "response": "CR", "mrd": "positive"},
        {"lineage": "B", "ph": "positive", "phase": "post_induction", "response": "CR", "mrd": "positive"},
        {
            "lineage": "B",
            "ph": "negative",
            "phase": "diagnosis",
            "age": 50,
            "fit": True,
            "cd20_percent": 40,
            "asparaginase_hypersensitivity": True,
        },
        {
            "lineage": "T",
            "ph": "negative",
            "phase": "relapsed_refractory",
            "age": 20,
            "kmt2a": True,
            "prior_regimens": 2,
        },
        {"lineage": "B", "ph": "like", "phase": "relapsed_refractory", "age": 30, "kmt2a": True, "prior_regimens": 2},
    ):
        evaluated = evaluate(make(values), book)
        before = evaluated.model_dump()
        result = resolve_citations(evaluated, stored_chunks)
        assert evaluated.model_dump() == before  # the input is left as it was
        seen_nodes.add(result.node_id or "")
        for option in result.options:
            for c in option.citations:
                assert c.chunk_id is not None, (option.id, c.text)
                chunk = texts[c.chunk_id]
                assert chunk.doc_id == c.doc_id and quote_in_chunk(c.text, chunk)
    assert len(seen_nodes) == 6


def test_resolve_prefers_the_chunk_listing_the_other_options() -> None:
    from ally.schema import PathwayCitation, PathwayOption, PathwayResult

    chunks = [
        ChunkRecord(chunk_id="a", doc_id="d", section="R/R", text="- TKI +/- chemo\n- TKI\n- CAR-T cell therapy"),
        ChunkRecord(chunk_id="b", doc_id="d", section="MRD+", text="- Blinatumomab +/- TKI\n- TKI\n- allo-HSCT"),
        ChunkRecord(chunk_id="c", doc_id="other", section="", text="TKI"),
    ]
    result = PathwayResult(
        options=[
            PathwayOption(therapy="TKI", citations=[PathwayCitation(doc_id="d", text="TKI")]),
            PathwayOption(therapy="B", citations=[PathwayCitation(doc_id="d", text="Blinatumomab +/- TKI")]),
            PathwayOption(therapy="X", citations=[PathwayCitation(doc_id="d", text="not in any chunk")]),
        ]
    )
    resolved = resolve_citations(result, chunks)
    assert [o.citations[0].chunk_id for o in resolved.options] == ["b", "b", None]
    assert result.options[0].citations[0].chunk_id is None  # the input is not modified


def test_resolve_fills_branch_citations_as_for_the_patient_with_the_field_set() -> None:
    """Each branch is resolved on its own (its quotes as context), like the result it stands for."""
    from ally.schema import PathwayBranch, PathwayCitation, PathwayOption, PathwayResult

    chunks = [
        ChunkRecord(chunk_id="a", doc_id="d", section="R/R", text="- TKI +/- chemo\n- TKI\n- CAR-T cell therapy"),
        ChunkRecord(chunk_id="b", doc_id="d", section="MRD+", text="- Blinatumomab +/- TKI\n- TKI\n- allo-HSCT"),
    ]
    tki = PathwayOption(therapy="TKI", citations=[PathwayCitation(doc_id="d", text="TKI")])
    blina = PathwayOption(therapy="B", citations=[PathwayCitation(doc_id="d", text="Blinatumomab +/- TKI")])
    car_t = PathwayOption(therapy="C", citations=[PathwayCitation(doc_id="d", text="CAR-T cell therapy")])
    result = PathwayResult(
        options=[tki, blina],
        missing=["mrd"],
        branches=[
            PathwayBranch(field="mrd", value="negative", options=[tki, car_t]),
            PathwayBranch(field="mrd", value="positive", options=[tki, blina]),
        ],
    )
    resolved = resolve_citations(result, chunks)
    assert [o.citations[0].chunk_id for o in resolved.options] == ["b", "b"]
    assert [o.citations[0].chunk_id for o in resolved.branches[0].options] == ["a", "a"]
    assert [o.citations[0].chunk_id for o in resolved.branches[1].options] == ["b", "b"]
    for branch in resolved.branches:
        alone = resolve_citations(PathwayResult(options=[tki, *branch.options[1:]]), chunks)
        assert [o.citations for o in alone.options] == [o.citations for o in branch.options]
    assert result.branches[0].options[0].citations[0].chunk_id is None  # the input is not modified
    assert len(all_citations(result)) == 6
