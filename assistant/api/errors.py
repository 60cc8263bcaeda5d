"""Every error the HTTP API returns is shaped here, in one place.

ALLy errors map to status codes (InputError 422 naming the field, NotFoundError 404, StoreError
503); request validation errors become 422 naming the field; unknown routes and methods say where
the API is described. Every body is an `ErrorBody`: a message that says what to fix, the error
kind and the field at fault. Unexpected errors are logged (type and traceback only) and answered
with a plain 500 that leaks nothing of the request.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ally.errors import AllyError, InputError, NotFoundError, SettingsError, StoreError

from .models import ErrorBody

logger = logging.getLogger("ally.api")


def error_response(
    status: int,
    detail: str,
    error: str,
    *,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(detail=detail, error=error, field=field, errors=errors or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def ally_error_status(exc: AllyError) -> tuple[int, str]:
    """The HTTP status and error kind of an ALLy error."""
    if isinstance(exc, InputError):
        return 422, "input_error"
    if isinstance(exc, NotFoundError):
        return 404, "not_found"
    if isinstance(exc, StoreError):
        return 503, "store_unavailable"
    if isinstance(exc, SettingsError):
        return 500, "settings_error"
    return 400, "bad_request"


def ally_error_message(exc: AllyError) -> str:
    message = str(exc) or type(exc).__name__
    if isinstance(exc, StoreError):
        message += " (the server's store is unavailable: the operator must fix it; retry later)"
    return message


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts)


def _describe(err: dict[str, Any]) -> tuple[str, str]:
    """(field, message) for one pydantic error, with what to do about it."""
    field = _field_of(err.get("loc", ()))
    kind = err.get("type", "")
    msg = err.get("msg", "invalid value")
    if kind == "json_invalid":
        reason = (err.get("ctx") or {}).get("error", "")
        return "body", f"the request body is not valid JSON ({reason}); send one JSON object"
    if kind == "missing" and not field:
        return (
            "body",
            "the request needs a JSON body; send one JSON object with Content-Type: application/json",
        )
    if kind == "missing":
        return field, f"field '{field}' is required; add it to the request body"
    if kind == "extra_forbidden":
        return field, f"unknown field '{field}'; remove it (see /docs for the accepted fields)"
    if kind == "model_attributes_type" or (kind == "dict_type" and not field):
        return field or "body", "the request body must be a JSON object"
    return field or "body", f"field '{field or 'body'}': {msg}; correct it and resend"


async def _validation_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    described = [_describe(dict(e)) for e in exc.errors()]
    field, message = described[0]
    if len(described) > 1:
        message += f" (also: {', '.join(f for f, _ in described[1:])})"
    return error_response(
        422,
        message,
        "validation_error",
        field=field,
        errors=[{"field": f, "message": m} for f, m in described],
    )


async def _ally_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AllyError)
    status, kind = ally_error_status(exc)
    field = exc.field if isinstance(exc, InputError) else None
    if status >= 500:
        logger.error("ally error answered %d: %s", status, type(exc).__name__)
    return error_response(status, ally_error_message(exc), kind, field=field)


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such route: {request.method} {request.url.path}; the API is described at /docs"
    elif exc.status_code == 405:
        detail = f"method {request.method} is not allowed on {request.url.path}; see /docs for the methods"
    elif exc.status_code == 400 and detail == "There was an error parsing the body":  # e.g. not UTF-8
        detail = "the request body could not be parsed (not UTF-8 encoded JSON); send one JSON object in UTF-8"
        return error_response(400, detail, "invalid_body", field="body")
    kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, detail, kind, headers=getattr(exc, "headers", None))


async def _unexpected_handler(_: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected %s while answering a request", type(exc).__name__, exc_info=exc)
    return error_response(500, "internal error; the server log has the details. Retry, or report it.", "internal")


def install_error_handlers(app: FastAPI) -> None:
    """Register every error mapping of the API on `app`."""
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(AllyError, _ally_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
