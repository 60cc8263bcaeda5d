"""Deterministic recognition of patients described in questions, conversation merging, proposals."""

from __future__ import annotations

from typing import Any

import pytest

from ally.schema import parse_patient
from assistant.answer.patient import (
    describes_patient,
    merge_patient,
    patient_in_context,
    proposed_therapy,
    recognise_patient,
)
from assistant.pathway import evaluate
from assistant.resources import load_pathway_book

CASES: list[tuple[str, dict[str, Any]]] = [
    (
        "a 70-year-old with Ph-negative B-ALL, comorbidities, newly diagnosed",
        {"age": 70, "lineage": "B", "ph": "negative", "fit": False, "phase": "diagnosis"},
    ),
    ("MRD positive after induction", {"mrd": "positive", "phase": "post_induction"}),
    ("What if MRD becomes negative?", {"mrd": "negative"}),  # a change of state, as a follow-up asks it
    ("What if he does not reach CR?", {"phase": "post_induction", "response": "no_CR"}),
    ("MRD turned positive again", {"mrd": "positive"}),
    # asking which induction to give places the patient at diagnosis
    (
        "70 year old with Ph+ B-ALL, what induction?",
        {"age": 70, "lineage": "B", "ph": "positive", "phase": "diagnosis"},
    ),
    ("KMT2A-rearranged relapse", {"kmt2a": True, "phase": "relapsed_refractory"}),
    ("CD20 40%", {"cd20_percent": 40}),
    ("CD20 expression of 25% on blasts", {"cd20_percent": 25}),
    ("35% of blasts are CD20-positive", {"cd20_percent": 35}),
    (
        "45 yo man with Philadelphia chromosome-positive ALL, T315I mutation, relapsed after 2 prior regimens",
        {"age": 45, "ph": "positive", "t315i": True, "phase": "relapsed_refractory", "prior_regimens": 2},
    ),
    (
        "Should we give inotuzumab to a 50-year-old in CR1, MRD negative, no significant comorbidities?",
        {"age": 50, "phase": "post_induction", "response": "CR", "mrd": "negative", "fit": True},
    ),
    (
        "T-ALL that did not achieve CR after induction, not KMT2A rearranged",
        {"lineage": "T", "phase": "post_induction", "response": "no_CR", "kmt2a": False},
    ),
    (
        "22 yo with Ph-like B-ALL and a hypersensitivity reaction to pegaspargase",
        {"age": 22, "lineage": "B", "ph": "like", "asparaginase_hypersensitivity": True},
    ),
    (
        "frail 82-year-old, BCR-ABL1 positive, newly diagnosed",
        {"age": 82, "ph": "positive", "fit": False, "phase": "diagnosis"},
    ),
    (
        "primary refractory Ph- B-ALL",
        {"ph": "negative", "lineage": "B", "phase": "post_induction", "response": "no_CR"},
    ),
    (
        "high-risk features, MRD-negative, in complete remission",
        {"high_risk": True, "mrd": "negative", "phase": "post_induction", "response": "CR"},
    ),
    ("standard risk T-cell ALL, 16 years old, fit", {"high_risk": False, "lineage": "T", "age": 16, "fit": True}),
    ("18-month-old with B-ALL", {"age": 1.5, "lineage": "B"}),
    ("without T315I, Ph+ ALL relapse", {"t315i": False, "ph": "positive", "phase": "relapsed_refractory"}),
    ("45M with Ph+ B-ALL", {"age": 45, "ph": "positive", "lineage": "B"}),  # age-and-sex shorthand
    ("a 62 F with T-ALL", {"age": 62, "lineage": "T"}),
    ("MRD at 6M in Ph+ ALL", {"ph": "positive"}),  # 6M: no patient introduced, no age
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_recognise_patient(text: str, expected: dict[str, Any]) -> None:
    found = recognise_patient(text)
    assert found == expected
    parse_patient(found)  # always a valid contract record


@pytest.mark.parametrize(
    "text",
    [
        "What is the mechanism of action of blinatumomab?",
        "How is CAR T-cell therapy manufactured?",  # CAR T-cell does not make the patient T-lineage
        "What does bispecific T-cell engager mean?",
        "Summarise the 2024 CSCO guideline updates",
        "",
    ],
)
def test_no_patient_in_topic_questions(text: str) -> None:
    assert not describes_patient(text)
    assert "lineage" not in recognise_patient(text)


@pytest.mark.parametrize(
    "text",
    [
        "a 70-year-old with Ph-negative B-ALL, comorbidities, newly diagnosed",
        "What should we do for relapsed T-ALL?",
        "Is blinatumomab an option for my patient with MRD positive disease?",
        "KMT2A-rearranged relapse",
    ],
)
def test_patient_descriptions_are_recognised(text: str) -> None:
    assert describes_patient(text)


def test_nothing_is_inferred() -> None:
    # Ph-positive does not imply B-lineage; MRD after induction does not imply CR; "elderly" is not an age
    assert recognise_patient("elderly patient with Ph-positive ALL, MRD positive after induction") == {
        "ph": "positive",
        "mrd": "positive",
        "phase": "post_induction",
    }


def test_recognised_patient_drives_the_pathway() -> None:
    fields = recognise_patient("a 70-year-old with Ph-negative B-ALL, comorbidities, newly diagnosed")
    result = evaluate(fields, load_pathway_book())
    assert result.node_id == "b_phneg/diagnosis/older_or_unfit"
    assert not result.missing


def test_merge_patient_for_conversations() -> None:
    first = recognise_patient("a 58-year-old with Ph-negative B-ALL, fit, newly diagnosed")
    second = recognise_patient("MRD positive after induction")
    merged = merge_patient(first, second)
    assert merged == {
        "age": 58,
        "lineage": "B",
        "ph": "negative",
        "fit": True,
        "phase": "post_induction",
        "mrd": "positive",
    }
    result = evaluate(merged, load_pathway_book())
    assert result.needs_info and result.missing == ["response"]
    merged = merge_patient(merged, {"response": "CR"})
    assert evaluate(merged, load_pathway_book()).node_id == "b_phneg/cr/mrd_pos"
    # a new phase drops the old phase's response and MRD
    relapsed = merge_patient(merged, recognise_patient("she has now relapsed, KMT2A-rearranged"))
    assert relapsed == {
        "age": 58,
        "lineage": "B",
        "ph": "negative",
        "fit": True,
        "phase": "relapsed_refractory",
        "kmt2a": True,
    }
    assert merge_patient(None, {"age": 3, "ph": None}) == {"age": 3}


@pytest.mark.parametrize(
    ("text", "therapy"),
    [
        (
            "Is inotuzumab an option for a 50-year-old with Ph-negative B-ALL in CR, MRD positive?",
            "inotuzumab ozogamicin",
        ),
        ("Should we give blinatumomab + TKI to this Ph+ patient?", "blinatumomab + TKI"),
        ("Can we use Besponsa here?", "inotuzumab ozogamicin"),
        ("What are the treatment options for a 70-year-old with Ph-negative B-ALL?", None),
        ("What is blinatumomab?", None),
        ("What to do if a patient is allergic to asparaginase?", None),  # history, not proposed
        ("Is ponatinib an option for a patient refractory to imatinib?", "ponatinib"),
        ("Should we give inotuzumab to a patient who relapsed after blinatumomab?", "inotuzumab ozogamicin"),
        ("Can we give blinatumomab after relapse on inotuzumab?", "blinatumomab"),
        ("For a patient refractory to imatinib, is ponatinib an option?", "ponatinib"),  # history first
        ("After relapse following blinatumomab, should we give inotuzumab?", "inotuzumab ozogamicin"),
    ],
)
def test_proposed_therapy(text: str, therapy: str | None) -> None:
    assert proposed_therapy(text) == therapy


class TestPatientInContext:
    def test_explicit_record_overrides_the_question_and_earlier_turns(self) -> None:
        record, proposal = patient_in_context(
            "a 70-year-old with Ph-negative B-ALL: is blinatumomab an option?",
            {"age": 40},
            {"lineage": "B", "phase": "diagnosis"},
        )
        assert record is not None
        assert record.known() == {"age": 40, "lineage": "B", "ph": "negative", "phase": "diagnosis"}
        assert proposal is not None and "linatumomab" in proposal

    def test_topic_question_has_no_patient(self) -> None:
        assert patient_in_context("What is the dose of nelarabine?", None, {}) == (None, None)

    def test_earlier_turns_keep_the_patient(self) -> None:
        record, _ = patient_in_context("and what next?", None, {"lineage": "T"})
        assert record is not None and record.lineage == "T"
