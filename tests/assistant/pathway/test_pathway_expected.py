"""The expected-case table (expected_cases.yaml), written from the source documents: node reached,
needs-info, expected and forbidden options, missing fields, gap notes, levels and verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.pathway import check, evaluate, normalise_therapy
from assistant.pathway.models import PathwayBook

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "expected_cases.yaml").read_text())["cases"]


def test_the_table_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40
    assert len({c["name"] for c in CASES}) == len(CASES)


def _covering(result: Any, name: str, book: PathwayBook) -> list[Any]:
    concepts = normalise_therapy(name, book)[1]
    return [o for o in result.options if concepts <= set(o.concepts)]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_expected_case(case: dict[str, Any], book: PathwayBook) -> None:
    result = evaluate(case["patient"], book)
    assert result.node_id == case["node"], result.node
    assert result.needs_info is case.get("needs_info", False)
    for name in case.get("expect", []):
        assert _covering(result, name, book), f"{name!r} should be on the pathway at {result.node}"
    for name in case.get("forbid", []):
        covering = _covering(result, name, book)
        assert not covering, f"{name!r} must not be on the pathway: {[o.therapy for o in covering]}"
    if "missing" in case:
        assert result.missing == case["missing"]
    gap_ids = {note.split("(", 1)[1].split(")", 1)[0] for note in result.notes}
    for gap in case.get("notes", []):
        assert gap in gap_ids, (gap, result.notes)
    for name, level in case.get("expect_levels", {}).items():
        assert any(o.level == level for o in _covering(result, name, book)), (name, level)
    for therapy, verdict in case.get("verdicts", {}).items():
        checked = check(case["patient"], therapy, book)
        assert checked.check is not None
        assert checked.check.verdict == verdict, f"{therapy}: {checked.check.reason}"
        assert checked.check.citations, therapy
    # every option cites at least one quote, from the source it names
    for option in result.options:
        assert option.citations
        assert all(c.doc_id in {s.doc_id for s in book.sources.values()} for c in option.citations)
