"""Ingest benchmark: ALLy vs the plain LangChain pipeline on the same synthetic corpus, same run.

Measures chunks/s of a first ingest (model load and library imports excluded for both: chromadb,
langchain and the encoders are imported before any timer starts; ALLy's one-time ONNX export is
reported separately), and the re-ingest of the unchanged corpus (ALLy embeds 0 chunks; the plain
pipeline has no change detection, so it re-embeds everything). Medians over --repeats.

    .venv/bin/python -m benchmarks.ingest_bench --quick      # CI: ~150 chunks, seconds
    .venv/bin/python -m benchmarks.ingest_bench              # full: 1000 chunks, 2 repeats
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Timer,
    command_line,
    corpus,
    langchain_chroma,
    langchain_embeddings,
    langchain_split,
    median,
    save_result,
)


def ally_run(folder: Path, encoder: str) -> dict[str, Any]:
    from ally.settings import Settings
    from ingest.embed import encoder_for
    from ingest.pipeline import ingest_paths

    with tempfile.TemporaryDirectory(prefix="ally-bench-") as tmp:
        settings = Settings(store=Path(tmp) / "store", encoder=encoder)
        enc = encoder_for(settings)
        with Timer() as load:
            enc.encode(["warm-up"])  # model load (and, first time ever, the ONNX export)
        with Timer() as first:
            r1 = ingest_paths([folder], settings)
        with Timer() as again:
            r2 = ingest_paths([folder], settings)
        assert r1.failed == 0, r1.failures
        return {
            "chunks": r1.chunks,
            "embedded_first": r1.embedded,
            "first_s": first.seconds,
            "reingest_s": again.seconds,
            "reingest_embedded": r2.embedded,
            "model_load_s": load.seconds,
        }


def langchain_run(folder: Path, embeddings: Any) -> dict[str, Any]:
    import uuid

    with tempfile.TemporaryDirectory(prefix="lc-bench-") as tmp:
        name = f"b{uuid.uuid4().hex[:8]}"
        with Timer() as first:
            docs = langchain_split(folder)
            db = langchain_chroma(Path(tmp), embeddings, name)
            db.add_documents(docs)
        with Timer() as again:  # the plain pipeline re-runs: split + embed + add again
            docs2 = langchain_split(folder)
            db.add_documents(docs2)
        return {
            "chunks": len(docs),
            "embedded_first": len(docs),
            "first_s": first.seconds,
            "reingest_s": again.seconds,
            "reingest_embedded": len(docs2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description="ALLy vs LangChain ingest throughput")
    parser.add_argument("--quick", action="store_true", help="CI mode: a tiny corpus, one repeat")
    parser.add_argument("--chunks", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--encoders", default="onnx", help="comma-separated ALLy encoders to measure")
    parser.add_argument("--name", default=None, help="results file name (default: ingest or ingest-quick)")
    args = parser.parse_args()
    chunks = args.chunks or (150 if args.quick else 1000)
    repeats = args.repeats or (1 if args.quick else 2)
    folder = corpus(chunks)
    size_kb = sum(p.stat().st_size for p in folder.glob("*.txt")) / 1024
    import chromadb  # noqa: F401 - one-time imports are not part of either system's throughput
    import langchain_chroma  # noqa: F401
    import langchain_text_splitters  # noqa: F401

    embeddings = langchain_embeddings()
    embeddings.embed_query("warm-up")
    rows: dict[str, list[dict[str, Any]]] = {f"ally-{e}": [] for e in args.encoders.split(",")}
    rows["langchain"] = []
    for _ in range(repeats):
        for e in args.encoders.split(","):
            rows[f"ally-{e}"].append(ally_run(folder, e))
        rows["langchain"].append(langchain_run(folder, embeddings))
    summary: dict[str, Any] = {}
    for system, runs in rows.items():
        first = median([r["first_s"] for r in runs])
        again = median([r["reingest_s"] for r in runs])
        summary[system] = {
            "chunks": runs[0]["chunks"],
            "first_s": round(first, 3),
            "chunks_per_s": round(runs[0]["chunks"] / first, 2),
            "corpus_kb_per_s": round(size_kb / first, 2),
            "reingest_s": round(again, 3),
            "reingest_embedded": runs[0]["reingest_embedded"],
            "reingest_ratio": round(again / first, 4),
            "runs": runs,
        }
    lc = summary["langchain"]
    for system, s in summary.items():
        if system != "langchain":
            s["chunks_per_s_vs_langchain"] = round(s["chunks_per_s"] / lc["chunks_per_s"], 2)
            s["corpus_speed_vs_langchain"] = round(lc["first_s"] / s["first_s"], 2)
    result = {
        "benchmark": "ingest",
        "quick": args.quick,
        "corpus_chunks": chunks,
        "corpus_kb": round(size_kb, 1),
        "repeats": repeats,
        "command": command_line("benchmarks.ingest_bench"),
        "systems": summary,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    path = save_result(args.name or ("ingest-quick" if args.quick else "ingest"), result)
    for system, s in summary.items():
        print(system, {k: v for k, v in s.items() if k != "runs"})
    print("wrote", path)


if __name__ == "__main__":
    main()
