"""Subjects (`ally.subjects`): which diseases a text names, and which a document is about."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ally.subjects import diseases, diseases_in, document_subjects, labels, mentions


class TestDiseasesIn:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("What is the dose of cytarabine in AML?", ["aml"]),
            ("Outcomes of acute myeloid leukaemia in adults", ["aml"]),
            ("Ph+ ALL and B-ALL after induction", ["all"]),
            ("Is all of it approved? All patients were treated.", []),  # the word, not the disease
            ("chronic myeloid leukemia is not acute myeloid leukemia", ["aml", "cml"]),
            ("T-ALL/LBL in adolescents", ["all", "lbl"]),
            ("breast cancer and melanoma", ["breast_cancer", "melanoma"]),
        ],
    )
    def test_named_diseases(self, text: str, expected: list[str]) -> None:
        assert diseases_in(text) == expected

    @hsettings(max_examples=300, deadline=None)
    @given(
        st.lists(
            st.sampled_from(
                [t for d in diseases() for t in (*d.terms, *d.abbreviations)]
                + ["ſ", "K", "İ", "_", "1", "ALL", "B-", "/", "+", " ", "leukaemia", "Myeloid", "x", "-cell"]
            ),
            max_size=8,
        ).map("".join)
    )
    def test_the_prefilters_find_what_every_pattern_finds(self, text: str) -> None:
        every = {d.id: n for d in diseases() if (n := len(d.pattern.findall(text)))}
        assert dict(mentions(text)) == every

    def test_every_disease_has_a_label_and_matches_its_own_label(self) -> None:
        for d in diseases():
            assert labels()[d.id]
            assert d.pattern.search(d.label) or d.id in {"mpn", "glioma"}, d.id


class TestDocumentSubjects:
    def test_title_or_repeated_mentions_make_a_subject(self) -> None:
        body = ["AML is treated with induction.", "In AML, FLT3 mutations matter.", "Unlike ALL, AML ..."]
        assert document_subjects("Induction in acute myeloid leukemia", body) == ["aml"]
        assert "aml" in document_subjects("A review", body)

    def test_a_passing_mention_is_not_a_subject(self) -> None:
        body = ["ALL is the most common childhood cancer."] * 6 + ["Unlike AML, it ..."]
        assert document_subjects("Acute lymphoblastic leukemia", body) == ["all"]

    def test_a_short_text_is_about_the_disease_it_names(self) -> None:
        excerpt = ["Three biological treatment options are approved for pediatric psoriasis: etanercept and two more."]
        assert document_subjects("", excerpt) == ["psoriasis"]
        long = excerpt + ["The registry followed the treated children for several years."] * 20
        assert document_subjects("", long) == []  # named once in a long text: a passing mention

    def test_no_disease_named(self) -> None:
        assert document_subjects("Residency selection criteria", ["Performance was measured."]) == []
