"""The store: Chroma (vectors), lexical segments (chunk records and term counts) and the manifest,
kept consistent.

Layout of a store folder:

    manifest.json     the commit point: index settings, documents, their chunk ids, generation, segments
    segments/<name>/  one segment: the chunk records and per-chunk term counts of the documents one
                      commit added or changed (or one merge combined); immutable once written
    vectors.pending   ids of vectors written since the last commit's garbage collection
    chroma/           embedded Chroma (unless ALLY_CHROMA_URL points at a `chroma run` server)
    .lock             held by the single writer

A commit writes what changed: one segment, the manifest, and deletes the vectors it dropped.

Modules: `manifest` (the typed commit point), `segment` (one segment: build, write, map, merge),
`merge` (when segments are merged), `state` (the committed state: which segment holds each
document, the canonical chunk order), `bm25` (BM25 over the segments, scored as bm25s scores),
`records` (chunk records parsed on demand), `generation` (garbage folders and the format-1
layout), `chroma`, `files` (durable writes), `reader` (`open_reader`: the one read model, used by
the assistant) and `writer` (`open_writer`: the single writer, used only by ingest).
"""

from ingest.store.bm25 import BM25Index
from ingest.store.manifest import MANIFEST, DocumentEntry, Manifest, vocab_hash
from ingest.store.reader import StoreReader, open_reader
from ingest.store.writer import StoreWriter, open_writer

__all__ = [
    "MANIFEST",
    "BM25Index",
    "DocumentEntry",
    "Manifest",
    "StoreReader",
    "StoreWriter",
    "open_reader",
    "open_writer",
    "vocab_hash",
]
