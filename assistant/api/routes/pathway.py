"""POST /v1/pathway: where a patient sits on the treatment pathway, and a therapy check."""

from __future__ import annotations

from fastapi import APIRouter

from ally.schema import PathwayResult, Patient

from ..deps import RunnerDep, checked_patient
from ..models import ErrorBody, PathwayRequest
from ..security import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["pathway"])


@router.post(
    "/pathway",
    response_model=PathwayResult,
    responses={422: {"model": ErrorBody}},
    summary="Pathway node, cited options, missing fields and an optional therapy check",
)
async def pathway(body: PathwayRequest, runner: RunnerDep) -> PathwayResult:
    """A bad patient field is a 422 naming `patient.<field>`."""
    patient = checked_patient(body.patient) or Patient()
    return await runner(runner.assistant.pathway, patient, propose=body.propose, id=body.id)
