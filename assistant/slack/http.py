"""The Slack HTTP endpoint: `POST /slack/events` on ALLy's FastAPI app (events, `/ally`, buttons).

A guard runs before slack-bolt sees the request: a missing or non-numeric
`X-Slack-Request-Timestamp` (which makes slack-sdk raise, and bolt answer 500) or a missing
`X-Slack-Signature` gets 401; a body over 1 MB gets 413 (read by `assistant.guards`, as the API's
bodies are); a body that is not UTF-8 gets 400. The
request is then converted with slack-bolt's FastAPI adapter (the helpers behind its
`SlackRequestHandler`, which lives in `slack_bolt.adapter.starlette`) and dispatched on a worker
thread, so the event loop never waits on bolt (signature check, `auth.test`, acknowledgement).
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

from ally.errors import SettingsError
from ally.settings import Settings
from assistant.core import AssistantCore
from assistant.guards import SLACK_EVENTS_PATH, declares_more_than, read_body_limited
from assistant.slack.app import SlackBot, build_slack_bot

MAX_SLACK_BODY_BYTES = 1_000_000
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def _reject(status: int, error: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error})


def check_headers(request: Request) -> JSONResponse | None:
    """401 for a missing or malformed timestamp or a missing signature; None when bolt may verify."""
    timestamp = request.headers.get("x-slack-request-timestamp")
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp):
        return _reject(401, "invalid request: X-Slack-Request-Timestamp must be a Unix time in seconds")
    if not request.headers.get("x-slack-signature"):
        return _reject(401, "invalid request: X-Slack-Signature is missing")
    return None


async def read_slack_body(request: Request) -> bytes | None:
    """The request body, or None when it is (or is declared) larger than `MAX_SLACK_BODY_BYTES`."""
    if declares_more_than(request.headers.get("content-length"), MAX_SLACK_BODY_BYTES):
        return None
    return await read_body_limited(request.receive, MAX_SLACK_BODY_BYTES)


def mount_slack(app: FastAPI, assistant: AssistantCore, settings: Settings) -> None:
    """Add `POST /slack/events` to `app`. Needs ALLY_SLACK_SIGNING_SECRET and ALLY_SLACK_BOT_TOKEN.

    The bot is kept at `app.state.slack_bot`; no network call is made here."""
    missing = [
        name
        for name, value in (
            ("ALLY_SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("ALLY_SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        )
        if not value
    ]
    if missing:
        raise SettingsError(
            "the Slack HTTP endpoint needs " + " and ".join(missing) + " (from your Slack app's "
            "Basic Information and OAuth & Permissions pages)"
        )
    bot: SlackBot = build_slack_bot(settings, assistant)
    app.state.slack_bot = bot

    async def slack_events(request: Request) -> Response:
        rejected = check_headers(request)
        if rejected is not None:
            return rejected
        body = await read_slack_body(request)
        if body is None:
            return _reject(413, f"request body is larger than {MAX_SLACK_BODY_BYTES} bytes")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return _reject(400, "request body is not UTF-8")
        bolt_request = to_bolt_request(request, body)
        bolt_response = await run_in_threadpool(bot.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    app.add_api_route(SLACK_EVENTS_PATH, slack_events, methods=["POST"], include_in_schema=False, name="slack_events")
