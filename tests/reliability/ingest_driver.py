"""`python -m tests.reliability.ingest_driver CORPUS STORE [DELAY] [merge]`: the real ingest
pipeline with a slow deterministic encoder and small embedding batches, printing the phase it enters
(`PHASE embedding`, `PHASE segment`, `PHASE journal`, `PHASE manifest`, `PHASE gc`) and slowing each
step of the commit down, so a test can SIGKILL it inside a phase: between two files of a segment
being written, between the journal and the manifest, between the two halves of garbage collection.
With `merge`, segments of any size are merged by twos, so the commit's segment is a merged one."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import ingest.background as background
import ingest.pipeline as pipeline
import ingest.store.files as files
import ingest.store.generation as generation
import ingest.store.merge as merge
import ingest.store.segment as segment
import ingest.store.writer as writer
from ally.settings import Settings

from .fakes import HashEncoder

STEP_S = 0.05  # pause inside each commit step, so a kill lands between its writes


def phase(name: str) -> None:
    print(f"PHASE {name}", flush=True)


class AnnouncingEncoder(HashEncoder):
    def encode(self, texts: list[str]) -> Any:
        if self.calls == 0:
            phase("embedding")
        return super().encode(texts)


def slow_commit_steps() -> None:
    write_file, write_text = segment._write_synced, files.atomic_write_text
    journal, gc, remove = writer.StoreWriter._journal, writer.StoreWriter.collect_garbage, generation.remove_unnamed
    announced: set[str] = set()

    def once(name: str) -> None:
        if name not in announced:
            announced.add(name)
            phase(name)

    def slow_write_file(path: Path, data: bytes) -> None:  # meta.json, records.jsonl of each segment
        once("segment")
        time.sleep(STEP_S)
        write_file(path, data)

    def slow_journal(self: Any, ids: Any) -> None:
        ids = list(ids)
        if ids and self.manifest.generation and "segment" in announced:  # the commit's dropped ids
            once("journal")
            time.sleep(STEP_S)
        journal(self, ids)

    def slow_write_text(path: Path, text: str) -> None:
        if path.name == "manifest.json":
            once("manifest")
            time.sleep(STEP_S)
        write_text(path, text)

    def slow_remove(store: Path, named: list[str]) -> None:
        remove(store, named)
        time.sleep(STEP_S)  # folders removed, vectors not yet

    def slow_gc(self: Any, everything: bool = False) -> int:
        once("gc")
        return gc(self, everything)

    segment._write_synced = slow_write_file
    files.atomic_write_text = slow_write_text
    writer.StoreWriter._journal = slow_journal  # type: ignore[method-assign]
    writer.StoreWriter.collect_garbage = slow_gc  # type: ignore[method-assign]
    generation.remove_unnamed = slow_remove


def main() -> None:
    corpus, target = Path(sys.argv[1]), Path(sys.argv[2])
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
    if len(sys.argv) > 4 and sys.argv[4] == "merge":
        merge.MERGE_FACTOR = 2
        merge.Part.tier = property(lambda self: 0)  # type: ignore[assignment,method-assign]
    background.BATCH = 8  # many small batches: kills land between vector writes
    slow_commit_steps()
    report = pipeline.ingest_paths([corpus], Settings(store=target), encoder=AnnouncingEncoder(delay_per_text_s=delay))
    print(report.model_dump_json(), flush=True)


if __name__ == "__main__":
    main()
