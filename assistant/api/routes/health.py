"""GET /healthz (the process answers) and GET /readyz (store open and model loaded)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import RunnerDep
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
async def readyz(runner: RunnerDep) -> JSONResponse:
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
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
