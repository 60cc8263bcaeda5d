"""Limits: body size, question length, batch size and conversation length are each refused with a
message that names the limit (and its setting), and nothing is stored: the answers and turns tables
are checked before and after."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ally.errors import InputError
from ally.settings import Settings
from assistant.api.app import create_app
from assistant.cli import app as cli_app

from .record import record

pytestmark = pytest.mark.slow
Q = "What is blinatumomab approved for?"


def counts(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as con:
        return tuple(
            con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("answers", "turns", "conversations")
        )  # type: ignore[return-value]


@pytest.fixture
def limited(ingested_settings: Settings, tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    from assistant.service import Assistant

    db = tmp_path / "limits.sqlite3"
    settings = ingested_settings.model_copy(
        update={
            "database_url": f"sqlite:///{db}",
            "max_conversation_turns": 2,
            "max_question_chars": 300,
            "max_body_bytes": 2000,
            "rate_limit_per_minute": 10_000,
        }
    )
    with Assistant.open(settings) as assistant:
        yield assistant, db


def test_http_limits_store_nothing(limited: tuple[Any, Path]) -> None:
    assistant, db = limited
    with TestClient(create_app(assistant.settings, assistant), client=("127.0.0.1", 5)) as tc:
        before = counts(db)
        big = tc.post("/v1/ask", json={"question": Q, "patient": {"age": 40}, "id": "x" * 3000})
        assert big.status_code == 413 and "ALLY_MAX_BODY_BYTES" in big.json()["detail"]
        long = tc.post("/v1/ask", json={"question": "why " * 80, "conversation_id": "c-long"})
        assert long.status_code == 422 and long.json()["field"] == "question"
        assert "ALLY_MAX_QUESTION_CHARS" in long.json()["detail"]
        chat = tc.post("/v1/chat", json={"question": "why " * 80})
        assert chat.status_code == 422 and chat.json()["field"] == "question"
        assert counts(db) == before, "a refused request must store nothing"
        for _ in range(2):
            assert tc.post("/v1/ask", json={"question": Q, "conversation_id": "c-full"}).status_code == 200
        after_two = counts(db)
        third = tc.post("/v1/ask", json={"question": "and the dose?", "conversation_id": "c-full"})
        assert third.status_code == 422 and third.json()["field"] == "conversation_id"
        assert "ALLY_MAX_CONVERSATION_TURNS" in third.json()["detail"] and "new conversation" in third.json()["detail"]
        streamed = tc.post("/v1/chat", json={"question": "and the dose?", "conversation_id": "c-full"})
        assert streamed.status_code == 422 and "ALLY_MAX_CONVERSATION_TURNS" in streamed.json()["detail"]
        assert counts(db) == after_two
        assert tc.post("/v1/ask", json={"question": Q, "conversation_id": "c-other"}).status_code == 200
    record("limits", "HTTP: body over ALLY_MAX_BODY_BYTES, question over ALLY_MAX_QUESTION_CHARS (ask, chat), "
           "turn past ALLY_MAX_CONVERSATION_TURNS (ask, chat)", 5, "413/422 naming the limit and setting; "
           "answers/turns/conversations tables unchanged", "test_limits")  # fmt: skip


def test_core_limits_store_nothing(limited: tuple[Any, Path]) -> None:
    assistant, db = limited
    before = counts(db)
    with pytest.raises(InputError, match="ALLY_MAX_QUESTION_CHARS") as exc:
        assistant.ask("x" * 301)
    assert exc.value.field == "question"
    with pytest.raises(InputError, match="1-200 characters"):
        assistant.ask(Q, conversation_id="c" * 201)
    assert counts(db) == before


def test_batch_limit(ingested_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = ingested_store / "ally.sqlite3"
    before = counts(db) if db.exists() else None
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps({"id": i, "question": Q}) + "\n" for i in range(4)))
    monkeypatch.setenv("ALLY_MAX_BATCH_LINES", "3")
    result = CliRunner().invoke(cli_app, ["ask", "--batch", str(batch), "--store", str(ingested_store), "--json"])
    assert result.exit_code == 2, result.output
    assert "more than 3 lines" in result.output and "ALLY_MAX_BATCH_LINES" in result.output
    assert '"answer"' not in result.output, "nothing is answered when the batch is refused"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": 1, "question": Q}) + "\n" + json.dumps({"id": 2, "question": "x" * 3000}) + "\n")
    monkeypatch.delenv("ALLY_MAX_BATCH_LINES")
    result = CliRunner().invoke(cli_app, ["ask", "--batch", str(bad), "--store", str(ingested_store), "--json"])
    assert result.exit_code == 2 and "ALLY_MAX_QUESTION_CHARS" in result.output, result.output
    assert '"answer"' not in result.output, "a batch is checked whole before any line is answered"
    bad.write_text(
        json.dumps({"id": 1, "question": Q})
        + "\n"
        + json.dumps({"id": 2, "question": Q, "patient": {"age": 900}})
        + "\n"
    )
    result = CliRunner().invoke(cli_app, ["ask", "--batch", str(bad), "--store", str(ingested_store), "--json"])
    assert result.exit_code == 2 and "line 2" in result.output and "age" in result.output, result.output
    assert '"answer"' not in result.output
    if before is not None:
        assert counts(db) == before
    record("limits", "CLI `ally ask --batch`: more lines than ALLY_MAX_BATCH_LINES; a line whose question is "
           "too long; a line with an out-of-range patient field", 3, "exit 2 naming the line/limit; no line answered, nothing stored", "test_limits")  # fmt: skip
