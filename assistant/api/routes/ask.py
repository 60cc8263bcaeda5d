"""POST /v1/ask: one cited answer (the contract's answer object)."""

from __future__ import annotations

from fastapi import APIRouter

from ally.schema import Answer

from ..deps import AskBody, RunnerDep, checked_patient
from ..models import ErrorBody
from ..security import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["answers"])


@router.post(
    "/ask",
    response_model=Answer,
    responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    summary="Answer one question with numbered citations",
)
async def ask(body: AskBody, runner: RunnerDep) -> Answer:
    """Answer a question; `conversation_id` makes it a turn of that conversation."""
    return await runner(
        runner.assistant.ask,
        body.question,
        patient=checked_patient(body.patient),
        conversation_id=body.conversation_id,
        id=body.id,
    )
