"""`ally slack`: run the Slack bot in Socket Mode.

Light at import (typer and settings only) so `ally --help` stays fast; slack-bolt and the core are
imported when the command runs. HTTP mode is not started here: it is the `/slack/events` route of
`ally serve`, mounted when ALLY_SLACK_SIGNING_SECRET is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ally.errors import AllyError
from ally.runtime import enforce_offline
from ally.settings import load_settings


def slack(
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Store folder (default: $ALLY_STORE or ./.store).", show_default=False),
    ] = None,
) -> None:
    """Run the Slack bot in Socket Mode (needs ALLY_SLACK_BOT_TOKEN and ALLY_SLACK_APP_TOKEN).

    For HTTP mode set ALLY_SLACK_BOT_TOKEN and ALLY_SLACK_SIGNING_SECRET and run `ally serve`."""
    enforce_offline()
    try:
        settings = load_settings(store=store)
        from assistant.slack.socket import check_socket_settings

        check_socket_settings(settings)
    except AllyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None

    from assistant.service import Assistant
    from assistant.slack.socket import run_socket_mode

    try:
        assistant = Assistant.open(settings)
        try:
            typer.echo("ALLy: loading the embedding model…", err=True)
            assistant.warm()
            typer.echo("ALLy: connecting to Slack in Socket Mode (Ctrl-C to stop)", err=True)
            run_socket_mode(settings, assistant)
        finally:
            assistant.close()
    except AllyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("ALLy: Slack bot stopped", err=True)
