"""Fixtures for the Slack bot's tests: a fake Slack Web API on 127.0.0.1, Settings pointing at it,
the fake assistant, and the FastAPI app with `/slack/events` mounted (driven by TestClient)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ally.settings import Settings
from assistant.slack.app import SlackBot
from assistant.slack.http import mount_slack
from tests.fakes import FakeAssistant

from .fake_slack_api import FakeSlackApi, running_fake_slack
from .slack_helpers import BOT_TOKEN, SIGNING_SECRET


@pytest.fixture
def fake_slack() -> Iterator[FakeSlackApi]:
    with running_fake_slack() as api:
        yield api


@pytest.fixture
def slack_settings(fake_slack: FakeSlackApi, tmp_path: Path) -> Settings:
    return Settings(
        store=tmp_path / "store",
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.base_url,
        public_base_url="https://ally.example.org",
        slack_rate_limit_per_minute=20,
    )


@pytest.fixture
def fake_assistant(slack_settings: Settings) -> FakeAssistant:
    return FakeAssistant(settings=slack_settings)


@pytest.fixture
def slack_app(fake_assistant: FakeAssistant, slack_settings: Settings) -> Iterator[FastAPI]:
    app = FastAPI()
    mount_slack(app, fake_assistant, slack_settings)
    yield app
    bot: SlackBot = app.state.slack_bot
    bot.close(wait=True)


@pytest.fixture
def client(slack_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(slack_app) as test_client:
        yield test_client
