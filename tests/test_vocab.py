"""The vocabulary (`ally.vocab`): its stemmer under the answer threads -- concurrent callers get the
stems one thread gets (a shared snowballstemmer stemmer keeps the word being stemmed in itself;
unguarded, eight threads raised IndexError within 12,000 words, and `ally serve` answered 500 to the
first concurrent questions) -- and its concept matching, whose prefilters find what trying every
term's pattern on the whole text finds."""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path

import pytest
import snowballstemmer
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ally.vocab import Match, Vocabulary, default_vocabulary, leading_run, stem

SUFFIXES = ("ational", "ization", "fulness", "ing")


def test_stem_is_thread_safe() -> None:
    rng = random.Random(7)
    words = [
        "".join(rng.choices("abcdefghilmnoprstu", k=rng.randint(4, 14))) + s for _ in range(3000) for s in SUFFIXES
    ]
    reference = snowballstemmer.stemmer("english")
    expected = [reference.stemWord(w) for w in words]
    uncached = stem.__wrapped__  # every call reaches the stemmer, as cache misses do
    failures: list[str] = []

    def run() -> None:
        try:
            if [uncached(w) for w in words] != expected:
                failures.append("wrong stems")
        except Exception as exc:
            failures.append(type(exc).__name__)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_stems_are_snowball_s_from_its_c_build() -> None:
    """The stemmer is PyStemmer's C build (~18x faster than snowballstemmer's pure Python, which is
    used only where PyStemmer is missing) and gives the pure-Python Snowball stems: a store indexed
    with one is read with the other (35,188 words of the real PubMed sample gave no difference)."""
    from snowballstemmer.english_stemmer import EnglishStemmer

    assert type(snowballstemmer.stemmer("english")).__module__ == "Stemmer"
    text = " ".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in (Path(__file__).parents[1] / "corpus").iterdir()
        if p.is_file()
    )
    corpus_words = {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 1}
    assert len(corpus_words) > 1000
    python = EnglishStemmer()
    assert [stem.__wrapped__(w) for w in sorted(corpus_words)] == [python.stemWord(w) for w in sorted(corpus_words)]


def every_pattern(vocab: Vocabulary, text: str) -> list[Match]:
    """Concept matching by its definition: every term's pattern over the whole text, longest term
    first, a match overlapping an earlier one left out, in text order."""
    taken: set[int] = set()
    found = []
    for cid, term, pattern in vocab._patterns:
        for m in pattern.finditer(text):
            span = set(range(m.start(), m.end()))
            if not span & taken:
                taken |= span
                found.append(Match(cid, m.start(), m.end(), term))
    return sorted(found, key=lambda m: m.start)


VOCAB = default_vocabulary()
PIECES = [t for c in VOCAB.concepts.values() for t in c.terms] + [
    "ſ", "K", "İ", "_", "1", "-", "/", "+", ":", " ", "(", "x", "ABL", "cell", "-like", "s",
]  # fmt: skip


class TestMatching:
    @hsettings(max_examples=400, deadline=None)
    @given(st.lists(st.sampled_from(PIECES), max_size=8).map("".join))
    def test_the_prefilters_find_what_every_pattern_finds(self, text: str) -> None:
        assert VOCAB._match(text) == every_pattern(VOCAB, text)

    @pytest.mark.parametrize(
        ("term", "run"),
        [
            ("BCR::ABL1", "bcr"),
            ("allo-HSCT", "allo"),
            ("6-MP", "6"),
            ("Blincyto", "blincyto"),
            ("(R)", ""),
            ("a_b", ""),
        ],
    )
    def test_leading_run(self, term: str, run: str) -> None:
        assert leading_run(term) == run

    @pytest.mark.parametrize(
        ("text", "concept"),
        [
            ("options for r/r Ph-neg B-ALL", "c_ph_neg"),
            ("Ph pos ALL", "c_ph_pos"),
            ("MRD-neg after induction", "c_mrd_neg"),
            ("still MRD pos", "c_mrd_pos"),
            ("Ph-negative B-ALL", "c_ph_neg"),
            ("what does Philly positive mean for treatment?", "c_ph_pos"),  # ward slang
            ("Philly-negative adults", "c_ph_neg"),
        ],
    )
    def test_clinicians_shorthand_for_negative_and_positive(self, text: str, concept: str) -> None:
        assert concept in VOCAB.tokens(text)

    @pytest.mark.parametrize(
        ("text", "has_test"),
        [
            ("which test guides the next step?", True),  # the question's word
            ("check MRD status after induction", True),  # a test by name answers "which test"
            ("NGS detects gene mutations", True),
            ("ABL kinase domain mutation testing", True),
            ("bone marrow transplant in CR1", False),  # bone marrow is not a test on its own
            ("blinatumomab plus TKI", False),
        ],
    )
    def test_a_named_test_is_a_test(self, text: str, has_test: bool) -> None:
        assert ("c_test" in VOCAB.tokens(text)) is has_test

    @pytest.mark.parametrize(
        ("text", "concepts"),
        [
            ("median OS of 12 months", {"c_os", "c_survival"}),  # the abbreviation is the endpoint
            ("overall survival improved", {"c_os", "c_survival"}),
            ("7-year EFS", {"c_efs", "c_survival"}),
            ("survival rates around 40%", {"c_survival"}),  # bears on any survival endpoint asked
            ("ORR was 81%", {"c_orr", "c_response"}),
        ],
    )
    def test_an_endpoint_is_a_kind_of_survival_or_response(self, text: str, concepts: set[str]) -> None:
        found = {t for t in VOCAB.tokens(text) if t.startswith("c_")}
        assert found == concepts

    @pytest.mark.parametrize(
        ("text", "concepts"),
        [
            ("neuropsychiatric adverse events", {"c_toxicity"}),  # a harm of any kind
            ("What are the side effects of it?", {"c_toxicity"}),
            ("cytokine release syndrome", {"c_crs", "c_toxicity"}),  # a named harm is a harm
            ("veno-occlusive disease/liver toxicity", {"c_vod", "c_toxicity"}),
        ],
    )
    def test_a_named_harm_is_a_harm(self, text: str, concepts: set[str]) -> None:
        found = {t for t in VOCAB.tokens(text) if t.startswith("c_")}
        assert found == concepts

    def test_what_is_asked_of_a_product_is_marked_as_an_attribute(self) -> None:
        attributes = {c.id for c in VOCAB.concepts.values() if c.attribute}
        assert {"c_toxicity", "c_manufacturer", "c_cost", "c_fda"} <= attributes
        assert not any(VOCAB.concepts[c].therapy for c in attributes)
        assert "c_manufacturer" in VOCAB.tokens("Kymriah, produced by Novartis, with a price tag of US$475,000")
        assert "c_manufacturer" not in VOCAB.tokens("tisagenlecleucel produces durable responses")


class TestCodeNames:
    """A code name is one word whether or not it is written with its hyphen."""

    @pytest.mark.parametrize(
        ("a", "b", "same"),
        [
            ("LB-100 in solid tumours", "LB100 in solid tumours", True),
            ("anti-PD-1 antibodies", "anti-PD1 antibodies", True),
            ("Covid-19 in children", "COVID19 in children", True),  # the letters in any case
            ("IL\u20116 levels", "IL6 levels", True),  # a non-breaking hyphen
            ("type-2 diabetes", "type 2 diabetes", True),  # a common word counts: it stays a word
            ("HER-2 positive", "HER2 positive", True),  # in capitals it is an acronym, though "her" is common
            ("MAP-2 staining", "MAP 2 staining", False),
            ("LB-100", "LB 100", False),  # a space is not dropped
        ],
    )
    def test_spelled_with_or_without_its_hyphen(self, a: str, b: str, same: bool) -> None:
        assert (VOCAB.tokens(a) == VOCAB.tokens(b)) is same

    def test_a_joined_code_is_one_token(self) -> None:
        assert "lb100" in VOCAB.tokens("LB-100 was well tolerated")
        assert "lb" not in VOCAB.tokens("LB-100 was well tolerated")
        assert "day" in VOCAB.tokens("on day-30") and "30" in VOCAB.tokens("on day-30")


class TestRearrangements:
    """A rearrangement in cytogenetic notation is one word, not the numbers of its chromosomes."""

    @pytest.mark.parametrize(
        ("text", "token"),
        [
            ("KMT2A rearrangements, especially t(4;11)", "t4.11"),
            ("t(9;22)(q34;q11) was found", "t9.22"),
            ("t( 12 ; 21 )", "t12.21"),
            ("Del(9p) and inv(16)", "del9p"),
            ("inv(16) in AML", "inv16"),
            ("t(X;14) in T-ALL", "tx.14"),
        ],
    )
    def test_one_word(self, text: str, token: str) -> None:
        assert token in VOCAB.tokens(text)

    def test_its_numbers_are_no_words_of_their_own(self) -> None:
        assert {"12", "21"}.isdisjoint(VOCAB.tokens("Is t(12;21) good or bad?"))
        assert "21" in VOCAB.tokens("repeated every 21 days")

    @pytest.mark.parametrize("text", ["T(1) relaxation time", "at(12;21)", "(12;21)"])
    def test_not_a_rearrangement(self, text: str) -> None:
        assert not any(t.startswith(("t1", "t12")) for t in VOCAB.tokens(text))


class TestOtherSenses:
    """A term with another sense next to some words ("T-cell" of "CAR T-cell therapy") is not its
    concept there."""

    @pytest.mark.parametrize(
        ("text", "concept", "found"),
        [
            ("B-cell (85%) or T-cell (15%) lineage", "c_t_all", True),
            ("Is there a T-cell CAR-T that works?", "c_t_all", True),  # CAR after the term: still T-ALL
            ("a CAR T-cell therapy targeting CD19", "c_t_all", False),
            ("a bispecific T-cell engager", "c_t_all", False),
            ("relapsed B-cell ALL", "c_b_all", True),  # the longer term is not touched
            ("CD19-positive B-cell leukemia cells", "c_b_all", True),
            ("diffuse large B-cell lymphoma", "c_b_all", False),
            ("B-cell aplasia after CAR-T", "c_b_all", False),
            ("my son has ALL, what are his chances?", "c_survival", True),  # lay wording for survival
            ("what are the chances a child is cured?", "c_survival", True),
            ("what are the chances of relapse?", "c_survival", False),
            ("what is the outlook for adults?", "c_survival", True),
            ("What's next if the patient doesn't go into remission?", "c_no_cr", True),  # lay: no CR
            ("What if there is no response to induction?", "c_no_cr", True),
            ("What happens if MRD stays positive after induction?", "c_mrd_pos", True),
            ("What happens if MRD stays negative?", "c_mrd_pos", False),
            ("what inherited conditions raise the risk of ALL?", "c_predisposition", True),  # lay: predisposition
            ("certain genetic syndromes and specific germline variants", "c_predisposition", True),
            ("does ALL run in families?", "c_predisposition", True),
            ("a conditional recommendation for blinatumomab", "c_predisposition", False),
            ("is endoaortic balloon occlusion safe?", "c_toxicity", True),  # safety asks about harms
            ("main safety concerns with CAR-T in ALL?", "c_toxicity", True),
            ("In a multicenter, open-label study of cerliponase alfa", "c_fda", False),  # open-label: no approval
            ("an open label trial", "c_fda", False),
            ("the drug label lists two indications", "c_fda", True),
            ("a CAR-T-cell therapy", "c_t_all", False),  # a hyphen joins the word giving another sense too
        ],
    )
    def test_a_term_in_another_sense_is_not_the_concept(self, text: str, concept: str, found: bool) -> None:
        assert (concept in VOCAB.tokens(text)) is found

    @pytest.mark.parametrize("ages", ["[17, 0]", "[0]", "[-1, 17]", "[0, 17.5]", "'children'"])
    def test_an_age_group_must_be_two_whole_years_youngest_first(self, tmp_path: Path, ages: str) -> None:
        path = tmp_path / "vocabulary.yaml"
        path.write_text(f'concepts:\n  - id: c_kids\n    terms: ["kids"]\n    ages: {ages}\n', encoding="utf-8")
        with pytest.raises(ValueError, match=r"'c_kids' has ages .*; write two whole years, youngest first"):
            Vocabulary.from_yaml(path)

    @pytest.mark.parametrize(
        ("age", "groups"), [(8, {"c_pediatric"}), (16, {"c_pediatric", "c_aya"}), (50, set()), (70, {"c_elderly"})]
    )
    def test_age_groups_hold_the_ages_they_name(self, age: int, groups: set[str]) -> None:
        assert VOCAB.age_groups(age) == groups

    def test_a_group_holding_another_is_named_only_in_words(self) -> None:
        assert "c_adult" in VOCAB.concepts_in("doses for adults") and "c_adult" not in VOCAB.narrow_age_groups()
        assert "c_aya" in VOCAB.concepts_in("pediatric and young adult patients")
        assert "c_adult" not in VOCAB.concepts_in("pediatric and young adult patients")

    def test_other_senses_of_a_term_the_concept_lacks_are_an_error(self, tmp_path: Path) -> None:
        path = tmp_path / "vocabulary.yaml"
        path.write_text(
            'concepts:\n  - id: c_x\n    terms: ["X-ray"]\n    other_senses:\n      "X-cell":\n        after: [therapy]\n',
            encoding="utf-8",
        )
        with pytest.raises(ValueError, match=r"'c_x' lists other senses of terms it lacks: \['X-cell'\]"):
            Vocabulary.from_yaml(path)
