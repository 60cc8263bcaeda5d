"""The ONNX encoder: same vectors as sentence-transformers, no torch on the query path, and the
encoder choice recorded (int8 weights define another index)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ally.settings import Settings
from ingest.embed import SentenceTransformerEncoder, default_model_path, encoder_for

REPO = Path(__file__).resolve().parents[2]


def test_index_config_changes_only_for_int8() -> None:
    base = Settings(encoder="torch")
    assert Settings(encoder="onnx").index_hash == base.index_hash
    assert Settings(encoder="onnx-int8").index_hash != base.index_hash
    assert Settings().encoder == "onnx"


@pytest.mark.slow
def test_onnx_vectors_match_torch_on_the_corpus(ingested_store: Path) -> None:
    gen = max(ingested_store.glob("gen-*"), key=lambda p: int(p.name.split("-")[1]))
    texts = [json.loads(line)["embed_text"] for line in (gen / "chunks.jsonl").read_text().splitlines()]
    texts += ["dose of blina", "x", "What is the dose of nelarabine in T-ALL? " * 40]  # short, tiny, truncated
    reference = SentenceTransformerEncoder(default_model_path(), "all-MiniLM-L6-v2", 384).encode(texts)
    onnx = encoder_for(Settings(encoder="onnx")).encode(texts)
    assert onnx.shape == reference.shape
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert float((1 - (onnx * reference).sum(axis=1)).max()) < 1e-5
    int8 = encoder_for(Settings(encoder="onnx-int8")).encode(texts)
    assert float((int8 * reference).sum(axis=1).min()) > 0.85  # close, but not the same index


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
