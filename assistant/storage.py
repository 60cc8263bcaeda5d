"""Persistence of conversations, answer ids and feedback, through SQLAlchemy.

SQLite inside the store by default (one machine); any SQLAlchemy URL (PostgreSQL for several API
workers) through `ALLY_DATABASE_URL`. Only what a follow-up needs is kept: the question, the
resolved query, the patient record and the answer id. No answer text is logged anywhere.

Every answer writes one row, so that write is one INSERT … ON CONFLICT DO NOTHING (no SELECT, no
ORM), and the rows of answers finishing together are written in one transaction (group commit,
`assistant.concurrency.Batcher`: one commit and one fsync for the batch; each caller returns only
once its own row is committed, so an answer id given out is always stored).

SQLite keeps its default rollback journal and synchronous=FULL: WAL mode was tried and dropped,
because with it the test suite's shared store database was found malformed after a full run
(several server processes writing while the test process copied the live store folder); the cause
was not pinned down, and an fsync per commit is cheap next to a corrupted database.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, create_engine, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ally.errors import InputError, NotFoundError, StoreError
from assistant.concurrency import Batcher

# The most answer rows one transaction writes (answers finishing together share a commit).
ANSWER_BATCH = 64


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    created: Mapped[float] = mapped_column(Float)
    patient_json: Mapped[str] = mapped_column(Text, default="{}")


class TurnRow(Base):
    __tablename__ = "turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    resolved: Mapped[str] = mapped_column(Text)
    answer_id: Mapped[str] = mapped_column(String(64))
    created: Mapped[float] = mapped_column(Float)


class AnswerRow(Base):
    __tablename__ = "answers"
    answer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created: Mapped[float] = mapped_column(Float)
    abstained: Mapped[bool] = mapped_column(Boolean)
    corpus_version: Mapped[str] = mapped_column(String(64))


class FeedbackRow(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.answer_id"), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(32))
    created: Mapped[float] = mapped_column(Float)


class Turn:
    def __init__(self, question: str, resolved: str, answer_id: str) -> None:
        self.question = question
        self.resolved = resolved
        self.answer_id = answer_id


class Database:
    """Conversations, answer ids and feedback."""

    def __init__(self, url: str, max_turns: int = 50) -> None:
        self.url = url
        self.max_turns = max_turns
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        try:
            self.engine: Engine = create_engine(url, **kwargs)
            Base.metadata.create_all(self.engine)
        except Exception as exc:
            raise StoreError(f"cannot open the database {url.split('@')[-1]}: {exc}; check ALLY_DATABASE_URL") from exc
        self._lock = threading.Lock()
        self._answers: Batcher[dict[str, Any], None] = Batcher(self._write_answers, max_batch=ANSWER_BATCH)

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    # --- conversations ---------------------------------------------------------------------
    def history(self, conversation_id: str) -> tuple[list[Turn], dict[str, Any]]:
        with Session(self.engine) as s:
            conv = s.get(ConversationRow, conversation_id)
            if conv is None:
                return [], {}
            rows = s.scalars(
                select(TurnRow).where(TurnRow.conversation_id == conversation_id).order_by(TurnRow.position)
            ).all()
            return [Turn(r.question, r.resolved, r.answer_id) for r in rows], json.loads(conv.patient_json or "{}")

    def check_room(self, conversation_id: str) -> None:
        turns, _ = self.history(conversation_id)
        if len(turns) >= self.max_turns:
            raise InputError(
                f"conversation '{conversation_id}' has reached {self.max_turns} turns (setting "
                "ALLY_MAX_CONVERSATION_TURNS); start a new conversation",
                field="conversation_id",
            )

    def add_turn(
        self, conversation_id: str, question: str, resolved: str, answer_id: str, patient: dict[str, Any]
    ) -> None:
        with self._lock, Session(self.engine) as s, s.begin():
            conv = s.get(ConversationRow, conversation_id)
            now = time.time()
            if conv is None:
                conv = ConversationRow(id=conversation_id, created=now, patient_json="{}")
                s.add(conv)
                position = 0
            else:
                last = s.scalars(
                    select(TurnRow.position)
                    .where(TurnRow.conversation_id == conversation_id)
                    .order_by(TurnRow.position.desc())
                    .limit(1)
                ).first()
                position = (last or 0) + 1
            conv.patient_json = json.dumps(patient, sort_keys=True)
            s.add(
                TurnRow(
                    conversation_id=conversation_id,
                    position=position,
                    question=question,
                    resolved=resolved,
                    answer_id=answer_id,
                    created=now,
                )
            )

    # --- answers and feedback ---------------------------------------------------------------
    def record_answer(self, answer_id: str, abstained: bool, corpus_version: str) -> None:
        """Store an answer's id (idempotent); returns once the row is committed."""
        self._answers(
            [{"answer_id": answer_id, "created": time.time(), "abstained": abstained, "corpus_version": corpus_version}]
        )

    def _write_answers(self, rows: list[dict[str, Any]]) -> list[None]:
        """One transaction for the answer rows of a batch (an id already stored is left as it is)."""
        dialect = self.engine.dialect.name
        if dialect in ("sqlite", "postgresql"):  # one INSERT … ON CONFLICT DO NOTHING: no SELECT, no ORM
            insert: Any = sqlite_insert if dialect == "sqlite" else postgresql_insert
            statement = insert(AnswerRow).on_conflict_do_nothing(index_elements=["answer_id"])
            with self._lock, self.engine.begin() as conn:
                conn.execute(statement, rows)
        else:
            with self._lock, Session(self.engine) as s, s.begin():
                for row in rows:
                    s.merge(AnswerRow(**row))
        return [None] * len(rows)

    def record_feedback(self, answer_id: str, helpful: bool, comment: str | None, source: str) -> int:
        if comment is not None and len(comment) > 2000:
            raise InputError("feedback comment is longer than 2000 characters", field="comment")
        with self._lock, Session(self.engine) as s, s.begin():
            if s.get(AnswerRow, answer_id) is None:
                raise NotFoundError(f"no answer with id '{answer_id}'; send the answer_id of an answer ALLy gave")
            row = FeedbackRow(answer_id=answer_id, helpful=helpful, comment=comment, source=source, created=time.time())
            s.add(row)
            s.flush()
            return int(row.id)

    def feedback_for(self, answer_id: str) -> list[dict[str, Any]]:
        with Session(self.engine) as s:
            rows = s.scalars(select(FeedbackRow).where(FeedbackRow.answer_id == answer_id)).all()
            return [{"helpful": r.helpful, "comment": r.comment, "source": r.source} for r in rows]

    def close(self) -> None:
        self.engine.dispose()
