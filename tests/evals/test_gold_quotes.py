"""Every gold quote is verbatim in a stored chunk of the ingested corpus."""

from __future__ import annotations

import pytest

from evals.dataset import default_questions_path, load_questions

pytestmark = pytest.mark.slow


def test_every_gold_quote_is_verbatim_in_a_stored_chunk(ingested_settings) -> None:  # type: ignore[no-untyped-def]
    from ingest.store import open_reader

    with open_reader(ingested_settings) as store:
        texts = [c.text for c in store.chunks()]
    assert texts
    missing = [
        (item.id, quote)
        for item in load_questions(default_questions_path())
        for quote in item.gold_quotes
        if not any(quote in text for text in texts)
    ]
    assert missing == []
