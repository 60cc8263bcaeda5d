"""The access log: one line per request with method, route template, status, latency and key id.

It never logs bodies, query strings, headers or concrete paths, so no question text, patient field
or API key can reach a log: `/v1/passages/{chunk_id}` is logged as that template.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from assistant.guards import ASGIApp, Message, Receive, Scope, Send

access_logger = logging.getLogger("ally.access")


def route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "(no route)"


class AccessLogMiddleware:
    """Pure ASGI middleware (works with streaming responses): logs after the response ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            latency_ms = (time.perf_counter() - start) * 1000
            key_id = (scope.get("state") or {}).get("key_id", "-")
            access_logger.info(
                "%s %s %d %.1fms key=%s", scope["method"], route_template(scope), status, latency_ms, key_id
            )
