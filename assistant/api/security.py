"""Request guards of the HTTP API: body size, API keys, rate limits, and who may call at all.

- Body size: every request body is read up to `settings.max_body_bytes` (`assistant.guards`); a
  larger one gets 413.
- API keys (`ALLY_API_KEYS`, sent as `Authorization: Bearer KEY`) are kept only as SHA-256
  digests and compared with `hmac.compare_digest` against every stored digest. A key is never
  logged; logs and rate limits use its key id (the first 8 hex digits of its digest).
- When no keys are configured, only loopback clients are served (`ally serve` also refuses to bind
  a non-loopback address without keys).
- Rate limit (`assistant.guards.RateLimiter`): `settings.rate_limit_per_minute` requests per key
  (or per client address when there are no keys) in any 60-second window; more get 429 with
  Retry-After.

Only `/v1/` routes need a key and count against the limit; the page, its assets, health probes and
the OpenAPI description are open. Slack's route checks Slack's own signature instead.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math

from ally.settings import Settings
from assistant.guards import (
    SLACK_EVENTS_PATH,
    ASGIApp,
    Message,
    RateLimiter,
    Receive,
    Scope,
    Send,
    declares_more_than,
    read_body_limited,
)

API_PREFIX = "/v1"  # the resource routes (`assistant.api.routes`): they need a key and are rate-limited
PROTECTED_PREFIX = f"{API_PREFIX}/"


def is_loopback_host(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name in {"localhost", "localhost.localdomain", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_remote_ip(host: str) -> bool:
    """True when `host` is an IP address other than loopback (non-IP test hosts are not remote)."""
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def key_id_of(digest: bytes) -> str:
    return digest.hex()[:8]


class KeyRing:
    """The configured API keys, held as SHA-256 digests only."""

    def __init__(self, keys: list[str]) -> None:
        self._digests = [key_digest(k) for k in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def identify(self, presented: str) -> str | None:
        """The key id of a presented key, or None. Constant-time against every stored digest."""
        candidate = key_digest(presented)
        found: bytes | None = None
        for digest in self._digests:
            if hmac.compare_digest(candidate, digest):
                found = digest
        return key_id_of(found) if found is not None else None


async def _send_error(send: Send, status: int, detail: str, error: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail, "error": error, "field": None, "errors": []}).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class SecurityMiddleware:
    """Pure ASGI middleware: body limit, then (for /v1/) API key and rate limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.keys = KeyRing(settings.api_key_list)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == SLACK_EVENTS_PATH:  # Slack bodies are verified and limited (1 MB) by the bot's mount
            await self.app(scope, receive, send)
            return
        too_big = f"request body is larger than {self.max_body} bytes (ALLY_MAX_BODY_BYTES); send a smaller body"
        if declares_more_than(_header(scope, b"content-length"), self.max_body):
            await _send_error(send, 413, too_big, "body_too_large")
            return
        if scope["method"] in {"POST", "PUT", "PATCH"}:
            body = await read_body_limited(receive, self.max_body)
            if body is None:
                await _send_error(send, 413, too_big, "body_too_large")
                return
            receive = _replay(body, receive)

        if scope["path"].startswith(PROTECTED_PREFIX) and scope["method"] != "OPTIONS":
            identity = await self._authenticate(scope, send)
            if identity is None:
                return
            wait = self.limiter.hit(identity)
            if wait is not None:
                retry = max(1, math.ceil(wait))
                await _send_error(
                    send,
                    429,
                    f"rate limit of {self.limiter.limit} requests per minute reached "
                    f"(ALLY_RATE_LIMIT_PER_MINUTE); retry after {retry} s",
                    "rate_limited",
                    {"Retry-After": str(retry)},
                )
                return
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope, send: Send) -> str | None:
        """The rate-limit identity of an allowed caller; None after answering a refusal."""
        state = scope.setdefault("state", {})
        client = (scope.get("client") or ("unknown", 0))[0]
        if not self.keys.enabled:
            if _is_remote_ip(str(client)):
                await _send_error(
                    send,
                    403,
                    "this server has no API keys, so it serves only this machine; set ALLY_API_KEYS on the "
                    "server and send 'Authorization: Bearer KEY'",
                    "forbidden",
                )
                return None
            state["key_id"] = "-"
            return f"client:{client}"
        auth = _header(scope, b"authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await _send_error(
                send,
                401,
                "an API key is required: send 'Authorization: Bearer KEY' with a key from ALLY_API_KEYS",
                "unauthorized",
                {"WWW-Authenticate": "Bearer"},
            )
            return None
        key_id = self.keys.identify(token.strip())
        if key_id is None:
            await _send_error(
                send,
                401,
                "the API key is not valid: send 'Authorization: Bearer KEY' with a key from ALLY_API_KEYS",
                "unauthorized",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
            return None
        state["key_id"] = key_id
        return f"key:{key_id}"


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that hands out the buffered body once, then defers to the server."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
