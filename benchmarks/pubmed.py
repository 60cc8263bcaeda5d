"""The real corpus of the benchmarks: `shared/corpora/pubmed-real/` (19,686 PubMed articles in 20 PubMed
XML files, 13 MB; see its README), next to the repository.

ALLy ingests the XML files as a user would (`ally ingest …/*.xml`, the PubMed loader). The plain
LangChain pipeline cannot read PubMed XML, so it is handed the same articles as text documents: the
title, then each abstract text (a labelled one as "LABEL: text"), one blank line apart, parsed from
the same files inside its timer.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from benchmarks.common import REPO

PUBMED_REAL = REPO.parent / "shared" / "corpora" / "pubmed-real"


def pubmed_files(limit: int | None = None) -> list[Path]:
    """The XML files of pubmed-real (the first `limit` of them by name: bioasq-001 … 019, pubmedqa-001)."""
    files = sorted(PUBMED_REAL.glob("*.xml"))
    if not files:
        raise SystemExit(f"the real corpus is not at {PUBMED_REAL} (expected the shared data next to the repository)")
    return files[:limit] if limit else files


def article_texts(files: list[Path]) -> list[tuple[str, str]]:
    """(PMID, text) of every article: title, then the abstract texts, as a text document holds them."""
    out = []
    for path in files:
        for art in ET.parse(path).getroot().iter("PubmedArticle"):
            title_el = art.find(".//ArticleTitle")
            title = " ".join("".join(title_el.itertext()).split()) if title_el is not None else ""
            parts = []
            for part in art.findall(".//Abstract/AbstractText"):
                body = " ".join("".join(part.itertext()).split())
                if body:
                    parts.append(f"{part.get('Label')}: {body}" if part.get("Label") else body)
            pmid = (art.findtext(".//MedlineCitation/PMID") or "").strip()
            out.append((pmid, "\n\n".join([title, *parts] if title else parts)))
    return out


def langchain_split_pubmed(files: list[Path]) -> list[Any]:
    """The plain pipeline's chunks of the same articles (RecursiveCharacterTextSplitter 1000/200)."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    docs = [Document(page_content=text, metadata={"source": pmid}) for pmid, text in article_texts(files) if text]
    return splitter.split_documents(docs)
