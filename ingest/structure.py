"""Structure parsing: cleaned lines (plain text or Markdown) to headings, paragraphs, bullets and
drug-card records; plus detection of list headers whose items were lost.

Plain text has no markup, so headings are recognised by shape: a short line without closing
punctuation followed by body text, or a "Label:" line followed by bullets. Bullets ("•", "-", "*")
nest by indentation. A drug card is a name line followed by "FDA Approved <year>" and labelled
fields ("Dosing Schedule", …); each card becomes one record with all of its fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ally.chunks import LOST_LIST
from ally.text import split_sentences
from ingest.documents import Block

_BULLET_RE = re.compile(r"^(\s*)(?:[•·▪◦‣]|[-*+](?=\s))\s*(.*)$")
_NUMBERED_RE = re.compile(r"^(\s*)\d{1,2}[.)]\s+(.*)$")
_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_CARD_START_RE = re.compile(r"^FDA Approved \d{4}\b")
CARD_FIELDS = (
    "Approved Indications (US/FDA)",
    "Approved Indications",
    "Dosing Schedule",
    "Cycle Length",
    "Combination Therapy",
    "Manufacturer",
    "Approval Year",
    "Pivotal Trial",
    "Key Publication",
    "Boxed Warning",
    "Mechanism",
)
_TERMINAL = (".", "?", "!", ";", ",")


def _words(s: str) -> int:
    return len(s.split())


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    s = line.strip()
    if not s or len(s) > 100 or _words(s) > 14 or s.endswith((*_TERMINAL, ":")):
        return False
    if not (s[0].isupper() or s[0].isdigit()):
        return False
    if next_line is None:
        return False
    nxt = next_line.strip()
    # Followed by body text (a longer line) or by a bullet list.
    return bool(_BULLET_RE.match(next_line)) or _words(nxt) > _words(s) or _CARD_START_RE.match(nxt) is not None


def _starts_cards(lines: list[str], nxt_idx: int | None, next_of: dict[int, int | None]) -> bool:
    """A short line directly before the first drug card ("Approved Therapies") is its heading."""
    if nxt_idx is None:
        return False
    after = next_of.get(nxt_idx)
    return after is not None and _CARD_START_RE.match(lines[after].strip()) is not None


def _indent_levels(lines: list[str]) -> dict[int, int]:
    indents = sorted({len(m.group(1).expandtabs(4)) for ln in lines if (m := _BULLET_RE.match(ln))})
    return {indent: rank for rank, indent in enumerate(indents)}


def _parse_card(lines: list[str], start: int) -> tuple[Block, int]:
    """A drug card starting at `start` (name line); returns the record and the next line index."""
    name = lines[start].strip()
    status = lines[start + 1].strip()
    fields: list[tuple[str, str]] = [("Status", status)]
    current: str | None = None
    values: list[str] = []
    i = start + 2
    n = len(lines)

    def flush() -> None:
        # A field with several value lines ("Adults: …", "Pediatric: …") keeps one entry per line.
        if current:
            fields.extend((current, v) for v in values)

    while i < n:
        s = lines[i].strip()
        if not s:
            i += 1
            continue
        if i + 1 < n and _CARD_START_RE.match(lines[i + 1].strip()):
            break
        if s in CARD_FIELDS:
            flush()
            current, values = s, []
        elif current is None:
            break
        else:
            values.append(s)
        i += 1
    flush()
    return Block("record", name, fields=fields), i


def parse_plain(lines: list[str]) -> list[Block]:
    """Blocks from plain text: every non-empty, non-bullet line is its own paragraph or heading."""
    blocks: list[Block] = []
    levels = _indent_levels(lines)
    nonempty = [i for i, ln in enumerate(lines) if ln.strip()]
    next_of: dict[int, int | None] = dict(zip(nonempty, [*nonempty[1:], None][: len(nonempty)], strict=True))
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        s = line.strip()
        if not s:
            i += 1
            continue
        nxt_idx = next_of.get(i)
        nxt = lines[nxt_idx] if nxt_idx is not None else None
        if nxt is not None and _CARD_START_RE.match(nxt.strip()) and _words(s) <= 8:
            block, i = _parse_card(lines, i)
            blocks.append(block)
            continue
        m = _BULLET_RE.match(line)
        if m:
            text = m.group(2).strip()
            if text:
                blocks.append(Block("bullet", text, level=levels.get(len(m.group(1).expandtabs(4)), 0)))
            i += 1
            continue
        if s.endswith(":") and _words(s) <= 8 and nxt is not None and _BULLET_RE.match(nxt):
            blocks.append(Block("heading", s[:-1].strip(), level=1))
        elif _looks_like_heading(s, nxt) or (
            _words(s) <= 6 and not s.endswith(_TERMINAL) and _starts_cards(lines, nxt_idx, next_of)
        ):
            blocks.append(Block("heading", s, level=1))
        else:
            blocks.append(Block("paragraph", s))
        i += 1
    return blocks


def parse_markdown(text: str) -> list[Block]:
    """Blocks from Markdown: ATX headings, nested bullets, numbered items and paragraphs."""
    lines = text.split("\n")
    levels = _indent_levels(lines)
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("paragraph", " ".join(p.strip() for p in para)))
            para.clear()

    for line in lines:
        if not line.strip() or line.strip().startswith("|---") or re.match(r"^\s*[-*_]{3,}\s*$", line):
            flush()
            continue
        h = _MD_HEADING_RE.match(line)
        if h:
            flush()
            blocks.append(Block("heading", _strip_inline(h.group(2)), level=len(h.group(1))))
            continue
        b = _BULLET_RE.match(line) or _NUMBERED_RE.match(line)
        if b:
            flush()
            indent = len(b.group(1).expandtabs(4))
            level = levels.get(indent, indent // 2)
            if b.group(2).strip():
                blocks.append(Block("bullet", _strip_inline(b.group(2)), level=level))
            continue
        if line.strip().startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            blocks.append(Block("paragraph", " | ".join(_strip_inline(c) for c in cells if c)))
            continue
        para.append(_strip_inline(line))
    flush()
    return blocks


def _strip_inline(text: str) -> str:
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<!\w)([*_])(.+?)\1(?!\w)", r"\2", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    return text.strip()


@dataclass
class LostList:
    """A header whose list (or a section label whose text) the source lost: `header` as written,
    `removed` unless it was kept because it is the document's only text."""

    header: str
    removed: bool = True
    what: str = "list items"


# Words a list announcement ends on ("... approved for:", "... include:", "... were:"): prepositions,
# conjunctions, determiners, copulas and the verbs that introduce an enumeration. A line ending in a
# noun ("Effects of X on Y metabolism:") is a title or a label, not an announcement, unless it follows
# running text in the same paragraph.
_OPEN_ENDED = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        "of for in on to with by from at into onto about against between among amongst through via per like as "
        "than and or nor but the a an these those this that its their his her our such e.g. i.e. namely "
        "following follows below include includes included including involve involves involving comprise "
        "comprises comprising contain contains containing is are was were be been being has have had"
    ).split()
)
# A section label glued to the end of the last sentence ("... survival.METHODS:"): the section's text is
# missing, the sentence before it is not.
_GLUED_LABEL_RE = re.compile(r"(?<=\w[.!?])\s*([A-Z][A-Z]+(?: [A-Z]+)*):$")
_LABEL_RE = re.compile(r"[A-Z][A-Z]+(?: [A-Z]+)*:")
_BODY_KINDS = ("paragraph", "bullet", "record")


def _unbalanced(text: str) -> bool:
    return text.count("(") > text.count(")") or text.count("[") > text.count("]")


def _lost_header(text: str) -> tuple[str, str, str] | None:
    """For a paragraph ending in ":" and followed by no list: (the text kept, the dangling header, what
    is missing), or None when the colon announces nothing (a title or label line, or text cut off
    inside a parenthesis)."""
    sentences = split_sentences(text.strip())
    dangling = sentences[-1]
    rest = " ".join(sentences[:-1]).strip()
    glued = _GLUED_LABEL_RE.search(dangling)
    if glued is not None:
        return " ".join([rest, dangling[: glued.start()].strip()]).strip(), glued.group(1) + ":", "section text"
    if _LABEL_RE.fullmatch(dangling):  # "RESULTS:" after text: that section's text is missing
        return (rest, dangling, "section text") if rest else None
    words = dangling[:-1].split()
    if not words or _unbalanced(dangling):
        return None
    if words[-1].lower() not in _OPEN_ENDED and not rest:
        return None  # a lone line ending in a noun: a title or a label
    return rest, dangling, "list items"


def flag_lost_lists(blocks: list[Block]) -> tuple[list[Block], list[LostList]]:
    """Remove list headers whose items were lost ("It's FDA-approved for:" followed by no list).

    The dangling sentence is removed from the text (it would otherwise read as content) and the
    block that held it, or the next block, is flagged `lost_list`. A colon that announces nothing
    (a title line, a "Label:" line, text cut off inside a parenthesis) is left alone, and when the
    headers are all the text the document has, they stay (flagged) so that no document is emptied.
    Returns the blocks and a note per header.
    """
    out, notes = _flag_lost_lists(blocks, remove=True)
    if notes and not any(b.kind in _BODY_KINDS for b in out) and any(b.kind in _BODY_KINDS for b in blocks):
        out, notes = _flag_lost_lists(blocks, remove=False)
    return out, notes


def _flag_lost_lists(blocks: list[Block], *, remove: bool) -> tuple[list[Block], list[LostList]]:
    out: list[Block] = []
    notes: list[LostList] = []
    pending_flag = False
    for idx, block in enumerate(blocks):
        nxt = blocks[idx + 1] if idx + 1 < len(blocks) else None
        lost = None
        if block.kind == "paragraph" and block.text.rstrip().endswith(":") and (nxt is None or nxt.kind != "bullet"):
            lost = _lost_header(block.text)
        if lost is not None:
            rest, dangling, what = lost
            notes.append(LostList(dangling, removed=remove, what=what))
            if not remove:
                out.append(Block("paragraph", block.text, flags=[*block.flags, LOST_LIST]))
            elif rest:
                out.append(Block("paragraph", rest, flags=[*block.flags, LOST_LIST]))
            else:
                pending_flag = True
            continue
        if pending_flag:
            block = replace(block, flags=[*block.flags, LOST_LIST])
            pending_flag = False
        out.append(block)
    return out, notes
