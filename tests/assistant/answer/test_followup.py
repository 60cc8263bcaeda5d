"""Follow-ups (`assistant.answer.followup`): elliptical turns completed from the previous one."""

from __future__ import annotations

import pytest

from ally.vocab import Vocabulary, default_vocabulary
from assistant.answer.followup import is_followup, resolve


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return default_vocabulary()


class TestIsFollowup:
    @pytest.mark.parametrize(
        "question",
        [
            "and if MRD-negative?",
            "what about children?",
            "What dose?",
            "and for T-ALL",
            "What chemo is given before it?",  # a kind of therapy asked of "it"
            "Which chemotherapy do they get first?",
        ],
    )
    def test_elliptical_turns(self, vocab: Vocabulary, question: str) -> None:
        assert is_followup(question, vocab)

    @pytest.mark.parametrize(
        "question",
        [
            "What is the dose of blinatumomab in adults with relapsed B-ALL?",
            "Which tyrosine kinase inhibitors are used in Ph-positive ALL after induction?",
            "Is imatinib given with it?",  # a product named: a new subject
        ],
    )
    def test_self_contained_questions(self, vocab: Vocabulary, question: str) -> None:
        assert not is_followup(question, vocab)


class TestResolve:
    def test_a_kind_of_therapy_asked_of_it_keeps_the_earlier_therapy(self, vocab: Vocabulary) -> None:
        got = resolve("What chemo is given before it?", "What is the dose of brexucabtagene?", vocab)
        assert "brexucabtagene" in got and got.startswith("What chemo is given before it?")

    def test_new_value_replaces_its_family(self, vocab: Vocabulary) -> None:
        got = resolve("and if MRD-negative?", "options for Ph+ B-ALL MRD+ after induction", vocab)
        assert got.startswith("and if MRD-negative?")
        assert "MRD+" not in got
        assert "Ph+" in got and "induction" in got

    @pytest.mark.parametrize(
        ("question", "previous", "dropped", "kept"),
        [
            ("who makes it?", "and in kids? what is the dose of nelarabine?", "dose", "nelarabine"),
            ("What's the dose?", "When was clofarabine approved?", "approved", "clofarabine"),
            ("and if there's toxicity?", "What dose? ponatinib for Ph+ ALL", "dose", "ponatinib"),
            # a whole question of its own asks its own thing of the earlier subject
            ("Is it used in children?", "What is the dose of blinatumomab?", "dose", "blinatumomab"),
            ("Why does it matter?", "What is the dose of blinatumomab?", "dose", "blinatumomab"),
        ],
    )
    def test_a_new_attribute_replaces_the_one_asked_before(
        self, vocab: Vocabulary, question: str, previous: str, dropped: str, kept: str
    ) -> None:
        got = resolve(question, previous, vocab)
        assert dropped not in got.removeprefix(question) and kept in got

    @pytest.mark.parametrize("question", ["and in kids?", "What is it in children?", "How about in adults?"])
    def test_an_elliptical_turn_keeps_the_attribute_asked_before(self, vocab: Vocabulary, question: str) -> None:
        assert "dose" in resolve(question, "what is the dose of nelarabine?", vocab)

    def test_t_lineage_drops_ph_status(self, vocab: Vocabulary) -> None:
        got = resolve("and for T-ALL?", "options for Ph+ B-ALL in CR", vocab)
        assert "Ph+" not in got and "B-ALL" not in got and "CR" in got

    def test_unrelated_context_is_kept(self, vocab: Vocabulary) -> None:
        got = resolve("what dose?", "blinatumomab in adults", vocab)
        assert got == "what dose? blinatumomab in adults"

    @pytest.mark.parametrize(
        ("question", "previous", "gone", "kept"),
        [
            ("And for kids?", "What's the adult dose of nelarabine?", "adult", "nelarabine"),
            ("and in adults?", "nelarabine dose in children", "children", "nelarabine"),
            ("what about older patients?", "blinatumomab for pediatric B-ALL", "pediatric", "B-ALL"),
        ],
    )
    def test_a_new_age_group_replaces_the_earlier_one_written_as_a_plain_word(
        self, vocab: Vocabulary, question: str, previous: str, gone: str, kept: str
    ) -> None:
        got = resolve(question, previous, vocab)
        assert gone not in got and kept in got and got.startswith(question)
