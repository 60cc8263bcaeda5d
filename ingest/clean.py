"""Page-chrome removal and metadata harvesting for scraped text.

Real pages carry navigation ("Home / …", "top of page"), footers and copyright lines, an unrelated
"Related Posts … See All" block, organisation boilerplate, and article-page chrome ("Authors",
"DOI:", "Keywords:", "Downloads", "Published", "Issue", "Section"). This module removes the chrome
and keeps the metadata it carries (authors, DOI, keywords, published/updated dates, year).
It works on lines, before structure parsing, and never invents text.

The rules were written for five scraped web pages and are kept to what is chrome on any page:
navigation and copyright lines are short lines of their own; organisation boilerplate ("contact
us", "our mission") is removed only at the page's edges (before its first or after its last line
of body text), never from the middle of an article; the title line is dropped only when the
document has other text. `Harvest.fired` names the rule behind every removal (the cleaning audit,
`benchmarks.cleaning_audit`, counts them on real literature).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

_DROP_LINE_RES = [
    re.compile(r"^\s*(top|bottom) of page\s*$", re.I),
    # breadcrumbs: "Home / Section / Page", a short path without sentence punctuation
    re.compile(r"^\s*(home|start)\s*/\s*[^.!?;]{1,120}$", re.I),
    re.compile(r"^\s*(©|\(c\)|copyright\b)", re.I),
    re.compile(r"^\s*(skip to (main )?content|back to top|share this( post)?|print this page)\s*$", re.I),
]
# Organisation boilerplate sentences (about the publisher, not the disease).
_BOILERPLATE_RES = [
    re.compile(r"\bas an? (non-?profit|not-for-profit) organi[sz]ation\b", re.I),
    re.compile(r"\b(please )?(e-?mail|contact) us\b", re.I),
    re.compile(r"\bour (organi[sz]ation|mission)\b", re.I),
    re.compile(r"\bsubscribe to (our|the) newsletter\b", re.I),
    re.compile(r"\bcookies? (policy|settings)\b", re.I),
]
# A block of teasers about other pages: from its heading to the copyright line or the end.
_RELATED_START_RE = re.compile(r"^\s*(related posts|related articles|you may also like|recent posts)\s*$", re.I)
_RELATED_END_RE = re.compile(r"^\s*(©|\(c\)|copyright\b|bottom of page)", re.I)

_DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)])")
_ISO_DATE_RE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*$")
_UPDATED_RE = re.compile(r"^\s*(updated|last updated|published|posted)\s*:?\s*(.+?)\s*$", re.I)
_MONTH_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d")

# Article-page labels standing alone on a line, and what their value means.
_LABELS = {
    "authors": "authors",
    "author": "authors",
    "doi": "doi",
    "doi:": "doi",
    "keywords": "keywords",
    "keywords:": "keywords",
    "published": "published",
    "published:": "published",
    "downloads": "drop",
    "issue": "drop",
    "section": "drop",
    "references": "drop_label",
}
_BULLET_RE = re.compile(r"^\s*[•·▪◦\-\*]\s+")


@dataclass
class Harvest:
    """Metadata found in the page text while removing its chrome."""

    authors: list[str] = field(default_factory=list)
    doi: str | None = None
    keywords: list[str] = field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    removed: list[str] = field(default_factory=list)
    fired: list[tuple[str, str]] = field(default_factory=list)  # (rule, the line it removed or consumed)

    @property
    def year(self) -> int | None:
        for value in (self.published, self.updated):
            if value and re.match(r"^\d{4}", value):
                return int(value[:4])
        return None


def _parse_date(text: str) -> str | None:
    text = text.strip().rstrip(".")
    for fmt in _MONTH_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _is_short_value(line: str) -> bool:
    s = line.strip()
    return bool(s) and len(s) <= 60 and not s.endswith(".") and len(s.split()) <= 6


# Inert XML/HTML element tags left in plain text (a snippet copied out of a PubMed XML export:
# '<AbstractText Label="CONCLUSIONS">In our study …'): the tag goes, its text stays. A tag is a
# name right after '<' with only quoted attributes, so "<or =5 sites", "<44 chromosomes" and
# "a < b" are text. Active markup (<script>, <img …>) is left for ally.untrusted to flag.
_TAG_RE = re.compile(r"</?([A-Za-z][\w:.-]*)(?:\s+[\w:.-]+\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'))*\s*/?>")
_ACTIVE_TAGS = frozenset(
    {"script", "iframe", "object", "embed", "img", "svg", "style", "form", "input", "link", "meta"}
)


def strip_markup(text: str) -> tuple[str, list[str]]:
    """Plain text without inert element tags; also the tags removed (for the cleaning audit)."""
    removed: list[str] = []

    def drop(m: re.Match[str]) -> str:
        if m.group(1).lower() in _ACTIVE_TAGS:
            return m.group(0)
        removed.append(m.group(0))
        return ""

    return _TAG_RE.sub(drop, text), removed


def strip_chrome(lines: list[str]) -> tuple[list[str], Harvest]:
    """Remove page chrome from `lines`, returning the kept lines and the harvested metadata."""
    stripper = _ChromeStripper(lines)
    return stripper.strip(), stripper.harvest


_Rule = Callable[[int, str], int | None]


@dataclass
class _ChromeStripper:
    """One pass over a page's lines. Each rule looks at line i (non-empty, `stripped`) and returns
    where reading resumes when the line is chrome (removed, its metadata harvested), else None."""

    lines: list[str]
    harvest: Harvest = field(default_factory=Harvest)
    last_substantive: int = field(init=False)  # the last line of body text (12 words or more)
    body: tuple[int, int] = field(init=False)  # first and last line that is neither chrome nor boilerplate

    def __post_init__(self) -> None:
        self.last_substantive = max((k for k, ln in enumerate(self.lines) if len(ln.split()) >= 12), default=-1)
        plain = [k for k, ln in enumerate(self.lines) if len(ln.split()) > 3 and not _chrome_like(ln.strip())]
        self.body = (plain[0], plain[-1]) if plain else (len(self.lines), -1)

    def strip(self) -> list[str]:
        kept: list[str] = []
        rules: tuple[_Rule, ...] = (self._related, self._dropped, self._dated, self._labelled, self._doi_line)
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            stripped = line.strip()
            if not stripped:
                kept.append("")
                i += 1
                continue
            resume = next((r for rule in rules if (r := rule(i, stripped)) is not None), None)
            if resume is None:
                kept.append(line)
                resume = i + 1
            i = resume
        return kept

    def _next_nonempty(self, j: int) -> int:
        while j < len(self.lines) and not self.lines[j].strip():
            j += 1
        return j

    def _removed(self, stripped: str, resume: int, rule: str) -> int:
        self.harvest.removed.append(stripped)
        self.harvest.fired.append((rule, stripped))
        return resume

    def _consumed(self, rule: str, i: int, resume: int) -> int:
        """Lines i .. resume-1 were metadata (harvested, not kept as text)."""
        for k in range(i, resume):
            if self.lines[k].strip():
                self.harvest.fired.append((rule, self.lines[k].strip()))
        return resume

    # --- rules, in order ----------------------------------------------------------------------
    def _related(self, i: int, stripped: str) -> int | None:
        if not _RELATED_START_RE.match(stripped):
            return None
        j = i + 1
        while j < len(self.lines) and not _RELATED_END_RE.match(self.lines[j]):
            j += 1
        self.harvest.removed.append(f"related-posts block ({j - i} lines)")
        self.harvest.fired.append(("related-posts", f"{stripped} ({j - i} lines)"))
        return j

    def _dropped(self, i: int, stripped: str) -> int | None:
        if any(r.search(stripped) for r in _DROP_LINE_RES):
            return self._removed(stripped, i + 1, "chrome-line")
        # Boilerplate about the publisher sits around the article, not inside it.
        outside_body = i < self.body[0] or i > self.body[1]
        if outside_body and any(r.search(stripped) for r in _BOILERPLATE_RES):
            return self._removed(stripped, i + 1, "boilerplate")
        return None

    def _dated(self, i: int, stripped: str) -> int | None:
        """Date lines such as "Updated: Nov 19, 2025"."""
        m = _UPDATED_RE.match(stripped)
        date = _parse_date(m.group(2)) if m and len(stripped) <= 40 else None
        if m is None or date is None:
            return None
        if m.group(1).lower().startswith(("updated", "last")):
            self.harvest.updated = self.harvest.updated or date
        else:
            self.harvest.published = self.harvest.published or date
        return self._removed(stripped, i + 1, "date-line")

    def _labelled(self, i: int, stripped: str) -> int | None:
        """A label standing alone on its line ("Authors", "DOI", …), with its value below it."""
        label = _LABELS.get(stripped.lower())
        if label is None:
            return None
        handlers: dict[str, _Rule] = {
            "authors": self._authors,
            "doi": self._doi_value,
            "keywords": self._keywords,
            "published": self._published,
            "drop": self._drop_with_value,
            "drop_label": self._drop_label,
        }
        return handlers[label](i, stripped)

    def _authors(self, i: int, stripped: str) -> int:
        j = self._next_nonempty(i + 1)
        while j < len(self.lines) and _BULLET_RE.match(self.lines[j]):
            name = _BULLET_RE.sub("", self.lines[j]).strip()
            name = re.sub(r"\s+Author$", "", name).strip()
            if name:
                self.harvest.authors.append(name)
            j = self._next_nonempty(j + 1)
        return self._consumed("authors-label", i, j)

    def _doi_value(self, i: int, stripped: str) -> int | None:
        j = self._next_nonempty(i + 1)
        found = _DOI_RE.search(self.lines[j]) if j < len(self.lines) else None
        if found is None:
            return None
        self.harvest.doi = found.group(1)
        return self._consumed("doi-label", i, j + 1)

    def _keywords(self, i: int, stripped: str) -> int | None:
        j = self._next_nonempty(i + 1)
        if j >= len(self.lines):
            return None
        self.harvest.keywords = [k.strip() for k in self.lines[j].split(",") if k.strip()]
        return self._consumed("keywords-label", i, j + 1)

    def _published(self, i: int, stripped: str) -> int | None:
        j = self._next_nonempty(i + 1)
        if j >= len(self.lines):
            return None
        iso = _ISO_DATE_RE.match(self.lines[j]) or None
        date = iso.group(1) if iso else _parse_date(self.lines[j])
        if not date:
            return None
        self.harvest.published = date
        return self._consumed("published-label", i, j + 1)

    def _drop_with_value(self, i: int, stripped: str) -> int:
        """A chrome label, possibly followed by its short value ("Section" / "Articles")."""
        following = self._next_nonempty(i + 1)
        is_value = (
            following < len(self.lines)
            and _is_short_value(self.lines[following])
            and self.lines[following].strip().lower() not in _LABELS
            and i > self.last_substantive
        )
        if is_value:
            self.harvest.fired.append(("chrome-label", self.lines[following].strip()))
        return self._removed(stripped, following + 1 if is_value else i + 1, "chrome-label")

    def _drop_label(self, i: int, stripped: str) -> int:
        return self._removed(stripped, i + 1, "chrome-label")

    def _doi_line(self, i: int, stripped: str) -> int | None:
        """A "doi: 10.…" or "https://doi.org/10.…" line, while no DOI was found yet."""
        if self.harvest.doi is not None:
            return None
        found = _DOI_RE.search(stripped)
        if found and stripped.lower().startswith(("doi", "https://doi.org", "http://doi.org")):
            self.harvest.doi = found.group(1)
            return self._removed(stripped, i + 1, "doi-line")
        return None


def _chrome_like(stripped: str) -> bool:
    """A line that page chrome is made of: navigation, copyright, boilerplate, a standalone label."""
    return (
        any(r.search(stripped) for r in _DROP_LINE_RES)
        or any(r.search(stripped) for r in _BOILERPLATE_RES)
        or bool(_RELATED_START_RE.match(stripped))
        or stripped.lower() in _LABELS
    )


def drop_title_lines(lines: list[str], title: str | None) -> list[str]:
    """Drop the leading line(s) that repeat the document title (also a title wrapped over lines),
    unless they are the document's only text (a title-only record is a document)."""
    if not title:
        return lines
    target = re.sub(r"\s+", " ", title).strip().lower()
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    joined = ""
    for end in range(start, min(start + 4, len(lines))):
        piece = lines[end].strip()
        if not piece:
            break
        joined = f"{joined} {piece}".strip().lower()
        if joined == target:
            rest = lines[:start] + lines[end + 1 :]
            return rest if any(ln.strip() for ln in rest) else lines
        if not target.startswith(joined):
            break
    return lines
