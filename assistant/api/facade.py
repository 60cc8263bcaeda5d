"""The slice of the Assistant facade (`assistant.service.Assistant`) that the HTTP API relies on.

Written as a structural Protocol so the API can be typed and tested against any object with the
facade's shape (the real Assistant, or a test double) without importing the heavy core here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from ally.schema import Answer, DocumentInfo, Passage, PathwayResult, Patient
from ally.settings import Settings


class EventLike(Protocol):
    """One step of a streamed answer: retrieval, sentence, citations, pathway or done."""

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...


class AssistantLike(Protocol):
    """What the routes call. `assistant.service.Assistant` satisfies it."""

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
    ) -> Iterator[EventLike]: ...

    def pathway(
        self, patient: Patient | dict[str, Any], propose: str | None = None, id: Any = None
    ) -> PathwayResult: ...

    def documents(self) -> list[DocumentInfo]: ...

    def document(self, doc_id: str) -> DocumentInfo: ...

    def passage(self, chunk_id: str) -> Passage: ...

    def record_feedback(
        self, answer_id: str, helpful: bool, comment: str | None = None, source: str = "api"
    ) -> None: ...

    def close(self) -> None: ...
