"""The deterministic pathway checker, pure: ALL treatment pathways as cited data (`data/*.yaml`,
read by `assistant.resources`), a book builder that validates them, an evaluator (`evaluate`,
`check`), citation resolution to stored passages, and a FHIR R4 PlanDefinition export.

Nothing here reads a file or loads a default: the parsed data, the vocabulary and the book are
arguments. Load the book once with `assistant.resources.load_pathway_book()` and pass it.

Public API:
    build_book(data, vocabulary) -> PathwayBook          (parsed data files -> validated book)
    evaluate(patient, book, *, id=None) -> PathwayResult   (.branches: what each missing answer leads to)
    check(patient, therapy, book, *, id=None) -> PathwayResult   (.check set)
    normalise_therapy(name, book) -> (label, concept ids)
    resolve_citations(result, chunks) -> PathwayResult; all_citations(result) -> list
    export_fhir(book) -> dict (FHIR Bundle)
"""

from __future__ import annotations

from assistant.pathway.evaluator import check, evaluate, normalise_therapy
from assistant.pathway.fhir import export_fhir
from assistant.pathway.loader import PathwayDataError, build_book
from assistant.pathway.models import PathwayBook
from assistant.pathway.resolve import all_citations, resolve_citations

__all__ = [
    "PathwayBook",
    "PathwayDataError",
    "all_citations",
    "build_book",
    "check",
    "evaluate",
    "export_fhir",
    "normalise_therapy",
    "resolve_citations",
]
