"""Evidence units (`assistant.answer.evidence`): splitting passages into units and scoring them."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from ally.vocab import Vocabulary
from assistant.answer.evidence import IdfTable, UnitCache, defines, score_units, units_of
from assistant.answer.question import analyse

from .conftest import CARD, PROSE, TREE, chunk, hits


class TestUnits:
    def test_card_fields_carry_the_drug_name(self) -> None:
        units = units_of(CARD, 0)
        assert [u.kind for u in units] == ["field"] * 3
        assert units[1].display == "Nelarabine — Dosing Schedule: Adults: 1500 mg/m² IV on Days 1, 3, 5"

    def test_bullets_carry_section_path_and_parents(self) -> None:
        units = units_of(TREE, 0)
        nested = next(u for u in units if u.text == "Anti-CD22 ADC")
        assert nested.context == [
            "Treatment",
            "Ph+ B-ALL",
            "If CR after induction",
            "MRD+: Inotuzumab ozogamicin",
        ]

    def test_leaning_sentence_is_quoted_with_the_one_before(self) -> None:
        units = units_of(PROSE, 0)
        assert [u.kind for u in units] == ["sentence"] * 3
        assert units[1].text == "Blinatumomab is a bispecific T-cell engager. It binds CD19 and CD3."
        assert units[2].text == "Remission rates were 44%."

    def test_abbreviations_do_not_end_a_sentence(self) -> None:
        units = units_of(chunk("c", "Regimens, e.g. HyperCVAD, are used. Second sentence."), 0)
        assert [u.text for u in units] == ["Regimens, e.g. HyperCVAD, are used.", "Second sentence."]


class TestScoring:
    def test_the_field_asked_about_wins(self, vocab: Vocabulary, idf: IdfTable) -> None:
        cache = UnitCache(vocab)
        q = analyse("What is the dose of nelarabine?", vocab, idf.known)
        units = score_units(cache.gather(hits(CARD), 1), q, vocab, idf)
        best = max(units, key=lambda u: u.score)
        assert "Dosing Schedule" in best.text

    def test_numbers_help_a_figure_question(self, vocab: Vocabulary, idf: IdfTable) -> None:
        cache = UnitCache(vocab)
        q = analyse("What remission rate did blinatumomab give?", vocab, idf.known)
        units = score_units(cache.gather(hits(PROSE), 1), q, vocab, idf)
        assert max(units, key=lambda u: u.score).numbers == ["44%"]

    def test_a_unit_giving_an_age_covers_the_words_asking_one(self, vocab: Vocabulary) -> None:
        cache = UnitCache(vocab)
        prose = chunk("p", "The trial randomised 488 patients. Survival improved most in patients under 55 years old.")
        other = chunk("o", "Each age group of the trial was followed.")
        idf = IdfTable({t: 1 for c in (prose, other) for t in set(vocab.tokens(c.text))}, 3)
        q = analyse("In that trial, which age group improved most?", vocab, idf.known)
        assert q.age_frame == {"age", "group"}
        units = score_units(cache.gather(hits(prose), 1), q, vocab, idf)
        aged = next(u for u in units if "under 55" in u.text)
        assert aged.coverage > 0.5  # improved, and the age asked (the trial is its neighbour's word)
        assert max(units, key=lambda u: u.score) is aged

    def test_rank_prior_breaks_ties(self, vocab: Vocabulary, idf: IdfTable) -> None:
        cache = UnitCache(vocab)
        q = analyse("blinatumomab", vocab, idf.known)
        first, second = chunk("a", "Blinatumomab works."), chunk("b", "Blinatumomab works.")
        units = score_units(cache.gather(hits(first, second), 2), q, vocab, idf)
        assert units[0].score > units[1].score


class TestUnitCache:
    def test_bounded_lru(self, vocab: Vocabulary) -> None:
        cache = UnitCache(vocab, max_passages=2)
        for c in (CARD, TREE, PROSE):
            cache.units(c)
        assert len(cache) == 2

    def test_same_units_from_many_threads(self, vocab: Vocabulary) -> None:
        cache = UnitCache(vocab, max_passages=2)
        expected = {c.chunk_id: [u.text for u in units_of(c, 0)] for c in (CARD, TREE, PROSE)}
        failures: list[str] = []

        def fill() -> None:
            for _ in range(20):
                for c in (CARD, TREE, PROSE):
                    if [u.text for u in cache.units(c)] != expected[c.chunk_id]:
                        failures.append(c.chunk_id)

        threads = [threading.Thread(target=fill) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures and len(cache) <= 2

    def test_gather_stamps_the_hit_rank(self, vocab: Vocabulary) -> None:
        cache = UnitCache(vocab)
        units = cache.gather(hits(PROSE, CARD), 2)
        assert {u.hit_rank for u in units if u.chunk is CARD} == {1}
        assert {u.hit_rank for u in cache.units(CARD)} == {0}  # the cached units are not changed

    def test_gathered_units_equal_a_dataclass_replace_and_scoring_them_leaves_the_cache(
        self, vocab: Vocabulary, idf: IdfTable
    ) -> None:
        cache = UnitCache(vocab)
        gathered = cache.gather(hits(PROSE, CARD), 2)
        cached = [*cache.units(PROSE), *cache.units(CARD)]
        assert gathered == [
            replace(u, hit_rank=rank)
            for u, rank in zip(cached, [0] * len(cache.units(PROSE)) + [1] * len(cache.units(CARD)), strict=True)
        ]
        score_units(gathered, analyse("What is the dose of nelarabine?", vocab, idf.known), vocab, idf)
        assert any(u.score > 0 for u in gathered)
        assert all(u.score == 0.0 for u in cache.units(PROSE))

    def test_a_sentence_that_defines_the_term_wins_a_definition_question(
        self, vocab: Vocabulary, idf: IdfTable
    ) -> None:
        # both name blinatumomab; only the second says what it is ("is defined as"): the word
        # "define" in the question is its kind, not a term a passage must repeat
        uses = chunk("a", "Blinatumomab results define a new standard of care.")
        defines = chunk("b", "Blinatumomab is defined as a bispecific T-cell engager antibody.")
        cache = UnitCache(vocab)
        q = analyse("What defines blinatumomab?", vocab, idf.known)
        units = score_units(cache.gather(hits(uses, defines), 2), q, vocab, idf)
        assert max(units, key=lambda u: u.score).chunk.chunk_id == "b"

    @pytest.mark.parametrize(
        ("text", "defining"),
        [
            ("Rylaze®, a recombinant Erwinia asparaginase, is given IM.", True),
            ("Rylaze (asparaginase erwinia), an enzyme, depletes asparagine.", True),
            ("Rylaze is given intramuscularly.", False),
            ("In October, a study of Rylaze reported remission.", False),  # "In …," is no name
            ("Dexamethasone, a glucocorticoid, was given with Rylaze.", False),  # defines another thing
            ("Erwinia-derived recombinant asparaginase (Rylaze) is given IM.", True),  # spells it out
        ],
    )
    def test_an_appositive_defines_the_name_it_follows(self, vocab: Vocabulary, text: str, defining: bool) -> None:
        assert defines(text, set(vocab.tokens("Rylaze")), vocab) is defining

    def test_a_spelled_out_abbreviation_defines_only_when_asked_what_it_is(self, vocab: Vocabulary) -> None:
        text = "Outcomes of acute lymphoblastic leukemia (ALL) improved."
        assert defines(text, {"c_all"} | set(vocab.tokens("ALL")), vocab)
        assert not defines(text, {"c_all"} | set(vocab.tokens("ALL")), vocab, spelled_out=False)
