"""The ALLy Slack bot: a slack-bolt `App` built from Settings and the assistant core
(`assistant.core.AssistantCore`).

- `app_mention` (channels) and `message.im` (direct messages) are answered in the thread of the
  asking message. The thread is the conversation: its id is derived from team, channel and thread
  timestamp, so follow-ups keep the earlier context and patient (the core stores both with the
  conversation); patient facts may also be given as `field=value` words.
- `/ally <question>` and `/ally pathway field=value … [propose=…]` answer privately (ephemeral)
  with a "Share in channel" button; every answer carries helpful / not helpful buttons whose
  clicks are stored with `Assistant.record_feedback(answer_id, helpful, source="slack")`.
- Slack is acknowledged at once; the answering runs in ALLy's own worker pool, separate from
  bolt's executor, so acknowledgements never wait behind answers.
- Retries are answered once (event ids and message timestamps are remembered); bots' messages,
  edits and other subtypes are ignored; each user may ask `slack_rate_limit_per_minute` questions
  a minute (`assistant.guards.RateLimiter`) and is told so once a window.
- No network call happens at start-up: `authorize` calls `auth.test` lazily, once, at the
  `slack_api_url`. Nothing logged here contains message text (see `redact`).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from ally.errors import AllyError, InputError, NotFoundError, SettingsError
from ally.settings import Settings
from assistant.concurrency import KeyedLocks
from assistant.core import AssistantCore
from assistant.guards import WINDOW_S, RateLimiter
from assistant.slack.blocks import (
    ACTION_HELPFUL,
    ACTION_NOT_HELPFUL,
    ACTION_SHARE,
    SlackMessage,
    render_answer,
    render_notice,
    render_pathway,
    without_share_button,
)
from assistant.slack.caches import LruMap, SeenOnce
from assistant.slack.commands import HELP_TEXT, clean_message_text, parse_slash_command, split_question
from assistant.slack.redact import LOGGER_NAME, QuietRequestVerification, quiet_slack_logging

log = logging.getLogger(f"{LOGGER_NAME}.app")

ANSWER_WORKERS = 4
ACK_WORKERS = 16
SHARE_TTL_S = 30 * 60  # Slack's response_url lives 30 minutes


def conversation_id_for(team_id: str | None, channel: str, thread_ts: str) -> str:
    """The conversation of a Slack thread: stable for every message of that thread."""
    return f"slack:{team_id or '-'}:{channel}:{thread_ts}"


def _where(exc: BaseException) -> str:
    """Where an exception happened (file:line of the last frame), never its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


class SlackBot:
    """The bot's state (pools, caches, limits) and its bolt `App` (`.app`)."""

    def __init__(self, settings: Settings, assistant: AssistantCore, *, clock: Callable[[], float] = time.monotonic):
        if not settings.slack_bot_token:
            raise SettingsError(
                "the Slack bot needs ALLY_SLACK_BOT_TOKEN (the bot token, xoxb-…, from OAuth & Permissions)"
            )
        self.settings = settings
        self.assistant = assistant
        self._events = SeenOnce(ttl_s=3600, clock=clock)
        self._messages = SeenOnce(ttl_s=3600, clock=clock)
        self._limiter = RateLimiter(settings.slack_rate_limit_per_minute, WINDOW_S)
        self._told_limited = SeenOnce(ttl_s=WINDOW_S, clock=clock)
        self._shares: LruMap[str, SlackMessage] = LruMap(max_items=2000, ttl_s=SHARE_TTL_S, clock=clock)
        self._turn_locks = KeyedLocks()
        self._pool = ThreadPoolExecutor(max_workers=ANSWER_WORKERS, thread_name_prefix="ally-slack-answer")
        self._auth_lock = threading.Lock()
        self._auth: AuthorizeResult | None = None
        self._closed = False

        def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            return self._authorize()

        bolt_logger, sdk_logger = quiet_slack_logging()
        self.client = WebClient(base_url=settings.slack_api_url, logger=sdk_logger, timeout=15)
        self.app = App(
            name="ally",
            logger=bolt_logger,
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            authorize=authorize,
            request_verification_enabled=False,  # replaced by the quiet one below, same position
            before_authorize=QuietRequestVerification(settings.slack_signing_secret, base_logger=bolt_logger),
            listener_executor=ThreadPoolExecutor(max_workers=ACK_WORKERS, thread_name_prefix="ally-slack-ack"),
            process_before_response=False,
        )
        quiet_slack_logging()  # the loggers bolt just created get the filter too
        self.app.use(self._dedupe_events)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.command("/ally")(self._on_command)
        self.app.action(ACTION_SHARE)(self._on_share)
        self.app.action(ACTION_HELPFUL)(self._on_feedback)
        self.app.action(ACTION_NOT_HELPFUL)(self._on_feedback)

    # --- lifecycle --------------------------------------------------------------------------------

    def close(self, wait: bool = True) -> None:
        """Stop taking work; with `wait`, finish the answers already queued."""
        self._closed = True
        self._pool.shutdown(wait=wait)

    def _submit(self, fn: Callable[..., None], *args: Any) -> Future[None] | None:
        if self._closed:
            log.warning("ally-slack: work dropped: the bot is shutting down")
            return None
        return self._pool.submit(self._guarded, fn, *args)

    @staticmethod
    def _guarded(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # never let a worker die silently; never log the message text
            log.error("ally-slack: %s failed: %s at %s", fn.__name__, type(exc).__name__, _where(exc))

    # --- authorization (lazy auth.test, once) -----------------------------------------------------

    def _authorize(self) -> AuthorizeResult:
        with self._auth_lock:
            if self._auth is None:
                token = self.settings.slack_bot_token
                response = WebClient(
                    token=token, base_url=self.settings.slack_api_url, logger=self.client.logger, timeout=15
                ).auth_test()
                self._auth = AuthorizeResult.from_auth_test_response(bot_token=token, auth_test_response=response)
                log.info("ally-slack: authorized as bot user %s", self._auth.bot_user_id)
            return self._auth

    # --- global middleware: answer each event once ------------------------------------------------

    def _dedupe_events(self, req: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]) -> Any:
        if body.get("type") == "event_callback":
            event_id = body.get("event_id")
            retry = (req.headers.get("x-slack-retry-num") or ["-"])[0]
            if event_id and not self._events.first(str(event_id)):
                log.info("ally-slack: duplicate event %s skipped (retry=%s)", event_id, retry)
                return BoltResponse(status=200, body="")
        return next()

    # --- events -------------------------------------------------------------------------------------

    def _on_mention(self, body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any) -> None:
        self._take_message(body, event, client, context, kind="mention")

    def _on_message(self, body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any) -> None:
        if event.get("channel_type") != "im":
            return  # only direct messages; channels are answered on mention
        self._take_message(body, event, client, context, kind="dm")

    def _take_message(
        self, body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any, *, kind: str
    ) -> None:
        event_id = body.get("event_id", "?")
        if event.get("subtype"):
            log.info("ally-slack: %s %s ignored: subtype %s", kind, event_id, event.get("subtype"))
            return
        if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
            log.info("ally-slack: %s %s ignored: sent by a bot", kind, event_id)
            return
        bot_user_id = getattr(context, "bot_user_id", None)
        if bot_user_id and event.get("user") == bot_user_id:
            log.info("ally-slack: %s %s ignored: the bot's own message", kind, event_id)
            return
        channel = event.get("channel")
        ts = event.get("ts")
        if not channel or not ts:
            log.warning("ally-slack: %s %s ignored: no channel or ts", kind, event_id)
            return
        if not self._messages.first(f"{channel}:{ts}"):
            log.info("ally-slack: %s %s skipped: message already taken", kind, event_id)
            return
        thread_ts = event.get("thread_ts") or ts
        team_id = body.get("team_id") or event.get("team")
        user = str(event["user"])
        wait_s = self._limiter.hit(f"{team_id}:{user}")
        if wait_s is not None:
            log.info("ally-slack: %s %s rate-limited (user %s)", kind, event_id, user)
            if self._told_limited.first(f"{team_id}:{user}"):
                note = self._limit_notice(wait_s)
                self._submit(self._post, client, channel, thread_ts, note)
            return
        log.info("ally-slack: %s %s accepted (channel %s)", kind, event_id, channel)
        self._submit(
            self._answer_in_thread,
            client,
            channel,
            thread_ts,
            conversation_id_for(team_id, channel, thread_ts),
            str(event.get("text") or ""),
        )

    def _limit_notice(self, wait_s: float) -> SlackMessage:
        limit = self.settings.slack_rate_limit_per_minute
        return render_notice(
            f"You have asked {limit} questions in the last minute; please ask again in {int(wait_s) + 1} s.",
            "limit",
        )

    def _post(self, client: WebClient, channel: str, thread_ts: str, message: SlackMessage) -> None:
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )

    def _answer_in_thread(
        self, client: WebClient, channel: str, thread_ts: str, conversation_id: str, raw_text: str
    ) -> None:
        started = time.monotonic()
        try:
            question, patient = split_question(clean_message_text(raw_text))
        except InputError as exc:
            self._post(client, channel, thread_ts, render_notice(str(exc), "error"))
            return
        if not question:
            self._post(client, channel, thread_ts, render_notice(HELP_TEXT))
            return
        with self._turn_locks.get(conversation_id):  # turns of one thread in order
            # the core keeps the thread's patient with the conversation; only new facts are sent
            message = self._answer_message(question, patient or None, conversation_id)
            self._post(client, channel, thread_ts, message)
        log.info("ally-slack: answered in thread of %s in %.2f s", channel, time.monotonic() - started)

    def _answer_message(
        self,
        question: str,
        patient: dict[str, Any] | None,
        conversation_id: str | None,
        *,
        share: bool = False,
        heading: str | None = None,
    ) -> SlackMessage:
        """Ask the core and render; errors become a message that says what to do."""
        try:
            answer = self.assistant.ask(question, patient=patient, conversation_id=conversation_id)
        except InputError as exc:
            return render_notice(f"I could not use that question: {exc}", "error")
        except AllyError as exc:
            log.error("ally-slack: the assistant failed: %s", type(exc).__name__)
            return render_notice(
                f"ALLy cannot answer right now ({type(exc).__name__}); an administrator should check the store.",
                "error",
            )
        share_key = self._remember_share(answer.answer_id or uuid.uuid4().hex) if share else None
        message = render_answer(
            answer, public_base_url=self.settings.public_base_url, share_key=share_key, heading=heading
        )
        if share_key:
            self._shares.put(share_key, message)
        return message

    def _remember_share(self, answer_id: str) -> str:
        return f"share:{answer_id}"

    # --- /ally --------------------------------------------------------------------------------------

    def _on_command(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        try:
            parsed = parse_slash_command(command.get("text") or "")
        except InputError as exc:
            ack(response_type="ephemeral", **render_notice(str(exc), "error").payload())
            return
        if parsed.kind == "help":
            ack(response_type="ephemeral", **render_notice(HELP_TEXT).payload())
            return
        team_id = command.get("team_id")
        user = str(command.get("user_id") or "?")
        wait_s = self._limiter.hit(f"{team_id}:{user}")
        if wait_s is not None:
            ack(
                response_type="ephemeral",
                **self._limit_notice(wait_s).payload(),
            )
            return
        ack()
        log.info("ally-slack: /ally %s accepted (user %s)", parsed.kind, user)
        heading = command.get("text") or ""
        if parsed.kind == "pathway":
            self._submit(self._pathway_reply, respond, parsed.patient, parsed.propose, heading)
        else:
            self._submit(self._ask_reply, respond, parsed.question, parsed.patient or None, heading)

    def _ask_reply(
        self, respond: Callable[..., Any], question: str, patient: dict[str, Any] | None, heading: str
    ) -> None:
        message = self._answer_message(question, patient, None, share=True, heading=f"/ally {heading}")
        respond(response_type="ephemeral", replace_original=False, unfurl_links=False, **message.payload())

    def _pathway_reply(
        self, respond: Callable[..., Any], patient: dict[str, Any], propose: str | None, heading: str
    ) -> None:
        result_id = f"slack-pathway-{uuid.uuid4().hex}"
        try:
            result = self.assistant.pathway(patient, propose=propose, id=result_id)
        except InputError as exc:
            respond(response_type="ephemeral", **render_notice(str(exc), "error").payload())
            return
        except AllyError as exc:
            log.error("ally-slack: the pathway check failed: %s", type(exc).__name__)
            respond(
                response_type="ephemeral",
                **render_notice(f"ALLy cannot check the pathway right now ({type(exc).__name__}).", "error").payload(),
            )
            return
        share_key = self._remember_share(result_id)
        message = render_pathway(
            result,
            public_base_url=self.settings.public_base_url,
            feedback_id=None,  # feedback is stored per answer id; a pathway check is not a stored answer
            share_key=share_key,
            heading=f"/ally {heading}",
        )
        self._shares.put(share_key, message)
        respond(response_type="ephemeral", replace_original=False, **message.payload())

    # --- buttons ------------------------------------------------------------------------------------

    def _on_share(
        self,
        ack: Callable[..., None],
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Callable[..., Any],
    ) -> None:
        ack()
        key = str(action.get("value") or "")
        user = (body.get("user") or {}).get("id", "?")
        self._submit(self._share, respond, key, user)

    def _share(self, respond: Callable[..., Any], key: str, user: str) -> None:
        message = self._shares.get(key)
        if message is None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                **render_notice(
                    "This answer can no longer be shared (it is over 30 minutes old); ask again."
                ).payload(),
            )
            return
        blocks = without_share_button(message.blocks)
        shared_by = {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"Shared by <@{user}> from /ally", "verbatim": False}],
        }
        respond(
            response_type="in_channel",
            replace_original=False,
            delete_original=False,
            text=message.text,
            blocks=[shared_by, *blocks][:50],
        )
        respond(delete_original=True)
        log.info("ally-slack: answer shared in channel by %s", user)

    def _on_feedback(
        self,
        ack: Callable[..., None],
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Callable[..., Any],
    ) -> None:
        ack()
        helpful = action.get("action_id") == ACTION_HELPFUL
        answer_id = str(action.get("value") or "")
        self._submit(self._feedback, respond, answer_id, helpful)

    def _feedback(self, respond: Callable[..., Any], answer_id: str, helpful: bool) -> None:
        try:
            self.assistant.record_feedback(answer_id, helpful, source="slack")
        except (NotFoundError, InputError) as exc:
            log.info("ally-slack: feedback not stored: %s", type(exc).__name__)
            respond(
                response_type="ephemeral",
                replace_original=False,
                **render_notice(f"Your feedback could not be stored: {exc}", "error").payload(),
            )
            return
        log.info("ally-slack: feedback stored for %s (helpful=%s)", answer_id, helpful)
        respond(
            response_type="ephemeral",
            replace_original=False,
            **render_notice(
                "Thanks: recorded as helpful."
                if helpful
                else "Thanks: recorded as not helpful. Your team can review it."
            ).payload(),
        )


def build_slack_bot(settings: Settings, assistant: AssistantCore) -> SlackBot:
    """The bot with its state; `.app` is the bolt App, `.close()` stops its worker pool."""
    return SlackBot(settings, assistant)


def build_slack_app(settings: Settings, assistant: AssistantCore) -> App:
    """The slack-bolt App for ALLy (no network call until the first request)."""
    return build_slack_bot(settings, assistant).app
