"""The Assistant facade: the public API every transport (CLI, HTTP, Slack) and the eval harness use.

It owns the opened store, the (lazily loaded) query encoder, the conversation database and the
pathway book, and turns a question into a typed `Answer`: retrieve, compose a cited extractive
answer or abstain, attach the pathway result for a described patient, optionally let an LLM
rephrase (verified sentence by sentence), and record the turn.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import BaseModel

from ally.errors import InputError
from ally.schema import (
    Answer,
    Citation,
    DocumentInfo,
    Passage,
    PathwayResult,
    Patient,
    RetrievedPassage,
    parse_patient,
)
from ally.settings import Settings, load_settings
from assistant.analysis import analyse, numbers_in
from assistant.compose import Composer, Composition, Sentence
from assistant.concurrency import BatchingEncoder, KeyedLocks
from assistant.conversation import is_followup, resolve
from assistant.evidence import IdfTable
from assistant.population import population_of_question
from assistant.retrieval import Hit, HybridRetriever
from assistant.storage import Database
from ingest.embed import encoder_for
from ingest.store import StoreReader, open_reader

log = logging.getLogger("ally.assistant")


# Questions that ask what to do: only these are led by the pathway's options for a described patient.
_MANAGEMENT = re.compile(
    r"\b(options?|treat|treated|treatment|manage|managed|management|therap(y|ies)|regimens?|next steps?|"
    r"what (should|to) do|recommend(ed|ation|ations)?|induction|consolidation|maintenance|approach|plan|"
    r"first[- ]line|frontline|salvage|choices?|should (we|i)|appropriate|consider|on[- ]pathway|eligible)\b",
    re.IGNORECASE,
)
# Options of the pathway's root (work-up, CNS prophylaxis): listed only when the node adds none.
GENERAL_OPTION_PREFIX = "all#"


class AnswerEvent(BaseModel):
    type: Literal["retrieval", "sentence", "citations", "pathway", "done"]
    data: dict[str, Any]


class Assistant:
    """Cited answers, abstention, conversations and the pathway checker over one store."""

    def __init__(self, settings: Settings, reader: StoreReader, db: Database) -> None:
        self.settings = settings
        self.reader = reader
        self.db = db
        self.vocab = reader.vocab
        # Threads may answer at once: their query embeddings are batched into shared model calls.
        self.encoder = (
            BatchingEncoder(encoder_for(settings), max_batch=settings.embed_batch_size)
            if settings.dense_weight > 0
            else None
        )
        self.retriever = HybridRetriever(reader, settings, self.encoder)
        self.idf = IdfTable(reader.bm25.doc_freq, len(reader.chunks_by_id))
        self.composer = Composer(settings, self.vocab, self.idf)
        self._book: Any = None
        self._records_by_doc: dict[str, list[Any]] | None = None
        self.llm: Any = None
        self._conversation_locks = KeyedLocks()
        retrieval = json.dumps(
            {
                k: getattr(settings, k)
                for k in (
                    "dense_k",
                    "bm25_k",
                    "rrf_k",
                    "dense_weight",
                    "bm25_weight",
                    "top_k",
                    "abstain_threshold",
                    "max_answer_sentences",
                )
            },
            sort_keys=True,
        )
        self.corpus_version = hashlib.sha256(f"{reader.corpus_version}|{retrieval}".encode()).hexdigest()[:16]

    @classmethod
    def open(cls, settings: Settings | None = None) -> Assistant:
        settings = settings or load_settings()
        reader = open_reader(settings)
        db = Database(settings.resolved_database_url(), settings.max_conversation_turns)
        return cls(settings, reader, db)

    def chat_model(self) -> Any:
        """The optional LLM (built on first use from the settings; tests may assign `self.llm`)."""
        if self.llm is None:
            from assistant.llm import build_chat_model

            self.llm = build_chat_model(self.settings)
        return self.llm

    # --- lifecycle ---------------------------------------------------------------------------
    def warm(self) -> None:
        """Load the embedding model and open the vector collection (so the first answer is fast)."""
        if self.encoder is not None:
            self.encoder.encode(["warm-up"])
            _ = self.reader.collection
        self._pathway_book()

    @property
    def ready(self) -> bool:
        return self.encoder is None or getattr(self.encoder, "loaded", True)

    def close(self) -> None:
        self.reader.close()
        self.db.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- documents ----------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.reader.documents()

    def document(self, doc_id: str) -> DocumentInfo:
        return self.reader.document(doc_id)

    def passage(self, chunk_id: str) -> Passage:
        return self.reader.passage(chunk_id)

    def record_feedback(self, answer_id: str, helpful: bool, comment: str | None = None, source: str = "api") -> None:
        self.db.record_feedback(answer_id, helpful, comment, source)

    # --- pathway ------------------------------------------------------------------------------
    def _pathway_book(self) -> Any:
        if self._book is None:
            from assistant.pathway import load_pathways

            self._book = load_pathways()
        return self._book

    def pathway(
        self, patient: Patient | dict[str, Any] | None, propose: str | None = None, id: Any = None
    ) -> PathwayResult:
        from assistant.pathway import check, evaluate, resolve_citations

        record = patient if isinstance(patient, Patient) else parse_patient(patient)
        if propose is not None and not propose.strip():
            raise InputError("propose: the proposed therapy is empty", field="propose")
        book = self._pathway_book()
        result = check(record, propose, book) if propose else evaluate(record, book)
        result = resolve_citations(result, self._records_for(result))
        result.id = id
        return result

    def _records_for(self, result: PathwayResult) -> list[Any]:
        """Chunk records of the documents `result` cites, in store order (built once per store:
        rebuilding all records on every pathway answer cost ~0.1 s at 20k chunks)."""
        from assistant.pathway.resolve import _all_citations

        if self._records_by_doc is None:
            by_doc: dict[str, list[Any]] = {}
            for c in self.reader.chunks_by_id.values():
                by_doc.setdefault(c.doc_id, []).append(c.record())
            self._records_by_doc = by_doc
        docs = dict.fromkeys(c.doc_id for c in _all_citations(result))
        return [r for d in docs for r in self._records_by_doc.get(d, [])]

    # --- answers ------------------------------------------------------------------------------
    def _validate_question(self, question: Any) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InputError("question: must be a non-empty string", field="question")
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"question: longer than {self.settings.max_question_chars} characters "
                "(setting ALLY_MAX_QUESTION_CHARS); shorten it",
                field="question",
            )
        return question.strip()

    def ask(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Answer:
        return self._answer(question, patient, conversation_id, id, on_retrieval=None)

    def ask_events(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Iterator[AnswerEvent]:
        """The answer as events: retrieval, each sentence, citations, pathway, done."""
        retrieved: list[dict[str, Any]] = []
        answer = self._answer(
            question,
            patient,
            conversation_id,
            id,
            on_retrieval=lambda hits: retrieved.extend(self._retrieved(hits)[i].model_dump() for i in range(len(hits))),
        )
        yield AnswerEvent(type="retrieval", data={"retrieved": retrieved})
        for line in answer.answer.split("\n"):
            if line.strip():
                yield AnswerEvent(type="sentence", data={"text": line})
        yield AnswerEvent(type="citations", data={"citations": [c.model_dump() for c in answer.citations]})
        yield AnswerEvent(type="pathway", data={"pathway": answer.pathway.model_dump() if answer.pathway else None})
        yield AnswerEvent(type="done", data={"answer": answer.model_dump()})

    def _retrieved(self, hits: list[Hit]) -> list[RetrievedPassage]:
        return [
            RetrievedPassage(
                doc_id=h.chunk.doc_id,
                chunk_id=h.chunk.chunk_id,
                text=h.chunk.text,
                score=round(h.score, 6),
                section=h.chunk.section,
                title=h.chunk.title,
            )
            for h in hits
        ]

    def _patient_context(
        self, question: str, patient: Patient | dict[str, Any] | None, stored: dict[str, Any]
    ) -> tuple[Patient | None, str | None]:
        """The patient in context (earlier turns < the question's description < the explicit record)
        and a therapy the question proposes, if any."""
        from assistant.pathway import describes_patient, merge_patient, proposed_therapy, recognise_patient

        explicit = patient if isinstance(patient, Patient) else parse_patient(patient) if patient else None
        recognised = recognise_patient(question)
        fields: dict[str, Any] = dict(stored)
        if recognised:
            fields = merge_patient(fields, recognised)
        if explicit is not None:
            fields = merge_patient(fields, explicit.known())
        record = parse_patient(fields) if fields else None
        mentions_patient = explicit is not None or bool(stored) or describes_patient(question)
        proposal = proposed_therapy(question) if record is not None else None
        return (record if mentions_patient and record is not None else None), proposal

    def _answer(
        self,
        question: str,
        patient: Patient | dict[str, Any] | None,
        conversation_id: str | None,
        id: Any,
        on_retrieval: Callable[[list[Hit]], None] | None,
    ) -> Answer:
        # Transports call from several threads (the API's runner, the Slack bot's workers). Answers
        # run in parallel; the turns of one conversation run one at a time, in arrival order.
        if conversation_id is None or not isinstance(conversation_id, str):
            return self._answer_now(question, patient, conversation_id, id, on_retrieval)
        with self._conversation_locks.get(conversation_id):
            return self._answer_now(question, patient, conversation_id, id, on_retrieval)

    def _answer_now(
        self,
        question: str,
        patient: Patient | dict[str, Any] | None,
        conversation_id: str | None,
        id: Any,
        on_retrieval: Callable[[list[Hit]], None] | None,
    ) -> Answer:
        started = time.perf_counter()
        question = self._validate_question(question)
        if conversation_id is not None:
            if not isinstance(conversation_id, str) or not conversation_id.strip() or len(conversation_id) > 200:
                raise InputError("conversation_id: must be 1-200 characters", field="conversation_id")
            self.db.check_room(conversation_id)
            history, stored_patient = self.db.history(conversation_id)
        else:
            history, stored_patient = [], {}
        resolved = question
        if history and is_followup(question, self.vocab):
            resolved = resolve(question, history[-1].resolved, self.vocab)

        record, proposal = self._patient_context(question, patient, stored_patient)
        pathway = self.pathway(record, proposal) if record is not None else None

        analysis = analyse(resolved, self.vocab, self.idf.known)
        hits = self.retriever.retrieve(analysis.corrected, k=max(self.settings.top_k, 12))
        if on_retrieval is not None:
            on_retrieval(hits)
        population = population_of_question(resolved, record)
        comp = self.composer.compose(analysis, hits, population)
        if self.settings.llm_provider != "none" and not comp.abstained:
            from assistant.llm import rewrite_with_llm

            comp = rewrite_with_llm(self.settings, question, comp, self.reader, self.chat_model(), population)
        lead = (
            pathway is not None
            and any(not (o.id or "").startswith(GENERAL_OPTION_PREFIX) for o in pathway.options)
            and (patient is not None or bool(_MANAGEMENT.search(resolved)))
        )
        answer = self._build(comp, hits, pathway, id, conversation_id, lead_pathway=lead)
        self.db.record_answer(answer.answer_id, answer.abstained, answer.corpus_version)
        if conversation_id is not None:
            self.db.add_turn(conversation_id, question, resolved, answer.answer_id, record.known() if record else {})
        log.info(
            "answered",
            extra={
                "abstained": answer.abstained,
                "citations": len(answer.citations),
                "ms": round(1000 * (time.perf_counter() - started), 1),
            },
        )
        return answer

    def _build(
        self,
        comp: Composition,
        hits: list[Hit],
        pathway: PathwayResult | None,
        id: Any,
        conversation_id: str | None,
        lead_pathway: bool = True,
    ) -> Answer:
        cited: list[str] = []
        lines: list[tuple[Sentence, list[int]]] = []

        def number(cid: str) -> int:
            if cid not in cited:
                cited.append(cid)
            return cited.index(cid) + 1

        pathway_lines = self._pathway_sentences(pathway) if lead_pathway else []
        composed = [] if comp.abstained else comp.sentences
        for s in [*pathway_lines, *composed]:
            if s.parts:
                s.text = f"{s.text}: " + "; ".join(f"{t} [{number(c)}]" for t, c in s.parts)
            lines.append((s, [number(c) for c in s.chunk_ids]))
        abstained = comp.abstained and not pathway_lines
        if abstained:
            text = f"I can't answer this from ALLy's sources: {comp.reason}."
        else:
            rendered = []
            for s, ns in lines:
                marks = "".join(f"[{n}]" for n in ns)
                note = f" ({s.note})" if s.note else ""
                rendered.append(f"{s.text} {marks}{note}".replace("  ", " ").rstrip())
            if comp.abstained:
                rendered.append(f"The sources do not answer the rest of the question: {comp.reason}.")
            text = "\n".join(rendered)
        citations = []
        for i, cid in enumerate(cited, start=1):
            chunk = self.reader.chunks_by_id[cid]
            doc = self.reader.document(chunk.doc_id)
            hit_score = next((h.score for h in hits if h.chunk.chunk_id == cid), 0.0)
            citations.append(
                Citation(
                    n=i,
                    doc_id=chunk.doc_id,
                    title=chunk.title,
                    chunk_id=cid,
                    text=chunk.text,
                    score=round(hit_score, 6),
                    section=chunk.section,
                    year=doc.year,
                    population_note=comp.notes.get(cid),
                )
            )
        retrieved = self._retrieved(hits)
        return Answer(
            id=id,
            answer=text,
            abstained=abstained,
            citations=citations,
            retrieved=retrieved,
            pathway=pathway,
            answer_id=Database.new_id(),
            conversation_id=conversation_id,
            corpus_version=self.corpus_version,
            related=retrieved[:3] if abstained else [],
            missing=comp.missing if comp.abstained else [],
        )

    def _pathway_sentences(self, pathway: PathwayResult | None) -> list[Sentence]:
        """Lead sentences for a described patient: the pathway's options, each with its passage.

        The node label (which carries ALLy's own resolutions such as age bands) stays in the
        `pathway` object; the prose keeps only text whose numbers are in the cited passage.
        """
        if pathway is None:
            return []
        items: list[tuple[str, str]] = []
        specific = [o for o in pathway.options if not (o.id or "").startswith(GENERAL_OPTION_PREFIX)]
        for option in specific or pathway.options:
            ids = [c.chunk_id for c in option.citations if c.chunk_id]
            if ids and self._supported(option.therapy, ids[0]):
                items.append((option.therapy, ids[0]))
        out: list[Sentence] = []
        if items:
            out.append(Sentence("For the patient described, the pathway lists", [], parts=items))
        check = pathway.check
        if check is not None:
            ids = [c.chunk_id for c in check.citations if c.chunk_id]
            if ids:
                reason = f" — {check.reason}" if self._supported(check.reason, ids[0]) else ""
                out.append(Sentence(f"Proposed {check.therapy}: {check.verdict}{reason}", ids[:1]))
        anchor = items[0][1] if items else None
        if pathway.missing and anchor:
            out.append(Sentence(f"To narrow this down the pathway needs: {', '.join(pathway.missing)}", [anchor]))
        return out

    def _supported(self, text: str, chunk_id: str) -> bool:
        chunk = self.reader.chunks_by_id.get(chunk_id)
        if chunk is None:
            return False
        evidence = f"{chunk.section}\n{chunk.text}"
        return all(n in evidence for n in numbers_in(text))
