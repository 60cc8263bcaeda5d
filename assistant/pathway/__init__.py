"""The deterministic pathway checker: ALL treatment pathways as cited data (`data/*.yaml`), a pure
evaluator (`evaluate`, `check`), patient recognition in questions, citation resolution to stored
passages, and a FHIR R4 PlanDefinition export.

Public API:
    load_pathways() / default_book() -> PathwayBook     (packaged data, cached)
    load_book(folder=None) -> PathwayBook               (validate a data folder)
    evaluate(patient, book=None, *, id=None) -> PathwayResult
    check(patient, therapy, book=None, *, id=None) -> PathwayResult   (.check set)
    normalise_therapy(name, book=None) -> (label, concept ids)
    recognise_patient(text) -> dict; describes_patient(text) -> bool
    merge_patient(earlier, new) -> dict; proposed_therapy(text) -> str | None
    resolve_citations(result, chunks) -> PathwayResult
    export_fhir(book=None) -> dict (FHIR Bundle)
"""

from __future__ import annotations

from typing import Any

from assistant.pathway.evaluator import check, evaluate, normalise_therapy
from assistant.pathway.loader import PathwayDataError, default_book, load_book
from assistant.pathway.models import PathwayBook
from assistant.pathway.recognise import describes_patient, merge_patient, proposed_therapy, recognise_patient
from assistant.pathway.resolve import resolve_citations


def load_pathways() -> PathwayBook:
    """The packaged pathway book (loaded once per process)."""
    return default_book()


def export_fhir(book: PathwayBook | None = None) -> dict[str, Any]:
    """The pathway as a validated FHIR R4 PlanDefinition Bundle (imports fhir.resources lazily)."""
    from assistant.pathway.fhir import export_fhir as _export

    return _export(book)


__all__ = [
    "PathwayBook",
    "PathwayDataError",
    "check",
    "default_book",
    "describes_patient",
    "evaluate",
    "export_fhir",
    "load_book",
    "load_pathways",
    "merge_patient",
    "normalise_therapy",
    "proposed_therapy",
    "recognise_patient",
    "resolve_citations",
]
