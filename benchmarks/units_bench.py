"""What keeping unit vectors costs a store that lives for many commits: the garbage collection and
merging of unit-vector batches (`ingest.store.units.UnitVectorWriter.collect`) after a first ingest
of N chunks and after each of C one-document changes, seconds and rows rewritten, with the process's
peak RSS.

No model runs: each chunk gets 3-11 random unit vectors (the corpus's spread), the first ingest
writes them in batches of `ingest.background.BATCH` chunks as the background embedder does, and each
change replaces one document's 10 chunks (its old chunks die, its new ones arrive as one batch).
Each policy runs in its own process, so peak RSS is its own: `tiered` is the code here; `--old
COMMIT` runs the same steps on `ingest/store/units.py` as it was at COMMIT (before the tiers: a
full rewrite when batches pass 32 or dead rows 30 %), the before figure in the same run.

    .venv/bin/python -m benchmarks.units_bench --chunks 100000 --commits 40 --old 14538b2
    .venv/bin/python -m benchmarks.units_bench --chunks 2000 --commits 10     # quick
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ally.settings import Settings
from benchmarks.common import REPO, command_line, median, peak_rss_mb, percentile, save_result
from ingest.background import BATCH

DOC_CHUNKS = 10


def _module(old: str | None) -> ModuleType:
    if old is None:
        import ingest.store.units as current

        return current
    source = subprocess.run(
        ["git", "show", f"{old}:ingest/store/units.py"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "units_old.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("units_old", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["units_old"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _vectors(rng: np.random.Generator, n: int, dim: int) -> list[np.ndarray]:
    counts = rng.integers(3, 12, size=n)
    rows = rng.standard_normal((int(counts.sum()), dim)).astype(np.float16)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [rows[bounds[i] : bounds[i + 1]] for i in range(n)]


def run_policy(chunks: int, commits: int, old: str | None, store: Path) -> dict[str, Any]:
    module = _module(old)
    settings = Settings(store=store)
    rng = np.random.default_rng(11)
    writer = module.UnitVectorWriter(settings)
    written = {"rows": 0}
    plain_write = writer.write

    def counting_write(ids: list[str], vectors: list[np.ndarray]) -> None:
        written["rows"] += len(ids)
        plain_write(ids, vectors)

    writer.write = counting_write
    live: list[str] = []
    started = time.perf_counter()
    for start in range(0, chunks, BATCH):
        ids = [f"c{i}" for i in range(start, min(chunks, start + BATCH))]
        writer.write(ids, _vectors(rng, len(ids), settings.embedding_dim))
        live += ids
    write_s = time.perf_counter() - started
    first_written = written["rows"]
    t = time.perf_counter()
    writer.collect(set(live))
    first_collect_s = time.perf_counter() - t
    first_rewritten = written["rows"] - first_written
    times: list[float] = []
    rewritten: list[int] = []
    alive = set(live)
    for commit in range(commits):
        doc = int(rng.integers(0, len(live) // DOC_CHUNKS))
        for cid in live[doc * DOC_CHUNKS : (doc + 1) * DOC_CHUNKS]:
            alive.discard(cid)
        new = [f"n{commit}-{i}" for i in range(DOC_CHUNKS)]
        live[doc * DOC_CHUNKS : (doc + 1) * DOC_CHUNKS] = new
        writer.write(new, _vectors(rng, DOC_CHUNKS, settings.embedding_dim))
        alive |= set(new)
        before = written["rows"]
        t = time.perf_counter()
        writer.collect(alive)
        times.append(time.perf_counter() - t)
        rewritten.append(written["rows"] - before)
    folder = module.units_dir(settings)
    return {
        "policy": f"before ({old})" if old else "tiered",
        "first_write_s": round(write_s, 2),
        "first_collect_s": round(first_collect_s, 2),
        "first_collect_rows_rewritten": first_rewritten,
        "commit_collect_median_s": round(median(times), 4),
        "commit_collect_p95_s": round(percentile(times, 95), 4),
        "commit_collect_max_s": round(max(times, default=0.0), 3),
        "commit_rows_rewritten_total": int(sum(rewritten)),
        "commit_rows_rewritten_max": int(max(rewritten, default=0)),
        "batches_at_end": len(list(folder.glob("*.json"))),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--commits", type=int, default=40)
    parser.add_argument("--old", help="a commit whose ingest/store/units.py runs as the before figure")
    parser.add_argument("--policy-only", choices=["tiered", "old"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.policy_only:
        with tempfile.TemporaryDirectory() as tmp:
            old = args.old if args.policy_only == "old" else None
            print(json.dumps(run_policy(args.chunks, args.commits, old, Path(tmp) / "store")))
        return
    rows = []
    for policy in (["old"] if args.old else []) + ["tiered"]:
        cmd = [sys.executable, "-m", "benchmarks.units_bench", "--chunks", str(args.chunks)]
        cmd += ["--commits", str(args.commits), "--policy-only", policy] + (["--old", args.old] if args.old else [])
        out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]))
    path = save_result(
        f"units-{args.chunks}",
        {
            "command": command_line("benchmarks.units_bench"),
            "chunks": args.chunks,
            "commits": args.commits,
            "rows": rows,
        },
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
