"""Warm in-process answer latency and peak RSS by corpus size: ALLy vs LangChain, same run.

For each size a store is built by ALLy's real ingest pipeline (real Chroma, real BM25) from the
synthetic corpus; chunk vectors come from the real encoder through a cache under artifacts/bench/
so a size is embedded once per machine. Each system is then served in a fresh subprocess (so peak
RSS is the serving process's own): ALLy's `Assistant.ask` (retrieval + composition, warm), and the
plain LangChain retriever (HuggingFaceEmbeddings query + langchain-chroma top-4) over the same
chunks and vectors. Reports p50/p95 per size and the ratio.

With `--pubmed` the store is the real corpus instead (`shared/corpora/pubmed-real/`, 19,686 PubMed
articles ingested as a user would) and the questions are real ones, the expert BioASQ and PubMedQA
questions of `shared/external-dev/` (biomedical, not about these articles in particular): the costs
that grow with a real vocabulary (typo correction's lexicon, stemming unseen words) show there, not
on the synthetic corpus's few hundred words.

    .venv/bin/python -m benchmarks.latency_bench --quick           # CI: 300 chunks, 30 questions
    .venv/bin/python -m benchmarks.latency_bench --sizes 5000,20000  # full
    .venv/bin/python -m benchmarks.latency_bench --pubmed          # real PubMed, real questions
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    REPO,
    WORK,
    CachedEncoder,
    Timer,
    command_line,
    corpus,
    peak_rss_mb,
    percentile,
    save_result,
)


def build_store(chunks: int, encoder: str) -> Path:
    """ALLy's store of the synthetic corpus of `chunks` chunks."""
    return _ingest([corpus(chunks)], f"store-{chunks}-{encoder}", f"vectors-{encoder}.npz", encoder)


def build_pubmed_store(encoder: str) -> Path:
    """ALLy's store of the real PubMed corpus (every XML file, the PubMed loader)."""
    from benchmarks.pubmed import pubmed_files

    return _ingest(pubmed_files(), f"store-pubmed-{encoder}", f"vectors-pubmed-{encoder}.npz", encoder)


def _ingest(paths: list[Path], name: str, vectors: str, encoder: str) -> Path:
    """`paths` ingested by ALLy's pipeline into WORK/`name`, chunk vectors cached in WORK/`vectors`."""
    from ally.settings import Settings
    from ingest.embed import encoder_for
    from ingest.pipeline import ingest_paths

    store = WORK / name
    settings = Settings(store=store, encoder=encoder)
    cache = CachedEncoder(encoder_for(settings), WORK / vectors)
    report = ingest_paths(paths, settings, encoder=cache)
    if cache.computed:
        cache.save()
    print(f"store {store}: {report.chunks} chunks, {report.embedded} embedded now ({cache.computed} by the model)")
    (store / "bench-chunks.txt").write_text(str(report.chunks))
    return store


def bench_questions(n: int, real: bool) -> list[str]:
    """`n` questions: the synthetic corpus's, or (`real`) the external dev set's expert questions."""
    from benchmarks.synth import questions

    if not real:
        return questions(1, n)
    path = REPO.parent / "shared" / "external-dev" / "questions.jsonl"
    asked = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [asked[i % len(asked)] for i in range(n)]


def build_langchain(store: Path, encoder: str) -> Path:
    """A langchain-chroma collection holding ALLy's chunks of `store` with the cached vectors."""
    from ally.settings import Settings
    from benchmarks.common import langchain_chroma
    from ingest.store import Manifest, StoreReader

    persist = store.with_name(store.name + "-langchain")
    if (persist / ".done").is_file():
        return persist
    settings = Settings(store=store, encoder=encoder)
    reader = StoreReader(settings, Manifest.read(store))
    chunks = list(reader.chunks_by_id.values())
    by_id: dict[str, Any] = {}
    for start in range(0, len(chunks), 5000):  # SQLite caps the variables of one query
        got = reader.collection.get(ids=[c.chunk_id for c in chunks[start : start + 5000]], include=["embeddings"])
        by_id.update(zip(got["ids"], got["embeddings"], strict=True))
    vectors = np.asarray([by_id[c.chunk_id] for c in chunks], dtype=np.float32)
    db = langchain_chroma(persist, None, "bench")
    for start in range(0, len(chunks), 2000):
        part = chunks[start : start + 2000]
        db._collection.upsert(
            ids=[c.chunk_id for c in part],
            embeddings=vectors[start : start + len(part)].tolist(),
            documents=[c.text for c in part],
            metadatas=[{"doc_id": c.doc_id} for c in part],
        )
    (persist / ".done").write_text("ok")
    return persist


def serve_ally(store: str, encoder: str, n: int, real: bool) -> dict[str, Any]:
    from ally.settings import Settings
    from assistant.service import Assistant

    a = Assistant.open(Settings(store=Path(store), encoder=encoder))
    a.warm()
    qs = bench_questions(n, real)
    for q in qs[:5]:
        a.ask(q)
    times = []
    abstained = 0
    cpu = time.process_time()
    for q in qs:
        with Timer() as t:
            ans = a.ask(q)
        times.append(t.seconds * 1000)
        abstained += ans.abstained
    cpu_ms = (time.process_time() - cpu) / len(qs) * 1000
    return {"ms": times, "abstained": abstained, "rss_mb": peak_rss_mb(), "cpu_ms_per_answer": cpu_ms}


def serve_langchain(persist: str, n: int, real: bool) -> dict[str, Any]:
    from benchmarks.common import langchain_chroma, langchain_embeddings

    db = langchain_chroma(Path(persist), langchain_embeddings(), "bench")
    qs = bench_questions(n, real)
    for q in qs[:5]:
        db.similarity_search(q, k=4)
    times = []
    for q in qs:
        with Timer() as t:
            docs = db.similarity_search(q, k=4)
            _answer = docs[0].page_content if docs else ""
        times.append(t.seconds * 1000)
    return {"ms": times, "rss_mb": peak_rss_mb()}


def _subprocess(kind: str, target: str, encoder: str, n: int, real: bool) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.latency_bench",
            "--serve",
            kind,
            "--target",
            target,
            "--encoder",
            encoder,
            "--questions",
            str(n),
            *(["--pubmed"] if real else []),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="ALLy vs LangChain warm answer latency by corpus size")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default=None, help="comma-separated chunk counts (full default: 5000,20000)")
    parser.add_argument("--questions", type=int, default=None)
    parser.add_argument("--encoder", default="onnx")
    parser.add_argument("--pubmed", action="store_true", help="the real PubMed corpus and real questions")
    parser.add_argument("--serve", choices=["ally", "langchain"], help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.questions or (30 if args.quick else 200)
    if args.serve:
        if args.serve == "ally":
            fn = serve_ally(args.target, args.encoder, n, args.pubmed)
        else:
            fn = serve_langchain(args.target, n, args.pubmed)
        print(json.dumps(fn))
        return
    sizes = [int(s) for s in (args.sizes or ("300" if args.quick else "5000,20000")).split(",")]
    if args.pubmed:
        sizes = [0]  # the real corpus: its size is what ingest makes of it
    rows = []
    for size in sizes:
        store = build_pubmed_store(args.encoder) if args.pubmed else build_store(size, args.encoder)
        lc = build_langchain(store, args.encoder)
        ally = _subprocess("ally", str(store), args.encoder, n, args.pubmed)
        chain = _subprocess("langchain", str(lc), args.encoder, n, args.pubmed)
        row = {
            "corpus": "pubmed-real" if args.pubmed else "synthetic",
            "chunks": size,
            "store_chunks": int((store / "bench-chunks.txt").read_text()),
            "ally_p50_ms": round(percentile(ally["ms"], 50), 2),
            "ally_p95_ms": round(percentile(ally["ms"], 95), 2),
            "ally_rss_mb": round(ally["rss_mb"], 1),
            "ally_cpu_ms_per_answer": round(ally["cpu_ms_per_answer"], 2),
            "ally_abstained": ally["abstained"],
            "langchain_p50_ms": round(percentile(chain["ms"], 50), 2),
            "langchain_p95_ms": round(percentile(chain["ms"], 95), 2),
            "langchain_rss_mb": round(chain["rss_mb"], 1),
        }
        row["p95_ratio_ally_over_langchain"] = round(row["ally_p95_ms"] / row["langchain_p95_ms"], 2)
        rows.append(row)
        print(row)
        path = save_result(
            "latency-quick" if args.quick else ("latency-pubmed" if args.pubmed else "latency"),
            {
                "benchmark": "latency",
                "quick": args.quick,
                "questions": n,
                "encoder": args.encoder,
                "command": command_line("benchmarks.latency_bench"),
                "sizes": rows,
                "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
            },
        )
        print("wrote", path)


if __name__ == "__main__":
    main()
