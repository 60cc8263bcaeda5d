"""The same ingest and query code against a `chroma run` server (ALLY_CHROMA_URL) instead of
embedded Chroma; BM25, chunk records and the manifest stay in the local store folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ally.settings import Settings
from assistant.service import Assistant
from ingest.pipeline import ingest_paths

pytestmark = pytest.mark.slow
CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def test_ingest_and_answer_against_chroma_server(tmp_path: Path, chroma_url: str) -> None:
    settings = Settings(store=tmp_path / "store", chroma_url=chroma_url)
    first = ingest_paths([CORPUS], settings)
    assert first.failed == 0 and first.added == 5 and first.embedded == first.chunks > 0
    assert not (settings.store / "chroma").exists()  # vectors live on the server
    again = ingest_paths([CORPUS], settings)
    assert again.embedded == 0 and again.skipped == 5

    import chromadb

    host, port = chroma_url.rsplit(":", 1)
    client = chromadb.HttpClient(host=host.split("//")[1], port=int(port))
    assert client.get_collection(settings.collection_name).count() == first.chunks

    with Assistant.open(settings) as a:
        a.warm()
        answer = a.ask("What is the dose of nelarabine?")
        assert not answer.abstained and answer.citations
        assert "1500 mg/m²" in answer.answer
        dense = a.retriever.dense("nelarabine dose", 5)  # the dense ranking comes from the server
        assert len(dense) == 5 and dense[0][0] in a.reader.chunks_by_id
