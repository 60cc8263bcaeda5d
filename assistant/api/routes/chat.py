"""POST /v1/chat: the answer streamed as server-sent events.

Events, in order: `retrieval`, `sentence` (one per composed sentence), `citations`, `pathway`
(when there is one) and `done` (whose data holds the whole answer object). A failure once the
stream has started is sent as an `error` event carrying the same body as an HTTP error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from ally.errors import AllyError
from assistant.core import AnswerEvent

from ..deps import AskBody, AssistantRunner, RunnerDep, checked_patient
from ..errors import ally_error_message, ally_error_status
from ..models import ErrorBody
from ..security import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["answers"])
logger = logging.getLogger("ally.api")


def sse(event: str, data: Any) -> bytes:
    """One server-sent event; JSON data on one line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n".encode()


def _next(events: Iterator[AnswerEvent]) -> AnswerEvent | None:
    return next(events, None)


def _error_event(exc: BaseException) -> bytes:
    if isinstance(exc, AllyError):
        status, kind = ally_error_status(exc)
        return sse("error", {"status": status, "error": kind, "detail": ally_error_message(exc)})
    logger.error("unexpected %s while streaming an answer", type(exc).__name__, exc_info=exc)
    return sse("error", {"status": 500, "error": "internal", "detail": "internal error; retry, or report it"})


async def _stream(first: AnswerEvent, events: Iterator[AnswerEvent], runner: AssistantRunner) -> AsyncIterator[bytes]:
    event: AnswerEvent | None = first
    while event is not None:
        yield sse(event.type, event.data)
        try:
            event = await runner(_next, events)
        except Exception as exc:
            yield _error_event(exc)
            return


@router.post(
    "/chat",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-sent events ending with `done`."},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
    },
    summary="Answer one question, streamed as server-sent events",
)
async def chat(body: AskBody, runner: RunnerDep) -> StreamingResponse:
    """Stream an answer: retrieval, sentences as they are composed, citations, pathway, done."""
    events = iter(
        runner.assistant.ask_events(
            body.question,
            patient=checked_patient(body.patient),
            conversation_id=body.conversation_id,
            id=body.id,
        )
    )
    first = await runner(_next, events)  # errors before the first event are answered as HTTP errors
    if first is None:
        raise RuntimeError("the assistant produced no events")
    return StreamingResponse(
        _stream(first, events, runner),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
