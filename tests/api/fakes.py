"""A small, typed, in-memory stand-in for `assistant.service.Assistant`, for the API's route tests.

It answers from three real passages of the corpus by keyword overlap, cites what it uses, abstains
when nothing matches, keeps conversations, records feedback and raises the core's errors (InputError
naming the field, NotFoundError, StoreError) the way the real facade does. It records every call so
tests can assert what the routes passed through.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ally.errors import InputError, NotFoundError, StoreError
from ally.schema import (
    Answer,
    Citation,
    DocumentInfo,
    Passage,
    PathwayCitation,
    PathwayOption,
    PathwayResult,
    Patient,
    RetrievedPassage,
    TherapyCheck,
    parse_patient,
)
from ally.settings import Settings

DOCS = {
    "all-overview-approved-therapies": DocumentInfo(
        doc_id="all-overview-approved-therapies",
        title="Acute lymphoblastic leukemia: overview and FDA-approved therapies",
        path="corpus/all-overview-approved-therapies.txt",
        kind="disease-overview-and-drug-table",
        chunks=2,
    ),
    "nonprofit-all-targeted-cellular-therapies": DocumentInfo(
        doc_id="nonprofit-all-targeted-cellular-therapies",
        title="Acute Lymphoblastic Leukemia (ALL): Targeted and Cellular Therapies Transforming Outcomes",
        path="corpus/nonprofit-all-targeted-cellular-therapies.txt",
        publisher="rare-disease nonprofit organization (patient education page)",
        kind="patient-education",
        chunks=1,
    ),
}

PASSAGES = {
    "overview-0001": Passage(
        chunk_id="overview-0001",
        doc_id="all-overview-approved-therapies",
        section="Overview",
        title=DOCS["all-overview-approved-therapies"].title,
        text="Blinatumomab (CD19/CD3 bispecific) and inotuzumab ozogamicin (CD22-targeted ADC) approved for "
        "relapsed/refractory disease. CAR T-cell therapy (brexucabtagene autoleucel) for R/R B-ALL.",
        document=DOCS["all-overview-approved-therapies"],
    ),
    "overview-0002": Passage(
        chunk_id="overview-0002",
        doc_id="all-overview-approved-therapies",
        section="Treatment paradigm",
        title=DOCS["all-overview-approved-therapies"].title,
        text="For Ph-positive ALL, the combination of chemotherapy with tyrosine kinase inhibitors "
        "(imatinib, dasatinib, ponatinib) has dramatically improved outcomes.",
        document=DOCS["all-overview-approved-therapies"],
    ),
    "nonprofit-0001": Passage(
        chunk_id="nonprofit-0001",
        doc_id="nonprofit-all-targeted-cellular-therapies",
        section="Inotuzumab ozogamicin (Besponsa®)",
        title=DOCS["nonprofit-all-targeted-cellular-therapies"].title,
        text="Inotuzumab is an anti-CD22 antibody-drug conjugate approved for relapsed or refractory "
        "B-cell ALL. <script>alert('x')</script> It delivers a cytotoxic payload directly to leukemia cells.",
        document=DOCS["nonprofit-all-targeted-cellular-therapies"],
    ),
}

STOP = {"the", "a", "an", "for", "of", "in", "is", "are", "what", "which", "with", "and", "or", "to", "how"}


def _terms(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in STOP and len(t) > 2}


@dataclass
class FakeEvent:
    type: Literal["retrieval", "sentence", "citations", "pathway", "done"]
    data: dict[str, Any]


@dataclass
class FakeAssistant:
    """Implements the facade's surface used by the API."""

    settings: Settings
    ready: bool = False
    fail_store: bool = False
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    feedback: list[tuple[str, bool, str | None, str]] = field(default_factory=list)
    conversations: dict[str, list[str]] = field(default_factory=dict)
    answers: set[str] = field(default_factory=set)
    closed: bool = False

    def warm(self) -> None:
        self.calls.append(("warm", {}))
        self.ready = True

    def _check_store(self) -> None:
        if self.fail_store:
            raise StoreError("the store at /nonexistent is locked by another process; wait and retry")

    def _answer(
        self, question: str, patient: Patient | dict[str, Any] | None, conversation_id: str | None, id: Any
    ) -> Answer:
        self._check_store()
        if not question.strip():
            raise InputError("question is empty", field="question")
        parsed = patient if isinstance(patient, Patient) else parse_patient(patient)
        history = self.conversations.setdefault(conversation_id, []) if conversation_id else []
        history.append(question)
        query = _terms(" ".join(history))
        scored = sorted(((len(query & _terms(p.text)), p) for p in PASSAGES.values()), key=lambda sp: -sp[0])
        retrieved = [
            RetrievedPassage(doc_id=p.doc_id, chunk_id=p.chunk_id, text=p.text, score=float(s), title=p.title)
            for s, p in scored
        ]
        used = [p for s, p in scored if s > 0][:2]
        answer_id = uuid.uuid4().hex
        self.answers.add(answer_id)
        if not used:
            return Answer(
                id=id,
                answer="The sources do not say; ALLy cannot answer this from its corpus.",
                abstained=True,
                retrieved=retrieved,
                related=retrieved[:2],
                answer_id=answer_id,
                conversation_id=conversation_id,
            )
        citations = [
            Citation(n=i, doc_id=p.doc_id, title=p.title, chunk_id=p.chunk_id, text=p.text, section=p.section)
            for i, p in enumerate(used, start=1)
        ]
        sentences = [f"{p.text.split('. ')[0].rstrip('.')}. [{i}]" for i, p in enumerate(used, start=1)]
        pathway = self.pathway(parsed) if parsed.known() else None
        return Answer(
            id=id,
            answer=" ".join(sentences),
            abstained=False,
            citations=citations,
            retrieved=retrieved,
            pathway=pathway,
            answer_id=answer_id,
            conversation_id=conversation_id,
        )

    def ask(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Answer:
        self.calls.append(("ask", {"question": question, "patient": patient, "conversation_id": conversation_id}))
        return self._answer(question, patient, conversation_id, id)

    def ask_events(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Iterator[FakeEvent]:
        self.calls.append(("ask_events", {"question": question, "conversation_id": conversation_id}))
        answer = self._answer(question, patient, conversation_id, id)
        yield FakeEvent("retrieval", {"count": len(answer.retrieved)})
        for sentence in re.split(r"(?<=\]) ", answer.answer):
            yield FakeEvent("sentence", {"text": sentence})
        yield FakeEvent("citations", {"citations": [c.model_dump() for c in answer.citations]})
        if answer.pathway is not None:
            yield FakeEvent("pathway", {"pathway": answer.pathway.model_dump()})
        yield FakeEvent("done", {"answer": answer.model_dump()})

    def pathway(self, patient: Patient | dict[str, Any], propose: str | None = None, id: Any = None) -> PathwayResult:
        self.calls.append(("pathway", {"patient": patient, "propose": propose}))
        self._check_store()
        p = patient if isinstance(patient, Patient) else parse_patient(patient)
        missing = [f for f in ("lineage", "phase") if getattr(p, f) is None]
        options: list[PathwayOption] = []
        node = None
        if not missing and p.phase == "relapsed_refractory" and p.lineage == "B":
            node = "B-ALL / relapsed-refractory"
            quote = PASSAGES["overview-0001"]
            options = [
                PathwayOption(
                    therapy=name,
                    citations=[PathwayCitation(doc_id=quote.doc_id, chunk_id=quote.chunk_id, text=quote.text[:80])],
                )
                for name in ("Blinatumomab", "Inotuzumab ozogamicin")
            ]
        check = None
        if propose:
            on = any(propose.lower() in o.therapy.lower() for o in options)
            check = TherapyCheck(
                therapy=propose,
                verdict="on" if on else ("needs_info" if missing else "off"),
                reason="listed at this node" if on else "not listed at this node",
                citations=options[0].citations if on else [],
                alternatives=[o.therapy for o in options],
                missing=missing,
            )
        return PathwayResult(id=id, patient=p.known(), node=node, options=options, missing=missing, check=check)

    def documents(self) -> list[DocumentInfo]:
        self._check_store()
        return list(DOCS.values())

    def document(self, doc_id: str) -> DocumentInfo:
        if doc_id not in DOCS:
            raise NotFoundError(f"no document '{doc_id}' in the store; list them with: ally docs")
        return DOCS[doc_id]

    def passage(self, chunk_id: str) -> Passage:
        if chunk_id not in PASSAGES:
            raise NotFoundError(f"no passage '{chunk_id}' in the store; list them with: ally chunks --json")
        return PASSAGES[chunk_id]

    def record_feedback(self, answer_id: str, helpful: bool, comment: str | None = None, source: str = "api") -> None:
        if answer_id not in self.answers:
            raise NotFoundError(f"no answer '{answer_id}'; send the answer_id of an answer ALLy gave")
        self.feedback.append((answer_id, helpful, comment, source))

    def close(self) -> None:
        self.closed = True
