"""The typed settings: env prefix, unknown keys rejected, every field described, index name from a hash."""

from __future__ import annotations

import pytest

from ally.errors import SettingsError
from ally.settings import Settings, load_settings


def test_every_field_is_described() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 10, name


def test_env_prefix_and_override(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ALLY_STORE", str(tmp_path))
    assert load_settings().store == tmp_path
    assert load_settings(store=tmp_path / "x").store == tmp_path / "x"


def test_unknown_env_key_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLY_TOPK", "3")
    with pytest.raises(SettingsError, match="ALLY_TOPK"):
        load_settings()


def test_unknown_keyword_rejected() -> None:
    with pytest.raises(SettingsError, match="colour"):
        load_settings(colour="red")


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLY_TOP_K", "2")
    with pytest.raises(SettingsError, match="ALLY_TOP_K"):
        load_settings()


def test_collection_name_follows_index_settings() -> None:
    a, b = Settings(), Settings(chunk_max_tokens=128)
    assert a.collection_name != b.collection_name
    assert a.collection_name == Settings(top_k=9).collection_name  # retrieval settings do not touch the index
