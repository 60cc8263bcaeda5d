"""One-document updates in a large store: add, change and remove one document, seconds each, split
into the model's embedding time and the rest (discovering and hashing the corpus, reading and
chunking the changed file, the commit).

The store is a copy of the latency benchmark's store of the same size (real ingest, real Chroma,
vectors from the cache), the corpus the synthetic one it was built from; each step is
`ingest_paths` as `ally ingest CORPUS` runs it, in one process with the encoder loaded beforehand:
add a new document (a file of another seed of the generator), change one paragraph of an existing
document, remove the added document again (`--prune`), after one unmeasured small update (lazy
imports, first calls). The corpus is restored afterwards.

With `--old-tree DIR` the same steps also run on the code in DIR (the commit before segments,
unpacked with `git archive 2dd0ab0 | tar -x -C DIR`) against a copy of the store rewritten in the
layout that code reads (format 1: gen-<n>/chunks.jsonl, every commit rewrites it and rebuilds
bm25s over all chunks): the before figure, same machine, same run.

    .venv/bin/python -m benchmarks.update_bench --quick          # 300 chunks
    .venv/bin/python -m benchmarks.update_bench                  # 107,500 size (101k chunks)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import REPO, WORK, Timer, command_line, corpus, save_result

NEW_FILE = "zz-update-bench.txt"
ADDED_SENTENCE = " The update benchmark added this sentence to one paragraph."


class TimedEncoder:
    """The real encoder, timing its calls (the model's share of an update)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.seconds = 0.0
        self.texts = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        with Timer() as t:
            out = self.inner.encode(texts)
        self.seconds += t.seconds
        self.texts += len(texts)
        return np.asarray(out)


def new_document_text() -> str:
    """One document of the generator with another seed (about 40 chunks)."""
    from benchmarks.synth import generate

    folder = WORK / "update-new-doc"
    if not (folder / ".done").is_file():
        generate(folder, 40, seed=99)
        (folder / ".done").write_text("ok")
    return sorted(folder.glob("*.txt"))[0].read_text(encoding="utf-8")


def changed_text(text: str) -> str:
    """`text` with one sentence added to the paragraph nearest its middle."""
    cut = text.find("\n\n", len(text) // 2)
    cut = cut if cut > 0 else len(text.rstrip("\n"))
    return text[:cut] + ADDED_SENTENCE + text[cut:]


def measure(store: Path, folder: Path, new_text: str) -> list[dict[str, Any]]:
    """Add, change, remove one document of `folder` into `store`; the corpus is restored after."""
    import ingest.store.writer as writer_module
    from ally.settings import Settings
    from ingest.embed import encoder_for
    from ingest.pipeline import ingest_paths

    settings = Settings(store=store, encoder="onnx")
    encoder = TimedEncoder(encoder_for(settings))
    encoder.inner.encode(["warm-up"])  # the model is loaded before the clock starts
    commit_s = [0.0]
    real_commit = writer_module.StoreWriter.commit

    def timed_commit(self: Any, *args: Any, **kw: Any) -> Any:
        with Timer() as t:
            out = real_commit(self, *args, **kw)
        commit_s[0] += t.seconds
        return out

    writer_module.StoreWriter.commit = timed_commit  # type: ignore[method-assign]
    files = sorted(folder.glob("*.txt"))
    target = files[len(files) // 2]
    original = target.read_bytes()
    added = folder / NEW_FILE
    steps: list[tuple[str, Callable[[], object], bool]] = [
        ("add", lambda: added.write_text(new_text, encoding="utf-8"), False),
        ("change", lambda: target.write_text(changed_text(original.decode("utf-8")), encoding="utf-8"), False),
        ("remove", added.unlink, True),
    ]
    rows = []
    try:
        # unmeasured: one small update first, so lazy imports and first-call set-up are not counted
        warm = folder / "zz-update-bench-warm-up.txt"
        warm.write_text("Warm-up\n\nA short paragraph about induction therapy.\n", encoding="utf-8")
        ingest_paths([folder], settings, encoder=encoder)
        warm.unlink()
        ingest_paths([folder], settings, prune=True, encoder=encoder)
        for name, edit, prune in steps:
            edit()
            encoder.seconds, encoder.texts, commit_s[0] = 0.0, 0, 0.0
            with Timer() as t:
                report = ingest_paths([folder], settings, prune=prune, encoder=encoder)
            rows.append(
                {
                    "step": name,
                    "seconds": round(t.seconds, 3),
                    "embedding_s": round(encoder.seconds, 3),
                    "rest_s": round(t.seconds - encoder.seconds, 3),
                    "commit_s": round(commit_s[0], 3),
                    "embedded": report.embedded,
                    "added": report.added,
                    "updated": report.updated,
                    "removed": report.removed,
                    "chunks": report.chunks,
                }
            )
            print(rows[-1], flush=True)
    finally:
        target.write_bytes(original)
        added.unlink(missing_ok=True)
        (folder / "zz-update-bench-warm-up.txt").unlink(missing_ok=True)
    return rows


def _scratch_copy(store: Path, name: str) -> Path:
    scratch = WORK / name
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(store, scratch, ignore=shutil.ignore_patterns(".lock"))
    return scratch


def legacy_copy(store: Path) -> Path:
    """A copy of `store` in the format-1 layout (same chunks, same vectors) for the code before segments."""
    from ally.settings import Settings
    from ingest.store import MANIFEST, open_reader

    scratch = _scratch_copy(store, "update-store-old")
    with open_reader(Settings(store=store, encoder="onnx")) as reader:
        generation = reader.manifest.generation
        gen = scratch / f"gen-{generation}"
        gen.mkdir()
        with open(gen / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for chunk in reader.chunks_by_id.values():
                fh.write(json.dumps(chunk.to_json(), ensure_ascii=False) + "\n")
    raw = json.loads((scratch / MANIFEST).read_text(encoding="utf-8"))
    raw["format"] = 1
    del raw["segments"]
    (scratch / MANIFEST).write_text(json.dumps(raw, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    shutil.rmtree(scratch / "segments")
    (scratch / "vectors.pending").unlink(missing_ok=True)
    return scratch


def measure_old(tree: Path, store: Path, folder: Path, *, legacy: bool = True) -> list[dict[str, Any]]:
    """`measure` run by the code in `tree` (a subprocess with `tree` first on the path), on a copy of
    `store` in the format-1 layout (`legacy`, the code before segments) or as it is."""
    scratch = legacy_copy(store) if legacy else _scratch_copy(store, "update-store-baseline")
    snippet = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); import runpy;"
        "m = runpy.run_path(sys.argv[2]);"
        "print('ROWS ' + json.dumps(m['measure'](m['Path'](sys.argv[3]), m['Path'](sys.argv[4]), m['new_document_text']())))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    out = subprocess.run(
        [sys.executable, "-c", snippet, str(tree), __file__, str(scratch), str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
        env=env,
    )
    shutil.rmtree(scratch)
    line = next(line for line in out.stdout.splitlines() if line.startswith("ROWS "))
    return list(json.loads(line[5:]))


def main() -> None:
    parser = argparse.ArgumentParser(description="seconds to add, change, remove one document in a large store")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--chunks", type=int, default=None)
    parser.add_argument("--old-tree", type=Path, help="the code before segments (git archive of that commit)")
    parser.add_argument(
        "--baseline-tree", type=Path, help="other code that reads this store format (git archive of a commit)"
    )
    args = parser.parse_args()
    from benchmarks.latency_bench import build_store

    chunks = args.chunks or (300 if args.quick else 107500)
    store = build_store(chunks, "onnx")
    folder = corpus(chunks)
    scratch = _scratch_copy(store, "update-store")
    rows = measure(scratch, folder, new_document_text())
    shutil.rmtree(scratch)
    result: dict[str, Any] = {"segments": rows}
    if args.old_tree:
        result["before_segments"] = measure_old(args.old_tree.resolve(), store, folder)
    if args.baseline_tree:
        result["baseline"] = measure_old(args.baseline_tree.resolve(), store, folder, legacy=False)
    path = save_result(
        "update-quick" if args.quick else "update",
        {
            "benchmark": "update",
            "quick": args.quick,
            "chunks": chunks,
            "store_chunks": int((store / "bench-chunks.txt").read_text()),
            "command": command_line("benchmarks.update_bench"),
            **result,
            "repo": str(REPO),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    print(json.dumps(result, indent=1))
    print("wrote", path)


if __name__ == "__main__":
    main()
