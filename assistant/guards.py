"""Request guards shared by the HTTP transports (the API's middleware and Slack's HTTP endpoint).

- `read_body_limited`: a request body read from the ASGI `receive` callable, given up as soon as
  it (or its declared Content-Length, see `declares_more_than`) exceeds a byte limit.
- `SLACK_EVENTS_PATH`: the Slack route that the API's guards leave to the Slack mount.
- `Scope`, `Receive`, `Send`, `Message`, `ASGIApp`: the ASGI types of the pure-ASGI middleware.
- `RateLimiter`: at most N hits per key in any moving window (60 s unless told), on the maintained
  `limits` library (moving-window strategy, in-memory storage); a refused hit says how many seconds
  remain until the key may hit again.

Transport support only: nothing here imports the assistant core or a transport.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WINDOW_S = 60

# Slack's endpoint on the API's app: its requests carry Slack's signature instead of an API key, and
# its body is limited by the Slack mount itself (`assistant.slack.http`).
SLACK_EVENTS_PATH = "/slack/events"


def declares_more_than(content_length: str | None, limit: int) -> bool:
    """True when a Content-Length header announces more than `limit` bytes."""
    return content_length is not None and content_length.isdigit() and int(content_length) > limit


async def read_body_limited(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as more than `limit` bytes have arrived."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class RateLimiter:
    """At most `limit` hits per key in any `window_s`-second window (a moving window).

    Thread-safe; the storage forgets a key once its window has passed. Time is the wall clock
    (`time.time`), which is what `limits` keeps its windows in.
    """

    def __init__(self, limit: int, window_s: int = WINDOW_S) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self.limit = limit
        self.window_s = window_s
        self._item = RateLimitItemPerSecond(limit, window_s)
        self._strategy = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> float | None:
        """Count one hit for `key`: None if allowed, else the seconds until the next one would be."""
        if self._strategy.hit(self._item, key):
            return None
        stats = self._strategy.get_window_stats(self._item, key)
        if stats.remaining > 0:  # the oldest hit left the window since this one was refused
            return 0.0
        return max(0.0, stats.reset_time - time.time())
