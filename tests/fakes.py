"""The tests' one stand-in for the assistant core (`assistant.core.AssistantCore`), shared by the HTTP
API, Slack and reliability tests, and a wall clock that moves only when told (for the rate limits).

`FakeAssistant` is small, typed, thread-safe and in memory. It answers from three real passages of
the corpus by keyword overlap with the whole conversation so far (so a follow-up is answered in its
context), cites what it uses, abstains when nothing matches, keeps the patient with the conversation
(as the core does), records feedback and raises the core's errors (InputError naming the field,
NotFoundError, StoreError) the way the real core does. It records every call so tests can assert
what a transport passed through, and can be slowed down (`delay_s`) to show that Slack is
acknowledged before the answer is ready. One passage carries `<script>`, `<!channel>` and `&`, so
escaping is exercised end to end in the web page and in Slack.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ally.errors import NotFoundError, StoreError
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
from assistant.core import AnswerEvent, CorpusStatus
from assistant.inputs import validate_question

if TYPE_CHECKING:
    import pytest

    from assistant.core import AssistantCore

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
        section="Overview > Relapsed/refractory",
        title=DOCS["all-overview-approved-therapies"].title,
        text="Blinatumomab (CD19/CD3 bispecific) and inotuzumab ozogamicin (CD22-targeted ADC) approved for "
        "relapsed/refractory disease. CAR T-cell therapy (brexucabtagene autoleucel) for R/R B-ALL.",
        document=DOCS["all-overview-approved-therapies"],
    ),
    "overview-0002": Passage(
        chunk_id="overview-0002",
        doc_id="all-overview-approved-therapies",
        section="Treatment paradigm > Ph-positive",
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
        text="Inotuzumab is an anti-CD22 antibody-drug conjugate <!channel> approved for relapsed & refractory "
        "B-cell ALL. <script>alert('x')</script> It delivers a cytotoxic payload directly to leukemia cells.",
        document=DOCS["nonprofit-all-targeted-cellular-therapies"],
    ),
}

STOP = {"the", "a", "an", "for", "of", "in", "is", "are", "what", "which", "with", "and", "or", "to", "how"}


def terms(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in STOP and len(t) > 2}


def _as_patient(patient: Patient | dict[str, Any] | None) -> Patient:
    return patient if isinstance(patient, Patient) else parse_patient(patient)


@dataclass
class FakeAssistant:
    """Every call of `AssistantCore`, answered from `PASSAGES`."""

    settings: Settings
    ready: bool = False
    fail_store: bool = False
    delay_s: float = 0.0
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    feedback: list[tuple[str, bool, str | None, str]] = field(default_factory=list)
    conversations: dict[str, list[str]] = field(default_factory=dict)
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: set[str] = field(default_factory=set)
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what the tests read ------------------------------------------------------------------------

    def _record(self, name: str, **data: Any) -> None:
        with self.lock:
            self.calls.append((name, data))

    def named(self, name: str) -> list[dict[str, Any]]:
        """The arguments of every call of `name`, in order."""
        with self.lock:
            return [d for n, d in self.calls if n == name]

    def _check_store(self) -> None:
        if self.fail_store:
            raise StoreError("the store at /nonexistent is locked by another process; wait and retry")

    # --- AssistantCore --------------------------------------------------------------------------------

    def warm(self) -> None:
        self._record("warm")
        self.ready = True

    def watch(self) -> None:
        self._record("watch")

    def corpus_status(self) -> CorpusStatus:
        return CorpusStatus(corpus_version="fake-corpus-1", generation=1, watching=bool(self.named("watch")))

    def _remember_turn(
        self, question: str, patient: Patient | dict[str, Any] | None, conversation_id: str | None
    ) -> tuple[set[str], Patient, str]:
        """The query terms of the conversation so far, its patient, and a new answer id."""
        parsed = _as_patient(patient)
        with self.lock:
            history = self.conversations.setdefault(conversation_id, []) if conversation_id else []
            history.append(question)
            if conversation_id:  # like the core: the conversation keeps its patient
                merged = {**self.patients.get(conversation_id, {}), **parsed.known()}
                self.patients[conversation_id] = merged
                parsed = parse_patient(merged)
            answer_id = uuid.uuid4().hex
            self.answers.add(answer_id)
        return terms(" ".join(history)), parsed, answer_id

    def _answer(
        self, question: str, patient: Patient | dict[str, Any] | None, conversation_id: str | None, id: Any
    ) -> Answer:
        if self.delay_s:
            time.sleep(self.delay_s)
        self._check_store()
        validate_question(question, self.settings.max_question_chars)
        query, parsed, answer_id = self._remember_turn(question, patient, conversation_id)
        scored = sorted(((len(query & terms(p.text)), p) for p in PASSAGES.values()), key=lambda sp: -sp[0])
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
        sentences = [f"{p.text.split('. ')[0].rstrip('.')}. [{i}]" for i, p in enumerate(used, start=1)]
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

    def ask(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Answer:
        self._record("ask", question=question, patient=patient, conversation_id=conversation_id)
        return self._answer(question, patient, conversation_id, id)

    def ask_events(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Iterator[AnswerEvent]:
        self._record("ask_events", question=question, conversation_id=conversation_id)
        answer = self._answer(question, patient, conversation_id, id)
        yield AnswerEvent(type="retrieval", data={"count": len(answer.retrieved)})
        for sentence in re.split(r"(?<=\]) ", answer.answer):
            yield AnswerEvent(type="sentence", data={"text": sentence})
        yield AnswerEvent(type="citations", data={"citations": [c.model_dump() for c in answer.citations]})
        if answer.pathway is not None:
            yield AnswerEvent(type="pathway", data={"pathway": answer.pathway.model_dump()})
        yield AnswerEvent(type="done", data={"answer": answer.model_dump()})

    def pathway(
        self, patient: Patient | dict[str, Any] | None, propose: str | None = None, id: Any = None
    ) -> PathwayResult:
        self._record("pathway", patient=patient, propose=propose, id=id)
        self._check_store()
        p = _as_patient(patient)
        missing = [f for f in ("lineage", "phase") if getattr(p, f) is None]
        quote = PASSAGES["overview-0001"]
        cite = PathwayCitation(doc_id=quote.doc_id, chunk_id=quote.chunk_id, text=quote.text[:90])
        node, options = _node_and_options(p, missing, cite)
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
        self._record("record_feedback", answer_id=answer_id, helpful=helpful, source=source)
        with self.lock:
            if answer_id not in self.answers:
                raise NotFoundError(f"no answer '{answer_id}'; send the answer_id of an answer ALLy gave")
            self.feedback.append((answer_id, helpful, comment, source))

    def close(self) -> None:
        self.closed = True


def _node_and_options(p: Patient, missing: list[str], cite: PathwayCitation) -> tuple[str | None, list[PathwayOption]]:
    """Two nodes of the pathway: B-ALL relapsed-refractory, and B-ALL Ph-negative at diagnosis
    (which needs `fit`, appended to `missing` when it is not given)."""
    if missing or p.lineage != "B":
        return None, []
    if p.phase == "relapsed_refractory":
        therapies = ("Blinatumomab", "Inotuzumab ozogamicin")
        return "B-ALL / relapsed-refractory", [PathwayOption(therapy=t, citations=[cite]) for t in therapies]
    if p.phase == "diagnosis" and p.ph == "negative":
        if p.fit is None:
            missing.append("fit")
            return "B-ALL / Ph-negative / diagnosis", []
        return "B-ALL / Ph-negative / diagnosis", [PathwayOption(therapy="Multi-agent chemotherapy", citations=[cite])]
    return None, []


class FrozenTime:
    """A wall clock (`time.time`) that moves only when told. The rate limits (`assistant.guards`,
    on the `limits` library) keep their windows in `time.time`; `install` swaps it for this clock
    for one test. The instance is also a clock callable (for the Slack caches' `clock=`)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> FrozenTime:
        clock = cls()
        monkeypatch.setattr(time, "time", clock)
        return clock


if TYPE_CHECKING:  # the fake has the core's shape (checked by mypy, costs nothing at run time)
    _SHAPE: AssistantCore = FakeAssistant(settings=Settings())
