"""Folders of a store's generations: the segment folders the manifest does not name are garbage, and
so are the `gen-<n>/` folders of the format-1 layout (chunks.jsonl and a bm25s index per
generation), which the writer reads once to upgrade such a store and then removes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ally.chunks import Chunk
from ally.errors import StoreError
from ingest.store.segment import segments_dir

CHUNKS_FILE = "chunks.jsonl"  # of a format-1 generation folder


def generation_dir(store: Path, generation: int) -> Path:
    """The folder of format-1 generation `generation`."""
    return store / f"gen-{generation}"


def read_chunks(chunks_file: Path, store: Path) -> dict[str, Chunk]:
    """The chunk records of one format-1 generation by id; StoreError (naming the fix) when unreadable."""
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


def legacy_chunks(store: Path, generation: int) -> dict[str, Chunk]:
    """The chunk records of a format-1 store's committed generation (empty when it has none)."""
    chunks_file = generation_dir(store, generation) / CHUNKS_FILE
    if not generation or not chunks_file.is_file():
        return {}
    return read_chunks(chunks_file, store)


def remove_unnamed(store: Path, named: list[str]) -> None:
    """Drop segment folders (finished or not) that `named` does not list, and every format-1 generation."""
    keep = set(named)
    for child in store.iterdir():
        if child.is_dir() and (child.name.startswith("gen-") or child.name.startswith(".gen-")):
            shutil.rmtree(child, ignore_errors=True)
    folder = segments_dir(store)
    if folder.is_dir():
        for child in folder.iterdir():
            if child.is_dir() and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)
