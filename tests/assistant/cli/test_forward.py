"""`ally ask` forwards a single question to a running `ally serve` of the same store
(`assistant.cli.forward`): the same answer without loading the store; every doubt answers locally."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ally.settings import Settings
from assistant.cli.forward import SERVING_FILE, fingerprint, forwarded, live_server

from ..api.browser import REPO, serving_store

QUESTION = "What is the dose of nelarabine in adults?"


@pytest.fixture
def store(ingested_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(ingested_store, copy, ignore=shutil.ignore_patterns(".lock", SERVING_FILE))
    return copy


def announce(store: Path, **kw: object) -> None:
    body = {"url": "http://127.0.0.1:9", "pid": os.getpid(), "fingerprint": fingerprint(Settings(store=store))}
    body.update(kw)
    (store / SERVING_FILE).write_text(json.dumps(body))


class TestWhenNotToForward:
    def test_no_announcement(self, store: Path) -> None:
        assert live_server(Settings(store=store)) is None

    def test_a_live_announcement(self, store: Path) -> None:
        announce(store)
        assert live_server(Settings(store=store)) == "http://127.0.0.1:9"

    @pytest.mark.parametrize(
        "change",
        [{"pid": 2**22 + 12345}, {"fingerprint": "another-settings"}, {"url": "file:///etc/passwd"}, {"pid": "1"}],
    )
    def test_a_stale_or_foreign_announcement(self, store: Path, change: dict[str, object]) -> None:
        announce(store, **change)
        assert live_server(Settings(store=store)) is None

    def test_other_answer_settings_are_not_forwarded(self, store: Path) -> None:
        announce(store)
        assert live_server(Settings(store=store, top_k=9)) is None

    def test_a_damaged_announcement(self, store: Path) -> None:
        (store / SERVING_FILE).write_text("{not json")
        assert live_server(Settings(store=store)) is None

    def test_nobody_listening_answers_locally(self, store: Path) -> None:
        announce(store)  # port 9 (discard): nothing answers there
        assert forwarded(Settings(store=store), QUESTION, None, None, timeout_s=2) is None


def ask(store: Path, *args: str) -> dict[str, object]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    env.pop("ALLY_STORE", None)
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", QUESTION, "--store", str(store), "--json", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(out.stdout))


@pytest.fixture
def served(store: Path, tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "serve.log"
    with serving_store(Settings(store=store), log):
        yield log


@pytest.mark.slow
def test_a_question_goes_to_the_running_server_and_gets_the_local_answer(store: Path, served: Path) -> None:
    assert (store / SERVING_FILE).is_file()
    before = served.read_text().count("POST /v1/ask")
    sent = ask(store)
    assert served.read_text().count("POST /v1/ask") == before + 1
    local = ask(store, "--local")
    assert served.read_text().count("POST /v1/ask") == before + 1  # --local never forwards
    for key in ("answer", "abstained", "citations", "more", "corpus_version", "plain_text"):
        assert sent[key] == local[key], key
    assert sent["answer_id"] != local["answer_id"]
    assert QUESTION not in served.read_text()  # no question text in the server's log
