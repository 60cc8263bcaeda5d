"""What every transport (CLI, HTTP API, Slack bot, eval harness) needs from the assistant core.

One structural Protocol, `AssistantCore`, that `assistant.service.Assistant` satisfies and that the
transports are typed against, so a transport never imports the heavy core to type-check and every
test double has one shape to follow (`tests/fakes.py`). `AnswerEvent` is one step of a streamed
answer (`/v1/chat`); `CorpusStatus` is which store generation the core answers from (`/readyz`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from ally.schema import Answer, DocumentInfo, Passage, PathwayResult, Patient
from ally.settings import Settings


class AnswerEvent(BaseModel):
    """One step of a streamed answer: retrieval, each sentence, citations, pathway, done."""

    type: Literal["retrieval", "sentence", "citations", "pathway", "done"]
    data: dict[str, Any]


class CorpusStatus(BaseModel):
    """The store generation answers come from, and whether a newer one failed to open."""

    corpus_version: str = Field(description="The corpus version every answer from this generation carries.")
    generation: int = Field(description="The store generation (the manifest's) answers come from.")
    views_open: int = Field(
        default=1, description="Generations held in memory: 1, or 2 while answers on the old one finish."
    )
    update_error: str | None = Field(
        default=None, description="Why the store's newest generation is not answering yet (None when it is)."
    )
    watching: bool = Field(default=False, description="A watcher picks up newly committed generations.")


class AssistantCore(Protocol):
    """The assistant as the transports see it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def ready(self) -> bool: ...

    def warm(self) -> None: ...

    def watch(self) -> None:
        """Start picking up newly committed store generations in the background (idempotent)."""
        ...

    def corpus_status(self) -> CorpusStatus: ...

    def ask(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Answer: ...

    def ask_events(
        self,
        question: str,
        *,
        patient: Patient | dict[str, Any] | None = None,
        conversation_id: str | None = None,
        id: Any = None,
    ) -> Iterator[AnswerEvent]: ...

    def pathway(
        self, patient: Patient | dict[str, Any] | None, propose: str | None = None, id: Any = None
    ) -> PathwayResult: ...

    def documents(self) -> list[DocumentInfo]: ...

    def document(self, doc_id: str) -> DocumentInfo: ...

    def passage(self, chunk_id: str) -> Passage: ...

    def record_feedback(
        self, answer_id: str, helpful: bool, comment: str | None = None, source: str = "api"
    ) -> None: ...

    def close(self) -> None: ...
