"""`ally slack` runs the bot over a core that watches the store: a generation committed while the
bot runs is answered from without a restart (Socket Mode itself is replaced by a stand-in that
records what the bot's core reports, so no connection is made)."""

from __future__ import annotations

import importlib
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from ally.settings import Settings
from assistant.core import AssistantCore
from ingest.pipeline import ingest_paths
from ingest.store.manifest import Manifest

REPO = Path(__file__).resolve().parents[3]
slack_cli = importlib.import_module("assistant.cli.slack")  # the module (`assistant.cli.slack` is also the command)


def test_the_slack_bot_core_swaps_in_a_new_generation(
    ingested_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, docs = tmp_path / "store", tmp_path / "docs"
    shutil.copytree(ingested_store, store)
    shutil.copytree(REPO / "corpus", docs)
    (docs / "imaginib-note.txt").write_text(
        "Imaginib note\n\nImaginib is an investigational drug; its studied dose was 75 mg twice daily.\n",
        encoding="utf-8",
    )
    settings = Settings(store=store, store_poll_s=0.1, slack_bot_token="xoxb-test", slack_app_token="xapp-test")
    seen: dict[str, Any] = {}

    def socket_mode(settings: Settings, core: AssistantCore) -> None:  # stands in for the WebSocket loop
        before = core.corpus_status()
        ingest_paths([docs], settings)  # a commit while the bot runs
        generation = Manifest.read(settings.store).generation
        deadline = time.monotonic() + 30
        while core.corpus_status().generation != generation:
            assert time.monotonic() < deadline, core.corpus_status()
            time.sleep(0.05)
        answer = core.ask("What dose of imaginib was studied?")
        seen.update(before=before, after=core.corpus_status(), answer=answer)

    monkeypatch.setattr("assistant.slack.socket.run_socket_mode", socket_mode)
    slack_cli._run_bot(settings)
    assert seen["before"].watching and seen["after"].watching
    assert seen["after"].corpus_version != seen["before"].corpus_version
    assert seen["answer"].corpus_version == seen["after"].corpus_version and "75 mg" in seen["answer"].answer
