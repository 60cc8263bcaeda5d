"""Evidence units with their spans (ally.units): the one segmentation ingest's unit vectors and the
answer path share."""

from __future__ import annotations

import pytest

from ally.chunks import BULLETS, RECORD, Chunk
from ally.units import embed_spans, unit_parts


def chunk(text: str, flags: list[str] | None = None, section: str = "Treatment > Ph+ B-ALL") -> Chunk:
    embed = f"{section or 'Title'}\n{text}"
    return Chunk("c", "d", section, text, embed, 0, "Title", flags or [])


PROSE = chunk("Blinatumomab is a BiTE. It binds CD19 and CD3.\nMRD is measured by flow cytometry.  Results vary.")
TREE = chunk("- If CR after induction:\n  - MRD+: Blinatumomab\n  - MRD-:   Observation\n- If no CR: Trial", [BULLETS])
CARD = chunk("nelarabine\nDosing Schedule: 1,500 mg/m2 on days 1, 3, 5\n\nManufacturer: Novartis", [RECORD], "")


class TestSpans:
    @pytest.mark.parametrize("passage", [TREE, CARD], ids=["bullets", "card"])
    def test_a_bullet_or_field_span_is_its_text(self, passage: Chunk) -> None:
        for p in unit_parts(passage):
            assert passage.text[p.start : p.end] == p.text

    def test_a_sentence_span_covers_it_and_the_one_it_leans_on(self) -> None:
        parts = unit_parts(PROSE)
        assert [p.text for p in parts][1] == "Blinatumomab is a BiTE. It binds CD19 and CD3."
        assert PROSE.text[parts[1].start : parts[1].end] == "Blinatumomab is a BiTE. It binds CD19 and CD3."
        assert PROSE.text[parts[2].start : parts[2].end] == "MRD is measured by flow cytometry."
        assert parts[3].text == "MRD is measured by flow cytometry. Results vary."  # leans back across two spaces
        assert parts[3].start == parts[2].start

    def test_bullets_carry_their_parents_as_context_and_context_spans(self) -> None:
        parts = unit_parts(TREE)
        mrd = next(p for p in parts if p.text == "MRD-:   Observation")
        assert mrd.context == ("Treatment", "Ph+ B-ALL", "If CR after induction")
        assert [TREE.text[a:b] for a, b in mrd.context_spans] == ["If CR after induction:"]
        assert mrd.display == "Treatment > Ph+ B-ALL > If CR after induction: MRD-:   Observation"

    def test_embed_spans_point_into_the_embedded_text_with_the_section_for_bullets(self) -> None:
        parts = unit_parts(TREE)
        spans = embed_spans(TREE, parts)
        for p, (own, *context) in zip(parts, spans, strict=True):
            assert TREE.embed_text[own[0] : own[1]] == p.text
            assert TREE.embed_text[context[0][0] : context[0][1]] == TREE.section
        card = embed_spans(CARD, unit_parts(CARD))
        assert CARD.embed_text[card[0][1][0] : card[0][1][1]] == "nelarabine"  # a field is read with its drug

    def test_the_answer_path_sees_the_same_units_in_the_same_order(self) -> None:
        from assistant.answer.evidence import units_of

        for passage in (PROSE, TREE, CARD):
            got = [(u.text, tuple(u.context), u.kind, u.position) for u in units_of(passage, 0)]
            assert got == [(p.text, p.context, p.kind, i) for i, p in enumerate(unit_parts(passage))]
