"""The bot over the real Assistant and the store built from corpus/ (slow: loads the embedding model).

Signed events and slash commands go through `/slack/events` to `assistant.service.Assistant`;
replies are captured by the fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ally.settings import Settings
from assistant.service import Assistant
from assistant.slack.blocks import ACTION_HELPFUL, ACTION_SHARE
from assistant.slack.http import mount_slack

from .fake_slack_api import TEAM_ID, FakeSlackApi, running_fake_slack
from .slack_helpers import (
    BOT_TOKEN,
    SIGNING_SECRET,
    action_body,
    all_text,
    buttons,
    event_body,
    mention,
    signed,
    slash_body,
)

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.slow]


@dataclass
class Rig:
    api: FakeSlackApi
    client: TestClient
    assistant: Assistant


@pytest.fixture(scope="module")
def rig(ingested_settings: Settings) -> Iterator[Rig]:
    with running_fake_slack() as api:
        settings = ingested_settings.model_copy(
            update={
                "slack_bot_token": BOT_TOKEN,
                "slack_signing_secret": SIGNING_SECRET,
                "slack_api_url": api.base_url,
                "public_base_url": "https://ally.example.org",
                "slack_rate_limit_per_minute": 1000,
            }
        )
        assistant = Assistant.open(settings)
        assistant.warm()
        app = FastAPI()
        mount_slack(app, assistant, settings)
        try:
            with TestClient(app) as client:
                yield Rig(api, client, assistant)
        finally:
            app.state.slack_bot.close(wait=True)
            assistant.close()


def new_ts() -> str:
    return f"17{random.randrange(10**8, 10**9)}.{random.randrange(10**5, 10**6)}"


def ask_in_thread(rig: Rig, text: str, *, ts: str, thread_ts: str | None = None) -> dict[str, Any]:
    """Post a signed mention and return the bot's reply in the thread."""
    thread = thread_ts or ts

    def in_thread(call: Any) -> bool:
        return bool(call.body.get("thread_ts") == thread)

    before = len([c for c in rig.api.named("chat.postMessage") if in_thread(c)])
    body = event_body(mention(text, ts=ts, thread_ts=thread_ts))
    response = rig.client.post("/slack/events", content=body, headers=signed(body, "application/json"))
    assert response.status_code == 200
    posts = rig.api.wait_for("chat.postMessage", before + 1, where=in_thread, timeout=60)
    return posts[-1].body


def test_real_answer_in_thread_with_cited_blocks(rig: Rig) -> None:
    ts = new_ts()
    post = ask_in_thread(rig, "What is blinatumomab approved for?", ts=ts)
    assert post["thread_ts"] == ts and post["channel"] == "C0WARD"
    blocks = post["blocks"]
    text = all_text(blocks)
    assert "[1]" in text and "*Sources*" in text
    assert "https://ally.example.org/#passage=" in text
    assert buttons(blocks)[ACTION_HELPFUL]
    rendered_sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in rendered_sections) and len(blocks) <= 50
    for s in rendered_sections:
        assert "<" not in s.replace("&lt;", "")  # nothing unescaped from the sources


def test_real_follow_up_keeps_the_thread_patient(rig: Rig) -> None:
    ts = new_ts()
    first = ask_in_thread(
        rig, "A 70-year-old unfit patient with newly diagnosed Ph-negative B-ALL: what are the options?", ts=ts
    )
    assert "*Pathway:*" in all_text(first["blocks"])
    follow = ask_in_thread(rig, "What about blinatumomab?", ts=new_ts(), thread_ts=ts)
    assert "*Pathway:*" in all_text(follow["blocks"])  # the patient came from the thread's first turn
    turns, patient = rig.assistant.db.history(f"slack:{TEAM_ID}:C0WARD:{ts}")
    assert [t.question for t in turns] == [
        "A 70-year-old unfit patient with newly diagnosed Ph-negative B-ALL: what are the options?",
        "What about blinatumomab?",
    ]
    assert patient.get("lineage") == "B" and patient.get("ph") == "negative"


def test_real_slash_pathway_share_and_feedback(rig: Rig) -> None:
    url = rig.api.response_url(f"pw-{new_ts()}")
    body = slash_body("pathway age=70 lineage=B ph=negative phase=diagnosis fit=false", url)
    assert (
        rig.client.post(
            "/slack/events", content=body, headers=signed(body, "application/x-www-form-urlencoded")
        ).status_code
        == 200
    )
    [reply] = rig.api.wait_for(url.split("/", 3)[3], timeout=60)
    assert reply.body["response_type"] == "ephemeral"
    text = all_text(reply.blocks)
    assert "*Pathway:*" in text and "B-ALL" in text
    assert "“" in text  # options carry their quotes
    share_key = buttons(reply.blocks)[ACTION_SHARE]
    share_url = rig.api.response_url(f"share-{new_ts()}")
    action = action_body(ACTION_SHARE, share_key, share_url)
    rig.client.post("/slack/events", content=action, headers=signed(action, "application/x-www-form-urlencoded"))
    shared, _deleted = rig.api.wait_for(share_url.split("/", 3)[3], 2)
    assert shared.body["response_type"] == "in_channel"

    # feedback on a real answer is stored with the answer id, source "slack"
    ask_url = rig.api.response_url(f"ask-{new_ts()}")
    body = slash_body("What is the role of MRD in ALL?", ask_url)
    rig.client.post("/slack/events", content=body, headers=signed(body, "application/x-www-form-urlencoded"))
    [answer] = rig.api.wait_for(ask_url.split("/", 3)[3], timeout=60)
    answer_id = buttons(answer.blocks)[ACTION_HELPFUL]
    fb_url = rig.api.response_url(f"fb-{new_ts()}")
    action = action_body(ACTION_HELPFUL, answer_id, fb_url)
    rig.client.post("/slack/events", content=action, headers=signed(action, "application/x-www-form-urlencoded"))
    [thanks] = rig.api.wait_for(fb_url.split("/", 3)[3])
    assert "Thanks" in thanks.body["text"]
    assert rig.assistant.db.feedback_for(answer_id) == [{"helpful": True, "comment": None, "source": "slack"}]


def test_real_core_logs_no_message_text(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret_name, secret_mrn = "Zebedee Quartermaine", "MRN 77001234"
    ask_in_thread(rig, f"{secret_name} {secret_mrn}: what is inotuzumab ozogamicin?", ts=new_ts())
    logged = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    assert secret_name not in logged and "77001234" not in logged
