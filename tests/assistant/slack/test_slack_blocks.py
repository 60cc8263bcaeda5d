"""Pure Block Kit rendering: escaping, citations, abstention, pathway results and Slack's limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ally.schema import (
    Answer,
    Citation,
    PathwayCitation,
    PathwayOption,
    PathwayResult,
    RetrievedPassage,
    TherapyCheck,
)
from assistant.slack.blocks import (
    ACTION_HELPFUL,
    ACTION_NOT_HELPFUL,
    ACTION_SHARE,
    MAX_BLOCKS,
    MAX_CONTEXT_ELEMENTS,
    MAX_SECTION_CHARS,
    escape,
    passage_url,
    render_answer,
    render_notice,
    render_pathway,
    split_text,
    without_share_button,
)

from .slack_helpers import all_text, buttons


def citation(n: int, **kw: Any) -> Citation:
    base = {
        "n": n,
        "doc_id": f"doc-{n}",
        "title": f"Guideline {n}",
        "chunk_id": f"doc-{n}-{n:04d}",
        "text": f"Passage {n}.",
        "section": f"Treatment > Part {n}",
    }
    base.update(kw)
    return Citation(**base)


def answer(text: str = "Blinatumomab is approved [1].", citations: list[Citation] | None = None, **kw: Any) -> Answer:
    return Answer(
        answer=text,
        abstained=kw.pop("abstained", False),
        citations=[citation(1)] if citations is None else citations,
        answer_id=kw.pop("answer_id", "a1b2c3"),
        **kw,
    )


def check_limits(blocks: list[dict[str, Any]]) -> None:
    """Slack's limits, for every rendered message."""
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_CHARS
            assert block["text"]["verbatim"] is True
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
            for element in block["elements"]:
                assert len(element["text"]) <= 3000
        if block["type"] == "actions":
            for element in block["elements"]:
                assert len(element["value"]) <= 2000


def test_escape_order() -> None:
    assert escape("a & <b> &amp;") == "a &amp; &lt;b&gt; &amp;amp;"


def test_answer_is_escaped_everywhere_and_cannot_ping() -> None:
    evil = "Use <!channel> & <@U123> <https://evil.example|click> now [1]."
    msg = render_answer(
        answer(evil, [citation(1, title="Title <!here>", section="A > B & C")]),
        public_base_url="https://ally.example.org",
    )
    dumped = json.dumps(msg.model_dump())
    for raw in ("<!channel>", "<!here>", "<@U123>", "<https://evil"):
        assert raw not in dumped
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in all_text(msg.blocks)
    assert "&lt;!channel&gt;" in msg.text  # the fallback is mrkdwn too
    assert "A · B &amp; C" in all_text(msg.blocks)  # the section path goes with the label
    check_limits(msg.blocks)


def test_citations_link_to_passages_when_a_public_url_is_set() -> None:
    cites = [citation(1), citation(2, chunk_id="doc 2/#x", title="Second | pipe")]
    linked = render_answer(answer("A [1]. B [2].", cites), public_base_url="https://ally.example.org/")
    text = all_text(linked.blocks)
    assert "*[1]* <https://ally.example.org/#passage=doc-1-0001|Guideline 1> · Treatment · Part 1" in text
    assert "<https://ally.example.org/#passage=doc%202%2F%23x|Second ¦ pipe>" in text
    plain = render_answer(answer("A [1]. B [2].", cites), public_base_url=None)
    assert "<http" not in all_text(plain.blocks)
    assert "*[1]* Guideline 1 · Treatment · Part 1" in all_text(plain.blocks)


def test_answer_has_feedback_buttons_with_the_answer_id_and_optional_share() -> None:
    msg = render_answer(answer(answer_id="ans-42"))
    assert buttons(msg.blocks) == {ACTION_HELPFUL: "ans-42", ACTION_NOT_HELPFUL: "ans-42"}
    shared = render_answer(answer(answer_id="ans-42"), share_key="share:ans-42")
    assert buttons(shared.blocks) == {
        ACTION_SHARE: "share:ans-42",
        ACTION_HELPFUL: "ans-42",
        ACTION_NOT_HELPFUL: "ans-42",
    }
    assert buttons(without_share_button(shared.blocks)) == {ACTION_HELPFUL: "ans-42", ACTION_NOT_HELPFUL: "ans-42"}


def test_abstention_is_shown_as_such_with_closest_passages_not_as_sources() -> None:
    related = [RetrievedPassage(doc_id="d", chunk_id="d-1", text="t", title="Closest doc", section="S")]
    msg = render_answer(
        answer("The sources do not say.", [], abstained=True, related=related, missing=["zebrafish"]),
        public_base_url="https://x.org",
    )
    text = all_text(msg.blocks)
    assert text.index("Not answered") < text.index("The sources do not say.")
    assert "Closest passages* (not an answer)" in text
    assert "<https://x.org/#passage=d-1|Closest doc> › S" in text
    assert "*Sources*" not in text
    assert "zebrafish" in text
    assert msg.text.startswith("Not answered")


def test_many_citations_are_grouped_ten_per_context_block() -> None:
    cites = [citation(i) for i in range(1, 24)]
    msg = render_answer(answer(" ".join(f"S{i} [{i}]." for i in range(1, 24)), cites))
    contexts = [b for b in msg.blocks if b["type"] == "context" and "*[" in b["elements"][0]["text"]]
    assert [len(c["elements"]) for c in contexts] == [10, 10, 3]
    check_limits(msg.blocks)


def test_long_answers_are_split_into_3000_character_sections_without_losing_text() -> None:
    sentence = "Inotuzumab ozogamicin & blinatumomab are options in relapsed B-ALL [1]. "
    long_text = sentence * 200  # ~14,000 characters, many '&' escapes
    msg = render_answer(answer(long_text))
    check_limits(msg.blocks)
    sections = [b["text"]["text"] for b in msg.blocks if b["type"] == "section" and "Inotuzumab" in b["text"]["text"]]
    assert len(sections) >= 5
    joined = " ".join(sections)
    assert joined.count("&amp;") == 200 and "&am " not in joined
    assert len(msg.text) <= 3500


def test_fifty_block_limit_keeps_the_buttons() -> None:
    cites = [citation(i) for i in range(1, 400)]
    msg = render_answer(answer("x [1]. " * 20000, cites))
    check_limits(msg.blocks)
    assert len(msg.blocks) == MAX_BLOCKS
    assert msg.blocks[-1]["type"] == "actions"
    assert "not shown" in all_text(msg.blocks)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(min_size=1, max_size=9000),
    titles=st.lists(st.text(min_size=0, max_size=300), max_size=30),
)
def test_any_text_renders_within_limits_and_never_unescaped(text: str, titles: list[str]) -> None:
    cites = [citation(i + 1, title=t, section=t[::-1]) for i, t in enumerate(titles)]
    msg = render_answer(answer(text, cites), public_base_url="https://ally.example.org")
    check_limits(msg.blocks)
    for block in msg.blocks:
        if block["type"] == "section":
            body = block["text"]["text"]
            stripped = body.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
            assert "<" not in stripped.replace("<https://ally.example.org/#passage=", "")


def test_split_text_respects_the_limit_and_escapes() -> None:
    text = escape("a&b " * 2000)
    pieces = split_text(text, 100)
    assert all(0 < len(p) <= 100 for p in pieces)
    assert all(not p.endswith("&") and not p.endswith("&am") for p in pieces)


def test_passage_url() -> None:
    assert passage_url(None, "c") is None
    assert passage_url("https://a.org/ally/", "doc-1#2") == "https://a.org/ally/#passage=doc-1%232"


def pathway_result(**kw: Any) -> PathwayResult:
    quote = PathwayCitation(doc_id="nccn", chunk_id="nccn-0007", text="Blinatumomab for MRD+ <disease>", source="NCCN")
    base: dict[str, Any] = {
        "patient": {"age": 70.0, "lineage": "B", "ph": "positive", "fit": False, "cd20_percent": 12.5},
        "node": "B-ALL / Ph-positive / post-induction / CR / MRD-positive",
        "options": [
            PathwayOption(therapy="Blinatumomab ± TKI", detail="until MRD negative", level="2A", citations=[quote])
        ],
        "missing": [],
        "notes": ["Sources differ on age cut-offs & the older adult <65> group."],
    }
    base.update(kw)
    return PathwayResult(**base)


def test_pathway_with_check_and_citations() -> None:
    quote = PathwayCitation(doc_id="label", chunk_id="label-0001", text="Not for T-cell disease", source="FDA label")
    result = pathway_result(
        check=TherapyCheck(
            therapy="inotuzumab ozogamicin",
            verdict="off",
            reason="not listed at this node",
            citations=[quote],
            alternatives=["Blinatumomab ± TKI"],
        )
    )
    msg = render_pathway(result, public_base_url="https://ally.example.org", share_key="share:p1")
    text = all_text(msg.blocks)
    assert "*Pathway:* B-ALL / Ph-positive / post-induction / CR / MRD-positive" in text
    assert "age=70, lineage=B, ph=positive, fit=false, cd20_percent=12.5" in text
    assert "*1. Blinatumomab ± TKI* (2A)" in text
    assert "“Blinatumomab for MRD+ &lt;disease&gt;” — <https://ally.example.org/#passage=nccn-0007|NCCN>" in text
    assert ":no_entry: Off pathway" in text and "On-pathway options:_ Blinatumomab ± TKI" in text
    assert "&lt;65&gt;" in text and "<65>" not in text
    assert buttons(msg.blocks) == {ACTION_SHARE: "share:p1"}
    assert "Proposed inotuzumab ozogamicin: off" in msg.text
    check_limits(msg.blocks)


def test_pathway_missing_facts_are_said_not_guessed() -> None:
    msg = render_pathway(
        pathway_result(node="B-ALL / Ph-positive / post-induction", options=[], missing=["response", "mrd"])
    )
    text = all_text(msg.blocks)
    assert "Needed to decide, not given:* response, mrd" in text
    assert "does not guess" in text
    assert "Needed: response, mrd" in msg.text


def test_answer_with_embedded_pathway() -> None:
    msg = render_answer(answer(pathway=pathway_result()))
    text = all_text(msg.blocks)
    assert "*Pathway:*" in text and "Blinatumomab ± TKI" in text
    assert any(b["type"] == "divider" for b in msg.blocks)


@pytest.mark.parametrize("kind", ["info", "error", "limit"])
def test_notice_is_escaped(kind: str) -> None:
    msg = render_notice("field 'age' <bad> & worse", kind)  # type: ignore[arg-type]
    assert "&lt;bad&gt; &amp; worse" in msg.text
    check_limits(msg.blocks)


def test_more_from_the_sources_follows_the_answer_escaped() -> None:
    msg = render_answer(answer("A [1].", [citation(1), citation(2)], more=["B <!here> [2]"]))
    text = all_text(msg.blocks)
    assert text.index("A [1].") < text.index("*More from the sources*") < text.index("*Sources*")
    assert "B &lt;!here&gt; [2]" in text and "<!here>" not in json.dumps(msg.model_dump())
    check_limits(msg.blocks)
