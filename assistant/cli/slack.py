"""`ally slack`: run the Slack bot in Socket Mode.

Light at import (typer and settings only) so `ally --help` stays fast; slack-bolt and the core are
imported when the command runs. The tokens are checked before the store is opened. HTTP mode is not
started here: it is the `/slack/events` route of `ally serve`, mounted when
ALLY_SLACK_SIGNING_SECRET is set. The bot watches the store like `ally serve`: a newly committed
generation is opened in the background and answers after it come from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from assistant.cli.common import StoreOption, run_guarded, settings_for

if TYPE_CHECKING:
    from ally.settings import Settings


def _checked_settings(store: StoreOption) -> Settings:
    from assistant.slack.socket import check_socket_settings

    settings = settings_for(store)
    check_socket_settings(settings)
    return settings


def _run_bot(settings: Settings) -> None:
    from assistant.service import Assistant
    from assistant.slack.socket import run_socket_mode

    assistant = Assistant.open(settings)
    try:
        typer.echo("ALLy: loading the embedding model…", err=True)
        assistant.warm()
        assistant.watch()  # newly committed store generations are swapped in without a restart
        typer.echo("ALLy: connecting to Slack in Socket Mode (Ctrl-C to stop)", err=True)
        run_socket_mode(settings, assistant)
    finally:
        assistant.close()


def slack(store: StoreOption = None) -> None:
    """Run the Slack bot in Socket Mode (needs ALLY_SLACK_BOT_TOKEN and ALLY_SLACK_APP_TOKEN).

    For HTTP mode set ALLY_SLACK_BOT_TOKEN and ALLY_SLACK_SIGNING_SECRET and run `ally serve`."""
    from ally.runtime import enforce_offline

    enforce_offline()
    settings = run_guarded(lambda: _checked_settings(store))
    try:
        run_guarded(lambda: _run_bot(settings))
    except KeyboardInterrupt:
        typer.echo("ALLy: Slack bot stopped", err=True)
