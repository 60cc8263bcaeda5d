"""POST /v1/feedback: helpful or not, for one answer (stored by the assistant in SQLite)."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import RunnerDep
from ..models import ErrorBody, FeedbackReceipt, FeedbackRequest
from ..security import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["answers"])


@router.post(
    "/feedback",
    response_model=FeedbackReceipt,
    status_code=201,
    responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="Record whether an answer helped",
)
async def feedback(body: FeedbackRequest, runner: RunnerDep) -> FeedbackReceipt:
    await runner(runner.assistant.record_feedback, body.answer_id, body.helpful, body.comment, "api")
    return FeedbackReceipt(answer_id=body.answer_id, helpful=body.helpful)
