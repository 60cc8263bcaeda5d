"""A burst of 50 concurrent signed events against a real uvicorn server on 127.0.0.1: every one is
acknowledged within 3 seconds and answered exactly once, in its own thread."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from ally.settings import Settings
from assistant.slack.app import SlackBot
from assistant.slack.http import mount_slack
from tests.fakes import FakeAssistant

from .fake_slack_api import FakeSlackApi
from .slack_helpers import event_body, mention, signed

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

BURST = 50


@pytest.fixture
def live_server(slack_settings: Settings) -> Iterator[tuple[str, FakeAssistant, SlackBot]]:
    assistant = FakeAssistant(settings=slack_settings, delay_s=0.05)  # answers take time and queue up
    app = FastAPI()
    mount_slack(app, assistant, slack_settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", assistant, app.state.slack_bot
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.slack_bot.close(wait=True)
        sock.close()


def test_burst_of_50_events_acknowledged_in_time_and_answered_once(
    live_server: tuple[str, FakeAssistant, SlackBot], fake_slack: FakeSlackApi
) -> None:
    base, assistant, _ = live_server
    bodies = [
        event_body(
            mention(
                "Which drugs are approved for relapsed refractory ALL?", user=f"U{i:04d}", ts=f"1700001{i:03d}.000001"
            ),
            event_id=f"Ev{i:04d}",
        )
        for i in range(BURST)
    ]
    barrier = threading.Barrier(BURST)

    def send(body: bytes) -> tuple[int, float]:
        with httpx.Client(timeout=10) as http:
            barrier.wait()
            started = time.monotonic()
            response = http.post(f"{base}/slack/events", content=body, headers=signed(body, "application/json"))
            return response.status_code, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        results = list(pool.map(send, bodies))

    assert [status for status, _ in results] == [200] * BURST
    slowest = max(seconds for _, seconds in results)
    assert slowest < 3.0, f"slowest acknowledgement took {slowest:.2f} s"

    # and one retry of each of the first ten, which must not be answered again
    with httpx.Client(timeout=10) as http:
        for body in bodies[:10]:
            headers = signed(
                body, "application/json", **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            )
            assert http.post(f"{base}/slack/events", content=body, headers=headers).status_code == 200

    posts = fake_slack.wait_for("chat.postMessage", BURST, timeout=30)
    fake_slack.settle()
    posts = fake_slack.named("chat.postMessage")
    threads = Counter(p.body["thread_ts"] for p in posts)
    assert len(posts) == BURST
    assert threads == Counter({f"1700001{i:03d}.000001": 1 for i in range(BURST)})
    assert len(assistant.named("ask")) == BURST
    assert len(fake_slack.named("auth.test")) == 1  # authorized once, lazily
