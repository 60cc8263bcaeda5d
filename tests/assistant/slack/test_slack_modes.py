"""How the bot starts: `ally slack` refuses without the settings its mode needs, Socket Mode
dispatches envelopes to the same handlers, `mount_slack` refuses without its secrets, building the
app makes no network call, and the manifest matches what the bot handles."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from typer.testing import CliRunner

from ally.errors import SettingsError
from ally.settings import Settings
from assistant.cli import app as cli_app
from assistant.slack.app import build_slack_app
from assistant.slack.http import mount_slack
from assistant.slack.socket import socket_mode_handler
from tests.fakes import FakeAssistant

from .fake_slack_api import FakeSlackApi
from .slack_helpers import BOT_TOKEN, all_text, event_body, mention

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "ALLY_SLACK_BOT_TOKEN and ALLY_SLACK_APP_TOKEN not set"),
        ({"ALLY_SLACK_BOT_TOKEN": "xoxb-1"}, "ALLY_SLACK_APP_TOKEN not set"),
        ({"ALLY_SLACK_APP_TOKEN": "xapp-1"}, "ALLY_SLACK_BOT_TOKEN not set"),
        ({"ALLY_SLACK_BOT_TOKEN": "xoxb-1", "ALLY_SLACK_SIGNING_SECRET": "s"}, "run `ally serve`"),
        ({"ALLY_SLACK_BOT_TOKEN": "xoxb-1", "ALLY_SLACK_APP_TOKEN": "xoxb-wrong"}, "starting with xapp-"),
        ({"ALLY_SLACK_BOT_TOKEN": "xapp-wrong", "ALLY_SLACK_APP_TOKEN": "xapp-1"}, "starting with xoxb-"),
    ],
)
def test_ally_slack_refuses_and_names_the_missing_settings(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli_app, ["slack", "--store", str(tmp_path)])
    assert result.exit_code == 2
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert expected in output
    assert "Socket Mode needs ALLY_SLACK_BOT_TOKEN" in output


def test_ally_slack_with_tokens_but_no_store_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALLY_SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("ALLY_SLACK_APP_TOKEN", "xapp-1")
    result = CliRunner().invoke(cli_app, ["slack", "--store", str(tmp_path / "missing")])
    assert result.exit_code == 3  # StoreError: the store's own message, before any connection


def test_mount_refuses_without_signing_secret_or_token(tmp_path: Path) -> None:
    for settings, missing in [
        (Settings(store=tmp_path, slack_bot_token=BOT_TOKEN), "ALLY_SLACK_SIGNING_SECRET"),
        (Settings(store=tmp_path, slack_signing_secret="s"), "ALLY_SLACK_BOT_TOKEN"),
    ]:
        with pytest.raises(SettingsError, match=missing):
            mount_slack(FastAPI(), FakeAssistant(settings=settings), settings)


def test_building_the_app_makes_no_network_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network call at start-up")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    settings = Settings(
        store=tmp_path, slack_bot_token=BOT_TOKEN, slack_signing_secret="s", slack_api_url="https://slack.invalid/api/"
    )
    app = build_slack_app(settings, FakeAssistant(settings=settings))
    assert app.client.base_url == "https://slack.invalid/api/"


class RecordingSocketClient:
    """Stands in for the WebSocket client: records what the handler sends back."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self.sent: list[SocketModeResponse] = []

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.sent.append(response)


def test_socket_mode_envelopes_are_acknowledged_and_answered(fake_slack: FakeSlackApi, tmp_path: Path) -> None:
    settings = Settings(
        store=tmp_path,
        slack_bot_token=BOT_TOKEN,
        slack_app_token="xapp-1-A0ALLY-123-abc",
        slack_api_url=fake_slack.base_url,
    )
    assistant = FakeAssistant(settings=settings)
    bot, handler = socket_mode_handler(settings, assistant)
    try:
        assert handler.client.web_client.base_url == fake_slack.base_url  # apps.connections.open goes there
        payload = json.loads(event_body(mention("Which drugs are approved for relapsed refractory ALL?")))
        client = RecordingSocketClient(bot.app.logger)
        request = SocketModeRequest(type="events_api", envelope_id="env-1", payload=payload)
        handler.handle(client, request)  # type: ignore[arg-type]
        assert [r.envelope_id for r in client.sent] == ["env-1"]
        [post] = fake_slack.wait_for("chat.postMessage")
        assert post.body["thread_ts"] == payload["event"]["ts"]
        assert "Blinatumomab" in all_text(post.blocks)
        # a redelivery (retry_attempt) is acknowledged but not answered again
        retry = SocketModeRequest(type="events_api", envelope_id="env-2", payload=payload, retry_attempt=1)
        handler.handle(client, retry)  # type: ignore[arg-type]
        assert [r.envelope_id for r in client.sent] == ["env-1", "env-2"]
        fake_slack.settle()
        assert len(fake_slack.named("chat.postMessage")) == 1
    finally:
        handler.client.close()
        bot.close()


def test_manifest_matches_the_bot() -> None:
    manifest = yaml.safe_load((REPO / "assistant" / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= scopes
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ally"
    assert command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True  # DMs need the messages tab


def test_docs_describe_the_install() -> None:
    doc = (REPO / "docs" / "SLACK.md").read_text(encoding="utf-8")
    assert "## Install in your Slack workspace" in doc
    for name in (
        "ALLY_SLACK_BOT_TOKEN",
        "ALLY_SLACK_APP_TOKEN",
        "ALLY_SLACK_SIGNING_SECRET",
        "assistant/slack/manifest.yaml",
    ):
        assert name in doc
