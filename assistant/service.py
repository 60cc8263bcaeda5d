"""The Assistant facade: the public API every transport (CLI, HTTP, Slack) and the eval harness use.

It owns the opened store, the (lazily loaded) query encoder, the conversation database and the
pathway book, and orchestrates one answer through the steps of `assistant.answer`, in the order
data flows: validate the question, resolve a follow-up against earlier turns, put the patient in
context (and evaluate the pathway), analyse the question, retrieve, choose the evidence, compose
the cited sentences, optionally let an LLM rephrase (verified sentence by sentence), render the
`Answer`, and record the turn. Each step is one module; this file only calls them in order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ally.errors import InputError
from ally.schema import Answer, ChunkRecord, DocumentInfo, Passage, PathwayResult, Patient, parse_patient
from ally.settings import Settings, load_settings
from assistant.answer.choose import Chooser
from assistant.answer.evidence import IdfTable
from assistant.answer.followup import is_followup, resolve
from assistant.answer.patient import patient_in_context
from assistant.answer.population import population_of_question
from assistant.answer.question import analyse
from assistant.answer.render import answer_events, build_answer, compose, pathway_leads
from assistant.answer.retrieval import HybridRetriever
from assistant.concurrency import BatchingEncoder, KeyedLocks
from assistant.core import AnswerEvent
from assistant.inputs import validate_conversation_id, validate_question
from assistant.storage import Database, Turn
from ingest.embed import encoder_for
from ingest.store.reader import StoreReader, open_reader

if TYPE_CHECKING:
    from assistant.pathway.models import PathwayBook

log = logging.getLogger("ally.assistant")

# The settings that change which answer a corpus gives: part of the answers' corpus version.
_ANSWER_SETTINGS = (
    "dense_k",
    "bm25_k",
    "rrf_k",
    "dense_weight",
    "bm25_weight",
    "top_k",
    "abstain_threshold",
    "max_answer_sentences",
)


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
        self.chooser = Chooser(settings, self.vocab, self.idf)
        self._book: PathwayBook | None = None
        self._records_by_doc: dict[str, list[ChunkRecord]] | None = None
        self.llm: Any = None
        self._conversation_locks = KeyedLocks()
        retrieval = json.dumps({k: getattr(settings, k) for k in _ANSWER_SETTINGS}, sort_keys=True)
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
            from assistant.answer.llm import build_chat_model

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
    def _pathway_book(self) -> PathwayBook:
        if self._book is None:
            from assistant.resources import load_pathway_book

            self._book = load_pathway_book()
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

    def _records_for(self, result: PathwayResult) -> list[ChunkRecord]:
        """Chunk records of the documents `result` cites, in store order (built once per store:
        rebuilding all records on every pathway answer cost ~0.1 s at 20k chunks)."""
        from assistant.pathway.resolve import all_citations

        if self._records_by_doc is None:
            by_doc: dict[str, list[ChunkRecord]] = {}
            for c in self.reader.chunks_by_id.values():
                by_doc.setdefault(c.doc_id, []).append(c.record())
            self._records_by_doc = by_doc
        docs = dict.fromkeys(c.doc_id for c in all_citations(result))
        return [r for d in docs for r in self._records_by_doc.get(d, [])]

    # --- answers ------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Answer:
        # Transports call from several threads (the API's runner, the Slack bot's workers). Answers
        # run in parallel; the turns of one conversation run one at a time, in arrival order.
        if conversation_id is None or not isinstance(conversation_id, str):
            return self._answer(question, patient, conversation_id, id)
        with self._conversation_locks.get(conversation_id):
            return self._answer(question, patient, conversation_id, id)

    def ask_events(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Iterator[AnswerEvent]:
        """The answer as events: retrieval, each sentence, citations, pathway, done."""
        answer = self.ask(question, patient=patient, conversation_id=conversation_id, id=id)
        yield from answer_events(answer)

    def _answer(
        self,
        question: str,
        patient: Patient | dict[str, Any] | None,
        conversation_id: str | None,
        id: Any,
    ) -> Answer:
        started = time.perf_counter()
        question = validate_question(question, self.settings.max_question_chars)
        history: list[Turn] = []
        stored_patient: dict[str, Any] = {}
        if conversation_id is not None:
            conversation_id = validate_conversation_id(conversation_id)
            self.db.check_room(conversation_id)
            history, stored_patient = self.db.history(conversation_id)
        resolved = question
        if history and is_followup(question, self.vocab):
            resolved = resolve(question, history[-1].resolved, self.vocab)

        record, proposal = patient_in_context(question, patient, stored_patient)
        pathway = self.pathway(record, proposal) if record is not None else None

        analysis = analyse(resolved, self.vocab, self.idf.known)
        hits = self.retriever.retrieve(analysis.corrected, k=max(self.settings.top_k, 12))
        population = population_of_question(resolved, record)
        comp = compose(self.chooser.choose(analysis, hits), population)
        if self.settings.llm_provider != "none" and not comp.abstained:
            from assistant.answer.llm import rewrite_with_llm

            comp = rewrite_with_llm(self.settings, question, comp, self.reader, self.chat_model(), population)
        answer = build_answer(
            comp,
            hits,
            pathway,
            self.reader,
            lead_pathway=pathway_leads(pathway, patient is not None, resolved),
            corpus_version=self.corpus_version,
            id=id,
            conversation_id=conversation_id,
        )
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
