"""The API's routers, one module per resource; each route is a thin call into the assistant.

The resource routers (answers, pathway, sources, feedback) share one prefix,
`assistant.api.security.API_PREFIX` (`/v1`, the routes that need a key); the health probes and the
web page sit at the root. Each router carries the prefix itself, so the route a request matched
(what the access log writes) is the whole template, e.g. `/v1/passages/{chunk_id}`.
"""

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
