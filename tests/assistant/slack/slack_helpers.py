"""Builders for signed Slack requests (events, slash commands, button clicks) used by the bot's tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from .fake_slack_api import BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-1234-5678-test"


def sign(body: bytes, timestamp: int | str | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The two signature headers Slack sends for `body`."""
    ts = str(int(time.time())) if timestamp is None else str(timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def signed(body: bytes, content_type: str, **extra: str) -> dict[str, str]:
    return {"Content-Type": content_type, **sign(body), **extra}


def event_body(event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID) -> bytes:
    payload = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": "A0ALLY",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True}],
    }
    return json.dumps(payload).encode()


def mention(
    text: str,
    *,
    user: str = "U0ASKER",
    channel: str = "C0WARD",
    ts: str = "1700000100.000200",
    thread_ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


def direct_message(
    text: str, *, user: str = "U0ASKER", channel: str = "D0DIRECT", ts: str = "1700000200.000300", **extra: Any
) -> dict[str, Any]:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }
    event.update(extra)
    return event


def slash_body(text: str, response_url: str, *, user: str = "U0ASKER", channel: str = "C0WARD") -> bytes:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "ally-test",
            "channel_id": channel,
            "channel_name": "ward",
            "user_id": user,
            "user_name": "dr.asker",
            "command": "/ally",
            "text": text,
            "api_app_id": "A0ALLY",
            "response_url": response_url,
            "trigger_id": "1234.5678.abcd",
        }
    ).encode()


def action_body(
    action_id: str, value: str, response_url: str, *, user: str = "U0ASKER", channel: str = "C0WARD"
) -> bytes:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "ally-test"},
        "user": {"id": user, "username": "dr.asker", "team_id": TEAM_ID},
        "api_app_id": "A0ALLY",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000300.000400",
            "channel_id": channel,
            "is_ephemeral": True,
        },
        "trigger_id": "1234.5678.efgh",
        "channel": {"id": channel, "name": "ward"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "ally_actions",
                "text": {"type": "plain_text", "text": "button"},
                "value": value,
                "type": "button",
                "action_ts": "1700000301.000500",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def all_text(blocks: list[dict[str, Any]]) -> str:
    """Every text string in a list of blocks, joined (for assertions)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """action_id -> value of every button in the blocks."""
    found: dict[str, str] = {}
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                found[element["action_id"]] = element.get("value", "")
    return found
