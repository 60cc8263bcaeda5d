"""Ingest on real literature: nothing vanishes, and the cleaning rules fire only where they should.

The articles are real PubMed records (`../shared/corpora/pubmed-real/`, see `real_corpus.py`), ingested
as a user would (the XML files through the PubMed loader) and, for the text rules, written out as plain
text documents the way `external-dev/docs/` holds the same articles.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from ally.chunks import LOST_LIST
from ally.settings import Settings
from ingest.clean import strip_markup
from ingest.documents import LoadedDocument
from ingest.loaders import load_file, load_source, load_sources
from ingest.pipeline import ingest_paths
from ingest.repair import repair_text
from ingest.store import open_reader
from tests.ingest.real_corpus import EXTERNAL_DOCS, PUBMED_REAL, Article, articles, require
from tests.ingest.test_pipeline import HashEncoder


@pytest.fixture(scope="module")
def real_articles() -> list[Article]:
    """Every article of pubmed-real (19,686)."""
    folder = require(PUBMED_REAL)
    return [a for f in sorted(folder.glob("*.xml")) for a in articles(f)]


def _text_file(tmp_path: Path, article: Article) -> Path:
    path = tmp_path / f"pmid-{article.pmid}.txt"
    path.write_text(article.as_text(), encoding="utf-8")
    return path


def _load_text(tmp_path: Path, article: Article) -> LoadedDocument:
    [doc] = load_file(_text_file(tmp_path, article), None, max_bytes=10_000_000)
    return doc


def _chars(text: str) -> Counter[str]:
    return Counter(c for c in text if not c.isspace())


def _unmarked(text: str) -> tuple[str, list[str]]:
    """`text` without the element tags the loader strips, and those tags: each one a whole tag, so
    what goes is markup, never the text it wraps."""
    unmarked, tags = strip_markup(text)
    assert all(re.fullmatch(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>", t) for t in tags), tags
    return unmarked, tags


def _removed_headers(doc: LoadedDocument) -> list[str]:
    found = (re.search(r"after (['\"])(.*)\1 \(removed\)$", w) for w in doc.warnings)
    return [m.group(2) for m in found if m]


class TestNothingVanishes:
    def test_every_article_of_a_real_export_is_a_document_or_reported(self, tmp_path: Path) -> None:
        """Articles in = documents ingested + articles reported, on a real PubMed XML file as it is."""
        source = require(PUBMED_REAL) / "bioasq-001.xml"
        export = tmp_path / "export" / source.name
        export.parent.mkdir()
        shutil.copy(source, export)
        arts = articles(export)
        title_only = {a.pmid: a.title for a in arts if not a.sections}
        assert title_only, "the sample must hold title-only articles"

        report = ingest_paths([export.parent], Settings(store=tmp_path / "store"), encoder=HashEncoder())

        assert report.added + len(report.failures) == len(arts)
        assert report.failed == len(report.failures) == 0  # every real article here has a PMID and text
        with open_reader(Settings(store=tmp_path / "store")) as reader:
            docs = {d.doc_id: d for d in reader.documents()}
            assert len(docs) == len(arts)
            for pmid, title in title_only.items():
                [chunk] = reader.chunks(f"pmid-{pmid}")
                assert chunk.text == title
                assert docs[f"pmid-{pmid}"].title == title

    def test_articles_that_cannot_be_documents_are_reported_with_their_reason(self, tmp_path: Path) -> None:
        source = require(PUBMED_REAL) / "bioasq-001.xml"
        xml = source.read_text(encoding="utf-8")
        records = re.findall(r"<PubmedArticle>.*?</PubmedArticle>", xml, re.S)
        kept = records[0]
        no_pmid = re.sub(r"<PMID>\d+</PMID>", "", records[1])
        no_text = re.sub(r"<Abstract>.*?</Abstract>|<ArticleTitle>.*?</ArticleTitle>", "", records[2], flags=re.S)
        export = tmp_path / "export.xml"
        export.write_text(f"<PubmedArticleSet>{kept}{no_pmid}{no_text}{kept}</PubmedArticleSet>", encoding="utf-8")
        pmid = re.search(r"<PMID>(\d+)</PMID>", kept)
        no_text_pmid = re.search(r"<PMID>(\d+)</PMID>", no_text)
        assert pmid and no_text_pmid

        loaded = load_source(export, None, max_bytes=10_000_000)
        assert [d.meta.doc_id for d in loaded.documents] == [f"pmid-{pmid.group(1)}"]
        assert loaded.skipped == [
            "article 2 of 4: no MedlineCitation/PMID; not ingested",
            f"article 3 of 4 (PMID {no_text_pmid.group(1)}): neither a title nor any abstract text; not ingested",
            f"article 4 of 4 (PMID {pmid.group(1)}): the same PMID as article 1; only that one is ingested",
        ]
        report = ingest_paths([export], Settings(store=tmp_path / "store"), encoder=HashEncoder())
        assert (report.added, report.failed) == (1, 3)
        assert [(f.path, f.reason) for f in report.failures] == [(str(export), r) for r in loaded.skipped]
        assert report.added + report.failed == 4

    def test_an_export_without_any_usable_article_fails_with_the_reason(self, tmp_path: Path) -> None:
        export = tmp_path / "empty.xml"
        export.write_text("<PubmedArticleSet><PubmedArticle><MedlineCitation/></PubmedArticle></PubmedArticleSet>")
        report = ingest_paths([export], Settings(store=tmp_path / "store"), encoder=HashEncoder())
        assert report.added == 0
        [failure] = report.failures
        assert (
            failure.reason
            == "no PubMed article could be ingested: article 1 of 1: no MedlineCitation/PMID; not ingested"
        )

    def test_unsupported_files_in_a_folder_are_reported(self, tmp_path: Path) -> None:
        folder = tmp_path / "docs"
        folder.mkdir()
        (folder / "a.txt").write_text("Ponatinib is given at 45 mg orally once daily in Ph-positive ALL.\n")
        (folder / "notes.docx").write_bytes(b"PK\x03\x04")
        (folder / ".hidden.docx").write_bytes(b"PK\x03\x04")  # hidden files are not the user's documents
        report = ingest_paths([folder], Settings(store=tmp_path / "store"), encoder=HashEncoder())
        assert report.added == 1
        [failure] = report.failures
        assert failure.path == str(folder / "notes.docx") and "unsupported file type '.docx'" in failure.reason

    def test_title_only_text_and_markdown_documents_keep_their_title(self, tmp_path: Path) -> None:
        (tmp_path / "t.txt").write_text("Prednisone and deflazacort in Duchenne muscular dystrophy:\n")
        (tmp_path / "sources.yaml").write_text(
            "- file: t.txt\n  title: 'Prednisone and deflazacort in Duchenne muscular dystrophy:'\n"
        )
        [doc] = load_file(tmp_path / "t.txt", load_sources(tmp_path)["t.txt"], max_bytes=10_000)
        assert [(b.kind, b.text) for b in doc.blocks] == [
            ("paragraph", "Prednisone and deflazacort in Duchenne muscular dystrophy:")
        ]
        assert doc.warnings == []
        (tmp_path / "m.md").write_text("# Apnea Testing for the Determination of Brain Death\n")
        [md] = load_file(tmp_path / "m.md", None, max_bytes=10_000)
        assert md.meta.title == "Apnea Testing for the Determination of Brain Death"
        assert [b.text for b in md.blocks] == ["Apnea Testing for the Determination of Brain Death"]


class TestLostListRuleOnRealText:
    def test_no_real_article_loses_text_without_a_warning(self, real_articles: list[Article], tmp_path: Path) -> None:
        """Every title-only article and every article with a paragraph ending in ":", as a text file:
        it loads, and its characters are all kept except the headers its warnings name."""
        sample = [a for a in real_articles if not a.sections or any(t.endswith(":") for _, t in a.sections)]
        sample += [a for a in real_articles if a.title.endswith(":")]
        assert len(sample) > 600
        for article in sample:
            doc = _load_text(tmp_path, article)
            kept = " ".join(b.text for b in doc.blocks)
            source, _ = _unmarked(repair_text(article.as_text())[0])
            assert _chars(kept) + _chars(" ".join(_removed_headers(doc))) == _chars(source), article.pmid

    def test_title_lines_ending_in_a_colon_are_kept(self, real_articles: list[Article], tmp_path: Path) -> None:
        titled = [a for a in real_articles if a.title.endswith(":")]
        assert len(titled) >= 5
        for article in titled:
            doc = _load_text(tmp_path, article)
            assert doc.blocks[0].text == article.title and doc.warnings == [], article.pmid

    def test_a_section_label_glued_to_the_last_sentence_is_all_that_goes(
        self, real_articles: list[Article], tmp_path: Path
    ) -> None:
        glued = [
            a for a in real_articles if a.sections and re.search(r"\w[.!?][A-Z]{3,}(?: [A-Z]+)*:$", a.sections[-1][1])
        ]
        assert glued
        for article in glued:
            doc = _load_text(tmp_path, article)
            label = re.search(r"([A-Z]{3,}(?: [A-Z]+)*):$", article.sections[-1][1])
            assert label is not None
            assert _removed_headers(doc) == [f"{label.group(1)}:"]
            kept = " ".join(b.text for b in doc.blocks)
            assert article.sections[-1][1][: label.start()] in kept  # the sentence before the label stays

    def test_a_dangling_list_announcement_is_still_removed_and_flagged(
        self, real_articles: list[Article], tmp_path: Path
    ) -> None:
        announcing = [
            a
            for a in real_articles
            if a.sections and re.search(r"\b(were|are|include|of|for|following):$", a.sections[-1][1])
        ]
        assert announcing
        for article in announcing:
            doc = _load_text(tmp_path, article)
            assert doc.warnings and any(LOST_LIST in b.flags for b in doc.blocks), article.pmid

    def test_the_external_text_documents_load_whole(self, tmp_path: Path) -> None:
        """The 1,296 plain-text articles of external-dev: every one loads, no rule removes any of its
        text (the title line, where sources.yaml gives the title, is the document's title; tags of
        PubMed XML quoted in the text go, the text inside them stays)."""
        folder = require(EXTERNAL_DOCS)
        sources = load_sources(folder)
        files = sorted(folder.glob("*.txt"))
        assert len(files) > 1000
        for path in files:
            entry = sources.get(path.name)
            [doc] = load_file(path, entry, max_bytes=10_000_000)
            kept = " ".join(b.text for b in doc.blocks)
            source, _ = _unmarked(repair_text(path.read_text(encoding="utf-8"))[0])
            first_line = source.strip().split("\n")[0].strip()
            dropped = "" if doc.blocks[0].text == first_line else first_line
            assert dropped in ("", doc.meta.title), path.name  # only a line repeating the title goes
            assert doc.warnings == [], path.name
            assert _chars(kept) + _chars(dropped) == _chars(source), path.name


class TestChromeRulesOnRealText:
    def _abstract(self, real_articles: list[Article]) -> Article:
        return next(a for a in real_articles if a.title and len(a.sections) >= 3)

    def test_boilerplate_words_inside_an_article_are_kept(self, real_articles: list[Article], tmp_path: Path) -> None:
        article = self._abstract(real_articles)
        middle = "Please contact us for the study protocol and our organization's data-sharing terms."
        text = article.as_text().split("\n\n")
        path = tmp_path / "a.txt"
        path.write_text("\n\n".join([*text[:2], middle, *text[2:]]), encoding="utf-8")
        [doc] = load_file(path, None, max_bytes=100_000)
        assert middle in [b.text for b in doc.blocks]

    def test_boilerplate_around_an_article_is_removed(self, real_articles: list[Article], tmp_path: Path) -> None:
        article = self._abstract(real_articles)
        footer = "For general questions about our organization, please email us."
        path = tmp_path / "a.txt"
        path.write_text(
            f"Home / Articles / Oncology\n\n{article.as_text()}\n{footer}\n\n© 2025 Example", encoding="utf-8"
        )
        [doc] = load_file(path, None, max_bytes=100_000)
        texts = [b.text for b in doc.blocks]
        assert footer not in texts and not any(t.startswith(("Home /", "©")) for t in texts)
        assert article.sections[0][1] in " ".join(texts)

    def test_a_sentence_starting_like_a_breadcrumb_is_kept(self, tmp_path: Path) -> None:
        line = "Start / stop rules were applied to every infusion, as the protocol required."
        path = tmp_path / "a.txt"
        path.write_text(f"{line}\n\nBlinatumomab was given to adults with MRD-positive B-ALL in remission.\n")
        [doc] = load_file(path, None, max_bytes=10_000)
        assert line in [b.text for b in doc.blocks]
