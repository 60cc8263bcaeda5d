"""Embedding overlapped with reading (`ingest.background`): batches, only missing vectors, errors
reported to the pipeline, and nothing committed when the model fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ally.chunks import Chunk
from ally.settings import Settings
from ingest import background
from ingest.pipeline import ingest_paths
from ingest.progress import SilentProgress
from ingest.store import open_writer
from tests.reliability.fakes import HashEncoder

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def _chunks(n: int) -> list[Chunk]:
    return [
        Chunk(
            chunk_id=f"c{i:04d}",
            doc_id="d",
            section="S",
            text=f"text {i}",
            embed_text=f"S\ntext {i}",
            position=i,
            title="T",
        )
        for i in range(n)
    ]


class FailingEncoder(HashEncoder):
    def encode(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("the model ran out of memory")


class TestBackgroundEmbedder:
    def test_batches_are_embedded_and_written_and_counted(self, tmp_path: Path) -> None:
        enc = HashEncoder()
        with open_writer(Settings(store=tmp_path / "s")) as writer:
            embedder = background.BackgroundEmbedder(writer, lambda: enc, batch=4)
            embedder.submit(_chunks(6))
            embedder.submit(_chunks(10)[6:])
            assert embedder.finish(SilentProgress()) == 10
            assert writer.existing_vectors([f"c{i:04d}" for i in range(10)]) == {f"c{i:04d}" for i in range(10)}
        assert enc.calls == 3  # 4 + 4 + the last 2

    def test_chunks_whose_vectors_exist_are_not_embedded_again(self, tmp_path: Path) -> None:
        settings = Settings(store=tmp_path / "s")
        with open_writer(settings) as writer:
            first = background.BackgroundEmbedder(writer, HashEncoder, batch=4)
            first.submit(_chunks(5))
            assert first.finish(SilentProgress()) == 5
            loads: list[int] = []
            again = background.BackgroundEmbedder(writer, lambda: loads.append(1) or HashEncoder(), batch=4)
            again.submit(_chunks(5))
            assert again.finish(SilentProgress()) == 0
        assert loads == []  # the model is never loaded when nothing needs a vector

    def test_a_model_error_reaches_finish(self, tmp_path: Path) -> None:
        with open_writer(Settings(store=tmp_path / "s")) as writer:
            embedder = background.BackgroundEmbedder(writer, FailingEncoder, batch=2)
            embedder.submit(_chunks(5))
            with pytest.raises(RuntimeError, match="out of memory"):
                embedder.finish(SilentProgress())

    def test_nothing_submitted_starts_no_thread(self, tmp_path: Path) -> None:
        with open_writer(Settings(store=tmp_path / "s")) as writer:
            embedder = background.BackgroundEmbedder(writer, FailingEncoder)
            assert embedder.finish(SilentProgress()) == 0


def test_a_failing_model_leaves_the_committed_store_as_it_was(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(store=tmp_path / "s")
    first = ingest_paths([corpus], settings, encoder=HashEncoder())
    manifest = json.loads((settings.store / "manifest.json").read_text())
    (corpus / "extra.md").write_text("# Extra\n\nImatinib is a tyrosine kinase inhibitor used in Ph+ ALL.\n")
    with pytest.raises(RuntimeError, match="out of memory"):
        ingest_paths([corpus], settings, encoder=FailingEncoder())
    assert json.loads((settings.store / "manifest.json").read_text()) == manifest
    again = ingest_paths([corpus], settings, encoder=HashEncoder())
    assert again.added == 1 and again.chunks > first.chunks
