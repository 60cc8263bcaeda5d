"""GET /healthz (the process answers) and GET /readyz (store open and model loaded, and which store
generation and corpus version the answers come from)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import RunnerDep, SettingsDep
from ..models import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
    summary="200 once the store is open and the model is loaded, 503 before",
)
async def readyz(runner: RunnerDep, settings: SettingsDep) -> JSONResponse:
    failure = runner.warm_error()
    ready = runner.assistant.ready
    if ready:
        body = Readiness(status="ready", store=True, model=True)
    elif failure is not None:
        body = Readiness(
            status="failed",
            store=True,
            model=False,
            detail=f"loading the model failed ({type(failure).__name__}: {failure}); see the server log",
        )
    else:
        body = Readiness(status="starting", store=True, model=False, detail="the model is loading; retry shortly")
    corpus = runner.assistant.corpus_status()  # a lock and a few fields: no worker thread needed
    body = body.model_copy(
        update={
            "corpus_version": corpus.corpus_version,
            "generation": corpus.generation,
            "update_error": corpus.update_error,
            "views_open": corpus.views_open,
            "store_id": settings.store_id(),
        }
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
