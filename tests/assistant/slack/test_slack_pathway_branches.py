"""Slack blocks show the what-if branches of a pathway result: one line per branch with its node,
options and linked citations; nothing when no field is missing."""

from __future__ import annotations

from typing import Any

import pytest

from ally.schema import Answer, PathwayBranch, PathwayCitation, PathwayOption, PathwayResult
from assistant.pathway import evaluate
from assistant.resources import load_pathway_book
from assistant.slack.blocks import escape, render_answer, render_pathway

from .slack_helpers import all_text
from .test_slack_blocks import check_limits

HEADING = "What each answer would lead to:"
T_CR = {"age": 30, "lineage": "T", "phase": "post_induction", "response": "CR", "mrd": "negative"}
B_DIAGNOSIS = {"age": 50, "lineage": "B", "ph": "negative", "fit": True, "phase": "diagnosis"}
COMPLETE = {"age": 70, "lineage": "B", "ph": "negative", "fit": False, "phase": "diagnosis"}


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("• *If ")]


@pytest.mark.parametrize("patient", [T_CR, B_DIAGNOSIS, COMPLETE], ids=["t-all-cr", "b-all-diagnosis", "complete"])
class TestBranchBlocks:
    """Over the real evaluator's results."""

    def test_one_line_per_branch(self, patient: dict[str, Any]) -> None:
        result = evaluate(patient, load_pathway_book())
        msg = render_pathway(result)
        text = all_text(msg.blocks)
        lines = _lines(text)
        assert len(lines) == len(result.branches)
        assert (HEADING in text) is bool(result.branches)
        for line, b in zip(lines, result.branches, strict=True):
            assert line.startswith(f"• *If {escape(b.label)}:* {escape(b.node or '')} — "), line
            assert all(escape(o.therapy) in line for o in b.options)
            assert all(escape(c.source or c.doc_id) in line for o in b.options for c in o.citations)
        check_limits(msg.blocks)

    def test_an_answer_with_a_pathway_shows_the_branches(self, patient: dict[str, Any]) -> None:
        result = evaluate(patient, load_pathway_book())
        msg = render_answer(Answer(answer="x [1]", abstained=False, pathway=result))
        assert len(_lines(all_text(msg.blocks))) == len(result.branches)
        check_limits(msg.blocks)


def test_branch_line_escapes_links_citations_and_says_what_is_still_needed() -> None:
    cite = PathwayCitation(doc_id="d", chunk_id="d-0003", text="Allo-HSCT <if high risk>", source="NCCN & co")
    branch = PathwayBranch(
        field="high_risk",
        value=True,
        label="high_risk is yes",
        node="T-ALL / CR / <high risk>",
        options=[PathwayOption(therapy="Allo-HSCT & chemo", citations=[cite])],
        missing=["kmt2a"],
    )
    result = PathwayResult(node="T-ALL / CR", missing=["high_risk"], needs_info=True, branches=[branch])
    text = all_text(render_pathway(result, public_base_url="https://ally.example/").blocks)
    (line,) = _lines(text)
    assert line.startswith("• *If high_risk is yes:* T-ALL / CR / &lt;high risk&gt; — Allo-HSCT &amp; chemo [")
    assert "<https://ally.example/#passage=d-0003|NCCN &amp; co>" in line
    assert line.endswith("_(still needs: kmt2a)_")
