"""Loaders: one source file to one or more LoadedDocuments, with metadata.

Formats: .txt, .md/.markdown, .html/.htm (main text via trafilatura), .pdf (pypdf), and PubMed XML
exports (.xml: one document per article). Each file is read once, checked (size, binary, UTF-8,
empty), repaired, stripped of page chrome and parsed into structural blocks. `sources.yaml` in the
file's folder overrides the metadata found in the text. Problems raise IngestError with a reason
the report shows next to the path.
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ally.errors import IngestError
from ingest.clean import Harvest, drop_title_lines, strip_chrome
from ingest.documents import Block, DocMeta, LoadedDocument
from ingest.repair import repair_text
from ingest.structure import flag_lost_lists, parse_markdown, parse_plain

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".xml"}
SOURCES_FILE = "sources.yaml"


class SourceEntry(BaseModel):
    """One entry of sources.yaml: metadata that overrides what the text carries."""

    model_config = ConfigDict(extra="forbid")

    file: str
    doc_id: str | None = None
    title: str | None = None
    publisher: str | None = None
    kind: str | None = None
    year: int | None = None
    doi: str | None = None
    published: str | None = None
    authors: list[str] | None = None


def load_sources(folder: Path) -> dict[str, SourceEntry]:
    """Read `folder/sources.yaml` (if any). Raises IngestError naming the bad entry."""
    path = folder / SOURCES_FILE
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise IngestError(f"{path}: not valid YAML ({exc}); fix it or remove it") from exc
    if not isinstance(raw, list):
        raise IngestError(f"{path}: expected a list of entries with a 'file' key")
    entries: dict[str, SourceEntry] = {}
    for i, item in enumerate(raw, start=1):
        try:
            entry = SourceEntry.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise IngestError(
                f"{path}: entry {i}: field '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}"
            ) from exc
        entries[entry.file] = entry
    return entries


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "document"


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise IngestError(f"file is too large ({size} bytes; the limit is {max_bytes}, setting ALLY_MAX_FILE_BYTES)")
    if size == 0:
        raise IngestError("file is empty")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from exc


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise IngestError("binary content (NUL bytes); only text, Markdown, HTML, PDF and PubMed XML are ingested")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); re-save the file as UTF-8"
        ) from exc


def _blocks_from_plain(text: str, title: str | None) -> tuple[list[Block], Harvest, list[str], int]:
    repaired, repairs = repair_text(text)
    lines, harvest = strip_chrome(repaired.split("\n"))
    lines = drop_title_lines(lines, title)
    blocks, lost = flag_lost_lists(parse_plain(lines))
    return blocks, harvest, lost, repairs


def _blocks_from_markdown(text: str, title: str | None) -> tuple[list[Block], Harvest, list[str], int]:
    repaired, repairs = repair_text(text)
    lines, harvest = strip_chrome(repaired.split("\n"))
    blocks, lost = flag_lost_lists(parse_markdown("\n".join(lines)))
    if title and blocks and blocks[0].kind == "heading" and blocks[0].text.strip().lower() == title.strip().lower():
        blocks = blocks[1:]
    return blocks, harvest, lost, repairs


def _first_heading(blocks: list[Block]) -> str | None:
    for b in blocks:
        if b.kind == "heading":
            return b.text
    return None


def _pdf_text(data: bytes) -> tuple[str, dict[str, Any]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info: dict[str, Any] = dict(reader.metadata or {})
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"broken PDF ({exc.__class__.__name__}: {exc}); re-export it or convert it to text") from exc
    meta = {
        "title": str(info.get("/Title") or "").strip() or None,
        "author": str(info.get("/Author") or "").strip() or None,
    }
    # Re-join lines wrapped inside paragraphs; keep blank-line paragraph breaks and bullets.
    text = "\n\n".join(pages)
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    text = re.sub(r"(?<![.:!?])\n(?!\n|\s*[•\-*]\s|\s*\d+[.)]\s)", " ", text)
    return text, meta


def _html_text(text: str) -> tuple[str, dict[str, Any]]:
    import trafilatura

    extracted = trafilatura.extract(
        text,
        output_format="markdown",
        include_formatting=True,
        include_links=False,
        include_tables=True,
        include_comments=False,
        favor_recall=True,
    )
    if not extracted or not extracted.strip():
        raise IngestError("no main text found in the HTML page")
    meta = trafilatura.extract_metadata(text)
    found: dict[str, Any] = {}
    if meta is not None:
        found = {"title": meta.title, "author": meta.author, "date": meta.date, "publisher": meta.sitename}
    doi = re.search(r'<meta[^>]+name="(?:citation_doi|dc\.identifier)"[^>]+content="(?:doi:)?(10\.[^"]+)"', text, re.I)
    if doi:
        found["doi"] = doi.group(1)
    return extracted, found


def _pubmed_documents(text: str, path: Path, content_hash: str) -> list[LoadedDocument]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise IngestError(f"not well-formed XML ({exc})") from exc
    articles = root.findall(".//PubmedArticle")
    if not articles:
        raise IngestError("XML file holds no PubmedArticle elements (only PubMed XML exports are supported)")
    docs = [doc for art in articles if (doc := _pubmed_article(art, path, content_hash)) is not None]
    if not docs:
        raise IngestError("no PubMed article with a PMID and an abstract was found")
    return docs


def _pubmed_article(art: ET.Element, path: Path, content_hash: str) -> LoadedDocument | None:
    """One PubmedArticle as a document, or None when it has no PMID or no abstract."""
    pmid = (art.findtext(".//MedlineCitation/PMID") or "").strip()
    if not pmid:
        return None
    blocks = _pubmed_abstract(art)
    if not blocks:
        return None
    title_el = art.find(".//ArticleTitle")
    title = "".join(title_el.itertext()).strip() if title_el is not None else ""
    year_text = art.findtext(".//JournalIssue/PubDate/Year") or art.findtext(".//ArticleDate/Year")
    meta = DocMeta(
        doc_id=f"pmid-{pmid}",
        title=repair_text(title)[0] or f"PubMed {pmid}",
        path=str(path),
        content_hash=hashlib.sha256((content_hash + pmid).encode()).hexdigest(),
        publisher=(art.findtext(".//Journal/Title") or "").strip() or None,
        kind="journal-article-abstract",
        year=int(year_text) if year_text and year_text.isdigit() else None,
        doi=_pubmed_doi(art),
        authors=_pubmed_authors(art),
        source_format="pubmed-xml",
        extra={"pmid": pmid},
    )
    return LoadedDocument(meta, blocks)


def _pubmed_authors(art: ET.Element) -> list[str]:
    authors = []
    for a in art.findall(".//AuthorList/Author"):
        last, fore = a.findtext("LastName"), a.findtext("ForeName") or a.findtext("Initials")
        name = " ".join(x for x in [fore, last] if x) or (a.findtext("CollectiveName") or "")
        if name.strip():
            authors.append(name.strip())
    return authors


def _pubmed_doi(art: ET.Element) -> str | None:
    for el in art.findall(".//ELocationID") + art.findall(".//ArticleIdList/ArticleId"):
        if (el.get("EIdType") or el.get("IdType")) == "doi" and el.text:
            return el.text.strip()
    return None


def _pubmed_abstract(art: ET.Element) -> list[Block]:
    """The abstract's sections: a heading per labelled section, a paragraph per text."""
    blocks: list[Block] = []
    for part in art.findall(".//Abstract/AbstractText"):
        body = " ".join("".join(part.itertext()).split())
        if not body:
            continue
        repaired, _ = repair_text(body)
        label = part.get("Label")
        if label:
            blocks.append(Block("heading", label.strip().title(), level=1))
        blocks.append(Block("paragraph", repaired))
    return blocks


def load_file(path: Path, entry: SourceEntry | None, *, max_bytes: int) -> list[LoadedDocument]:
    """Load one file. Raises IngestError (with a reason for the report) when it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(
            f"unsupported file type '{suffix or '(none)'}'; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    data = _read_bytes(path, max_bytes)
    entry_json = entry.model_dump_json() if entry else ""
    content_hash = hashlib.sha256(data + entry_json.encode()).hexdigest()
    given_title = entry.title if entry else None
    found: dict[str, Any] = {}

    if suffix == ".pdf":
        text, found = _pdf_text(data)
        blocks, harvest, lost, repairs = _blocks_from_plain(text, given_title or found.get("title"))
        fmt = "pdf"
    else:
        text = _decode(data)
        if suffix == ".xml":
            docs = _pubmed_documents(text, path, content_hash)
            return docs
        if suffix in {".html", ".htm"}:
            markdown, found = _html_text(text)
            blocks, harvest, lost, repairs = _blocks_from_markdown(markdown, given_title or found.get("title"))
            fmt = "html"
        elif suffix in {".md", ".markdown"}:
            blocks, harvest, lost, repairs = _blocks_from_markdown(text, given_title)
            fmt = "markdown"
        else:
            blocks, harvest, lost, repairs = _blocks_from_plain(text, given_title)
            fmt = "text"

    if not any(b.kind in {"paragraph", "bullet", "record"} for b in blocks):
        raise IngestError("no text left after cleaning (empty, or only page chrome)")

    title = (
        given_title
        or found.get("title")
        or (_first_heading(blocks) if fmt in {"markdown", "html"} else None)
        or path.stem.replace("-", " ").replace("_", " ").strip()
    )
    authors = (entry.authors if entry and entry.authors else None) or harvest.authors
    if not authors and found.get("author"):
        authors = [a.strip() for a in re.split(r";|,(?=\s*[A-Z])", str(found["author"])) if a.strip()]
    year = (entry.year if entry else None) or harvest.year
    if year is None and found.get("date") and re.match(r"^\d{4}", str(found["date"])):
        year = int(str(found["date"])[:4])
    meta = DocMeta(
        doc_id=(entry.doc_id if entry and entry.doc_id else None) or slugify(path.stem),
        title=repair_text(title)[0].strip(),
        path=str(path),
        content_hash=content_hash,
        publisher=(entry.publisher if entry else None) or found.get("publisher"),
        kind=entry.kind if entry else None,
        year=year,
        doi=(entry.doi if entry else None) or harvest.doi or found.get("doi"),
        published=(entry.published if entry else None) or harvest.published,
        updated=harvest.updated,
        authors=list(authors or []),
        keywords=harvest.keywords,
        source_format=fmt,
    )
    warnings = [f"{path.name}: list items missing in the source after {h!r} (removed)" for h in lost]
    return [LoadedDocument(meta, blocks, warnings=warnings, repairs=repairs)]
