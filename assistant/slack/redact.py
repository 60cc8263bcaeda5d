"""Keeping Slack message text out of logs.

A question may carry a patient's name, record number or birth date, so no log line may hold
message text. Three leaks are closed here:

- slack-bolt's `RequestVerification` logs the whole request body at INFO when a signature is
  invalid: `QuietRequestVerification` replaces it and logs only that a request was rejected.
- slack-sdk and slack-bolt log request and response bodies at DEBUG: their loggers are held at
  INFO or above.
- Anything else in those libraries that would print a body or a `text` field is rewritten by
  `RedactBodies`, a filter put on every Slack logger (bolt copies its base logger's filters to the
  loggers it creates).

ALLy's own Slack code logs ids, types and timings only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

LOGGER_NAME = "assistant.slack"
BOLT_LOGGER_NAME = "assistant.slack.bolt"
SDK_LOGGER_NAME = "assistant.slack.sdk"

_MARKERS = ("body", "text", "blocks", "payload", "message", "event")
_SAFE_PREFIXES = ("ally-slack:",)  # ALLy's own lines are written to be safe


class RedactBodies(logging.Filter):
    """Rewrites any record from Slack libraries whose text could hold message content."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: drop the arguments, keep the event
            message = str(record.msg)
        if message.startswith(_SAFE_PREFIXES):
            return True
        lowered = message.lower()
        if any(marker in lowered for marker in _MARKERS) or len(message) > 300:
            record.msg = f"[{record.name}] log line withheld: it may contain Slack message content"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


_FILTER = RedactBodies()
_SLACK_LOGGERS = (
    "slack_bolt",
    "slack_sdk",
    "slack_sdk.web.base_client",
    "slack_sdk.web.client",
    "slack_sdk.webhook.client",
    "slack_sdk.socket_mode.builtin.client",
    "slack_sdk.socket_mode.builtin.connection",
    "slack_bolt.RequestVerification",
    "slack_bolt.App",
    "slack_bolt.adapter.socket_mode.builtin",
    BOLT_LOGGER_NAME,
    SDK_LOGGER_NAME,
)


def _attach(logger: logging.Logger) -> None:
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    if logger.level == logging.NOTSET or logger.level < logging.INFO:
        logger.setLevel(logging.INFO)


def quiet_slack_logging() -> tuple[logging.Logger, logging.Logger]:
    """Hold the Slack libraries' loggers at INFO with the redaction filter; return the base loggers
    to give slack-bolt (`App(logger=...)`) and slack-sdk (`WebClient(logger=...)`)."""
    for name in _SLACK_LOGGERS:
        _attach(logging.getLogger(name))
    # loggers bolt already created (slack_bolt.X) get the filter too
    for name, obj in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(obj, logging.Logger) and name.startswith(("slack_bolt", "slack_sdk")):
            _attach(obj)
    return logging.getLogger(BOLT_LOGGER_NAME), logging.getLogger(SDK_LOGGER_NAME)


class QuietRequestVerification(RequestVerification):
    """slack-bolt's signature check without the body in its log line. With no signing secret it
    rejects every HTTP request (Socket Mode requests are not signed and pass, as in bolt)."""

    def __init__(self, signing_secret: str | None, base_logger: logging.Logger | None = None) -> None:
        super().__init__(signing_secret or "", base_logger=base_logger)
        self._has_secret = bool(signing_secret)
        _attach(self.logger)

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        if not self._has_secret and not self._can_skip(req.mode, req.body):
            self.logger.warning("ally-slack: HTTP request rejected: no signing secret is configured")
            return self._build_error_response()
        return super().process(req=req, resp=resp, next=next)

    def _debug_log_error(self, signature: Any, timestamp: Any, body: Any) -> None:
        self.logger.info("ally-slack: request with an invalid signature or stale timestamp rejected (401)")
