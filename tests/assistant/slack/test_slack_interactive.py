"""`/ally` slash commands and button clicks (share in channel, helpful / not helpful) through the
signed HTTP endpoint, with replies captured at the fake Slack's response URLs."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from assistant.slack.blocks import ACTION_HELPFUL, ACTION_NOT_HELPFUL, ACTION_SHARE
from tests.fakes import FakeAssistant

from .fake_slack_api import FakeSlackApi
from .slack_helpers import action_body, all_text, buttons, signed, slash_body

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

FORM = "application/x-www-form-urlencoded"


def post_form(client: TestClient, body: bytes) -> tuple[int, str]:
    started = time.monotonic()
    response = client.post("/slack/events", content=body, headers=signed(body, FORM))
    assert time.monotonic() - started < 3, "Slack must be acknowledged within 3 seconds"
    return response.status_code, response.text


def test_slash_question_answers_privately_with_share_and_feedback_buttons(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    url = fake_slack.response_url("ask")
    status, _ = post_form(client, slash_body("Which drugs are approved for relapsed refractory ALL?", url))
    assert status == 200
    [reply] = fake_slack.wait_for("respond/ask")
    assert reply.body["response_type"] == "ephemeral"
    text = all_text(reply.blocks)
    assert "Blinatumomab" in text and "Sources" in text
    assert "/ally Which drugs are approved" in text  # what will be shared is what the user sees
    [ask] = fake_assistant.named("ask")
    assert ask["conversation_id"] is None
    answer_id = next(iter(fake_assistant.answers))
    assert buttons(reply.blocks) == {
        ACTION_SHARE: f"share:{answer_id}",
        ACTION_HELPFUL: answer_id,
        ACTION_NOT_HELPFUL: answer_id,
    }
    assert fake_slack.named("chat.postMessage") == []  # nothing public yet

    # share in channel: posted in_channel without the share button, then the private copy removed
    share_url = fake_slack.response_url("share")
    status, _ = post_form(client, action_body(ACTION_SHARE, f"share:{answer_id}", share_url))
    assert status == 200
    shared, deleted = fake_slack.wait_for("respond/share", 2)
    assert shared.body["response_type"] == "in_channel"
    assert "Blinatumomab" in all_text(shared.blocks)
    assert "Shared by <@U0ASKER>" in all_text(shared.blocks)
    assert buttons(shared.blocks) == {ACTION_HELPFUL: answer_id, ACTION_NOT_HELPFUL: answer_id}
    assert deleted.body["delete_original"] is True


def test_share_of_an_unknown_or_expired_answer_says_so(client: TestClient, fake_slack: FakeSlackApi) -> None:
    url = fake_slack.response_url("stale")
    status, _ = post_form(client, action_body(ACTION_SHARE, "share:feedfacefeedface", url))
    assert status == 200
    [reply] = fake_slack.wait_for("respond/stale")
    assert reply.body["response_type"] == "ephemeral"
    assert "can no longer be shared" in reply.body["text"]


@pytest.mark.parametrize(("action_id", "helpful"), [(ACTION_HELPFUL, True), (ACTION_NOT_HELPFUL, False)])
def test_feedback_buttons_store_feedback_with_the_answer_id(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant, action_id: str, helpful: bool
) -> None:
    post_form(client, slash_body("What is blinatumomab?", fake_slack.response_url("ask")))
    [reply] = fake_slack.wait_for("respond/ask")
    answer_id = buttons(reply.blocks)[action_id]
    status, _ = post_form(client, action_body(action_id, answer_id, fake_slack.response_url("fb")))
    assert status == 200
    [thanks] = fake_slack.wait_for("respond/fb")
    assert thanks.body["response_type"] == "ephemeral"
    assert "Thanks" in thanks.body["text"]
    assert fake_assistant.feedback == [(answer_id, helpful, None, "slack")]


def test_feedback_for_an_unknown_answer_is_reported_not_stored(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    post_form(client, action_body(ACTION_HELPFUL, "not-an-answer", fake_slack.response_url("fb")))
    [reply] = fake_slack.wait_for("respond/fb")
    assert "could not be stored" in reply.body["text"]
    assert fake_assistant.feedback == []


def test_feedback_on_a_thread_answer(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    from .slack_helpers import event_body, mention

    body = event_body(mention("What is blinatumomab?"))
    client.post("/slack/events", content=body, headers=signed(body, "application/json"))
    [post] = fake_slack.wait_for("chat.postMessage")
    answer_id = buttons(post.blocks)[ACTION_NOT_HELPFUL]
    post_form(client, action_body(ACTION_NOT_HELPFUL, answer_id, fake_slack.response_url("fb")))
    fake_slack.wait_for("respond/fb")
    assert fake_assistant.feedback == [(answer_id, False, None, "slack")]


def test_slash_pathway_with_a_proposed_therapy(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    url = fake_slack.response_url("pw")
    text = "pathway age=70 lineage=B ph=negative phase=relapsed_refractory fit=false propose=inotuzumab ozogamicin"
    status, _ = post_form(client, slash_body(text, url))
    assert status == 200
    [reply] = fake_slack.wait_for("respond/pw")
    assert reply.body["response_type"] == "ephemeral"
    [call] = fake_assistant.named("pathway")
    assert call["patient"] == {
        "age": 70.0,
        "lineage": "B",
        "ph": "negative",
        "phase": "relapsed_refractory",
        "fit": False,
    }
    assert call["propose"] == "inotuzumab ozogamicin"
    shown = all_text(reply.blocks)
    assert "B-ALL / relapsed-refractory" in shown
    assert "On pathway" in shown and "Proposed: inotuzumab ozogamicin" in shown
    assert "https://ally.example.org/#passage=overview-0001" in shown
    found = buttons(reply.blocks)
    assert set(found) == {ACTION_SHARE}  # a pathway check has no stored answer id to rate


def test_slash_pathway_reports_missing_facts(client: TestClient, fake_slack: FakeSlackApi) -> None:
    url = fake_slack.response_url("pw")
    post_form(client, slash_body("pathway age=70 lineage=B ph=negative phase=diagnosis", url))
    [reply] = fake_slack.wait_for("respond/pw")
    assert "Needed to decide, not given:* fit" in all_text(reply.blocks)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pathway age=abc lineage=B", "age"),
        ("pathway age=70 colour=blue", "unknown field 'colour'"),
        ("pathway age=70 lineage=Q", "lineage"),
        ("pathway", "give the patient"),
        ("pathway fit=maybe", "fit"),
    ],
)
def test_slash_pathway_input_errors_name_the_field(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant, text: str, expected: str
) -> None:
    response = client.post(
        "/slack/events", content=(b := slash_body(text, fake_slack.response_url("x"))), headers=signed(b, FORM)
    )
    assert response.status_code == 200
    payload = response.json()  # the error comes straight back with the acknowledgement
    assert payload["response_type"] == "ephemeral"
    assert expected in payload["text"]
    assert fake_assistant.calls == []


def test_slash_help(client: TestClient, fake_slack: FakeSlackApi) -> None:
    body = slash_body("", fake_slack.response_url("x"))
    response = client.post("/slack/events", content=body, headers=signed(body, FORM))
    assert response.status_code == 200
    assert "/ally pathway" in response.json()["text"]


def test_slash_command_with_a_bad_signature_is_401(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    body = slash_body("What is blinatumomab?", fake_slack.response_url("x"))
    headers = signed(body, FORM)
    response = client.post("/slack/events", content=body + b"&text=other", headers=headers)
    assert response.status_code == 401
    fake_slack.settle(0.3)
    assert fake_slack.calls == [] and fake_assistant.calls == []


def test_slow_answers_are_still_acknowledged_at_once(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    fake_assistant.delay_s = 3.5
    started = time.monotonic()
    post_form(client, slash_body("What is blinatumomab?", fake_slack.response_url("slow")))
    assert time.monotonic() - started < 1.0
    fake_slack.wait_for("respond/slow", timeout=15)
