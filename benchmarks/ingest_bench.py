"""Ingest benchmark: ALLy vs the plain LangChain pipeline on the same text, in the same run, on the
synthetic corpus (`benchmarks.synth`) or on the real one (`--corpus pubmed-real`: 19,686 real PubMed
articles in PubMed XML, see `benchmarks.pubmed`).

Each system's runs go to a fresh child process (this module with `--worker`), so its peak RSS is its
own. In the child, library imports and the model load come before any timer (ALLy's one-time ONNX
export is reported separately as `model_load_s`). Measured: the first ingest (chunks/s), the
re-ingest of the unchanged corpus (ALLy embeds 0 chunks; the plain pipeline has no change
detection, so it re-embeds everything), peak RSS (VmHWM) and the store's size on disk. For ALLy
also the **encoder limit**: after the ingest, in the same process, with the same encoder (the same
ONNX session) and nothing else running, the time to encode exactly the chunk texts ALLy embedded
(their `embed_text`) in one call (the encoder sorts them by token length and runs batches of
`ingest_batch_size`), and `encoder_limit_ratio` = that time / ALLy's ingest time (1.0: ingest costs
no more than its embeddings). `--replay` also times ALLy's own encoder calls (its hand-overs) re-run the same way (`replay_s`).
`--same-texts` also times each system's encoder alone on the very same texts, LangChain's chunks
(`same_texts_s`; `encoder_speed_vs_langchain` = LangChain's time / ALLy's: above 1, ALLy's model runs
faster per text), and reports the characters each system sent to its model (`encoded_chars`: ALLy
encodes its chunks and, for the unit vectors, bullets and fields quoted with their path): together
they say how much of the chunks/s ratio is the model and how much is the text ALLy chooses to encode.
Wall and CPU seconds (the child's CPU time, all threads: steadier than wall time when other work
shares the cores) are both reported. Medians over --repeats.

    .venv/bin/python -m benchmarks.ingest_bench --quick                       # ~150 synthetic chunks
    .venv/bin/python -m benchmarks.ingest_bench                               # 1000 synthetic chunks, 2 repeats
    .venv/bin/python -m benchmarks.ingest_bench --corpus pubmed-real --quick  # one XML file (~1,100 chunks)
    .venv/bin/python -m benchmarks.ingest_bench --corpus pubmed-real --repeats 1   # all 20 files
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    REPO,
    Timer,
    command_line,
    corpus,
    corpus_files,
    langchain_chroma,
    langchain_embeddings,
    langchain_split,
    median,
    peak_rss_mb,
    save_result,
)
from benchmarks.pubmed import langchain_split_pubmed, pubmed_files


class RecordingEncoder:
    """The encoder ALLy ingests with, recording the texts of each call (for the encoder limit)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.calls: list[list[str]] = []
        self.late_calls: list[tuple[list[str], list[Any]]] = []  # late chunking: texts and unit spans

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        vectors: np.ndarray = self.inner.encode(texts)
        return vectors

    def encode_late(self, texts: list[str], spans: list[Any]) -> tuple[np.ndarray, list[np.ndarray]]:
        self.late_calls.append((list(texts), list(spans)))
        out: tuple[np.ndarray, list[np.ndarray]] = self.inner.encode_late(texts, spans)
        return out

    def limit(self) -> None:
        """The same encoder work again, all at once (one call per kind)."""
        self.inner.encode([t for call in self.calls for t in call])
        if self.late_calls:
            texts = [t for call, _ in self.late_calls for t in call]
            self.inner.encode_late(texts, [sp for _, spans in self.late_calls for sp in spans])


class CpuTimer(Timer):
    """Wall time and this process's CPU time (all threads): on a busy machine the CPU seconds are the
    steadier figure."""

    def __enter__(self) -> CpuTimer:
        self.cpu_start = time.process_time()
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.cpu_seconds = time.process_time() - self.cpu_start


def _size_mb(folder: Path) -> float:
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return round(total / 2**20, 1)


def _inputs(args: argparse.Namespace) -> list[Path]:
    if args.corpus == "pubmed-real":
        return pubmed_files(args.files)
    return [corpus(args.chunks)]


def _input_kb(inputs: list[Path]) -> float:
    files = [f for p in inputs for f in (corpus_files(p) if p.is_dir() else [p])]
    return sum(f.stat().st_size for f in files) / 1024


def _langchain_texts(inputs: list[Path], corpus_name: str) -> list[str]:
    docs = langchain_split_pubmed(inputs) if corpus_name == "pubmed-real" else langchain_split(inputs[0])
    return [d.page_content for d in docs]


def ally_run(inputs: list[Path], encoder: str, replay: bool = False, same_texts: str | None = None) -> dict[str, Any]:
    from ally.settings import Settings
    from ingest.embed import encoder_for
    from ingest.pipeline import ingest_paths

    with tempfile.TemporaryDirectory(prefix="ally-bench-") as tmp:
        settings = Settings(store=Path(tmp) / "store", encoder=encoder)
        enc = encoder_for(settings, bulk=True)  # what ingest_paths uses
        with Timer() as load:
            enc.encode(["warm-up"])  # model load (and, first time ever, the ONNX export)
        recorder = RecordingEncoder(enc)
        with CpuTimer() as first:
            r1 = ingest_paths(inputs, settings, encoder=recorder)
        calls = list(recorder.calls)
        first_work = RecordingEncoder(enc)
        first_work.calls, first_work.late_calls = list(recorder.calls), list(recorder.late_calls)
        rss = peak_rss_mb()
        store_mb = _size_mb(settings.store)
        with Timer() as again:
            r2 = ingest_paths(inputs, settings, encoder=recorder)
        with CpuTimer() as limit:  # the same session, the same texts, nothing else running
            first_work.limit()
        replay_s = None
        if replay:
            with Timer() as replayed:
                for call in calls:
                    enc.encode(call)
            replay_s = replayed.seconds
        same_texts_s = None
        if same_texts is not None:
            texts = _langchain_texts(inputs, same_texts)
            with Timer() as alone:
                enc.encode(texts)
            same_texts_s = alone.seconds
        encoded = [t for call in first_work.calls for t in call] + [
            t for call, _ in first_work.late_calls for t in call
        ]
        return {
            "chunks": r1.chunks,
            "docs": r1.added,
            "failures": len(r1.failures),
            "warnings": len(r1.warnings),
            "embedded_first": r1.embedded,
            "first_s": first.seconds,
            "first_cpu_s": first.cpu_seconds,
            "reingest_s": again.seconds,
            "reingest_embedded": r2.embedded,
            "model_load_s": load.seconds,
            "encoder_limit_cpu_s": limit.cpu_seconds,
            "encoder_limit_cpu_ratio": limit.cpu_seconds / first.cpu_seconds,
            "encoder_limit_s": limit.seconds,
            "encoder_limit_ratio": limit.seconds / first.seconds,
            "replay_s": replay_s,
            "same_texts_s": same_texts_s,
            "encoded_chars": sum(len(t) for t in encoded),
            "encode_calls": len(calls),
            "peak_rss_mb": round(rss, 1),
            "store_mb": store_mb,
        }


def langchain_run(inputs: list[Path], corpus_name: str, same_texts: bool = False) -> dict[str, Any]:
    import uuid

    import chromadb  # noqa: F401 - one-time imports are not part of the throughput
    import langchain_chroma as _langchain_chroma_package  # noqa: F401
    import langchain_text_splitters  # noqa: F401

    embeddings = langchain_embeddings()
    embeddings.embed_query("warm-up")

    def split() -> list[Any]:
        return langchain_split_pubmed(inputs) if corpus_name == "pubmed-real" else langchain_split(inputs[0])

    with tempfile.TemporaryDirectory(prefix="lc-bench-") as tmp:
        name = f"b{uuid.uuid4().hex[:8]}"
        with CpuTimer() as first:
            docs = split()
            db = langchain_chroma(Path(tmp), embeddings, name)
            db.add_documents(docs)
        rss = peak_rss_mb()
        store_mb = _size_mb(Path(tmp))
        with Timer() as again:  # the plain pipeline re-runs: split + embed + add again
            docs2 = split()
            db.add_documents(docs2)
        same_texts_s = None
        if same_texts:
            with Timer() as alone:
                embeddings.embed_documents([d.page_content for d in docs])
            same_texts_s = alone.seconds
        return {
            "chunks": len(docs),
            "embedded_first": len(docs),
            "first_s": first.seconds,
            "first_cpu_s": first.cpu_seconds,
            "reingest_s": again.seconds,
            "reingest_embedded": len(docs2),
            "same_texts_s": same_texts_s,
            "encoded_chars": sum(len(d.page_content) for d in docs),
            "peak_rss_mb": round(rss, 1),
            "store_mb": store_mb,
        }


def worker(args: argparse.Namespace) -> None:
    """One system's run in this (fresh) process; its figures as the last line of stdout."""
    inputs = _inputs(args)
    if args.worker == "langchain":
        result = langchain_run(inputs, args.corpus, args.same_texts)
    else:
        same = args.corpus if args.same_texts else None
        result = ally_run(inputs, args.worker.removeprefix("ally-"), args.replay, same)
    print(json.dumps(result))


def _child(system: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.ingest_bench", "--worker", system, "--corpus", args.corpus]
    cmd += ["--chunks", str(args.chunks)] + (["--files", str(args.files)] if args.files else [])
    cmd += ["--replay"] if args.replay else []
    cmd += ["--same-texts"] if args.same_texts else []
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{system} run failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _summary(runs: list[dict[str, Any]], size_kb: float) -> dict[str, Any]:
    first = median([r["first_s"] for r in runs])
    again = median([r["reingest_s"] for r in runs])
    s: dict[str, Any] = {
        "chunks": runs[0]["chunks"],
        "first_s": round(first, 3),
        "chunks_per_s": round(runs[0]["chunks"] / first, 2),
        "corpus_kb_per_s": round(size_kb / first, 2),
        "first_cpu_s": round(median([r["first_cpu_s"] for r in runs]), 3),
        "chunks_per_cpu_s": round(runs[0]["chunks"] / median([r["first_cpu_s"] for r in runs]), 2),
        "reingest_s": round(again, 3),
        "reingest_embedded": runs[0]["reingest_embedded"],
        "reingest_ratio": round(again / first, 4),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "store_mb": runs[0]["store_mb"],
        "encoded_chars": runs[0]["encoded_chars"],
    }
    if runs[0]["same_texts_s"] is not None:
        s["same_texts_s"] = round(median([r["same_texts_s"] for r in runs]), 3)
    if "encoder_limit_s" in runs[0]:
        s["docs"] = runs[0]["docs"]
        s["failures"] = runs[0]["failures"]
        s["encoder_limit_s"] = round(median([r["encoder_limit_s"] for r in runs]), 3)
        s["encoder_limit_ratio"] = round(median([r["encoder_limit_ratio"] for r in runs]), 3)
        s["encoder_limit_cpu_s"] = round(median([r["encoder_limit_cpu_s"] for r in runs]), 3)
        s["encoder_limit_cpu_ratio"] = round(median([r["encoder_limit_cpu_ratio"] for r in runs]), 3)
        if runs[0]["replay_s"] is not None:
            s["replay_s"] = round(median([r["replay_s"] for r in runs]), 3)
    s["runs"] = runs
    return s


def main() -> None:
    parser = argparse.ArgumentParser(description="ALLy vs LangChain ingest throughput")
    parser.add_argument("--corpus", choices=["synthetic", "pubmed-real"], default="synthetic")
    parser.add_argument("--quick", action="store_true", help="CI mode: a small corpus, one repeat")
    parser.add_argument("--chunks", type=int, default=None, help="synthetic corpus size in ALLy chunks")
    parser.add_argument("--files", type=int, default=None, help="pubmed-real: only the first N XML files")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--encoders", default="onnx", help="comma-separated ALLy encoders to measure")
    parser.add_argument("--name", default=None, help="results file name (default: from corpus and mode)")
    parser.add_argument("--replay", action="store_true", help="also time ALLy's own encoder calls re-run")
    parser.add_argument(
        "--same-texts", action="store_true", help="also time each system's encoder alone on LangChain's chunks"
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.chunks = args.chunks or (150 if args.quick else 1000)
    if args.corpus == "pubmed-real" and args.quick and not args.files:
        args.files = 1
    if args.worker:
        worker(args)
        return
    repeats = args.repeats or (1 if args.quick else 2)
    load_before = os.getloadavg()
    inputs = _inputs(args)
    size_kb = _input_kb(inputs)
    systems = [f"ally-{e}" for e in args.encoders.split(",")] + ["langchain"]
    rows: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    for _ in range(repeats):
        for system in systems:
            rows[system].append(_child(system, args))
    summary = {system: _summary(runs, size_kb) for system, runs in rows.items()}
    lc = summary["langchain"]
    for system, s in summary.items():
        if system != "langchain":
            s["chunks_per_s_vs_langchain"] = round(s["chunks_per_s"] / lc["chunks_per_s"], 2)
            s["corpus_speed_vs_langchain"] = round(lc["first_s"] / s["first_s"], 2)
            s["chunks_per_cpu_s_vs_langchain"] = round(s["chunks_per_cpu_s"] / lc["chunks_per_cpu_s"], 2)
            s["encoded_chars_vs_langchain"] = round(s["encoded_chars"] / lc["encoded_chars"], 2)
            if "same_texts_s" in s and "same_texts_s" in lc:
                s["encoder_speed_vs_langchain"] = round(lc["same_texts_s"] / s["same_texts_s"], 2)
    real = args.corpus == "pubmed-real"
    result = {
        "benchmark": "ingest",
        "corpus": args.corpus,
        "quick": args.quick,
        "corpus_chunks": args.chunks if not real else summary[systems[0]]["chunks"],
        "corpus_files": [p.name for p in inputs] if real else None,
        "corpus_kb": round(size_kb, 1),
        "repeats": repeats,
        "command": command_line("benchmarks.ingest_bench"),
        "systems": summary,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    default = "ingest" if not real else "ingest-pubmed-real"
    path = save_result(args.name or (f"{default}-quick" if args.quick else default), result)
    for system, s in summary.items():
        print(system, {k: v for k, v in s.items() if k != "runs"})
    print("wrote", path)


if __name__ == "__main__":
    main()
