"""A fake Slack Web API on 127.0.0.1 for the Slack bot's tests (stdlib ThreadingHTTPServer, port 0).

It answers the Web API methods the bot calls (`auth.test`, `chat.postMessage`, …) the way Slack
does, accepts posts to response URLs under `/respond/…`, and records every call (method, headers,
decoded body) so tests can assert exactly what the bot sent. `wait_for` blocks until enough
matching calls have arrived.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER_ID = "UALLYBOT"
BOT_ID = "BALLYBOT"
TEAM_ID = "T0TEAM"


@dataclass
class Call:
    """One request the bot made."""

    method: str  # "chat.postMessage", or "respond/<name>" for a response URL
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.body.get("blocks") or []
        if isinstance(blocks, str):
            return list(json.loads(blocks))
        return list(blocks)


@dataclass
class FakeSlackApi:
    """The server's state: recorded calls, the answers it gives, and failure switches."""

    calls: list[Call] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    host: str = "127.0.0.1"
    port: int = 0
    fail_methods: set[str] = field(default_factory=set)
    _ts: int = 1_700_000_000

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://{self.host}:{self.port}/respond/{name}"

    def record(self, call: Call) -> None:
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()

    def next_ts(self) -> str:
        with self.cond:
            self._ts += 1
            return f"{self._ts}.000100"

    def named(self, method: str) -> list[Call]:
        with self.cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 10.0, where: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        """Wait until at least `count` calls of `method` (matching `where`) arrived; return them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [c for c in self.calls if c.method == method and (where is None or where(c))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    methods = [c.method for c in self.calls]
                    raise AssertionError(f"waited {timeout} s for {count} x {method}; got {len(found)}: {methods}")
                self.cond.wait(left)

    def settle(self, quiet_s: float = 0.4) -> None:
        """Wait until no call has arrived for `quiet_s` seconds (to assert that nothing more comes)."""
        last = -1
        while True:
            time.sleep(quiet_s)
            with self.cond:
                if len(self.calls) == last:
                    return
                last = len(self.calls)


def _decode(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "application/json" in content_type:
        data = json.loads(raw.decode("utf-8"))
        return data if isinstance(data, dict) else {"_": data}
    form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in form.items()}


def _handler(state: FakeSlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr
            return

        def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = _decode(raw, self.headers.get("Content-Type", ""))
            path = self.path.split("?", 1)[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            if path.startswith("/respond/"):
                name = "respond/" + path[len("/respond/") :]
                state.record(Call(name, headers, body))
                self._send(200, b"ok", "text/plain")
                return
            if not path.startswith("/api/"):
                self._send(404, {"ok": False, "error": "unknown_path"})
                return
            method = path[len("/api/") :]
            state.record(Call(method, headers, body))
            if not headers.get("authorization", "").startswith("Bearer xoxb-"):
                self._send(200, {"ok": False, "error": "not_authed"})
                return
            if method in state.fail_methods:
                self._send(200, {"ok": False, "error": "channel_not_found"})
                return
            if method == "auth.test":
                self._send(
                    200,
                    {
                        "ok": True,
                        "url": "https://ally-test.slack.com/",
                        "team": "ALLy test",
                        "user": "ally",
                        "team_id": TEAM_ID,
                        "user_id": BOT_USER_ID,
                        "bot_id": BOT_ID,
                        "is_enterprise_install": False,
                    },
                )
            elif method in {"chat.postMessage", "chat.update", "chat.postEphemeral"}:
                ts = state.next_ts()
                self._send(
                    200,
                    {
                        "ok": True,
                        "channel": body.get("channel"),
                        "ts": ts,
                        "message": {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts},
                    },
                )
            else:
                self._send(200, {"ok": True})

    return Handler


@contextmanager
def running_fake_slack() -> Iterator[FakeSlackApi]:
    """Start the fake on 127.0.0.1 (a free port), yield its state, stop it."""
    state = FakeSlackApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="fake-slack-api", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
