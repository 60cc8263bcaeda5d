"""Property-based and hostile-file tests of the ingest loaders and pipeline.

Random bytes under every supported suffix, invalid UTF-8, NUL bytes, files over the size limit,
deeply nested HTML, mutated PDFs and hostile XML: each file either loads or raises IngestError with
a reason; a pipeline run over a folder of them reports the bad files, stores the good ones, and
leaves a store whose manifest, chunk records, BM25 index and Chroma agree.
"""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ally.errors import IngestError
from ally.settings import Settings
from ingest.loaders import SUPPORTED_SUFFIXES, load_file
from ingest.pipeline import ingest_paths
from ingest.store import open_reader

from .fakes import HashEncoder
from .record import record

SUFFIXES = sorted(SUPPORTED_SUFFIXES)
COUNT: dict[str, int] = {}
LIMIT = 1_000_000


def _load(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    try:
        docs = load_file(path, None, max_bytes=LIMIT)
    except IngestError as exc:
        assert str(exc), "an IngestError must give a reason"
        return "error"
    for doc in docs:
        assert doc.meta.doc_id and doc.meta.title is not None and doc.blocks
    return "ok"


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with `text` in Helvetica, built by hand (xref offsets computed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


PDF = minimal_pdf("Blinatumomab is approved for MRD-positive B-ALL in first or second remission.")


def test_minimal_pdf_loads(tmp_path: Path) -> None:
    docs = load_file(tmp_path / "ok.pdf", None, max_bytes=LIMIT) if (tmp_path / "ok.pdf").write_bytes(PDF) else []
    assert docs and "Blinatumomab" in docs[0].blocks[0].text


@settings(settings.get_profile("reliability"))
@given(suffix=st.sampled_from(SUFFIXES), data=st.binary(min_size=0, max_size=2000))
def test_random_bytes(tmp_path_factory: pytest.TempPathFactory, suffix: str, data: bytes) -> None:
    COUNT["bytes"] = COUNT.get("bytes", 0) + 1
    _load(tmp_path_factory.mktemp("rb") / f"f{suffix}", data)


@settings(settings.get_profile("reliability"))
@given(
    suffix=st.sampled_from([".txt", ".md", ".html", ".xml"]),
    text=st.text(min_size=1, max_size=500),
    bad=st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]),
    where=st.floats(min_value=0, max_value=1),
)
def test_invalid_utf8_is_named(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, text: str, bad: bytes, where: float
) -> None:
    COUNT["utf8"] = COUNT.get("utf8", 0) + 1
    raw = text.encode("utf-8").replace(b"\x00", b" ")
    cut = int(len(raw) * where)
    while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:  # insert between characters
        cut += 1
    path = tmp_path_factory.mktemp("u8") / f"f{suffix}"
    path.write_bytes(raw[:cut] + bad + raw[cut:])
    with pytest.raises(IngestError, match="not valid UTF-8"):
        load_file(path, None, max_bytes=LIMIT)


@settings(settings.get_profile("reliability"), max_examples=100)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=len(PDF) - 1), min_size=1, max_size=6), junk=st.binary(max_size=8)
)
def test_mutated_pdfs(tmp_path_factory: pytest.TempPathFactory, cuts: list[int], junk: bytes) -> None:
    COUNT["pdf"] = COUNT.get("pdf", 0) + 1
    data = bytearray(PDF)
    for i, cut in enumerate(cuts):
        if i == 0 and len(cuts) % 2:
            data = data[:cut]  # truncated
        elif cut < len(data):
            data[cut : cut + len(junk)] = junk
    _load(tmp_path_factory.mktemp("pdf") / "m.pdf", bytes(data))


HOSTILE: dict[str, bytes] = {
    "deep.html": b"<html><body>" + b"<div>" * 50_000 + b"ALL text" + b"</div>" * 50_000 + b"</body></html>",
    "deep-unclosed.html": b"<html><body>" + b"<div><p><span>" * 30_000 + b"blinatumomab",
    "script-only.html": b"<html><head><script>alert(1)</script></head><body><script>x()</script></body></html>",
    "billion-laughs.xml": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]><PubmedArticleSet><PubmedArticle>&lol9;</PubmedArticle></PubmedArticleSet>"
    ),
    "external-entity.xml": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID></MedlineCitation>"
        b"<Abstract><AbstractText>&e;</AbstractText></Abstract></PubmedArticle></PubmedArticleSet>"
    ),
    "nul.txt": b"ALL text\x00\x00binary",
    "bom-only.txt": b"\xef\xbb\xbf",
    "whitespace.md": b"   \n\n\t\n",
    "empty.pdf": b"",
    "not-really.pdf": b"%PDF-1.7\n" + b"0" * 5000,
    "pdf-bomb-like.pdf": b"%PDF-1.4\n1 0 obj << /Length 99999999999 >> stream\n"
    + b"x" * 100
    + b"\nendstream endobj\n%%EOF",
    "long-line.txt": b"ALL " * 200_000,
    "controls.txt": bytes(range(1, 32)) * 100 + b"Blinatumomab treats B-ALL.",
}


def test_hostile_files_fail_cleanly_and_fast(tmp_path: Path) -> None:
    outcomes = {}
    for name, data in HOSTILE.items():
        started = time.monotonic()
        outcomes[name] = _load(tmp_path / name, data)
        assert time.monotonic() - started < 60, f"{name} took too long"
    assert outcomes["nul.txt"] == outcomes["empty.pdf"] == outcomes["bom-only.txt"] == "error"
    assert outcomes["script-only.html"] == "error"
    for name in ("external-entity.xml",):
        path = tmp_path / name
        if outcomes[name] == "ok":
            texts = " ".join(b.text for d in load_file(path, None, max_bytes=LIMIT) for b in d.blocks)
            assert "root:" not in texts, "external entities must never be resolved"
    record(
        "inputs",
        "ingest loaders: hand-made hostile files (deep/unclosed HTML, billion laughs, XXE, NUL, "
        "empty, fake/huge-length PDF, 800 KB single line, control characters)",
        len(HOSTILE),
        "IngestError with a reason or a clean load; each under 60 s",
        "test_fuzz_loaders",
    )


def test_oversized_file_is_refused_without_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as fh:  # sparse: 30 GB on paper, nothing on disk
        fh.truncate(30 * 1024**3)
    with pytest.raises(IngestError, match=r"too large .* ALLY_MAX_FILE_BYTES"):
        load_file(huge, None, max_bytes=Settings().max_file_bytes)


def test_large_text_file_loads_in_bounded_time(tmp_path: Path) -> None:
    rng = random.Random(9)
    words = ["blinatumomab", "MRD", "B-ALL", "remission", "dose", "mΒ²", "Γ—", "\u00a0", "patients", "induction"]
    paragraphs = [" ".join(rng.choice(words) for _ in range(60)) + "." for _ in range(3000)]
    path = tmp_path / "large.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    started = time.monotonic()
    [doc] = load_file(path, None, max_bytes=Settings().max_file_bytes)
    elapsed = time.monotonic() - started
    assert len(doc.blocks) >= 1000 and elapsed < 60
    record(
        "inputs",
        f"ingest loaders: large text file ({path.stat().st_size // 1024} KB, 3000 paragraphs) "
        "and a 30 GB sparse file over the limit",
        2,
        f"loads in {elapsed:.1f} s; oversize refused naming ALLY_MAX_FILE_BYTES",
        "test_fuzz_loaders",
    )


def test_pipeline_over_a_hostile_folder(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, data in HOSTILE.items():
        (folder / name).write_bytes(data)
    (folder / "bad-utf8.txt").write_bytes(b"Blinatumomab \xff\xfe text")
    (folder / "random.pdf").write_bytes(random.Random(3).randbytes(4000))
    (folder / "good.txt").write_text("Dasatinib\n\nDasatinib is a TKI used with chemotherapy in Ph+ ALL.\n")
    (folder / "good.pdf").write_bytes(PDF)
    (folder / "sources.yaml").write_text("- file: good.txt\n  title: Good\n  year: 2024\n")
    settings_ = Settings(store=tmp_path / "store")
    report = ingest_paths([folder], settings_, encoder=HashEncoder())
    failed = {Path(f.path).name: f.reason for f in report.failures}
    assert {"nul.txt", "bad-utf8.txt", "random.pdf", "empty.pdf"} <= set(failed)
    assert all(reason and not reason.startswith("unexpected") for reason in failed.values()), failed
    assert report.added >= 2
    with open_reader(settings_) as reader:
        ids = set(reader.chunks_by_id)
        assert ids == {c for e in reader.manifest.documents.values() for c in e.chunk_ids}
        assert set(reader.bm25.ids) == ids
        assert set(reader.collection.get(ids=sorted(ids), include=[])["ids"]) == ids
        assert {"good", "good-pdf"} & set(reader.manifest.documents) or len(reader.manifest.documents) >= 2


def test_zz_record_counts() -> None:
    labels = {
        "bytes": "ingest loaders: random bytes under each suffix (.txt .md .html .pdf .xml ...)",
        "utf8": "ingest loaders: text with invalid UTF-8 inserted at a random place",
        "pdf": "ingest loaders: PDFs truncated / overwritten at random offsets",
    }
    for key, what in labels.items():
        if COUNT.get(key):
            record("inputs", what, COUNT[key], "IngestError with a reason, or a clean load", "test_fuzz_loaders")
