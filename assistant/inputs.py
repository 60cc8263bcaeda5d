"""Input limits, checked in one place for every transport: the question and the conversation id.

The core calls these on every answer; transports call them too where they must refuse early (a
batch file validated line by line before anything runs, an HTTP body before it is queued). Each
error names the field and the setting that bounds it.
"""

from __future__ import annotations

from typing import Any

from ally.errors import InputError

MAX_CONVERSATION_ID_CHARS = 200


def validate_question(question: Any, max_chars: int, where: str = "") -> str:
    """The question, stripped; InputError naming the field when it is empty or too long.

    `where` prefixes the message (for example "--batch q.jsonl: line 3: ").
    """
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where}question: must be a non-empty string", field="question")
    if len(question) > max_chars:
        raise InputError(
            f"{where}question: longer than {max_chars} characters (setting ALLY_MAX_QUESTION_CHARS); "
            f"it has {len(question)}, shorten it",
            field="question",
        )
    return question.strip()


def validate_conversation_id(conversation_id: Any) -> str:
    """A conversation id of 1-200 characters."""
    if (
        not isinstance(conversation_id, str)
        or not conversation_id.strip()
        or len(conversation_id) > MAX_CONVERSATION_ID_CHARS
    ):
        raise InputError(f"conversation_id: must be 1-{MAX_CONVERSATION_ID_CHARS} characters", field="conversation_id")
    return conversation_id
