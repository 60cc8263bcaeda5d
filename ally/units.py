"""Evidence units of a passage: its sentences, bullets and drug-card fields, with where each lies in
the passage's text. One segmentation for both sides: ingest pools each unit's token states into the
unit's vector (late chunking, `ingest.embed.embed_with_units`), the answer path scores the same units
(`assistant.answer.evidence`), so the i-th stored vector of a chunk is the i-th unit the answer path
sees. Changing this segmentation changes `UNITS_VERSION`, and a store built with another version
rebuilds its unit vectors on the next `ally ingest`.

A bullet carries its section path and parent bullets as context; a drug-card field the drug's name;
a prose sentence that leans on the one before ("The study reported …") is quoted together with it,
and its span covers both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ally.chunks import BULLETS, PATH_SEP, RECORD, Chunk
from ally.text import LEANS_BACK, split_line

UNITS_VERSION = 1  # bump when `unit_parts` splits passages differently
_BULLET = re.compile(r"^(\s*)- (.*?)\s*$")


@dataclass(frozen=True, slots=True)
class UnitPart:
    index: int  # the unit's line (bullets, fields) or sentence number within the passage
    text: str
    context: tuple[str, ...]
    kind: str  # "sentence", "bullet" or "field"
    start: int  # the unit's span in `chunk.text` (character offsets)
    end: int
    context_spans: tuple[tuple[int, int], ...] = ()  # spans in `chunk.text` of its context lines (parents, name)

    @property
    def display(self) -> str:
        return display_text(self.text, self.context, self.kind)


def display_text(text: str, context: tuple[str, ...] | list[str], kind: str) -> str:
    """A unit as it is quoted on its own: a field after its drug's name, a bullet after its path."""
    if not context:
        return text
    if kind == "field":
        return f"{context[0]} — {text}"
    return f"{PATH_SEP.join(context)}: {text}"


Spans = tuple[tuple[int, int], ...]


def embed_spans(chunk: Chunk, parts: list[UnitPart]) -> list[Spans]:
    """Where each unit is read in the chunk's embedded text (its section path or title, then its
    text): its own span and, for a bullet or a field, the spans of the context it is quoted with
    (the section path, parent bullets, the drug's name), as `UnitPart.display` quotes it."""
    shift = len(chunk.embed_text) - len(chunk.text)
    if shift < 0 or not chunk.embed_text.endswith(chunk.text):
        shift = max(chunk.embed_text.find(chunk.text), 0)
    section = ((0, len(chunk.section)),) if chunk.section and chunk.embed_text.startswith(chunk.section) else ()
    out: list[Spans] = []
    for p in parts:
        context = (section if p.kind == "bullet" else ()) + tuple((a + shift, b + shift) for a, b in p.context_spans)
        out.append(((p.start + shift, p.end + shift), *context))
    return out


def section_path(chunk: Chunk) -> list[str]:
    return [p for p in chunk.section.split(PATH_SEP) if p] if chunk.section else []


def _lines(text: str) -> list[tuple[int, str]]:
    """Each line of `text` with its offset (the lines `str.split("\\n")` gives)."""
    out: list[tuple[int, str]] = []
    start = 0
    for line in text.split("\n"):
        out.append((start, line))
        start += len(line) + 1
    return out


def unit_parts(chunk: Chunk) -> list[UnitPart]:
    """Split one passage into evidence units with their context and spans."""
    parts: list[UnitPart] = []
    path = section_path(chunk)
    lines = _lines(chunk.text)
    if RECORD in chunk.flags:
        name = lines[0][1].strip() if lines else ""
        name_span = ((lines[0][0], lines[0][0] + len(lines[0][1])),) if lines else ()
        for i, (offset, line) in enumerate(lines[1:], start=1):
            text = line.strip()
            if text:
                start = offset + line.index(text)
                parts.append(UnitPart(i, text, (name,), "field", start, start + len(text), name_span))
        return parts
    if BULLETS in chunk.flags:
        parents: list[tuple[int, str, tuple[int, int]]] = []
        for i, (offset, line) in enumerate(lines):
            m = _BULLET.match(line)
            if not m:
                continue
            depth = len(m.group(1)) // 2
            raw = m.group(2)
            text = raw.strip()
            while parents and parents[-1][0] >= depth:
                parents.pop()
            context = tuple(path + [p.rstrip(":").strip() for _, p, _ in parents])
            start = offset + m.start(2) + len(raw) - len(raw.lstrip())
            around = tuple(span for _, _, span in parents)
            parts.append(UnitPart(i, text, context, "bullet", start, start + len(text), around))
            parents.append((depth, text, (start, start + len(text))))
        return parts
    spans: list[tuple[str, int, int]] = []  # sentence, start, end
    offset = 0
    for kept in chunk.text.splitlines(keepends=True):  # the lines `split_sentences` splits
        line = kept.splitlines()[0]
        cursor = 0
        for sentence in split_line(line):
            at = line.find(sentence, cursor)
            at = cursor if at < 0 else at
            spans.append((sentence, offset + at, offset + at + len(sentence)))
            cursor = at + len(sentence)
        offset += len(kept)
    for i, (sentence, start, end) in enumerate(spans):
        text = sentence
        if i > 0 and LEANS_BACK.match(sentence):
            text = f"{spans[i - 1][0]} {sentence}"
            start = spans[i - 1][1]
        parts.append(UnitPart(i, text, (), "sentence", start, end))
    return parts
