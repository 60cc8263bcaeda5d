"""Generation folders: `gen-<n>/` holds the chunk records (chunks.jsonl) and the BM25 index of
generation n. A generation is written in full under `.gen-<n>.tmp/` and renamed into place before
the manifest that names it is written; folders the manifest does not name are garbage."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ally.chunks import Chunk
from ally.errors import StoreError
from ally.vocab import Vocabulary
from ingest.store.bm25 import BM25Index
from ingest.store.files import fsync_dir, write_lines_synced

CHUNKS_FILE = "chunks.jsonl"


def generation_dir(store: Path, generation: int) -> Path:
    return store / f"gen-{generation}"


def read_chunks(chunks_file: Path, store: Path) -> dict[str, Chunk]:
    """The chunk records of one generation by id; StoreError (naming the fix) when unreadable."""
    chunks: dict[str, Chunk] = {}
    try:
        with open(chunks_file, encoding="utf-8") as fh:
            for line in fh:
                raw = json.loads(line)
                chunks[raw["chunk_id"]] = Chunk.from_json(raw)
    except (ValueError, KeyError, TypeError, OSError) as exc:  # truncated or edited by hand
        raise StoreError(
            f"the store at {store} is damaged ({chunks_file} unreadable: {exc.__class__.__name__}); "
            f"move {store} aside and rebuild it with: ally ingest corpus --store {store}"
        ) from exc
    return chunks


def write_generation(store: Path, generation: int, ordered: list[Chunk], vocab: Vocabulary) -> None:
    """Write generation `generation` (chunk records in `ordered` order and their BM25 index) durably."""
    gen_dir = generation_dir(store, generation)
    tmp_dir = store / f".gen-{generation}.tmp"
    if tmp_dir.exists():
        shutil.rmtree(tmp_dir)
    if gen_dir.exists():  # left over from a run killed after writing it but before the manifest
        shutil.rmtree(gen_dir)
    tmp_dir.mkdir()
    write_lines_synced(tmp_dir / CHUNKS_FILE, (json.dumps(c.to_json(), ensure_ascii=False) + "\n" for c in ordered))
    BM25Index.build(ordered, vocab).save(tmp_dir)
    os.replace(tmp_dir, gen_dir)
    fsync_dir(store)


def remove_other_generations(store: Path, generation: int) -> None:
    """Drop every generation folder, finished or not, except that of `generation`."""
    current = generation_dir(store, generation).name
    for child in store.iterdir():
        if (
            child.is_dir()
            and (child.name.startswith("gen-") or child.name.startswith(".gen-"))
            and child.name != current
        ):
            shutil.rmtree(child, ignore_errors=True)
