"""The contract's answer model (`ally.schema`): the label every transport names a source by and the
plain text every transport copies."""

from __future__ import annotations

import pytest

from ally.schema import Answer, Citation


def cite(n: int, **kw: object) -> Citation:
    base: dict[str, object] = {"n": n, "doc_id": f"d{n}", "title": f"Doc {n}", "chunk_id": f"c{n}", "text": "t"}
    base.update(kw)
    return Citation.model_validate(base)


@pytest.mark.parametrize(
    ("kw", "label"),
    [
        ({"section": "Treatment > Ph+ B-ALL > MRD+", "year": 2025}, "Doc 1, 2025 · Treatment · Ph+ B-ALL · MRD+"),
        ({"section": ""}, "Doc 1"),
        ({"title": "", "section": "Overview"}, "d1 · Overview"),
    ],
)
def test_citation_label(kw: dict[str, object], label: str) -> None:
    assert cite(1, **kw).label == label


def test_plain_text_holds_the_answer_more_and_references() -> None:
    a = Answer(
        answer="Blinatumomab is an option. [1]",
        abstained=False,
        citations=[cite(1, section="A > B"), cite(2)],
        more=["Inotuzumab is another. [2]"],
    )
    assert a.plain_text == (
        "Blinatumomab is an option. [1]\n\nMore from the sources:\nInotuzumab is another. [2]\n\n"
        "[1] Doc 1 · A · B\n[2] Doc 2"
    )
    dumped = a.model_dump()
    assert dumped["plain_text"] == a.plain_text and dumped["citations"][0]["label"] == "Doc 1 · A · B"


def test_an_abstention_lists_no_references() -> None:
    a = Answer(answer="I can't answer this.", abstained=True, citations=[cite(1)])
    assert a.plain_text == "I can't answer this."


def test_a_dumped_answer_reads_back() -> None:
    """Computed fields in a dump (an HTTP client's JSON) do not stop it being read as an Answer."""
    a = Answer(answer="x [1]", abstained=False, citations=[cite(1)], more=["y [1]"])
    assert Answer.model_validate(a.model_dump()) == a
