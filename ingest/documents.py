"""The document model that loaders produce and the chunker consumes.

A loaded document is metadata plus a flat list of structural blocks: headings (with a level),
paragraphs, bullets (with a nesting depth) and records (a drug card: a name and labelled fields).
The chunker turns the blocks into a tree, so every bullet keeps its headings and parent bullets.
The store's manifest keeps each document's `DocMeta` as it was ingested. A `LoadResult` is what
one source file gave: its documents, and a reason for every part of it that is not one (a PubMed
article without a PMID, ...), so that nothing a user ingests vanishes without a word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "bullet", "record"]


@dataclass
class Block:
    kind: BlockKind
    text: str
    level: int = 0
    fields: list[tuple[str, str]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass
class DocMeta:
    doc_id: str
    title: str
    path: str
    content_hash: str
    publisher: str | None = None
    kind: str | None = None
    year: int | None = None
    doi: str | None = None
    published: str | None = None
    updated: str | None = None
    authors: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    source_format: str = "text"
    extra: dict[str, str] = field(default_factory=dict)
    file_hash: str | None = None  # of the source file and its sources.yaml entry; set by the pipeline
    # Derived from the text by the pipeline (ally.subjects, ally.untrusted); None: not derived yet.
    subjects: list[str] | None = None
    untrusted: list[str] = field(default_factory=list)
    # When the document first entered the store, and when its content last changed (UTC ISO 8601,
    # set by the pipeline; None in stores written before they were recorded).
    added_at: str | None = None
    updated_at: str | None = None


@dataclass
class LoadedDocument:
    meta: DocMeta
    blocks: list[Block]
    warnings: list[str] = field(default_factory=list)
    repairs: int = 0


@dataclass
class LoadResult:
    """One source file's documents, and why each part of the file that is not a document was left out
    (each reason names the part: "article 12 of 1000 (PMID 123): ...")."""

    documents: list[LoadedDocument]
    skipped: list[str] = field(default_factory=list)
