"""GET /v1/documents and /v1/documents/{doc_id}: the ingested sources and their metadata."""

from __future__ import annotations

from fastapi import APIRouter

from ally.schema import DocumentInfo

from ..deps import RunnerDep
from ..models import ErrorBody
from ..security import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["sources"])


@router.get("/documents", response_model=list[DocumentInfo], summary="Every document in the store")
async def documents(runner: RunnerDep) -> list[DocumentInfo]:
    return await runner(runner.assistant.documents)


@router.get(
    "/documents/{doc_id}",
    response_model=DocumentInfo,
    responses={404: {"model": ErrorBody}},
    summary="One document's metadata",
)
async def document(doc_id: str, runner: RunnerDep) -> DocumentInfo:
    return await runner(runner.assistant.document, doc_id)
