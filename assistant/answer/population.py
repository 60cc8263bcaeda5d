"""Population check: does a cited passage concern the population the question (or patient) is about?

Populations are read deterministically from text with the cue patterns kept as data in
`ally/data/vocabulary.yaml` (`populations:`): age group (pediatric / adult), Philadelphia status,
lineage, disease phase (frontline / relapsed-refractory), the response to induction (CR / no CR) and
the MRD state (positive / negative). When a passage speaks of
another population than the question, the answer says so next to that citation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from ally.schema import Patient
from ally.vocab import default_vocabulary
from assistant.answer.question import question_patient_age


@dataclass(frozen=True)
class Population:
    age: str | None = None  # "pediatric" | "adult"
    ph: str | None = None  # "positive" | "negative"
    lineage: str | None = None  # "B" | "T"
    phase: str | None = None  # "frontline" | "relapsed_refractory"
    # "CR" | "no_CR": the response to induction a recommendation is for; "pending" for a patient at
    # diagnosis, whom no response-conditional recommendation is for yet
    response: str | None = None
    mrd: str | None = None  # "positive" | "negative"


def _cue(name: str, text: str) -> bool:
    return bool(default_vocabulary().populations[name].search(text))


# Texts whose population is kept: each answer reads the population of every candidate unit, and the
# same passages come back across answers (eight cue patterns per text otherwise).
POPULATION_MEMO_SIZE = 50_000


def _one_of(text: str, first: tuple[str, str], second: tuple[str, str]) -> str | None:
    """The value whose cue (`populations:` name) alone the text writes; None for both or neither."""
    a, b = _cue(first[0], text), _cue(second[0], text)
    return first[1] if a and not b else second[1] if b and not a else None


@lru_cache(maxsize=POPULATION_MEMO_SIZE)
def population_of(text: str) -> Population:
    return Population(
        age=_one_of(text, ("pediatric", "pediatric"), ("adult", "adult")),
        ph=_one_of(text, ("ph_positive", "positive"), ("ph_negative", "negative")),
        lineage=_one_of(text, ("t_lineage", "T"), ("b_lineage", "B")),
        phase=_one_of(text, ("relapsed_refractory", "relapsed_refractory"), ("frontline", "frontline")),
        response=_one_of(text, ("in_remission", "CR"), ("no_remission", "no_CR")),
        mrd=_one_of(text, ("mrd_positive", "positive"), ("mrd_negative", "negative")),
    )


def _age_group(years: float) -> str:
    return "pediatric" if years < 18 else "adult"


def population_of_question(question: str, patient: Patient | None) -> Population:
    q = population_of(question)
    if q.age is None and (years := question_patient_age(question)) is not None:
        # "nelarabine dose for an 8 year old": the adults' line is flagged as about adults
        q = replace(q, age=_age_group(years))
    if patient is None:
        return q
    age = q.age
    if patient.age is not None:
        age = _age_group(patient.age)
    ph = q.ph
    if patient.ph in ("positive", "negative"):
        ph = patient.ph
    lineage = patient.lineage or q.lineage
    phase = q.phase
    if patient.phase == "relapsed_refractory":
        phase = "relapsed_refractory"
    elif patient.phase in ("diagnosis", "post_induction"):
        phase = "frontline"
    response = patient.response or ("pending" if patient.phase == "diagnosis" else q.response)
    return Population(age, ph, lineage, phase, response, patient.mrd or q.mrd)


def other_subtype(question: Population, passage_text: str) -> bool:
    """Whether the passage concerns another disease subtype or state than the question: the other
    Philadelphia status or lineage, or what is recommended for the other response to induction ("if
    CR after induction …" for a patient not in CR, or for one at diagnosis, whose response is still
    pending) or the other MRD state ("MRD+: …" for an MRD-negative one). (Age group and phase stay
    notes: "adults" in a passage does not make it wrong for an older patient, nor "relapsed" for one
    whose induction failed.)"""
    p = population_of(passage_text)
    return bool(
        (question.ph and p.ph and question.ph != p.ph)
        or (question.lineage and p.lineage and question.lineage != p.lineage)
        or (question.response and p.response and question.response != p.response)
        or (question.mrd and p.mrd and question.mrd != p.mrd)
    )


def mismatch_note(question: Population, passage_text: str) -> str | None:
    """A short note when the passage concerns another population than the question, else None."""
    p = population_of(passage_text)
    notes: list[str] = []
    if question.age and p.age and question.age != p.age:
        young = " and young adult" if _cue("young_adult", passage_text) and p.age == "pediatric" else ""
        notes.append(f"this passage concerns {p.age}{young} patients")
    if question.ph and p.ph and question.ph != p.ph:
        notes.append(f"this passage concerns Ph-{p.ph} disease")
    if question.lineage and p.lineage and question.lineage != p.lineage:
        notes.append(f"this passage concerns {p.lineage}-lineage ALL")
    if question.response and p.response and question.response != p.response:
        notes.append(f"this passage concerns patients {'in CR' if p.response == 'CR' else 'not in CR'} after induction")
    if question.mrd and p.mrd and question.mrd != p.mrd:
        notes.append(f"this passage concerns MRD-{p.mrd} disease")
    if question.phase and p.phase and question.phase != p.phase:
        label = "relapsed/refractory" if p.phase == "relapsed_refractory" else "frontline"
        notes.append(f"this passage concerns {label} disease")
    return "; ".join(notes) if notes else None
