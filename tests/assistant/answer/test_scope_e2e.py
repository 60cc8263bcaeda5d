"""Scope from the corpus, end to end: a question about a disease no ingested document is about is
refused, naming it; with a document about it ingested, it is answered from that document."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ally.settings import Settings
from ingest.pipeline import ingest_paths

pytestmark = pytest.mark.slow

AML_DOC = """Induction therapy in acute myeloid leukemia

Acute myeloid leukemia (AML) in fit adults is treated with intensive induction chemotherapy.
The standard AML induction regimen combines cytarabine 100 mg/m2 daily for 7 days with daunorubicin 60 mg/m2 for 3 days.
In AML with FLT3 mutations, midostaurin is added to induction and consolidation.
"""
QUESTION = "What is the induction regimen for AML?"


def test_aml_is_refused_without_aml_documents(ingested_settings: Settings) -> None:
    from assistant.service import Assistant

    with Assistant.open(ingested_settings) as assistant:
        answer = assistant.ask(QUESTION)
    assert answer.abstained
    assert "acute myeloid leukemia" in answer.answer.lower(), answer.answer


def test_aml_is_answered_from_an_aml_document(ingested_store: Path, tmp_path: Path) -> None:
    from assistant.service import Assistant

    store = tmp_path / "store"
    shutil.copytree(ingested_store, store)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "aml-induction.txt").write_text(AML_DOC, encoding="utf-8")
    report = ingest_paths([docs], Settings(store=store))
    assert report.added == 1 and report.failed == 0, report
    with Assistant.open(Settings(store=store)) as assistant:
        info = assistant.document("aml-induction")
        assert info.subjects == ["aml"]
        answer = assistant.ask(QUESTION)
        all_answer = assistant.ask("What is the dose of blinatumomab?")
    assert not answer.abstained, answer.answer
    assert {c.doc_id for c in answer.citations} == {"aml-induction"}, answer.citations
    assert "cytarabine 100 mg/m2" in answer.answer
    assert all(c.doc_id != "aml-induction" for c in all_answer.citations)
