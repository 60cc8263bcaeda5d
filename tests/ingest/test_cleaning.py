"""Loader and cleaner tests on the real corpus files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ally.chunks import LOST_LIST
from ingest.chunk import Chunker
from ingest.clean import strip_markup
from ingest.embed import default_model_path, token_counter
from ingest.loaders import load_file, load_sources
from ingest.repair import has_mojibake, repair_mojibake, repair_text

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
FILES = sorted(CORPUS.glob("*.txt"))


def load(name: str):  # type: ignore[no-untyped-def]
    sources = load_sources(CORPUS)
    [doc] = load_file(CORPUS / name, sources.get(name), max_bytes=10_000_000)
    return doc


def chunks_of(name: str):  # type: ignore[no-untyped-def]
    return Chunker(token_counter(default_model_path()), 240).chunk(load(name))


class TestRepair:
    @pytest.mark.parametrize(
        ("raw", "fixed"),
        [
            ("1500 mg/mΒ² IV", "1500 mg/m² IV"),
            ("1 Γ— 10⁸", "1 × 10⁸"),
            ("U.S.- manufactured", "U.S.-manufactured"),
            ("pediatric- inspired", "pediatric-inspired"),
            ("a\u00a0b", "a b"),
        ],
    )
    def test_known_sequences(self, raw: str, fixed: str) -> None:
        assert repair_text(raw)[0] == fixed

    def test_real_greek_and_symbols_untouched(self) -> None:
        text = "Ελληνικά ≥20% ± × → – ’ ®"
        assert repair_mojibake(text) == (text, 0)

    def test_b_and_t_hyphen_kept(self) -> None:
        assert repair_text("B- and T-cell")[0] == "B- and T-cell"


class TestMarkup:
    @pytest.mark.parametrize(
        ("raw", "clean"),
        [
            (
                '<AbstractText Label="CONCLUSIONS" NlmCategory="CONCLUSIONS">In our study, x.</AbstractText>',
                "In our study, x.",
            ),
            ("mg/m<sup>2</sup> of <i>E. coli</i> asparaginase", "mg/m2 of E. coli asparaginase"),
            ("<p class='lead'>Text.</p><br/>", "Text."),
        ],
    )
    def test_inert_tags_go_their_text_stays(self, raw: str, clean: str) -> None:
        assert strip_markup(raw)[0] == clean

    @pytest.mark.parametrize(
        "text",
        [
            "patients with<or =5 metastatic sites",  # a less-than sign, not a tag
            "Hypodiploidy (cells with <44 chromosomes)",
            "when a < b and c > d",
            "<b and c>",
            "<script>alert(1)</script>",  # active markup stays for the untrusted-text check to flag
            "<img src=x onerror=alert(1)>",
        ],
    )
    def test_text_and_active_markup_are_kept(self, text: str) -> None:
        assert strip_markup(text) == (text, [])

    def test_a_plain_text_snippet_of_xml_loads_as_its_text(self, tmp_path: Path) -> None:
        f = tmp_path / "pmid-1.txt"
        f.write_text(
            '<AbstractText Label="CONCLUSIONS">Off-label rituximab was mainly used for kidney disease.</AbstractText>\n'
        )
        [doc] = load_file(f, None, max_bytes=10_000)
        assert [b.text for b in doc.blocks] == ["Off-label rituximab was mainly used for kidney disease."]


class TestCorpusCleaning:
    @pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
    def test_no_mojibake_or_chrome_in_any_chunk(self, path: Path) -> None:
        for chunk in chunks_of(path.name):
            assert not has_mojibake(chunk.embed_text), chunk.text
            for chrome in (
                "top of page",
                "bottom of page",
                "Related Posts",
                "See All",
                "SLiM-CRAB",
                "Home /",
                "©",
                "Downloads",
                "please email us",
                "T-Cell Non-Hodgkin",
            ):
                assert chrome not in chunk.embed_text, (chrome, chunk.text)

    def test_doses_repaired(self) -> None:
        text = "\n".join(c.text for c in chunks_of("all-overview-approved-therapies.txt"))
        assert "1500 mg/m² IV over 2 hours on Days 1, 3, 5" in text
        assert "52 mg/m² IV over 2 hours daily" in text
        assert "1 × 10" in text

    def test_car_t_abstract_metadata(self) -> None:
        doc = load("li-2025-car-t-in-all.txt")
        assert doc.meta.doi == "10.61173/ccs0h933"
        assert doc.meta.published == "2025-10-23"
        assert doc.meta.authors == ["Chenyu Li"]
        assert doc.meta.year == 2025
        body = " ".join(b.text for b in doc.blocks)
        for chrome in ("Downloads", "Published", "Articles", "Keywords", "DOI"):
            assert chrome not in body

    def test_schistosite_update_date_kept_as_metadata(self) -> None:
        doc = load("schistosite-all-2025.txt")
        assert doc.meta.updated == "2025-11-19"
        assert doc.meta.year == 2025

    def test_lost_lists_flagged_not_presented(self) -> None:
        doc = load("nonprofit-all-targeted-cellular-therapies.txt")
        assert any("FDA-approved for:" in w for w in doc.warnings)
        chunks = chunks_of("nonprofit-all-targeted-cellular-therapies.txt")
        assert not any(c.text.rstrip().endswith(":") for c in chunks)
        assert not any("FDA-approved for:" in c.text or "combination of:" in c.text for c in chunks)
        assert any(LOST_LIST in c.flags for c in chunks)

    def test_title_not_repeated_in_body(self) -> None:
        doc = load("nonprofit-all-targeted-cellular-therapies.txt")
        assert doc.meta.title.endswith("Transforming Outcomes")
        assert all(b.text != "Outcomes" for b in doc.blocks)


class TestStructure:
    def test_mrd_bullet_carries_full_section_path(self) -> None:
        chunks = chunks_of("schistosite-all-2025.txt")
        [mrd_pos] = [
            c
            for c in chunks
            if c.section.startswith("Treatment > Philadelphia chromosome positive B-cell ALL")
            and c.section.endswith("> MRD+")
        ]
        assert mrd_pos.section == (
            "Treatment > Philadelphia chromosome positive B-cell ALL > If CR after induction: check MRD status > MRD+"
        )
        assert "- Blinatumomab +/- TKI" in mrd_pos.text
        assert mrd_pos.embed_text.startswith(mrd_pos.section)

    def test_every_bullet_found_with_context(self) -> None:
        chunks = chunks_of("schistosite-all-2025.txt")
        assert all(c.section for c in chunks)
        blina = [c for c in chunks if "Blinatumomab +/- TKI" in c.text]
        assert {c.section.split(" > ")[1] for c in blina} == {"Philadelphia chromosome positive B-cell ALL"}

    def test_each_drug_card_is_one_chunk_with_its_dosing(self) -> None:
        chunks = chunks_of("all-overview-approved-therapies.txt")
        cards = {c.section.split(" > ")[-1]: c for c in chunks if c.section.startswith("Approved Therapies > ")}
        assert set(cards) == {
            "brexucabtagene autoleucel",
            "ponatinib",
            "nelarabine",
            "clofarabine",
            "asparaginase erwinia chrysanthemi (recombinant)",
        }
        assert "45 mg orally once daily" in cards["ponatinib"].text
        assert "Adults: 1500 mg/m²" in cards["nelarabine"].text and "Pediatric: 650 mg/m²" in cards["nelarabine"].text
        assert "25 mg/m² IM" in cards["asparaginase erwinia chrysanthemi (recombinant)"].text
        for card in cards.values():
            assert "Pivotal Trial" not in card.text  # empty fields are dropped

    @pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
    def test_chunks_fit_the_model_window(self, path: Path) -> None:
        count = token_counter(default_model_path())
        for chunk in chunks_of(path.name):
            assert count(chunk.embed_text) <= 240 < 256

    def test_chunk_ids_stable_and_unique(self) -> None:
        first = [c.chunk_id for c in chunks_of("schistosite-all-2025.txt")]
        assert first == [c.chunk_id for c in chunks_of("schistosite-all-2025.txt")]
        assert len(set(first)) == len(first)
