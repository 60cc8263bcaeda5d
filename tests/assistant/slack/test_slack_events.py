"""Signed Slack events through `POST /slack/events`: answered in the right thread with the expected
blocks, follow-ups in context, signature and header checks, retries, bots, edits, body limits,
rate limits, and no message text in the logs."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.slack.blocks import ACTION_HELPFUL, ACTION_NOT_HELPFUL
from tests.fakes import FakeAssistant

from .fake_slack_api import BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlackApi
from .slack_helpers import all_text, buttons, direct_message, event_body, mention, sign, signed

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

JSON = "application/json"


def post_event(client: TestClient, body: bytes, **headers: str) -> int:
    response = client.post("/slack/events", content=body, headers=signed(body, JSON, **headers))
    return response.status_code


def test_mention_is_answered_in_its_thread_with_cited_blocks(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    started = time.monotonic()
    status = post_event(client, event_body(mention("Which drugs are approved for relapsed refractory ALL?")))
    assert status == 200
    assert time.monotonic() - started < 3

    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.body["channel"] == "C0WARD"
    assert post.body["thread_ts"] == "1700000100.000200"  # the asking message's ts: a new thread
    assert post.headers["authorization"] == "Bearer xoxb-1234-5678-test"
    blocks = post.blocks
    text = all_text(blocks)
    assert "Blinatumomab" in text and "[1]" in text
    # citations: context block with the label (title · section path), linked to the passage on the web page
    contexts = [b for b in blocks if b["type"] == "context"]
    assert any(
        "<https://ally.example.org/#passage=overview-0001|Acute lymphoblastic leukemia: overview" in e["text"]
        and "Overview · Relapsed/refractory" in e["text"]
        for c in contexts
        for e in c["elements"]
    )
    # source text is escaped: "<!channel>" can never ping
    assert "<!channel>" not in json.dumps(post.body)
    assert "&lt;!channel&gt;" in text
    answer_id = fake_assistant.answers.copy().pop()
    assert buttons(blocks) == {ACTION_HELPFUL: answer_id, ACTION_NOT_HELPFUL: answer_id}
    assert post.body["text"]  # plain-text fallback
    [ask] = fake_assistant.named("ask")
    assert ask["question"] == "Which drugs are approved for relapsed refractory ALL?"
    assert ask["conversation_id"] == f"slack:{TEAM_ID}:C0WARD:1700000100.000200"
    assert [c.method for c in fake_slack.calls] == ["auth.test", "chat.postMessage"]


def test_follow_up_in_thread_keeps_conversation_and_patient(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    first = mention("age=70 lineage=B phase=relapsed_refractory which antibody options exist?")
    assert post_event(client, event_body(first)) == 200
    fake_slack.wait_for("chat.postMessage")
    follow = mention("and the CD22 one?", ts="1700000150.000900", thread_ts="1700000100.000200")
    assert post_event(client, event_body(follow)) == 200
    posts = fake_slack.wait_for("chat.postMessage", 2)
    assert {p.body["thread_ts"] for p in posts} == {"1700000100.000200"}
    asks = fake_assistant.named("ask")
    assert [a["conversation_id"] for a in asks] == [f"slack:{TEAM_ID}:C0WARD:1700000100.000200"] * 2
    assert asks[0]["question"] == "which antibody options exist?"
    patient = {"age": 70.0, "lineage": "B", "phase": "relapsed_refractory"}
    assert asks[0]["patient"] == patient
    assert asks[1]["patient"] is None  # nothing new: the core keeps the thread's patient
    # both answers carried the pathway for that patient: the follow-up was in the thread's context
    assert "B-ALL / relapsed-refractory" in all_text(posts[0].blocks)
    assert "B-ALL / relapsed-refractory" in all_text(posts[1].blocks)


def test_other_threads_are_other_conversations(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    assert post_event(client, event_body(mention("age=30 lineage=T what is MRD?"))) == 200
    assert post_event(client, event_body(mention("what is blinatumomab?", ts="1700000999.000001"))) == 200
    fake_slack.wait_for("chat.postMessage", 2)
    asks = {a["conversation_id"]: a for a in fake_assistant.named("ask")}
    assert len(asks) == 2
    assert asks[f"slack:{TEAM_ID}:C0WARD:1700000999.000001"]["patient"] is None


def test_direct_message_is_answered_in_its_thread(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    assert post_event(client, event_body(direct_message("Ph-positive ALL tyrosine kinase inhibitor?"))) == 200
    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.body["channel"] == "D0DIRECT"
    assert post.body["thread_ts"] == "1700000200.000300"
    assert "dasatinib" in all_text(post.blocks)
    assert fake_assistant.named("ask")[0]["conversation_id"] == f"slack:{TEAM_ID}:D0DIRECT:1700000200.000300"


def test_abstention_is_shown_as_such(client: TestClient, fake_slack: FakeSlackApi) -> None:
    assert post_event(client, event_body(mention("zebrafish husbandry temperatures?"))) == 200
    [post] = fake_slack.wait_for("chat.postMessage")
    text = all_text(post.blocks)
    assert "Not answered" in text
    assert "Closest passages" in text
    assert post.body["text"].startswith("Not answered")


@pytest.mark.parametrize(
    "tamper",
    ["body", "timestamp_old", "timestamp_future", "no_signature", "no_timestamp", "no_headers", "non_numeric"],
)
def test_bad_signatures_and_headers_get_401_and_no_answer(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant, tamper: str
) -> None:
    body = event_body(mention("Which drugs are approved for relapsed refractory ALL?"))
    headers = {"Content-Type": JSON, **sign(body)}
    now = int(time.time())
    if tamper == "body":
        body = body.replace(b"relapsed", b"frontline")
    elif tamper == "timestamp_old":
        headers.update(sign(body, now - 301))
    elif tamper == "timestamp_future":
        headers.update(sign(body, now + 301))
    elif tamper == "no_signature":
        del headers["X-Slack-Signature"]
    elif tamper == "no_timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif tamper == "no_headers":
        headers = {"Content-Type": JSON}
    elif tamper == "non_numeric":
        headers.update(sign(body, "12abc"))
    response = client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    fake_slack.settle(0.3)
    assert fake_slack.calls == []
    assert fake_assistant.calls == []


@pytest.mark.parametrize("timestamp", ["1e9", " 1700000000", "１７００", "-5", "", "9" * 40])
def test_malformed_timestamps_are_401_not_500(client: TestClient, timestamp: str) -> None:
    body = event_body(mention("hello"))
    headers = {"Content-Type": JSON, **sign(body)}
    headers["X-Slack-Request-Timestamp"] = timestamp
    encoded = {k: v.encode("utf-8") for k, v in headers.items()}
    response = client.post("/slack/events", content=body, headers=encoded)
    assert response.status_code == 401


def test_same_event_twice_and_retries_are_answered_once(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    body = event_body(mention("Which drugs are approved for relapsed refractory ALL?"), event_id="Ev0SAME")
    assert post_event(client, body) == 200
    assert post_event(client, body) == 200
    assert post_event(client, body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}) == 200
    # the same message again under another event id (e.g. app_mention and message.im both fire)
    assert post_event(client, event_body(mention("Which drugs are approved for relapsed refractory ALL?"))) == 200
    fake_slack.wait_for("chat.postMessage")
    fake_slack.settle()
    assert len(fake_slack.named("chat.postMessage")) == 1
    assert len(fake_assistant.named("ask")) == 1


def test_first_delivery_with_retry_header_is_answered(client: TestClient, fake_slack: FakeSlackApi) -> None:
    """A retry whose first try never reached us still gets its one answer."""
    body = event_body(mention("What is blinatumomab?"), event_id="Ev0RETRYONLY")
    assert post_event(client, body, **{"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}) == 200
    assert post_event(client, body, **{"X-Slack-Retry-Num": "3", "X-Slack-Retry-Reason": "http_error"}) == 200
    fake_slack.wait_for("chat.postMessage")
    fake_slack.settle()
    assert len(fake_slack.named("chat.postMessage")) == 1


@pytest.mark.parametrize(
    "event",
    [
        # the bot's own message (bolt's self-event filter and ours)
        direct_message("Blinatumomab is approved [1].", user=BOT_USER_ID, bot_id=BOT_ID),
        # another bot
        direct_message("ponatinib dasatinib imatinib", user="U0OTHERBOT", bot_id="B0OTHER"),
        direct_message("ponatinib dasatinib imatinib", subtype="bot_message", bot_id="B0OTHER", user=None),
        # an edit, a deletion, a join
        direct_message(
            "edited",
            subtype="message_changed",
            user=None,
            message={"type": "message", "user": "U0ASKER", "text": "ponatinib?", "ts": "1700000200.000300"},
        ),
        direct_message("", subtype="message_deleted", user=None),
        mention("joined", subtype="channel_join"),
        # a channel message that is not a DM (only mentions are answered in channels)
        direct_message("ponatinib dasatinib imatinib", channel_type="channel", channel="C0WARD"),
    ],
    ids=["own", "other-bot", "bot-message", "edit", "delete", "join", "channel-message"],
)
def test_bots_edits_and_subtypes_are_ignored(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant, event: dict[str, object]
) -> None:
    event = {k: v for k, v in event.items() if v is not None}
    assert post_event(client, event_body(event)) == 200
    fake_slack.settle()
    assert fake_slack.named("chat.postMessage") == []
    assert fake_assistant.calls == []


def test_one_megabyte_body_is_rejected(client: TestClient, fake_slack: FakeSlackApi) -> None:
    event = mention("x" * 1_048_576)
    body = event_body(event)
    response = client.post("/slack/events", content=body, headers=signed(body, JSON))
    assert response.status_code == 413

    # also when the client does not announce the length (chunked)
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    response = client.post("/slack/events", content=chunks(), headers=signed(body, JSON))
    assert response.status_code == 413
    fake_slack.settle(0.2)
    assert fake_slack.calls == []


def test_url_verification_challenge(client: TestClient) -> None:
    body = json.dumps(
        {"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    ).encode()
    response = client.post("/slack/events", content=body, headers=signed(body, JSON))
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_per_user_rate_limit_answers_then_tells_once(
    client: TestClient, fake_slack: FakeSlackApi, fake_assistant: FakeAssistant
) -> None:
    limit = fake_assistant.settings.slack_rate_limit_per_minute
    for i in range(limit + 3):
        event = mention("What is blinatumomab?", ts=f"17000004{i:02d}.000001")
        assert post_event(client, event_body(event)) == 200
    # another user is not limited
    assert post_event(client, event_body(mention("What is blinatumomab?", user="U0OTHER", ts="1700000999.1"))) == 200
    posts = fake_slack.wait_for("chat.postMessage", limit + 2, timeout=20)
    fake_slack.settle()
    posts = fake_slack.named("chat.postMessage")
    notes = [p for p in posts if "questions in the last minute" in all_text(p.blocks)]
    assert len(notes) == 1  # told once, not on every message
    assert len(fake_assistant.named("ask")) == limit + 1
    assert len(posts) == limit + 2


def test_planted_patient_identifiers_never_reach_the_logs(
    client: TestClient,
    fake_slack: FakeSlackApi,
    fake_assistant: FakeAssistant,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("slack_bolt").setLevel(logging.DEBUG)  # even when someone turns DEBUG on
    logging.getLogger("slack_sdk").setLevel(logging.DEBUG)
    secrets = ["Jane Q. Doe-Marsh", "MRN 004815162342", "DOB 1951-03-14"]
    text = f"Patient {secrets[0]}, {secrets[1]}, {secrets[2]}: which drugs are approved for relapsed ALL?"
    good = event_body(mention(text, ts="1700000500.000001"))
    assert post_event(client, good) == 200
    # an invalid signature: slack-bolt would log the whole body at INFO
    bad = event_body(mention(text, ts="1700000501.000001"))
    response = client.post("/slack/events", content=bad, headers={"Content-Type": JSON, **sign(bad + b" ")})
    assert response.status_code == 401
    # a DM, an edit, a duplicate, and a slash command with the same text
    assert post_event(client, event_body(direct_message(text, ts="1700000502.000001"))) == 200
    assert post_event(client, good) == 200
    edit = direct_message(text, subtype="message_changed", ts="1700000503.000001")
    assert post_event(client, event_body(edit)) == 200
    from .slack_helpers import slash_body

    slash = slash_body(text, fake_slack.response_url("phi"))
    response = client.post("/slack/events", content=slash, headers=signed(slash, "application/x-www-form-urlencoded"))
    assert response.status_code == 200
    fake_slack.wait_for("chat.postMessage", 2)
    fake_slack.wait_for("respond/phi")
    fake_slack.settle()
    assert len(fake_assistant.named("ask")) == 3  # the text did reach the core: it was asked
    logged = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    out, err = capfd.readouterr()
    for secret in [*secrets, "004815162342", "1951-03-14", "Doe-Marsh"]:
        assert secret not in logged
        assert secret not in out and secret not in err
    assert caplog.records, "the bot logs events (ids and types), just never their text"
