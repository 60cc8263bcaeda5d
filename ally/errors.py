"""The ALLy error hierarchy.

Every error a user can cause carries a message that says what went wrong *and what to do about
it*. Transports map these to their own conventions in one place (CLI exit codes, HTTP 4xx).
"""

from __future__ import annotations


class AllyError(Exception):
    """Base class of every error ALLy raises on purpose."""

    exit_code: int = 1


class SettingsError(AllyError):
    """A setting has a bad value or an unknown name."""

    exit_code = 2


class InputError(AllyError):
    """The caller sent something invalid (patient record, question, batch line)."""

    exit_code = 2

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StoreError(AllyError):
    """The store is missing, corrupted, locked or was built with other settings."""

    exit_code = 3


class StoreNotFoundError(StoreError):
    """No store exists at the configured location."""


class StoreMismatchError(StoreError):
    """The store was built with other embedding or chunking settings."""


class StoreLockedError(StoreError):
    """Another process is writing to the store."""


class NotFoundError(AllyError):
    """A document, passage or conversation id that does not exist."""

    exit_code = 4


class IngestError(AllyError):
    """A source file could not be ingested (reported per file, never fatal for the run)."""
