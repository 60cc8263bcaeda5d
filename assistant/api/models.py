"""Request and response bodies that belong to the HTTP API alone.

The answer, pathway result and document records come from `ally.schema` (the contract); the
models here wrap the few bodies the CLI has no equivalent for.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PathwayRequest(BaseModel):
    """POST /v1/pathway: a patient record and, optionally, a therapy to check against the pathway."""

    model_config = ConfigDict(extra="forbid")

    patient: dict[str, Any] = Field(description="The contract's patient record; every field optional.")
    propose: str | None = Field(
        default=None, min_length=1, max_length=200, description="A therapy to check, e.g. 'inotuzumab'."
    )
    id: Any = Field(default=None, description="Echoed in the result.")


class FeedbackRequest(BaseModel):
    """POST /v1/feedback: was this answer helpful?"""

    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(min_length=1, max_length=200, description="The `answer_id` of an answer.")
    helpful: bool
    comment: str | None = Field(default=None, max_length=2000, description="Optional free text.")


class FeedbackReceipt(BaseModel):
    answer_id: str
    helpful: bool
    recorded: bool = True


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "starting", "failed"]
    store: bool = Field(description="The store is open.")
    model: bool = Field(description="The embedding model is loaded.")
    detail: str | None = None
    corpus_version: str | None = Field(
        default=None,
        description="The corpus version this worker's answers carry (the `corpus_version` of each answer).",
    )
    generation: int | None = Field(default=None, description="The store generation this worker answers from.")
    update_error: str | None = Field(
        default=None, description="Why a newer committed generation is not answering (None when none failed)."
    )
    store_id: str | None = Field(
        default=None,
        description="A hash of the store's folder: how `ally ask` knows a server it forwards to serves its store.",
    )
    views_open: int | None = Field(
        default=None, description="Generations in memory: 1, or 2 while answers on the old one finish."
    )


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the API: what went wrong, which field, and what to do."""

    detail: str
    error: str = Field(description="Kind of error, e.g. input_error, not_found, store_unavailable.")
    field: str | None = Field(default=None, description="The request field at fault, when there is one.")
    errors: list[dict[str, Any]] = Field(default_factory=list, description="Every field problem found.")
