"""Real literature for the ingest tests, read in place from the shared data next to the repository.

`../shared/corpora/pubmed-real/` holds 19,686 real PubMed articles in PubMed XML (titles, abstracts,
629 title-only articles) and `../shared/external-dev/docs/` the same text as plain-text files. The
tests read them where they lie (nothing is copied into the repository). Where they are missing the
tests are skipped with the reason (a checkout without the shared folder, e.g. a clone in /tmp), unless
REQUIRE_SHARED_DATA is set, where a missing corpus is a failure.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared"
PUBMED_REAL = SHARED / "corpora" / "pubmed-real"
EXTERNAL_DOCS = SHARED / "external-dev" / "docs"


def require(path: Path) -> Path:
    """`path`, or a skip (a failure with REQUIRE_SHARED_DATA set) naming what is missing."""
    if not path.exists():
        message = f"real corpus not found at {path} (the shared data folder next to the repository)"
        if os.environ.get("REQUIRE_SHARED_DATA"):
            pytest.fail(f"{message}: REQUIRE_SHARED_DATA is set, so it must be there")
        pytest.skip(message)
    return path


@dataclass
class Article:
    """One PubMed article as the XML holds it."""

    pmid: str
    title: str
    sections: list[tuple[str | None, str]]  # (Label, text) of each AbstractText

    def as_text(self) -> str:
        """The article as a plain-text document, the way `external-dev/docs/` writes one: the title on
        the first line, then one paragraph per abstract text, a labelled one as "LABEL: text"."""
        paragraphs = [f"{label}: {text}" if label else text for label, text in self.sections]
        return "\n\n".join([self.title, *paragraphs] if self.title else paragraphs) + "\n"


def articles(xml_file: Path) -> list[Article]:
    out = []
    for art in ET.parse(xml_file).getroot().iter("PubmedArticle"):
        title_el = art.find(".//ArticleTitle")
        title = " ".join("".join(title_el.itertext()).split()) if title_el is not None else ""
        sections = [
            (part.get("Label"), " ".join("".join(part.itertext()).split()))
            for part in art.findall(".//Abstract/AbstractText")
        ]
        pmid = (art.findtext(".//MedlineCitation/PMID") or "").strip()
        out.append(Article(pmid, title, [(label, text) for label, text in sections if text]))
    return out
