"""Loaders for the other formats (Markdown, HTML, PDF, PubMed XML) and bad-input handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from ally.errors import IngestError
from ingest.loaders import load_file, load_sources

PUBMED = """<?xml version="1.0"?>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>12345678</PMID><Article>
<Journal><Title>Blood</Title><JournalIssue><PubDate><Year>2023</Year></PubDate></JournalIssue></Journal>
<ArticleTitle>Blinatumomab in MRD-positive B-ALL</ArticleTitle>
<ELocationID EIdType="doi">10.1182/blood.2023.1</ELocationID>
<Abstract><AbstractText Label="BACKGROUND">MRD predicts relapse in adult B-ALL.</AbstractText>
<AbstractText Label="RESULTS">Complete MRD response was seen in 78% of patients.</AbstractText></Abstract>
<AuthorList><Author><LastName>Smith</LastName><ForeName>Ann</ForeName></Author></AuthorList>
</Article></MedlineCitation></PubmedArticle>
<PubmedArticle><MedlineCitation><PMID>87654321</PMID><Article><Journal><Title>Leukemia</Title></Journal>
<ArticleTitle>Second</ArticleTitle><Abstract><AbstractText>Ponatinib for T315I.</AbstractText></Abstract>
</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"""


def _pdf_bytes(text: str) -> bytes:
    """A minimal valid one-page PDF holding `text` (built by hand: no PDF writer dependency)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


class TestFormats:
    def test_markdown_headings_and_nested_bullets(self, tmp_path: Path) -> None:
        f = tmp_path / "guide.md"
        f.write_text(
            "# Guide\n\n## Treatment\n\n- Ph+ ALL:\n  - TKI + chemo\n  - TKI + blinatumomab\n\nSome prose here.\n"
        )
        [doc] = load_file(f, None, max_bytes=10_000)
        kinds = [(b.kind, b.text, b.level) for b in doc.blocks]
        assert ("heading", "Treatment", 2) in kinds
        assert ("bullet", "TKI + chemo", 1) in kinds
        assert doc.meta.title == "Guide"

    def test_html_main_text_and_metadata(self, tmp_path: Path) -> None:
        f = tmp_path / "page.html"
        f.write_text(
            '<html><head><title>ALL page</title><meta name="citation_doi" content="10.1000/xyz">'
            '<meta name="author" content="Jane Doe"></head><body><nav>Home / ALL</nav><article><h1>ALL page</h1>'
            "<h2>Treatment</h2><p>Blinatumomab is used in MRD-positive B-ALL in adults and children alike.</p>"
            "<ul><li>TKI + chemo for Ph-positive disease</li><li>Nelarabine for relapsed T-ALL</li></ul>"
            "</article><footer>© 2025 Example</footer></body></html>"
        )
        [doc] = load_file(f, None, max_bytes=100_000)
        text = " ".join(b.text for b in doc.blocks)
        assert "Blinatumomab is used" in text and "Nelarabine for relapsed T-ALL" in text
        assert "©" not in text and "Home /" not in text
        assert doc.meta.doi == "10.1000/xyz"
        assert doc.meta.authors == ["Jane Doe"]

    def test_pdf_text(self, tmp_path: Path) -> None:
        f = tmp_path / "paper.pdf"
        f.write_bytes(_pdf_bytes("Ponatinib 45 mg orally once daily for Ph-positive ALL."))
        [doc] = load_file(f, None, max_bytes=100_000)
        assert "Ponatinib 45 mg orally once daily" in " ".join(b.text for b in doc.blocks)

    def test_pubmed_export_one_document_per_article(self, tmp_path: Path) -> None:
        f = tmp_path / "export.xml"
        f.write_text(PUBMED)
        docs = load_file(f, None, max_bytes=100_000)
        assert [d.meta.doc_id for d in docs] == ["pmid-12345678", "pmid-87654321"]
        first = docs[0].meta
        assert (first.title, first.publisher, first.year, first.doi) == (
            "Blinatumomab in MRD-positive B-ALL",
            "Blood",
            2023,
            "10.1182/blood.2023.1",
        )
        assert first.authors == ["Ann Smith"]
        assert [b.text for b in docs[0].blocks if b.kind == "heading"] == ["Background", "Results"]

    def test_sources_yaml_overrides(self, tmp_path: Path) -> None:
        (tmp_path / "a.txt").write_text("Some heading\nA paragraph about ALL that is long enough to be body text.\n")
        (tmp_path / "sources.yaml").write_text(
            "- file: a.txt\n  title: Given title\n  year: 2020\n  doc_id: given-id\n"
        )
        [doc] = load_file(tmp_path / "a.txt", load_sources(tmp_path)["a.txt"], max_bytes=10_000)
        assert (doc.meta.doc_id, doc.meta.title, doc.meta.year) == ("given-id", "Given title", 2020)

    def test_sources_yaml_unknown_key_named(self, tmp_path: Path) -> None:
        (tmp_path / "sources.yaml").write_text("- file: a.txt\n  titel: typo\n")
        with pytest.raises(IngestError, match="titel"):
            load_sources(tmp_path)


class TestBadInput:
    @pytest.mark.parametrize(
        ("name", "content", "reason"),
        [
            ("empty.txt", b"", "empty"),
            ("binary.txt", b"\x00\x01\x02binary", "binary"),
            ("latin1.txt", "caf\u00e9 ALL".encode("latin-1"), "UTF-8"),
            ("chrome.txt", b"top of page\n\nbottom of page\n", "no text left"),
            ("broken.pdf", b"%PDF-1.4 this is not a pdf", "PDF"),
            ("bad.xml", b"<PubmedArticleSet><unclosed>", "XML"),
            ("notes.docx", b"PK\x03\x04", "unsupported"),
        ],
    )
    def test_reported_with_reason(self, tmp_path: Path, name: str, content: bytes, reason: str) -> None:
        f = tmp_path / name
        f.write_bytes(content)
        with pytest.raises(IngestError, match=reason):
            load_file(f, None, max_bytes=10_000)

    def test_oversized(self, tmp_path: Path) -> None:
        f = tmp_path / "big.txt"
        f.write_text("x" * 2000)
        with pytest.raises(IngestError, match="too large"):
            load_file(f, None, max_bytes=1000)
