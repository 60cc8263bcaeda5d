"""GET /v1/passages/{chunk_id}: one cited passage, cleaned, with section path and source metadata."""

from __future__ import annotations

from fastapi import APIRouter

from ally.schema import Passage

from ..deps import RunnerDep
from ..models import ErrorBody
from ..security import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["sources"])


@router.get(
    "/passages/{chunk_id}",
    response_model=Passage,
    responses={404: {"model": ErrorBody}},
    summary="One stored passage with its document",
)
async def passage(chunk_id: str, runner: RunnerDep) -> Passage:
    return await runner(runner.assistant.passage, chunk_id)
