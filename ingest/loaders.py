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

from ally import yaml_data
from ally.errors import IngestError
from ingest.clean import Harvest, drop_title_lines, strip_chrome, strip_markup
from ingest.documents import Block, DocMeta, LoadedDocument, LoadResult
from ingest.repair import repair_text
from ingest.structure import LostList, flag_lost_lists, parse_markdown, parse_plain

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
        raw = yaml_data.safe_load(path.read_text(encoding="utf-8")) or []
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


def _blocks_from_plain(text: str, title: str | None) -> tuple[list[Block], Harvest, list[LostList], int]:
    repaired, repairs = repair_text(text)
    unmarked, tags = strip_markup(repaired)
    lines, harvest = strip_chrome(unmarked.split("\n"))
    harvest.fired.extend(("markup", tag) for tag in tags)
    lines = drop_title_lines(lines, title)
    blocks, lost = flag_lost_lists(parse_plain(lines))
    return blocks, harvest, lost, repairs


def _blocks_from_markdown(text: str, title: str | None) -> tuple[list[Block], Harvest, list[LostList], int]:
    repaired, repairs = repair_text(text)
    lines, harvest = strip_chrome(repaired.split("\n"))
    blocks, lost = flag_lost_lists(parse_markdown("\n".join(lines)))
    repeats_title = bool(title and blocks and blocks[0].kind == "heading")
    if repeats_title and blocks[0].text.strip().lower() == str(title).strip().lower() and _has_body(blocks[1:]):
        blocks = blocks[1:]
    return blocks, harvest, lost, repairs


def _has_body(blocks: list[Block]) -> bool:
    return any(b.kind in {"paragraph", "bullet", "record"} for b in blocks)


def _text_of_headings(blocks: list[Block]) -> list[Block]:
    """A document whose only text is headings (a title-only page): the headings are its text."""
    if _has_body(blocks):
        return blocks
    return [Block("paragraph", b.text, flags=b.flags) for b in blocks if b.text.strip()]


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


def _pubmed_documents(text: str, path: Path, content_hash: str) -> LoadResult:
    """One document per article; an article that cannot be one is named in `skipped` with its reason."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise IngestError(f"not well-formed XML ({exc})") from exc
    articles = root.findall(".//PubmedArticle")
    if not articles:
        raise IngestError("XML file holds no PubmedArticle elements (only PubMed XML exports are supported)")
    result = LoadResult([])
    first_of: dict[str, int] = {}  # PMID -> the article number that holds it
    for number, art in enumerate(articles, start=1):
        pmid = (art.findtext(".//MedlineCitation/PMID") or "").strip()
        where = f"article {number} of {len(articles)}" + (f" (PMID {pmid})" if pmid else "")
        if not pmid:
            result.skipped.append(f"{where}: no MedlineCitation/PMID; not ingested")
        elif pmid in first_of:
            result.skipped.append(f"{where}: the same PMID as article {first_of[pmid]}; only that one is ingested")
        elif (doc := _pubmed_article(art, pmid, path, content_hash)) is None:
            result.skipped.append(f"{where}: neither a title nor any abstract text; not ingested")
        else:
            first_of[pmid] = number
            result.documents.append(doc)
    if not result.documents:
        more = f" (and {len(result.skipped) - 1} more)" if len(result.skipped) > 1 else ""
        raise IngestError(f"no PubMed article could be ingested: {result.skipped[0]}{more}")
    return result


def _pubmed_article(art: ET.Element, pmid: str, path: Path, content_hash: str) -> LoadedDocument | None:
    """One PubmedArticle as a document: its abstract, or its title alone when it has no abstract (as
    PubMed articles without an abstract are); None when it has neither."""
    title_el = art.find(".//ArticleTitle")
    title = repair_text("".join(title_el.itertext()).strip())[0] if title_el is not None else ""
    blocks = _pubmed_abstract(art)
    kind = "journal-article-abstract"
    if not blocks:
        if not title:
            return None
        blocks = [Block("paragraph", " ".join(title.split()))]
        kind = "journal-article-title"
    year_text = art.findtext(".//JournalIssue/PubDate/Year") or art.findtext(".//ArticleDate/Year")
    meta = DocMeta(
        doc_id=f"pmid-{pmid}",
        title=title or f"PubMed {pmid}",
        path=str(path),
        content_hash=hashlib.sha256((content_hash + pmid).encode()).hexdigest(),
        publisher=(art.findtext(".//Journal/Title") or "").strip() or None,
        kind=kind,
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
    """The documents of one file (`load_source` also says which parts of it are not documents)."""
    return load_source(path, entry, max_bytes=max_bytes).documents


def load_source(path: Path, entry: SourceEntry | None, *, max_bytes: int) -> LoadResult:
    """Load one file: its documents, and a reason for each part of it that is none (a PubMed article
    without a PMID, ...). Raises IngestError (with a reason for the report) when it cannot be used."""
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
            return _pubmed_documents(text, path, content_hash)
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

    title = (
        given_title
        or found.get("title")
        or (_first_heading(blocks) if fmt in {"markdown", "html"} else None)
        or path.stem.replace("-", " ").replace("_", " ").strip()
    )
    blocks = _text_of_headings(blocks)
    if not blocks:
        raise IngestError("no text left after cleaning (empty, or only page chrome)")
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
    warnings = [
        f"{path.name}: {h.what} missing in the source after {h.header!r} "
        + ("(removed)" if h.removed else "(kept: it is the document's only text)")
        for h in lost
    ]
    return LoadResult([LoadedDocument(meta, blocks, warnings=warnings, repairs=repairs)])
