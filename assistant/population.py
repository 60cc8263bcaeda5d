"""Population check: does a cited passage concern the population the question (or patient) is about?

Populations are read deterministically from text: age group (pediatric / adult), Philadelphia
status, lineage, and disease phase (frontline / relapsed-refractory). When a passage speaks of
another population than the question, the answer says so next to that citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ally.schema import Patient

_PEDIATRIC = re.compile(r"\b(pediatric|paediatric|children|childhood|child)\b", re.I)
_ADULT = re.compile(r"\b(adults?|older|elderly|aged 65|≥ ?65)\b", re.I)
_YOUNG_ADULT = re.compile(r"\byoung adults?\b", re.I)
_PH_POS = re.compile(r"\b(Ph\+|Ph-positive|Philadelphia chromosome[- ]positive|BCR-ABL1? positive)", re.I)
_PH_NEG = re.compile(r"(\bPh-(?!like)|\bPh-negative|Philadelphia chromosome[- ]negative|BCR::ABL1-negative)", re.I)
_T_LINEAGE = re.compile(r"\b(T-ALL|T-cell ALL|T-cell acute)\b", re.I)
_B_LINEAGE = re.compile(r"\b(B-ALL|B-cell ALL|B-cell precursor|B-cell acute|CD19)\b", re.I)
_RR = re.compile(r"\b(relapsed|refractory|R/R|salvage)\b", re.I)
_FRONTLINE = re.compile(r"\b(newly diagnosed|frontline|first-line|induction)\b", re.I)


@dataclass(frozen=True)
class Population:
    age: str | None = None  # "pediatric" | "adult"
    ph: str | None = None  # "positive" | "negative"
    lineage: str | None = None  # "B" | "T"
    phase: str | None = None  # "frontline" | "relapsed_refractory"


def population_of(text: str) -> Population:
    ped = bool(_PEDIATRIC.search(text))
    adult = bool(_ADULT.search(text))
    age = "pediatric" if ped and not adult else "adult" if adult and not ped else None
    pos, neg = bool(_PH_POS.search(text)), bool(_PH_NEG.search(text))
    ph = "positive" if pos and not neg else "negative" if neg and not pos else None
    t, b = bool(_T_LINEAGE.search(text)), bool(_B_LINEAGE.search(text))
    lineage = "T" if t and not b else "B" if b and not t else None
    rr, front = bool(_RR.search(text)), bool(_FRONTLINE.search(text))
    phase = "relapsed_refractory" if rr and not front else "frontline" if front and not rr else None
    return Population(age, ph, lineage, phase)


def population_of_question(question: str, patient: Patient | None) -> Population:
    q = population_of(question)
    if patient is None:
        return q
    age = q.age
    if patient.age is not None:
        age = "pediatric" if patient.age < 18 else "adult"
    ph = q.ph
    if patient.ph in ("positive", "negative"):
        ph = patient.ph
    lineage = patient.lineage or q.lineage
    phase = q.phase
    if patient.phase == "relapsed_refractory":
        phase = "relapsed_refractory"
    elif patient.phase in ("diagnosis", "post_induction"):
        phase = "frontline"
    return Population(age, ph, lineage, phase)


def mismatch_note(question: Population, passage_text: str) -> str | None:
    """A short note when the passage concerns another population than the question, else None."""
    p = population_of(passage_text)
    notes: list[str] = []
    if question.age and p.age and question.age != p.age:
        young = " and young adult" if _YOUNG_ADULT.search(passage_text) and p.age == "pediatric" else ""
        notes.append(f"this passage concerns {p.age}{young} patients")
    if question.ph and p.ph and question.ph != p.ph:
        notes.append(f"this passage concerns Ph-{p.ph} disease")
    if question.lineage and p.lineage and question.lineage != p.lineage:
        notes.append(f"this passage concerns {p.lineage}-lineage ALL")
    if question.phase and p.phase and question.phase != p.phase:
        label = "relapsed/refractory" if p.phase == "relapsed_refractory" else "frontline"
        notes.append(f"this passage concerns {label} disease")
    return "; ".join(notes) if notes else None
