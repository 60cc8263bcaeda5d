"""The store: Chroma (vectors), a BM25 index (bm25s) and the manifest, kept consistent.

Layout of a store folder:

    manifest.json     the commit point: index settings, documents, their chunk ids, generation
    gen-<n>/          chunk records (chunks.jsonl) and the BM25 index of generation n
    chroma/           embedded Chroma (unless ALLY_CHROMA_URL points at a `chroma run` server)
    .lock             held by the single writer

Modules: `manifest` (the typed commit point), `generation` (generation folders), `bm25`,
`chroma`, `files` (durable writes), `reader` (`open_reader`: the one read model, used by the
assistant) and `writer` (`open_writer`: the single writer, used only by ingest).
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
