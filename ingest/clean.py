"""Page-chrome removal and metadata harvesting for scraped text.

Real pages carry navigation ("Home / …", "top of page"), footers and copyright lines, an unrelated
"Related Posts … See All" block, organisation boilerplate, and article-page chrome ("Authors",
"DOI:", "Keywords:", "Downloads", "Published", "Issue", "Section"). This module removes the chrome
and keeps the metadata it carries (authors, DOI, keywords, published/updated dates, year).
It works on lines, before structure parsing, and never invents text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_DROP_LINE_RES = [
    re.compile(r"^\s*(top|bottom) of page\s*$", re.I),
    re.compile(r"^\s*(home|start)\s*/\s*\S.*$", re.I),  # breadcrumbs: "Home / Section"
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


def strip_chrome(lines: list[str]) -> tuple[list[str], Harvest]:
    """Remove page chrome from `lines`, returning the kept lines and the harvested metadata."""
    harvest = Harvest()
    kept: list[str] = []
    i = 0
    n = len(lines)

    last_substantive = max((k for k, ln in enumerate(lines) if len(ln.split()) >= 12), default=-1)

    def next_nonempty(j: int) -> int:
        while j < n and not lines[j].strip():
            j += 1
        return j

    while i < n:
        line = lines[i]
        stripped = line.strip()
        low = stripped.lower()
        if not stripped:
            kept.append("")
            i += 1
            continue
        if _RELATED_START_RE.match(stripped):
            j = i + 1
            while j < n and not _RELATED_END_RE.match(lines[j]):
                j += 1
            harvest.removed.append(f"related-posts block ({j - i} lines)")
            i = j
            continue
        if any(r.search(stripped) for r in _DROP_LINE_RES):
            harvest.removed.append(stripped)
            i += 1
            continue
        if any(r.search(stripped) for r in _BOILERPLATE_RES):
            harvest.removed.append(stripped)
            i += 1
            continue
        m = _UPDATED_RE.match(stripped)
        if m and len(stripped) <= 40:
            date = _parse_date(m.group(2))
            if date:
                if m.group(1).lower().startswith(("updated", "last")):
                    harvest.updated = harvest.updated or date
                else:
                    harvest.published = harvest.published or date
                harvest.removed.append(stripped)
                i += 1
                continue
        label = _LABELS.get(low)
        if label:
            j = next_nonempty(i + 1)
            if label == "authors":
                while j < n and _BULLET_RE.match(lines[j]):
                    name = _BULLET_RE.sub("", lines[j]).strip()
                    name = re.sub(r"\s+Author$", "", name).strip()
                    if name:
                        harvest.authors.append(name)
                    j = next_nonempty(j + 1)
                i = j
                continue
            if label == "doi" and j < n:
                found = _DOI_RE.search(lines[j])
                if found:
                    harvest.doi = found.group(1)
                    i = j + 1
                    continue
            if label == "keywords" and j < n:
                harvest.keywords = [k.strip() for k in lines[j].split(",") if k.strip()]
                i = j + 1
                continue
            if label == "published" and j < n:
                iso = _ISO_DATE_RE.match(lines[j]) or None
                date = iso.group(1) if iso else _parse_date(lines[j])
                if date:
                    harvest.published = date
                    i = j + 1
                    continue
            if label == "drop":
                # A chrome label, possibly followed by its short value ("Section" / "Articles").
                following = next_nonempty(i + 1)
                is_value = (
                    following < n
                    and _is_short_value(lines[following])
                    and lines[following].strip().lower() not in _LABELS
                    and i > last_substantive
                )
                harvest.removed.append(stripped)
                i = following + 1 if is_value else i + 1
                continue
            if label == "drop_label":
                harvest.removed.append(stripped)
                i += 1
                continue
        if harvest.doi is None:
            found = _DOI_RE.search(stripped)
            if found and stripped.lower().startswith(("doi", "https://doi.org", "http://doi.org")):
                harvest.doi = found.group(1)
                harvest.removed.append(stripped)
                i += 1
                continue
        kept.append(line)
        i += 1
    return kept, harvest


def drop_title_lines(lines: list[str], title: str | None) -> list[str]:
    """Drop the leading line(s) that repeat the document title (also a title wrapped over lines)."""
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
            return lines[:start] + lines[end + 1 :]
        if not target.startswith(joined):
            break
    return lines
