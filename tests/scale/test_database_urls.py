"""Conversations and feedback through SQLAlchemy URLs: SQLite (one machine) and a real PostgreSQL
(several API workers), the same tests against both; and two API processes sharing one PostgreSQL
continuing one conversation."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ally.errors import InputError, NotFoundError
from ally.settings import Settings
from assistant.service import Assistant
from assistant.storage import AnswerRow, Database

from .conftest import free_port, wait_http


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path / 'db.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    db = Database(url, max_turns=3)
    yield db
    db.close()


def test_conversation_history_in_order_with_patient(database: Database) -> None:
    cid = uuid.uuid4().hex
    assert database.history(cid) == ([], {})
    database.add_turn(cid, "what is nelarabine?", "what is nelarabine?", "a1", {})
    database.add_turn(cid, "what dose?", "nelarabine what dose?", "a2", {"age": 40, "lineage": "T"})
    turns, patient = database.history(cid)
    assert [t.answer_id for t in turns] == ["a1", "a2"]
    assert turns[1].resolved == "nelarabine what dose?" and patient == {"age": 40, "lineage": "T"}


def test_turn_limit_named(database: Database) -> None:
    cid = uuid.uuid4().hex
    for i in range(3):
        database.add_turn(cid, f"q{i}", f"q{i}", f"a{i}", {})
    with pytest.raises(InputError, match="3 turns") as err:
        database.check_room(cid)
    assert err.value.field == "conversation_id"


def test_feedback_recorded_and_unknown_answer_refused(database: Database) -> None:
    answer = uuid.uuid4().hex
    database.record_answer(answer, abstained=False, corpus_version="v1")
    database.record_answer(answer, abstained=False, corpus_version="v1")  # idempotent
    database.record_feedback(answer, True, "clear", "api")
    database.record_feedback(answer, False, None, "slack")
    assert database.feedback_for(answer) == [
        {"helpful": True, "comment": "clear", "source": "api"},
        {"helpful": False, "comment": None, "source": "slack"},
    ]
    with pytest.raises(NotFoundError, match="no answer"):
        database.record_feedback("no-such-answer", True, None, "api")
    with pytest.raises(InputError, match="2000"):
        database.record_feedback(answer, True, "x" * 2001, "api")


def test_answers_finishing_together_share_one_commit_and_all_are_stored(database: Database) -> None:
    """Group commit: rows of answers that wait together go in one transaction, every id is stored
    once (a repeated id too), and each caller returns after its row is committed."""
    ids = [uuid.uuid4().hex for _ in range(23)]
    ids.append(ids[0])  # the same answer recorded twice in one batch
    queued = threading.Barrier(len(ids) + 1)

    def record(answer_id: str) -> None:
        queued.wait()
        database.record_answer(answer_id, abstained=False, corpus_version="v1")

    # the first writer waits for the lock while the others queue behind it
    with database._lock, ThreadPoolExecutor(len(ids)) as pool:
        futures = [pool.submit(record, a) for a in ids]
        queued.wait()
        time.sleep(0.3)
        database._lock.release()
        try:
            for f in futures:
                f.result(timeout=30)
        finally:
            database._lock.acquire()
    assert database._answers.stats.texts == len(ids)
    assert database._answers.stats.calls < len(ids) // 2  # batched
    with Session(database.engine) as s:
        stored = s.scalars(select(AnswerRow.answer_id).where(AnswerRow.answer_id.in_(ids))).all()
    assert sorted(stored) == sorted(set(ids))
    for answer_id in set(ids):  # committed: feedback on any of them is accepted
        database.record_feedback(answer_id, True, None, "api")


@pytest.mark.slow
def test_assistant_followup_over_postgres(ingested_settings: Settings, postgres_url: str) -> None:
    a = Assistant.open(ingested_settings.model_copy(update={"database_url": postgres_url}))
    try:
        cid = uuid.uuid4().hex
        a.ask("Tell me about nelarabine", conversation_id=cid)
        second = a.ask("what dose?", conversation_id=cid)
        assert "1500 mg/m²" in second.answer
        a.record_feedback(second.answer_id, helpful=True, comment="ok")
        assert a.db.feedback_for(second.answer_id)[0]["helpful"] is True
    finally:
        a.close()


@pytest.mark.slow
def test_two_api_processes_share_one_conversation(ingested_store: Path, postgres_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLY_")}
    env["ALLY_DATABASE_URL"] = postgres_url
    ally = str(Path(sys.executable).with_name("ally"))
    procs, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [ally, "serve", "--store", str(ingested_store), "--port", str(port), "--log-level", "warning"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            wait_http(f"{url}/readyz", 120, proc)  # listening
            wait_ready(url, proc)  # store open, model warmed
            wait_ready(url, proc)
        cid = f"shared-{uuid.uuid4().hex[:8]}"
        first = httpx.post(
            f"{urls[0]}/v1/ask", json={"question": "Tell me about nelarabine", "conversation_id": cid}, timeout=60
        )
        assert first.status_code == 200, first.text
        second = httpx.post(f"{urls[1]}/v1/ask", json={"question": "what dose?", "conversation_id": cid}, timeout=60)
        assert second.status_code == 200, second.text
        assert "1500 mg/m²" in second.json()["answer"], second.json()["answer"]
        fb = httpx.post(
            f"{urls[1]}/v1/feedback", json={"answer_id": first.json()["answer_id"], "helpful": True}, timeout=30
        )
        assert fb.status_code == 201, fb.text
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    import time

    deadline = time.monotonic() + 120
    while httpx.get(f"{url}/readyz", timeout=5).status_code != 200:
        assert proc.poll() is None, f"API process exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{url} not ready in 120 s"
        time.sleep(0.3)
