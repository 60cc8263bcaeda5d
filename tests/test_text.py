"""The one sentence splitter (`ally.text`)."""

from __future__ import annotations

import pytest

from ally.text import LEANS_BACK, split_line, split_sentences


class TestSplit:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("One. Two! Three? 4 is a number.", ["One.", "Two!", "Three?", "4 is a number."]),
            ("Use e.g. HyperCVAD here. Next.", ["Use e.g. HyperCVAD here.", "Next."]),
            ("Vitamins E and C. Then more.", ["Vitamins E and C.", "Then more."]),
            ("A vs. B and i.e. this. Next.", ["A vs. B and i.e. this.", "Next."]),
            ("Daily. [1] Next one [2]. Last", ["Daily. [1]", "Next one [2].", "Last"]),
            ("lower case. stays together", ["lower case. stays together"]),
            ('Quote. "Quoted" (paren) fine.', ["Quote.", '"Quoted" (paren) fine.']),
            ("  padded.  ", ["padded."]),
            ("", []),
        ],
    )
    def test_split_line(self, text: str, expected: list[str]) -> None:
        assert split_line(text) == expected

    def test_lines_always_end_sentences(self) -> None:
        assert split_sentences("First line\nSecond. Third.\n\n") == ["First line", "Second.", "Third."]


@pytest.mark.parametrize(
    ("sentence", "leans"),
    [("It binds CD19.", True), ("In most cases, it works.", True), ("Blinatumomab binds CD19.", False)],
)
def test_leans_back(sentence: str, leans: bool) -> None:
    assert bool(LEANS_BACK.match(sentence)) is leans
