"""Cold-start benchmark: wall time of one answer from a fresh process, ALLy vs LangChain.

ALLy: `ally ask "…" --store STORE` as a user types it (with the ONNX encoder no torch or
sentence-transformers import happens; `ALLY_ENCODER=torch` is measured beside it; both with `--local`),
and `ally ask` while an `ally serve` of the same store runs (the question is forwarded to it). LangChain: a
fresh `python -c` that imports langchain, builds HuggingFaceEmbeddings and answers top-1 from the
persisted langchain-chroma collection of the same chunks. Median over --repeats.

    .venv/bin/python -m benchmarks.cold_bench --quick     # CI: 300 chunks, 1 repeat
    .venv/bin/python -m benchmarks.cold_bench             # full: the 5000-chunk store, 3 repeats
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, command_line, median, save_result
from benchmarks.http_bench import free_port, wait_ready
from benchmarks.latency_bench import build_langchain, build_store

QUESTION = "What is the dose of blinatumomab in Ph+ ALL?"
LANGCHAIN_SNIPPET = """
import sys
from pathlib import Path
from benchmarks.common import langchain_chroma, langchain_embeddings
db = langchain_chroma(Path(sys.argv[1]), langchain_embeddings(), "bench")
print(db.similarity_search(sys.argv[2], k=4)[0].page_content[:80])
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+sys) of one run: CPU time is what a quiet machine's wall time
    approaches, and does not grow when other jobs share the cores."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=REPO)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _runs(runs: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "median_s": round(median([w for w, _ in runs]), 3),
        "median_cpu_s": round(median([c for _, c in runs]), 3),
        "runs": [round(w, 3) for w, _ in runs],
    }


@contextmanager
def serving(ally_bin: str, store: Path, env: dict[str, str]) -> Iterator[None]:
    """A real `ally serve` of `store` on a free loopback port until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [ally_bin, "serve", "--store", str(store), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description="ALLy vs LangChain cold answer wall time")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--chunks", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    chunks = args.chunks or (300 if args.quick else 5000)
    repeats = args.repeats or (1 if args.quick else 3)
    store = build_store(chunks, "onnx")
    lc = build_langchain(store, "onnx")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLY_")}
    ally_bin = str(Path(sys.executable).with_name("ally"))
    local = [ally_bin, "ask", QUESTION, "--store", str(store), "--local"]
    systems = {
        "ally-onnx": (local, {**env, "ALLY_ENCODER": "onnx"}),
        "ally-torch": (local, {**env, "ALLY_ENCODER": "torch"}),
        "langchain": ([sys.executable, "-c", LANGCHAIN_SNIPPET, str(lc), QUESTION], env),
    }
    result: dict[str, dict[str, Any]] = {}
    for name, (cmd, e) in systems.items():
        result[name] = _runs([timed(cmd, e) for _ in range(repeats)])
    # `ally ask` while an `ally serve` of the same store runs: the question is forwarded to it
    with serving(ally_bin, store, {**env, "ALLY_ENCODER": "onnx"}):
        forwarded = [ally_bin, "ask", QUESTION, "--store", str(store)]
        timed(forwarded, {**env, "ALLY_ENCODER": "onnx"})  # unmeasured: the server's first answer warms it
        result["ally-forwarded"] = _runs([timed(forwarded, {**env, "ALLY_ENCODER": "onnx"}) for _ in range(repeats)])
    for name in ("ally-onnx", "ally-torch", "ally-forwarded"):
        result[name]["ratio_vs_langchain"] = round(result[name]["median_s"] / result["langchain"]["median_s"], 2)
    path = save_result(
        "cold-quick" if args.quick else "cold",
        {
            "benchmark": "cold",
            "quick": args.quick,
            "chunks": chunks,
            "repeats": repeats,
            "question": QUESTION,
            "command": command_line("benchmarks.cold_bench"),
            "systems": result,
            "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    print(result)
    print("wrote", path)


if __name__ == "__main__":
    main()
