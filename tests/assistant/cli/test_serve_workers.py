"""`ally serve --workers N`: what is refused before any worker starts, and the worker processes'
logging. The serving itself (two workers swapping generations over PostgreSQL and a Chroma
server) is tests/scale/test_live_swap.py."""

from __future__ import annotations

import logging.config
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ally.errors import SettingsError
from ally.settings import Settings
from assistant.cli import app
from assistant.cli.serve import _log_config, check_workers, served

runner = CliRunner()
PG = "postgresql+psycopg://ally@127.0.0.1:1/ally"


def test_several_workers_refuse_sqlite(ingested_store: Path) -> None:
    result = runner.invoke(app, ["serve", "--store", str(ingested_store), "--workers", "2"])
    assert result.exit_code == 2
    assert "ALLY_DATABASE_URL" in result.output and "--workers 1" in result.output
    with pytest.raises(SettingsError, match="database server"):
        check_workers(Settings(store=ingested_store, database_url="sqlite:////tmp/x.sqlite3"), 3)
    check_workers(Settings(store=ingested_store), 1)  # one worker: SQLite in the store is fine
    check_workers(Settings(store=ingested_store, database_url=PG), 4)


def test_several_workers_check_the_store_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLY_DATABASE_URL", PG)
    result = runner.invoke(app, ["serve", "--store", str(tmp_path / "none"), "--workers", "2"])
    assert result.exit_code == 3 and "ally ingest corpus --store" in result.output


@pytest.mark.parametrize(("given", "spinning"), [(None, False), ("1", True), ("0", False)])
def test_served_encoders_do_not_spin_unless_told(
    monkeypatch: pytest.MonkeyPatch, given: str | None, spinning: bool
) -> None:
    monkeypatch.setenv("ALLY_ENCODER_SPINNING", given or "")
    if given is None:
        monkeypatch.delenv("ALLY_ENCODER_SPINNING")
    assert served(Settings()).encoder_spinning is spinning
    assert Settings().encoder_spinning is (given != "0")  # elsewhere (`ally ask`, ingest): the setting's own


def test_several_workers_refuse_a_public_address_without_keys(ingested_store: Path) -> None:
    result = runner.invoke(app, ["serve", "--store", str(ingested_store), "--workers", "2", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "ALLY_API_KEYS" in result.output


def test_worker_log_config_names_the_process() -> None:
    config = _log_config("info")
    assert "%(process)d" in config["formatters"]["ally"]["format"]
    assert config["root"] == {"handlers": ["ally"], "level": "INFO"}
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        logging.config.dictConfig(config)  # valid for the standard library (what each worker applies)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.slow
def test_encoder_threads_reach_the_onnx_session() -> None:
    from ingest.embed import encoder_for

    one = encoder_for(Settings(encoder_threads=1))
    assert one is not encoder_for(Settings()), "a thread count is its own encoder"
    one.encode(["blinatumomab"])
    session = one._session  # type: ignore[attr-defined]
    assert session.get_session_options().intra_op_num_threads == 1


@pytest.mark.slow
def test_encoder_spinning_reaches_the_onnx_session() -> None:
    from ingest.embed import encoder_for

    still = encoder_for(Settings(encoder_spinning=False))
    still.encode(["blinatumomab"])
    options = still._session.get_session_options()  # type: ignore[attr-defined]
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
