"""Populations (`assistant.answer.population`): whom a question, a patient and a passage concern."""

from __future__ import annotations

import pytest

from ally.schema import parse_patient
from assistant.answer.population import (
    Population,
    mismatch_note,
    other_subtype,
    population_of,
    population_of_question,
)


class TestPopulationOf:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("In children with ALL", Population(age="pediatric")),
            ("nelarabine dose for kids", Population(age="pediatric")),
            ("peds dosing", Population(age="pediatric")),
            ("Ph positive ALL not in CR", Population(ph="positive", response="no_CR")),  # as the concept allows
            (
                "T-cell ALL, if CR after induction (check MRD status), MRD-: chemo",
                Population(lineage="T", phase="frontline", response="CR", mrd="negative"),
            ),
            ("MRD+ (or high risk features): allo-HSCT", Population(mrd="positive")),
            ("with MRD-negative or positive status", Population()),  # both states: neither
            ("MRD-driven therapy", Population()),
            ("CD5 CAR-T achieved a 100% CR rate by Day 30", Population()),  # an outcome, no state
            ("Ph neg B-ALL", Population(ph="negative", lineage="B")),
            ("Philly positive adults", Population(age="adult", ph="positive")),  # ward slang, as the vocabulary
            ("Philly-negative disease", Population(ph="negative")),
            ("Adults with Ph+ disease", Population(age="adult", ph="positive")),
            ("Ph-negative B-ALL", Population(ph="negative", lineage="B")),
            ("relapsed or refractory T-ALL", Population(lineage="T", phase="relapsed_refractory")),
            ("newly diagnosed patients", Population(phase="frontline")),
            ("children and adults alike", Population()),
        ],
    )
    def test_reads_cues(self, text: str, expected: Population) -> None:
        assert population_of(text) == expected

    def test_patient_record_overrides_the_question(self) -> None:
        patient = parse_patient({"age": 8, "ph": "negative", "lineage": "B", "phase": "relapsed_refractory"})
        got = population_of_question("options for adults with Ph-positive disease", patient)
        assert got == Population(age="pediatric", ph="negative", lineage="B", phase="relapsed_refractory")

    def test_no_patient_reads_the_question(self) -> None:
        assert population_of_question("in children", None) == Population(age="pediatric")

    @pytest.mark.parametrize(
        ("question", "age"),
        [
            ("nelarabine dose for an 8 year old?", "pediatric"),
            ("nelarabine dose for a 40 yo", "adult"),
            ("a 16-year-old and a 70-year-old with ALL", None),  # two patients: no one age group
            ("nelarabine dose for adults", "adult"),
        ],
    )
    def test_a_patient_s_age_in_the_question_gives_its_age_group(self, question: str, age: str | None) -> None:
        assert population_of_question(question, None).age == age


class TestOtherSubtype:
    @pytest.mark.parametrize(
        ("question", "passage", "other"),
        [
            # what is recommended for the other response to induction or the other MRD state is no answer
            ("T-ALL not in CR after induction: options?", "T-cell ALL, if CR after induction, MRD-: chemo", True),
            ("T-ALL not in CR after induction: options?", "T-cell ALL, if no CR: nelarabine", False),
            ("Ph-neg B-ALL in CR with MRD+: what now?", "If CR after induction, MRD-: blinatumomab", True),
            ("Ph-neg B-ALL in CR with MRD+: what now?", "If CR after induction, MRD+: blinatumomab", False),
            ("What does MRD mean?", "If CR after induction, MRD-: blinatumomab", False),  # no state asked
        ],
    )
    def test_the_other_response_or_mrd_state_is_another_population(
        self, question: str, passage: str, other: bool
    ) -> None:
        assert other_subtype(population_of_question(question, None), passage) is other

    def test_a_patient_at_diagnosis_has_no_response_yet(self) -> None:
        # what is recommended after induction, for either response, is not what to do at diagnosis
        at_diagnosis = population_of_question("45 year old with Ph+ B-ALL", parse_patient({"phase": "diagnosis"}))
        assert other_subtype(at_diagnosis, "Ph+ B-ALL, if CR after induction (check MRD status), MRD-: TKI")
        assert other_subtype(at_diagnosis, "Ph+ B-ALL, if no CR: ABL domain testing")
        assert not other_subtype(at_diagnosis, "Ph+ B-ALL: TKI + chemo (e.g. HyperCVAD)")

    def test_the_patient_record_sets_the_state(self) -> None:
        patient = parse_patient({"response": "no_CR", "mrd": "positive"})
        assert population_of_question("options?", patient) == Population(response="no_CR", mrd="positive")


class TestMismatchNote:
    def test_other_population_is_noted(self) -> None:
        note = mismatch_note(Population(age="adult", ph="negative"), "In children with Ph+ ALL, …")
        assert note == "this passage concerns pediatric patients; this passage concerns Ph-positive disease"

    def test_spelled_out_ph_positive_is_noted(self) -> None:
        note = mismatch_note(Population(ph="negative"), "Adults with Ph-positive ALL received …")
        assert note == "this passage concerns Ph-positive disease"

    def test_same_or_unknown_population_is_not_noted(self) -> None:
        assert mismatch_note(Population(age="adult"), "Adults received …") is None
        assert mismatch_note(Population(age="adult"), "Patients received …") is None

    def test_young_adults_are_named(self) -> None:
        note = mismatch_note(Population(age="adult"), "children and young adults treated with …")
        assert note is None or "young adult" in note
