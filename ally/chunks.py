"""The stored passage ("chunk"): the one model ingest writes and the assistant reads, and its flags.

A chunk is a piece of one document that fits the model's window: its section path (headings,
then parent bullets, joined by `PATH_SEP`), its text, the text that was embedded and BM25-indexed
(section path, or the document title, then the text), its position in the document and flags
saying how the text is laid out. It is a slotted dataclass, not a pydantic model: a reader loads
every chunk of the store at start-up (100k of them), so construction must stay cheap. The contract
models `ChunkRecord` and `Passage` (ally.schema) are produced from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ally.schema import PATH_SEP as PATH_SEP  # re-exported: the chunk model owns section paths
from ally.schema import ChunkRecord, DocumentInfo, Passage

RECORD = "record"  # flag: a drug card, first line the name, then "Field: value" lines
BULLETS = "bullets"  # flag: "- item" lines, two spaces of indentation per nesting level
LOST_LIST = "lost_list"  # flag: the source announced a list ("…:") whose items it does not hold


@dataclass(slots=True)
class Chunk:
    chunk_id: str
    doc_id: str
    section: str
    text: str
    embed_text: str
    position: int
    title: str
    flags: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Chunk:
        """A chunk from its stored record (raises TypeError on missing or unknown keys)."""
        return cls(**raw)

    def to_json(self) -> dict[str, Any]:
        """The stored record: these keys in this order (the chunk records file of a store)."""
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "section": self.section,
            "text": self.text,
            "embed_text": self.embed_text,
            "position": self.position,
            "title": self.title,
            "flags": self.flags,
        }

    def record(self) -> ChunkRecord:
        return ChunkRecord(chunk_id=self.chunk_id, doc_id=self.doc_id, section=self.section, text=self.text)

    def to_passage(self, document: DocumentInfo) -> Passage:
        """The contract's passage: this chunk with its source `document`."""
        return Passage(
            chunk_id=self.chunk_id,
            doc_id=self.doc_id,
            section=self.section,
            text=self.text,
            title=self.title,
            position=self.position,
            flags=self.flags,
            document=document,
        )
