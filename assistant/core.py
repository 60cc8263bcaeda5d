"""What every transport (CLI, HTTP API, Slack bot, eval harness) needs from the assistant core.

One structural Protocol, `AssistantCore`, that `assistant.service.Assistant` satisfies and that the
transports are typed against, so a transport never imports the heavy core to type-check and every
test double has one shape to follow (`tests/fakes.py`). `AnswerEvent` is one step of a streamed
answer (`/v1/chat`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from ally.schema import Answer, DocumentInfo, Passage, PathwayResult, Patient
from ally.settings import Settings


class AnswerEvent(BaseModel):
    """One step of a streamed answer: retrieval, each sentence, citations, pathway, done."""

    type: Literal["retrieval", "sentence", "citations", "pathway", "done"]
    data: dict[str, Any]


class AssistantCore(Protocol):
    """The assistant as the transports see it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def ready(self) -> bool: ...

    def warm(self) -> None: ...

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
