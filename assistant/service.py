"""The Assistant facade: the public API every transport (CLI, HTTP, Slack) and the eval harness use.

It owns the opened store, the (lazily loaded) query encoder, the conversation database and the
pathway book, and orchestrates one answer through the steps of `assistant.answer`, in the order
data flows: validate the question, resolve a follow-up against earlier turns, put the patient in
context (and evaluate the pathway), analyse the question, retrieve, choose the evidence, compose
the cited sentences, optionally let an LLM rephrase (verified sentence by sentence), render the
`Answer`, and record the turn. Each step is one module; this file only calls them in order.

What depends on the store generation (reader, retriever, idf table, chooser, pathway records,
corpus version) is one `assistant.corpus.CorpusView`; each answer takes the current one once at its
start and uses it to the end. `watch()` (called by the transports) starts the watcher that swaps in
each newly committed generation without a restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ally.errors import InputError
from ally.schema import Answer, ChunkRecord, DocumentInfo, Passage, PathwayResult, Patient, parse_patient
from ally.settings import Settings, load_settings
from assistant.answer.followup import is_followup, resolve
from assistant.answer.patient import patient_in_context
from assistant.answer.population import population_of_question
from assistant.answer.question import analyse
from assistant.answer.render import answer_events, build_answer, case_only, compose, pathway_leads, unanswered_case
from assistant.answer.retrieval import HybridRetriever
from assistant.concurrency import BatchingEncoder, KeyedLocks
from assistant.core import AnswerEvent, CorpusStatus
from assistant.corpus import CorpusView, LiveCorpus
from assistant.inputs import validate_conversation_id, validate_question
from assistant.storage import Database, Turn
from ingest.embed import encoder_for
from ingest.store.reader import StoreReader, open_reader

if TYPE_CHECKING:
    from assistant.answer.choose import Chooser
    from assistant.answer.evidence import IdfTable
    from assistant.pathway.models import PathwayBook

log = logging.getLogger("ally.assistant")

# Passages retrieved as candidate evidence for an answer (`top_k` of them are reported as `retrieved`):
# 16, since the passage that answers was ranked 12th-15th for subtype questions (Ph-like ALL) and
# a lower rank costs a unit only its rank prior.
EVIDENCE_PASSAGES = 16


class Assistant:
    """Cited answers, abstention, conversations and the pathway checker over one store."""

    def __init__(self, settings: Settings, reader: StoreReader, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.vocab = reader.vocab
        # Threads may answer at once: their query embeddings are batched into shared model calls.
        self.encoder = (
            BatchingEncoder(
                encoder_for(settings), max_batch=settings.embed_batch_size, cache_size=settings.query_vector_cache
            )
            if settings.dense_weight > 0
            else None
        )
        self.corpus = LiveCorpus(settings, CorpusView(settings, reader, self.encoder), self._open_view)
        self._book: PathwayBook | None = None
        self.llm: Any = None
        self._conversation_locks = KeyedLocks()

    def _open_view(self) -> CorpusView:
        """The store's committed generation as a complete view (the watcher's thread calls this)."""
        had_records = self.corpus.current.has_records
        view = CorpusView(self.settings, open_reader(self.settings), self.encoder)
        try:
            view.open_vectors()
            if had_records:  # the pathway has been used: have its records ready too
                view.records_by_doc()
        except BaseException:
            view.release()
            raise
        return view

    # --- the current generation (each answer takes it once; these are for callers and tests) --
    @property
    def reader(self) -> StoreReader:
        return self.corpus.current.reader

    @property
    def retriever(self) -> HybridRetriever:
        return self.corpus.current.retriever

    @property
    def idf(self) -> IdfTable:
        return self.corpus.current.idf

    @property
    def chooser(self) -> Chooser:
        return self.corpus.current.chooser

    @property
    def corpus_version(self) -> str:
        return self.corpus.current.corpus_version

    def corpus_status(self) -> CorpusStatus:
        return self.corpus.status()

    def watch(self) -> None:
        """Pick up newly committed store generations every `store_poll_s` seconds (0: never)."""
        self.corpus.watch(self.settings.store_poll_s)

    def refresh_corpus(self) -> bool:
        """Swap to a newly committed generation now, if there is one (on the calling thread)."""
        return self.corpus.refresh()

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
            with self.corpus.use() as view:
                view.open_vectors()
        self._pathway_book()

    @property
    def ready(self) -> bool:
        return self.encoder is None or getattr(self.encoder, "loaded", True)

    def close(self) -> None:
        """Stop watching; the generation closes when its last answer finishes; close the database."""
        self.corpus.close()
        self.db.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- documents ----------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        with self.corpus.use() as view:
            return view.reader.documents()

    def document(self, doc_id: str) -> DocumentInfo:
        with self.corpus.use() as view:
            return view.reader.document(doc_id)

    def passage(self, chunk_id: str) -> Passage:
        with self.corpus.use() as view:
            return view.reader.passage(chunk_id)

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
        with self.corpus.use() as view:
            return self._pathway(view, patient, propose, id)

    def _pathway(
        self, view: CorpusView, patient: Patient | dict[str, Any] | None, propose: str | None, id: Any
    ) -> PathwayResult:
        from assistant.pathway import check, evaluate, resolve_citations

        record = patient if isinstance(patient, Patient) else parse_patient(patient)
        if propose is not None and not propose.strip():
            raise InputError("propose: the proposed therapy is empty", field="propose")
        book = self._pathway_book()
        result = check(record, propose, book) if propose else evaluate(record, book)
        result = resolve_citations(result, self._records_for(view, result))
        result.id = id
        return result

    @staticmethod
    def _records_for(view: CorpusView, result: PathwayResult) -> list[ChunkRecord]:
        """Chunk records of the documents `result` cites, in store order."""
        from assistant.pathway.resolve import all_citations

        by_doc = view.records_by_doc()
        docs = dict.fromkeys(c.doc_id for c in all_citations(result))
        return [r for d in docs for r in by_doc.get(d, [])]

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
        with self.corpus.use() as view:  # one generation from the first step to the last
            answer = self._answer_from(view, question, patient, conversation_id, id)
        log.info(
            "answered",
            extra={
                "abstained": answer.abstained,
                "citations": len(answer.citations),
                "generation": view.generation,
                "ms": round(1000 * (time.perf_counter() - started), 1),
            },
        )
        return answer

    def _answer_from(
        self,
        view: CorpusView,
        question: str,
        patient: Patient | dict[str, Any] | None,
        conversation_id: str | None,
        id: Any,
    ) -> Answer:
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
        pathway = self._pathway(view, record, proposal, None) if record is not None else None

        analysis = analyse(resolved, self.vocab, view.idf.known)
        if record is not None and record.age is not None:
            analysis.patient_age = record.age  # the dose or figure asked is for the patient's age group
        view.open_vectors()
        dense, asked = view.retriever.query_vectors(analysis.corrected) if view.retriever.uses_dense else (None, None)
        hits = view.retriever.retrieve(analysis.corrected, k=max(self.settings.top_k, EVIDENCE_PASSAGES), vector=dense)
        population = population_of_question(resolved, record)
        budget = self.settings.answer_chars_long if analysis.wants_list else self.settings.answer_chars_short
        choice = view.chooser.choose(analysis, hits, population, asked)
        lead_pathway = pathway_leads(pathway, patient is not None, resolved)
        if pathway is not None and not lead_pathway and case_only(resolved):
            choice = unanswered_case(pathway)  # a case, nothing asked, no options yet: say what is needed
        comp = compose(choice, population, analysis.corrected, budget)
        if self.settings.llm_provider != "none" and not comp.abstained:
            from assistant.answer.llm import rewrite_with_llm

            comp = rewrite_with_llm(self.settings, question, comp, view.reader, self.chat_model(), population)
        answer = build_answer(
            comp,
            hits,
            pathway,
            view.reader,
            lead_pathway=lead_pathway,
            corpus_version=view.corpus_version,
            id=id,
            conversation_id=conversation_id,
        )
        self.db.record_answer(answer.answer_id, answer.abstained, answer.corpus_version)
        if conversation_id is not None:
            self.db.add_turn(conversation_id, question, resolved, answer.answer_id, record.known() if record else {})
        return answer
