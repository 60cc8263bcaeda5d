"""Structure-aware chunking: blocks to a section tree to chunks that fit the model's window.

Every chunk carries its section path (headings, then parent bullets), e.g.
`Treatment > Philadelphia chromosome positive B-cell ALL > If CR after induction: check MRD status > MRD+`,
in its metadata and at the head of the text that is embedded and BM25-indexed, so a bullet such as
"Blinatumomab +/- TKI" is never found without its context. Rules:

- a bullet with children gets its own chunk under its path, unless it has at most two leaf
  children and is not a list header ("…:"), in which case they are nested inline in the parent;
- a bullet list whose lines are all such pointers to their own chunks yields no chunk of its own;
- paragraphs are one chunk each (short ones merged with the next; long ones split by sentence);
- a drug card (record) is one chunk with all its fields;
- every chunk, path prefix included, fits `chunk_max_tokens` word pieces, measured with the
  model's own tokenizer (longer input would be silently cut by the model).

Chunk id = hash of doc id + section path + whitespace-normalised text. The chunk model and its
flags are `ally.chunks` (shared with the assistant, which reads the stored chunks).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ally.chunks import BULLETS, PATH_SEP, RECORD, Chunk
from ally.text import LEANS_BACK, split_sentences
from ingest.documents import Block, LoadedDocument


@dataclass
class _Node:
    kind: str
    text: str
    level: int = 0
    block: Block | None = None
    children: list[_Node] = field(default_factory=list)


def chunk_id_for(doc_id: str, section: str, text: str) -> str:
    normalised = " ".join(text.split())
    return hashlib.sha256(f"{doc_id}\x1f{section}\x1f{normalised}".encode()).hexdigest()[:24]


def _build_tree(blocks: list[Block]) -> _Node:
    root = _Node("root", "", level=0)
    headings: list[_Node] = [root]
    bullets: list[_Node] = []
    for b in blocks:
        if b.kind == "heading":
            while len(headings) > 1 and headings[-1].level >= b.level:
                headings.pop()
            node = _Node("heading", b.text, level=b.level, block=b)
            headings[-1].children.append(node)
            headings.append(node)
            bullets = []
        elif b.kind == "bullet":
            while bullets and bullets[-1].level >= b.level:
                bullets.pop()
            node = _Node("bullet", b.text, level=b.level, block=b)
            (bullets[-1] if bullets else headings[-1]).children.append(node)
            bullets.append(node)
        else:
            headings[-1].children.append(_Node(b.kind, b.text, block=b))
            bullets = []
    return root


def _path_label(text: str) -> str:
    return text.rstrip(":").strip()


_BRANCH_RE = re.compile(r"^(MRD\s*[+-]|MRD-(positive|negative)|If\b|When\b|For\b)", re.I)


def _inline(node: _Node) -> bool:
    """A bullet whose few leaf children read as details of it: nest them, no chunk of their own.

    List headers ("…:") and branch labels ("MRD+", "If CR …") always get their own chunk, so the
    options under them carry the branch in their section path.
    """
    text = node.text.strip()
    return (
        bool(node.children)
        and len(node.children) <= 2
        and all(not c.children for c in node.children)
        and not text.endswith(":")
        and len(text.split()) > 1
        and not _BRANCH_RE.match(text)
    )


class Chunker:
    """Turns a LoadedDocument into Chunks within the token budget."""

    def __init__(self, count_tokens: Callable[[str], int], max_tokens: int, prose_tokens: int | None = None) -> None:
        self._count_tokens = count_tokens
        self._counts: dict[str, int] = {}
        self.max_tokens = max_tokens
        self.prose_tokens = min(prose_tokens or max_tokens, max_tokens)

    def count(self, text: str) -> int:
        """Word pieces of `text`, remembered for the current document (the same texts are measured
        several times while windows grow and chunks are emitted; tokenising is most of chunking)."""
        n = self._counts.get(text)
        if n is None:
            n = self._counts[text] = self._count_tokens(text)
        return n

    def chunk(self, doc: LoadedDocument) -> list[Chunk]:
        self._doc = doc
        self._out: list[Chunk] = []
        self._seen: set[str] = set()
        self._counts.clear()
        root = _build_tree(doc.blocks)
        self._section(root, [])
        return self._out

    # --- emission ---------------------------------------------------------------------------
    def _embed_text(self, section: str, text: str) -> str:
        return f"{section or self._doc.meta.title}\n{text}"

    def _fits(self, section: str, text: str) -> bool:
        return self.count(self._embed_text(section, text)) <= self.max_tokens

    def _emit(self, path: list[str], text: str, flags: list[str]) -> None:
        section = PATH_SEP.join(path)
        text = text.strip()
        if not text:
            return
        if not self._fits(section, text):
            for piece in self._split(section, text):
                self._emit_one(section, piece, flags)
            return
        self._emit_one(section, text, flags)

    def _emit_one(self, section: str, text: str, flags: list[str]) -> None:
        cid = chunk_id_for(self._doc.meta.doc_id, section, text)
        if cid in self._seen:
            return
        self._seen.add(cid)
        meta = self._doc.meta
        embed = self._embed_text(section, text)
        self._out.append(Chunk(cid, meta.doc_id, section, text, embed, len(self._out), meta.title, sorted(set(flags))))

    def _split(self, section: str, text: str) -> list[str]:
        """Split text over the budget: by lines first, then sentences, then words."""
        units: list[str] = text.split("\n") if "\n" in text else split_sentences(text)
        joiner = "\n" if "\n" in text else " "
        if len(units) == 1:
            units = text.split(" ")
            joiner = " "
        pieces: list[str] = []
        current: list[str] = []
        for unit in units:
            candidate = joiner.join([*current, unit])
            if current and not self._fits(section, candidate):
                pieces.append(joiner.join(current))
                current = [unit]
            else:
                current.append(unit)
        if current:
            pieces.append(joiner.join(current))
        out: list[str] = []
        for p in pieces:
            if self._fits(section, p) or p == text:
                out.append(p)
            else:
                out.extend(self._split(section, p))
        return out

    def _section(self, node: _Node, path: list[str]) -> None:
        prose: list[_Node] = []
        bullets: list[_Node] = []

        def flush_prose() -> None:
            self._prose(prose, path)
            prose.clear()

        def flush_bullets() -> None:
            self._bullets(bullets, path)
            bullets.clear()

        for child in node.children:
            if child.kind == "paragraph":
                flush_bullets()
                prose.append(child)
            elif child.kind == "bullet":
                flush_prose()
                bullets.append(child)
            elif child.kind == "record":
                flush_prose()
                flush_bullets()
                self._record(child, path)
            else:  # heading
                flush_prose()
                flush_bullets()
                self._section(child, [*path, _path_label(child.text)])
        flush_prose()
        flush_bullets()

    def _prose(self, paragraphs: list[_Node], path: list[str]) -> None:
        """Paragraphs in order; short ones share a chunk, long ones are split between sentences into
        pieces of about `prose_tokens` (one topic per passage retrieves better than a long mix)."""
        buffer: list[str] = []
        flags: list[str] = []
        for p in paragraphs:
            assert p.block is not None
            if self.count(p.text) > self.prose_tokens:
                if buffer:
                    self._emit(path, "\n".join(buffer), flags)
                    buffer, flags = [], []
                for piece in self._sentence_windows(p.text):
                    self._emit(path, piece, list(p.block.flags))
                continue
            candidate = "\n".join([*buffer, p.text])
            if buffer and self.count(candidate) > self.prose_tokens:
                self._emit(path, "\n".join(buffer), flags)
                buffer, flags = [], []
            buffer.append(p.text)
            flags.extend(p.block.flags)
            if self.count(p.text) >= 60:  # a substantial paragraph stands alone
                self._emit(path, "\n".join(buffer), flags)
                buffer, flags = [], []
        if buffer:
            self._emit(path, "\n".join(buffer), flags)

    def _sentence_windows(self, text: str) -> list[str]:
        """Sentence windows of about `prose_tokens`; a window whose first sentence leans on the one
        before ("In most cases, …", "These findings …") starts with that sentence too."""
        sentences = split_sentences(text)
        pieces: list[str] = []
        current: list[str] = []
        for sentence in sentences:
            if current and self.count(" ".join([*current, sentence])) > self.prose_tokens:
                pieces.append(" ".join(current))
                current = [current[-1]] if LEANS_BACK.match(sentence) else []
            current.append(sentence)
        if current:
            # A short tail joins the piece before it rather than standing alone.
            if pieces and self.count(" ".join(current)) < 25 and self._fits("", f"{pieces[-1]} {' '.join(current)}"):
                pieces[-1] = f"{pieces[-1]} {' '.join(current)}"
            else:
                pieces.append(" ".join(current))
        return pieces

    def _record(self, node: _Node, path: list[str]) -> None:
        assert node.block is not None
        lines = [node.text] + [f"{name}: {value}" for name, value in node.block.fields if value.strip()]
        self._emit([*path, _path_label(node.text)], "\n".join(lines), [*node.block.flags, RECORD])

    def _bullets(self, nodes: list[_Node], path: list[str]) -> None:
        if not nodes:
            return
        lines: list[str] = []
        flags: list[str] = []
        pointer_only = True
        deferred: list[_Node] = []
        for n in nodes:
            lines.append(f"- {n.text}")
            if n.block:
                flags.extend(n.block.flags)
            if not n.children:
                pointer_only = False
            elif _inline(n):
                pointer_only = False
                lines.extend(f"  - {c.text}" for c in n.children)
            else:
                deferred.append(n)
        if not pointer_only:
            self._emit(path, "\n".join(lines), [*flags, BULLETS])
        for n in deferred:
            self._bullets(n.children, [*path, _path_label(n.text)])
