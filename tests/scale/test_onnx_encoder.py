"""The ONNX encoder: same vectors as sentence-transformers, no torch on the query path, and the
encoder choice recorded (int8 weights define another index)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ally.settings import Settings
from ingest.embed import SentenceTransformerEncoder, default_model_path, encoder_for
from ingest.onnx_encoder import usable_cores
from ingest.store import open_reader

REPO = Path(__file__).resolve().parents[2]


def test_index_config_changes_only_for_int8() -> None:
    base = Settings(encoder="torch")
    assert Settings(encoder="onnx").index_hash == base.index_hash
    assert Settings(encoder="onnx-int8").index_hash != base.index_hash
    assert Settings().encoder == "onnx"


@pytest.mark.slow
def test_onnx_vectors_match_torch_on_the_corpus(ingested_store: Path) -> None:
    with open_reader(Settings(store=ingested_store)) as reader:
        texts = [reader.chunk(record.chunk_id).embed_text for record in reader.chunks()]
    texts += ["dose of blina", "x", "What is the dose of nelarabine in T-ALL? " * 40]  # short, tiny, truncated
    reference = SentenceTransformerEncoder(default_model_path(), "all-MiniLM-L6-v2", 384).encode(texts)
    onnx = encoder_for(Settings(encoder="onnx")).encode(texts)
    assert onnx.shape == reference.shape
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert float((1 - (onnx * reference).sum(axis=1)).max()) < 1e-5
    int8 = encoder_for(Settings(encoder="onnx-int8")).encode(texts)
    assert float((int8 * reference).sum(axis=1).min()) > 0.85  # close, but not the same index


def test_the_bulk_encoder_runs_batches_side_by_side_with_the_same_vectors() -> None:
    """Ingest's encoder (`bulk`): its own single-threaded session, batches run one per core at a time,
    and the same vectors as the query encoder, in input order."""
    texts = [f"Blinatumomab {i} mcg/day for MRD-positive B-ALL in remission." * (1 + i % 7) for i in range(100)]
    query, bulk = encoder_for(Settings()), encoder_for(Settings(), bulk=True)
    assert bulk is not query and bulk is encoder_for(Settings(), bulk=True)
    assert bulk.workers == usable_cores() and encoder_for(Settings(encoder_threads=3), bulk=True).workers == 3
    assert float((1 - (query.encode(texts) * bulk.encode(texts)).sum(axis=1)).max()) < 1e-6
    assert bulk._session.get_session_options().intra_op_num_threads == 1  # type: ignore[attr-defined]
    # ingest runs small batches (`ingest_batch_size`), the query encoder batches the questions in flight
    assert (bulk.batch_size, query.batch_size) == (Settings().ingest_batch_size, Settings().embed_batch_size)  # type: ignore[attr-defined]
    assert encoder_for(Settings(ingest_batch_size=3), bulk=True).batch_size == 3  # type: ignore[attr-defined]


@pytest.mark.slow
def test_query_path_imports_no_torch(ingested_store: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from ally.settings import Settings; "
        "from assistant.service import Assistant; "
        f"a = Assistant.open(Settings(store=Path({str(ingested_store)!r}))); a.warm(); "
        "ans = a.ask('What is the dose of nelarabine?'); "
        "print(ans.abstained, [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False []", out.stdout + out.stderr


def _op_types(path: Path) -> set[str]:
    import onnx

    return {node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node}


@pytest.mark.slow
class TestExport:
    """The export recipe: attention fused by onnxruntime's optimiser, checked against torch first."""

    def test_the_export_fuses_attention_and_matches_torch(self, tmp_path: Path) -> None:
        from ingest.onnx_encoder import STALE_AFTER_S, OnnxEncoder, export_onnx

        stale = tmp_path / "minilm-0123456789ab.onnx"  # another recipe's graph, unused for over a week
        stale.write_bytes(b"old graph")
        os.utime(stale, (time.time() - STALE_AFTER_S - 60,) * 2)
        path = export_onnx(default_model_path(), tmp_path, "onnx")
        assert not stale.exists()
        ops = _op_types(path)
        assert {"Attention", "SkipLayerNormalization"} <= ops  # fused kernels, not MatMul/Softmax chains
        texts = ["MRD-positive B-ALL in first remission: blinatumomab", "x", "Ph+ ALL " * 30]
        fused = OnnxEncoder(default_model_path(), tmp_path, "all-MiniLM-L6-v2", 384).encode(texts)
        reference = SentenceTransformerEncoder(default_model_path(), "all-MiniLM-L6-v2", 384).encode(texts)
        assert float((1 - (fused * reference).sum(axis=1)).max()) < 1e-5
        assert not list(tmp_path.glob(".*onnx"))  # no temporary files left behind

    def test_a_fused_graph_that_disagrees_with_torch_is_not_kept(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import ingest.onnx_encoder as onnx_encoder

        monkeypatch.setattr(onnx_encoder, "_max_difference", lambda *a: 1.0)
        path = onnx_encoder.export_onnx(default_model_path(), tmp_path, "onnx")
        ops = _op_types(path)
        assert "Attention" not in ops and "Softmax" in ops  # the plain, unfused graph
        vectors = onnx_encoder.OnnxEncoder(default_model_path(), tmp_path, "all-MiniLM-L6-v2", 384).encode(["imatinib"])
        assert vectors.shape == (1, 384)

    def test_the_export_prints_no_third_party_warnings(self, tmp_path: Path) -> None:
        """The first run's export (float and int8) keeps torch's tracer warnings and the onnx and
        onnxruntime loggers off the terminal, even with logging configured at INFO (as `ally serve`
        does); they are logged at debug level instead, and logging is left as it was."""
        code = (
            "import logging, sys; from pathlib import Path; logging.basicConfig(level=logging.INFO); "
            "from ingest.embed import default_model_path; from ingest.onnx_encoder import export_onnx; "
            f"cache = Path({str(tmp_path)!r}); export_onnx(default_model_path(), cache, 'onnx'); "
            "export_onnx(default_model_path(), cache, 'onnx-int8'); "
            "logging.getLogger('after').info('logging still works')"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=600, check=True
        )
        assert out.stderr.strip() == "INFO:after:logging still works", out.stderr[-3000:]


@pytest.mark.slow
def test_late_chunking_pools_the_same_forward_pass(ingested_store: Path) -> None:
    """`encode_late` gives each text the vector `encode` gives it, and each unit the normalised mean
    of the token states its spans cover; a span past the token limit gets a zero row."""
    from ally.units import embed_spans, unit_parts

    with open_reader(Settings(store=ingested_store)) as reader:
        chunks = [reader.chunk(record.chunk_id) for record in reader.chunks()][:40]
    enc = encoder_for(Settings())
    texts = [c.embed_text for c in chunks]
    vectors, units = enc.encode_late(texts, [embed_spans(c, unit_parts(c)) for c in chunks])  # type: ignore[attr-defined]
    assert float((1 - (vectors * enc.encode(texts)).sum(axis=1)).max()) < 1e-5
    for c, u in zip(chunks, units, strict=True):
        assert u.shape == (len(unit_parts(c)), 384)
        assert np.allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-4)
    whole = "word " * 600
    _, (far,) = enc.encode_late([whole], [[((0, 5),), ((2900, 2905),)]])  # type: ignore[attr-defined]
    assert far[0].any() and not far[1].any()


@pytest.mark.slow
def test_answers_use_the_stored_unit_vectors(ingested_store: Path) -> None:
    """The mixed mode stores bullets and fields as encoded on their own, and an answer encodes
    only its question."""
    from ally.units import unit_parts
    from assistant.service import Assistant
    from ingest.store.units import UnitVectors

    settings = Settings(store=ingested_store)
    stored = UnitVectors.open(settings)
    enc = encoder_for(settings)
    with open_reader(settings) as reader:
        chunks = [reader.chunk(record.chunk_id) for record in reader.chunks()]
    bullets = [(c, i, p) for c in chunks for i, p in enumerate(unit_parts(c)) if p.context][:20]
    assert bullets
    want = enc.encode([p.display for _, _, p in bullets])
    got = np.stack([stored.get(c.chunk_id)[i] for c, i, _ in bullets])  # type: ignore[index]
    assert float((1 - (want * got).sum(axis=1)).max()) < 1e-3  # float16 on disk
    assistant = Assistant.open(settings)
    answer = assistant.ask("What toxicity should I watch for with inotuzumab?")
    assert not answer.abstained
    meaning = assistant.corpus.current.chooser.meaning
    assert meaning is not None and meaning.encoded_units == 0
