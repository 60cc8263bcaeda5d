"""`python -m tests.reliability.ingest_driver CORPUS STORE [DELAY]`: the real ingest pipeline with a
slow deterministic encoder and small embedding batches, printing the phase it enters (`PHASE
embedding`, `PHASE commit`, `PHASE manifest`, `PHASE gc`), so a test can SIGKILL it inside a phase."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import ingest.background as background
import ingest.pipeline as pipeline
import ingest.store.files as files
import ingest.store.writer as writer
from ally.settings import Settings
from ingest.store.bm25 import BM25Index

from .fakes import HashEncoder


def phase(name: str) -> None:
    print(f"PHASE {name}", flush=True)


class AnnouncingEncoder(HashEncoder):
    def encode(self, texts: list[str]) -> Any:
        if self.calls == 0:
            phase("embedding")
        return super().encode(texts)


def main() -> None:
    corpus, target = Path(sys.argv[1]), Path(sys.argv[2])
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
    background.BATCH = 8  # many small batches: kills land between vector writes
    save, write, gc = BM25Index.save, files.atomic_write_text, writer.StoreWriter.collect_garbage

    def slow_save(self: Any, folder: Path) -> None:
        phase("commit")
        save(self, folder)

    def slow_write(path: Path, text: str) -> None:
        phase("manifest")
        write(path, text)

    def slow_gc(self: Any) -> int:
        phase("gc")
        return gc(self)

    BM25Index.save = slow_save  # type: ignore[method-assign]
    files.atomic_write_text = slow_write
    writer.StoreWriter.collect_garbage = slow_gc  # type: ignore[method-assign]
    report = pipeline.ingest_paths([corpus], Settings(store=target), encoder=AnnouncingEncoder(delay_per_text_s=delay))
    print(report.model_dump_json(), flush=True)


if __name__ == "__main__":
    main()
