"""Reading what people type to ALLy in Slack (pure): mention text, `key=value` patient facts and the
`/ally` slash command.

`/ally <question>` asks; `/ally pathway age=70 lineage=B ph=negative phase=diagnosis fit=false
[propose=…]` checks a patient against the pathway. In mentions and direct messages, `key=value`
words naming a patient field (for example `age=70 mrd=positive`) set the thread's patient.
Values are validated by `ally.schema.parse_patient`, so a bad one is an `InputError` naming the field.
"""

from __future__ import annotations

import html
import re
import shlex
from typing import Any, Literal

from pydantic import BaseModel, Field

from ally.errors import InputError
from ally.schema import Patient, parse_patient

PATIENT_FIELDS: frozenset[str] = frozenset(Patient.model_fields)
_BOOL_FIELDS = frozenset(
    name for name, f in Patient.model_fields.items() if f.annotation is not None and "bool" in str(f.annotation)
)
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}

_USER_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_SPECIAL_MENTION = re.compile(r"<!(?:[^>|]*)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]*)(?:\|([^>]*))?>")
_KEY_VALUE = re.compile(r"(?<![\w=])([A-Za-z_][A-Za-z0-9_]*)=(\S+)")

HELP_TEXT = (
    "Ask ALLy about acute lymphoblastic leukemia; every answer cites its sources.\n"
    "• `/ally <question>`: a private answer you can share in the channel.\n"
    "• `/ally pathway age=70 lineage=B ph=negative phase=diagnosis fit=false [propose=<therapy>]`: "
    "where a patient sits on the pathway, and whether a proposed therapy is on it.\n"
    "• Mention @ALLy in a channel or send a direct message; replies come in the thread, and the "
    "thread keeps its context. Add patient facts as `key=value` (for example `age=70 mrd=positive`).\n"
    "Patient fields: " + ", ".join(sorted(PATIENT_FIELDS)) + "."
)


def clean_message_text(text: str) -> str:
    """Slack message markup to plain text: user and special mentions removed, channel names and
    link labels kept, entities unescaped, whitespace collapsed."""
    text = _USER_MENTION.sub(" ", text)
    text = _SPECIAL_MENTION.sub(lambda m: " ", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else " ", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = html.unescape(text)
    return re.sub(r"\s+", " ", text).strip()


def _coerce(field: str, value: str) -> Any:
    if field in _BOOL_FIELDS:
        low = value.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise InputError(f"patient: field '{field}' takes true or false, not '{value}'", field=field)
    if field == "lineage":
        return value.upper()
    if field == "response":
        return "CR" if value.lower() == "cr" else ("no_CR" if value.lower() in {"no_cr", "nocr"} else value)
    if field in {"ph", "phase", "mrd"}:
        return value.lower()
    return value  # numbers stay strings: pydantic validates and converts them


def patient_from_pairs(pairs: dict[str, str]) -> dict[str, Any]:
    """Validate `field=value` pairs as a patient record; returns the set fields (InputError if bad)."""
    unknown = sorted(k for k in pairs if k not in PATIENT_FIELDS)
    if unknown:
        raise InputError(
            f"patient: unknown field '{unknown[0]}'; known fields are " + ", ".join(sorted(PATIENT_FIELDS)),
            field=unknown[0],
        )
    raw = {k: _coerce(k, v) for k, v in pairs.items()}
    return parse_patient(raw).known()


def split_question(text: str) -> tuple[str, dict[str, Any]]:
    """A mention's or DM's cleaned text split into the question and the patient facts it states as
    `field=value` words (only words naming a patient field are taken; InputError if a value is bad)."""
    pairs: dict[str, str] = {}

    def take(m: re.Match[str]) -> str:
        key = m.group(1).lower()
        if key in PATIENT_FIELDS:
            pairs[key] = m.group(2).rstrip(".,;")
            return " "
        return m.group(0)

    question = re.sub(r"\s+", " ", _KEY_VALUE.sub(take, text)).strip()
    return question, patient_from_pairs(pairs) if pairs else {}


class SlashCommand(BaseModel):
    """What one `/ally` invocation asks for."""

    kind: Literal["help", "ask", "pathway"]
    question: str = ""
    patient: dict[str, Any] = Field(default_factory=dict)
    propose: str | None = None


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # unbalanced quotes: fall back to plain words
        return text.split()


def parse_pathway_args(text: str) -> tuple[dict[str, Any], str | None]:
    """`age=70 lineage=B ... [propose=…]` to (validated patient, proposed therapy or None).

    The proposed therapy may be several words (`propose=inotuzumab ozogamicin` or quoted); every
    other word must be `field=value`."""
    pairs: dict[str, str] = {}
    propose_words: list[str] = []
    in_propose = False
    for word in _words(text):
        key, sep, value = word.partition("=")
        if sep and key:
            key = key.lower()
            in_propose = key == "propose"
            if in_propose:
                if value:
                    propose_words.append(value)
                continue
            if key in pairs:
                raise InputError(f"patient: field '{key}' given twice", field=key)
            if not value:
                raise InputError(f"patient: field '{key}' has no value; write {key}=VALUE", field=key)
            pairs[key] = value
        elif in_propose:
            propose_words.append(word)
        else:
            raise InputError(
                f"unexpected word '{word}': write patient facts as field=value, for example age=70 lineage=B",
                field="patient",
            )
    propose = " ".join(propose_words).strip() or None
    if not pairs:
        raise InputError(
            "pathway: give the patient as field=value words, for example "
            "`/ally pathway age=70 lineage=B ph=negative phase=diagnosis fit=false`",
            field="patient",
        )
    return patient_from_pairs(pairs), propose


def parse_slash_command(text: str) -> SlashCommand:
    """Parse the text after `/ally` (Slack sends it with its own markup; it is cleaned first)."""
    cleaned = clean_message_text(text or "")
    if not cleaned or cleaned.lower() in {"help", "-h", "--help", "?"}:
        return SlashCommand(kind="help")
    first, _, rest = cleaned.partition(" ")
    if first.lower() == "pathway":
        patient, propose = parse_pathway_args(rest)
        return SlashCommand(kind="pathway", patient=patient, propose=propose)
    question, patient = split_question(cleaned)
    if not question:
        raise InputError("ask a question after /ally, for example `/ally What is MRD?`", field="question")
    return SlashCommand(kind="ask", question=question, patient=patient)
