"""Population check: does a cited passage concern the population the question (or patient) is about?

Populations are read deterministically from text with the cue patterns kept as data in
`ally/data/vocabulary.yaml` (`populations:`): age group (pediatric / adult), Philadelphia status,
lineage, disease phase (frontline / relapsed-refractory), the response to induction (CR / no CR) and
the MRD state (positive / negative). When a passage speaks of
another population than the question, the answer says so next to that citation.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@lru_cache(maxsize=POPULATION_MEMO_SIZE)
def population_of(text: str) -> Population:
    ped, adult = _cue("pediatric", text), _cue("adult", text)
    age = "pediatric" if ped and not adult else "adult" if adult and not ped else None
    pos, neg = _cue("ph_positive", text), _cue("ph_negative", text)
    ph = "positive" if pos and not neg else "negative" if neg and not pos else None
    t, b = _cue("t_lineage", text), _cue("b_lineage", text)
    lineage = "T" if t and not b else "B" if b and not t else None
    rr, front = _cue("relapsed_refractory", text), _cue("frontline", text)
    phase = "relapsed_refractory" if rr and not front else "frontline" if front and not rr else None
    cr, no_cr = _cue("in_remission", text), _cue("no_remission", text)
    response = "CR" if cr and not no_cr else "no_CR" if no_cr and not cr else None
    mrd_pos, mrd_neg = _cue("mrd_positive", text), _cue("mrd_negative", text)
    mrd = "positive" if mrd_pos and not mrd_neg else "negative" if mrd_neg and not mrd_pos else None
    return Population(age, ph, lineage, phase, response, mrd)


def _age_group(years: float) -> str:
    return "pediatric" if years < 18 else "adult"


def population_of_question(question: str, patient: Patient | None) -> Population:
    q = population_of(question)
    if q.age is None and (years := question_patient_age(question)) is not None:
        # "nelarabine dose for an 8 year old": the adults' line is flagged as about adults
        q = Population(_age_group(years), q.ph, q.lineage, q.phase, q.response, q.mrd)
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
