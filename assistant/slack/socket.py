"""Socket Mode runner for `ally slack`: the bot connects out to Slack over a WebSocket with the
app-level token (xapp-…, scope `connections:write`), so no public URL is needed.

The Web API (including `apps.connections.open`) is reached at `settings.slack_api_url`.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from ally.errors import SettingsError
from ally.settings import Settings
from assistant.core import AssistantCore
from assistant.slack.app import SlackBot, build_slack_bot
from assistant.slack.redact import LOGGER_NAME

log = logging.getLogger(f"{LOGGER_NAME}.socket")

SOCKET_MODE_NEEDS = (
    "Socket Mode needs ALLY_SLACK_BOT_TOKEN (xoxb-…, OAuth & Permissions) and ALLY_SLACK_APP_TOKEN "
    "(xapp-…, Basic Information > App-Level Tokens, scope connections:write). "
    "For HTTP mode set ALLY_SLACK_BOT_TOKEN and ALLY_SLACK_SIGNING_SECRET instead and run `ally serve`: "
    "Slack then posts to https://YOUR-HOST/slack/events."
)


def check_socket_settings(settings: Settings) -> None:
    """Raise SettingsError naming what Socket Mode lacks."""
    missing = [
        name
        for name, value in (
            ("ALLY_SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("ALLY_SLACK_APP_TOKEN", settings.slack_app_token),
        )
        if not value
    ]
    if missing:
        raise SettingsError(f"{' and '.join(missing)} not set. {SOCKET_MODE_NEEDS}")
    if not (settings.slack_app_token or "").startswith("xapp-"):
        raise SettingsError("ALLY_SLACK_APP_TOKEN must be an app-level token starting with xapp-. " + SOCKET_MODE_NEEDS)
    if not (settings.slack_bot_token or "").startswith("xoxb-"):
        raise SettingsError("ALLY_SLACK_BOT_TOKEN must be a bot token starting with xoxb-. " + SOCKET_MODE_NEEDS)


def socket_mode_handler(settings: Settings, assistant: AssistantCore) -> tuple[SlackBot, SocketModeHandler]:
    """The bot and its Socket Mode handler, not yet connected."""
    check_socket_settings(settings)
    bot = build_slack_bot(settings, assistant)
    handler = SocketModeHandler(bot.app, app_token=settings.slack_app_token)
    return bot, handler


def run_socket_mode(settings: Settings, assistant: AssistantCore) -> None:
    """Connect and serve until interrupted (Ctrl-C)."""
    bot, handler = socket_mode_handler(settings, assistant)
    log.info("ally-slack: connecting in Socket Mode via %s", settings.slack_api_url)
    try:
        handler.start()  # type: ignore[no-untyped-call,unused-ignore]  # blocks
    finally:
        handler.close()  # type: ignore[no-untyped-call,unused-ignore]
        bot.close(wait=True)
