"""Shared pieces of the benchmarks: timing helpers, results files, the plain LangChain pipeline, and
an embedding cache so large stores are embedded by the real model only once per machine.

The LangChain pipeline is the one the eval harness compares against (evals/baselines.py): raw files,
RecursiveCharacterTextSplitter(1000/200), HuggingFaceEmbeddings loaded BY PATH from the packaged
all-MiniLM-L6-v2 weights, a langchain-chroma collection (telemetry off).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ally.runtime import enforce_offline

enforce_offline()

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "artifacts" / "bench"  # generated corpora, stores, caches and results (outside git)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss it is not inherited from the parent across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def command_line(module: str) -> str:
    return " ".join([".venv/bin/python -m", module, *sys.argv[1:]])


def save_result(name: str, data: dict[str, Any]) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{name}.json"
    path.write_text(json.dumps({**data, "machine": machine()}, indent=1), encoding="utf-8")
    return path


def corpus(chunks: int, seed: int = 8) -> Path:
    """The synthetic corpus of about `chunks` ALLy chunks (generated once, deterministic)."""
    from benchmarks.synth import generate

    folder = WORK / f"corpus-{chunks}"
    done = folder / ".done"
    if not done.is_file():
        n = generate(folder, chunks, seed)
        done.write_text(str(n), encoding="utf-8")
    return folder


def corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.txt"))


def langchain_embeddings() -> Any:
    from langchain_huggingface import HuggingFaceEmbeddings

    from evals.baselines import packaged_model_dir

    return HuggingFaceEmbeddings(model_name=str(packaged_model_dir()), model_kwargs={"device": "cpu"})


def langchain_split(folder: Path) -> list[Any]:
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    docs = [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name}) for p in corpus_files(folder)
    ]
    return splitter.split_documents(docs)


def langchain_chroma(persist: Path, embeddings: Any, name: str = "bench") -> Any:
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    return Chroma(
        collection_name=name,
        embedding_function=embeddings,
        persist_directory=str(persist),
        client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True, persist_directory=str(persist)),
    )


class CachedEncoder:
    """The real encoder behind a text-hash -> vector cache (an .npz under artifacts/bench/)."""

    def __init__(self, inner: Any, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.path = path
        self.cache: dict[str, np.ndarray] = {}
        if path.is_file():
            data = np.load(path)
            self.cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.computed = 0

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self.cache]
        if missing:
            vectors = self.inner.encode([texts[i] for i in missing])
            for i, v in zip(missing, vectors, strict=True):
                self.cache[keys[i]] = v
            self.computed += len(missing)
        return (
            np.stack([self.cache[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, self.dim), np.float32)
        )

    def encode_late(self, texts: list[str], spans: list[Any]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Late chunking (unit vectors from the chunk's own forward pass) runs the model every time."""
        self.computed += len(texts)
        out: tuple[np.ndarray, list[np.ndarray]] = self.inner.encode_late(texts, spans)
        return out

    def save(self) -> None:
        if not self.cache:  # late chunking ran the model itself: nothing to keep
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.cache)
        tmp = self.path.with_name(self.path.stem + ".tmp.npz")
        np.savez(tmp, keys=np.asarray(keys), vectors=np.stack([self.cache[k] for k in keys]))
        os.replace(tmp, self.path)


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
