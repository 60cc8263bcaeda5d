"""The API's routers, one module per resource; each route is a thin call into the assistant."""

from __future__ import annotations

from fastapi import APIRouter

from . import ask, chat, documents, feedback, health, passages, pathway, web

ROUTERS: list[APIRouter] = [
    ask.router,
    chat.router,
    pathway.router,
    documents.router,
    passages.router,
    feedback.router,
    health.router,
    web.router,
]
