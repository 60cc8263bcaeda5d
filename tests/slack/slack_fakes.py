"""A small, typed, thread-safe stand-in for `assistant.service.Assistant`, for the Slack bot's tests.

It answers from three passages by keyword overlap with the whole conversation so far (so a
follow-up in a thread is answered in its context), cites what it uses, abstains when nothing
matches, keeps the patient with the conversation (as the core does), records every call, keeps its answer ids so that
feedback for an unknown id raises NotFoundError as the real facade does, and can be slowed down
(`delay_s`) to show that Slack is acknowledged before the answer is ready. One passage carries
`<!channel>` and `&` so escaping is exercised end to end.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ally.errors import InputError, NotFoundError
from ally.schema import (
    Answer,
    Citation,
    PathwayCitation,
    PathwayOption,
    PathwayResult,
    Patient,
    RetrievedPassage,
    TherapyCheck,
    parse_patient,
)
from ally.settings import Settings


@dataclass(frozen=True)
class FakePassage:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str


PASSAGES = [
    FakePassage(
        chunk_id="overview-0001",
        doc_id="all-overview-approved-therapies",
        title="Acute lymphoblastic leukemia: overview and FDA-approved therapies",
        section="Overview › Relapsed/refractory",
        text="Blinatumomab (CD19/CD3 bispecific) and inotuzumab ozogamicin (CD22-targeted ADC) are approved "
        "for relapsed/refractory disease.",
    ),
    FakePassage(
        chunk_id="overview-0002",
        doc_id="all-overview-approved-therapies",
        title="Acute lymphoblastic leukemia: overview and FDA-approved therapies",
        section="Treatment paradigm › Ph-positive",
        text="For Ph-positive ALL, chemotherapy plus a tyrosine kinase inhibitor (imatinib, dasatinib, "
        "ponatinib) has improved outcomes.",
    ),
    FakePassage(
        chunk_id="nonprofit-0001",
        doc_id="nonprofit-all-targeted-cellular-therapies",
        title="ALL: Targeted & Cellular Therapies <!channel>",
        section="Inotuzumab ozogamicin (Besponsa®)",
        text="Inotuzumab is an anti-CD22 antibody-drug conjugate <!channel> for relapsed & refractory B-cell ALL.",
    ),
]

STOP = {"the", "a", "an", "for", "of", "in", "is", "are", "what", "which", "with", "and", "or", "to", "how"}


def terms(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in STOP and len(t) > 2}


@dataclass
class FakeAssistant:
    """The facade's surface that the Slack bot uses: ask, pathway, record_feedback."""

    settings: Settings
    delay_s: float = 0.0
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    feedback: list[tuple[str, bool, str | None, str]] = field(default_factory=list)
    conversations: dict[str, list[str]] = field(default_factory=dict)
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(self, name: str, **data: Any) -> None:
        with self.lock:
            self.calls.append((name, data))

    def named(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [d for n, d in self.calls if n == name]

    def ask(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Answer:
        self._record("ask", question=question, patient=patient, conversation_id=conversation_id)
        if self.delay_s:
            time.sleep(self.delay_s)
        if not question.strip():
            raise InputError("question is empty", field="question")
        if len(question) > self.settings.max_question_chars:
            raise InputError(f"question is longer than {self.settings.max_question_chars} characters", "question")
        parsed = patient if isinstance(patient, Patient) else parse_patient(patient)
        with self.lock:
            history = self.conversations.setdefault(conversation_id, []) if conversation_id else []
            history.append(question)
            if conversation_id:  # like the core: the conversation keeps its patient
                merged = {**self.patients.get(conversation_id, {}), **parsed.known()}
                self.patients[conversation_id] = merged
                parsed = parse_patient(merged)
            query = terms(" ".join(history))
            answer_id = uuid.uuid4().hex
            self.answers.add(answer_id)
        scored = sorted(((len(query & terms(p.text)), p) for p in PASSAGES), key=lambda sp: -sp[0])
        retrieved = [
            RetrievedPassage(
                doc_id=p.doc_id, chunk_id=p.chunk_id, text=p.text, score=float(s), title=p.title, section=p.section
            )
            for s, p in scored
        ]
        used = [p for s, p in scored if s > 0][:2]
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
        sentences = [f"{p.text.rstrip('.')} [{i}]." for i, p in enumerate(used, start=1)]
        return Answer(
            id=id,
            answer=" ".join(sentences),
            abstained=False,
            citations=citations,
            retrieved=retrieved,
            pathway=self.pathway(parsed) if parsed.known() else None,
            answer_id=answer_id,
            conversation_id=conversation_id,
        )

    def pathway(self, patient: Patient | dict[str, Any], propose: str | None = None, id: Any = None) -> PathwayResult:
        self._record("pathway", patient=patient, propose=propose, id=id)
        p = patient if isinstance(patient, Patient) else parse_patient(patient)
        missing = [f for f in ("lineage", "phase") if getattr(p, f) is None]
        options: list[PathwayOption] = []
        node = None
        quote = PASSAGES[0]
        cite = PathwayCitation(doc_id=quote.doc_id, chunk_id=quote.chunk_id, text=quote.text[:90])
        if not missing and p.phase == "relapsed_refractory" and p.lineage == "B":
            node = "B-ALL / relapsed-refractory"
            options = [PathwayOption(therapy=n, citations=[cite]) for n in ("Blinatumomab", "Inotuzumab ozogamicin")]
        elif not missing and p.phase == "diagnosis" and p.lineage == "B" and p.ph == "negative":
            node = "B-ALL / Ph-negative / diagnosis"
            if p.fit is None:
                missing.append("fit")
            else:
                options = [PathwayOption(therapy="Multi-agent chemotherapy", citations=[cite])]
        check = None
        if propose:
            on = any(propose.lower() in o.therapy.lower() for o in options)
            check = TherapyCheck(
                therapy=propose,
                verdict="on" if on else ("needs_info" if missing else "off"),
                reason="listed at this node" if on else "not listed at this node",
                citations=[cite] if on else [],
                alternatives=[o.therapy for o in options],
                missing=missing,
            )
        return PathwayResult(id=id, patient=p.known(), node=node, options=options, missing=missing, check=check)

    def record_feedback(self, answer_id: str, helpful: bool, comment: str | None = None, source: str = "api") -> None:
        self._record("record_feedback", answer_id=answer_id, helpful=helpful, source=source)
        with self.lock:
            if answer_id not in self.answers:
                raise NotFoundError(f"no answer '{answer_id}'; send the answer_id of an answer ALLy gave")
            self.feedback.append((answer_id, helpful, comment, source))
