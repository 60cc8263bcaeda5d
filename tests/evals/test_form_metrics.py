"""The answer-form metrics (`evals.metrics`): breadcrumbs, fragments, repeats, length by question kind,
yes/no leads against gold labels, and whether a refusal names what the sources lack."""

from __future__ import annotations

import pytest

from ally.schema import Answer, Citation
from evals.metrics import (
    ItemScore,
    absent_thing_words,
    aggregate,
    form_metrics,
    fragments,
    is_fragment,
    names_absent_thing,
    question_kind,
    repeats,
    score_document_item,
    score_item,
    yesno_lead,
)


def _answer(text: str, abstained: bool = False) -> Answer:
    cites = [] if abstained else [Citation(n=1, doc_id="d", title="t", chunk_id="c1", text=text)]
    return Answer(answer=text, abstained=abstained, citations=cites)


@pytest.mark.parametrize(
    "sentence",
    [
        "hree anti-CD19 CAR T-cells are approved. [1]",  # starts mid-word
        "immune activation precedes lymphoma diagnosis. [2]",  # starts lower-case mid-sentence
        "Larotrectinib entered clinical development.tor of all three TRK kinases. [1]",  # two texts run together
        "Pexidartinib was approved by the FDA for the trea [3]",  # cut off, no final punctuation
        "It is supported by the Fun [1]",
        "The effect was large (Fun. [1]",  # an unclosed parenthesis
        ", and more. [1]",  # starts with punctuation
    ],
)
def test_fragments_are_found(sentence: str) -> None:
    assert is_fragment(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Blinatumomab is a bispecific T-cell engager. [1]",
        "Poor risk: Hypodiploidy (cells with <44 chromosomes); TP53 mutation [1]",  # a list clause
        "ponatinib — Dosing Schedule: 45 mg orally once daily [1]",  # a drug card's field
        "mRNA accumulation correlates with poor translatability. [2]",  # a lower-case name
        "(this passage concerns pediatric patients)",  # a population note
        "Yes, Ph-like ALL has emerged as a high-risk subtype. [1]",
        "Trial results are listed at clinicaltrials.gov today. [1]",
    ],
)
def test_whole_sentences_are_not_fragments(sentence: str) -> None:
    assert not is_fragment(sentence)


def test_fragments_of_an_answer() -> None:
    text = "Blinatumomab binds CD19. [1]\nThese [2]\nRates were 44%. [1]"
    assert fragments(text) == ["These [2]"]


def test_a_sentence_said_twice_is_a_repeat_whatever_its_markers() -> None:
    text = "Blinatumomab binds CD19. [1] Rates were 44%. [1]\nRates were 44%. [2]\nIt is approved. [3]"
    assert repeats(text) == ["Rates were 44%."]
    assert repeats("Blinatumomab binds CD19. [1]\nRates were 44%. [1]") == []


@pytest.mark.parametrize(
    ("question", "category", "kind"),
    [
        ("Is X effective?", "bioasq-yesno", "yesno"),
        ("List UPD detection algorithms", "bioasq-list", "list"),
        ("Which gene is mutated?", "bioasq-factoid", "factoid"),
        ("Iclusig dose in Ph+ ALL?", "dosing", "dose"),
        ("Does Ph-like ALL carry BCR-ABL1?", "facts", "yesno"),
        ("What are the options for MRD+ Ph+ B-ALL?", "guidelines", "list"),
        ("nelarabine dose for adults?", "facts", "dose"),
        ("What defines Ph-like ALL?", "facts", "factoid"),
    ],
)
def test_question_kind(question: str, category: str, kind: str) -> None:
    assert question_kind(question, category) == kind


def test_yesno_lead_and_absent_things() -> None:
    assert yesno_lead("Yes, it is. [1]") == "yes" and yesno_lead("No, it lacks it. [1]") == "no"
    assert yesno_lead("The sources do not say directly; X. [1]") is None
    assert yesno_lead("Nothing, really. [1]") is None
    assert absent_thing_words("absent: AUGMENT-101 trial (revumenib itself is in the sources)") == ["AUGMENT", "trial"]
    assert absent_thing_words("paraphrase of guide-03") == [] and absent_thing_words(None) == []
    assert names_absent_thing("no passage found mentions asciminib", "absent: asciminib") is True
    assert names_absent_thing("no passage covers the question's terms", "absent: defibrotide") is False
    assert names_absent_thing("anything", None) is None


def test_form_metrics_aggregate() -> None:
    def scored(item_id: str, text: str, question: str, expected: str | None, abstained: bool = False) -> ItemScore:
        return score_document_item(
            item_id=item_id,
            category="bioasq-yesno" if expected else "bioasq-list",
            gold_docs=["d"],
            key_facts=[],
            answer=_answer(text, abstained),
            latency_s=0.1,
            question=question,
            expected_yesno=expected,
        )

    scores = [
        scored("a", "Yes, X is Y. [1]", "Is X Y?", "yes"),  # right lead, 5 words
        scored("b", "Yes, X is Z. [1]", "Is X Z?", "no"),  # wrong lead
        scored("c", "The sources do not say directly; X is W. [1]", "Is X W?", "maybe"),  # no lead
        scored("d", "", "Is X V?", "yes", abstained=True),  # abstained: no lead, not answered
        scored("e", "Treatment > Ph+ B-ALL: TKI [1]\nThese [1]", "List the options", None),
    ]
    m = form_metrics(scores)
    assert m["yesno_lead_rate"] == pytest.approx(2 / 4)
    assert m["yesno_lead_precision"] == pytest.approx(1 / 2)
    assert m["breadcrumb_rate"] == pytest.approx(1 / 4)  # a, b, c, e answered; e has " > "
    assert m["fragment_rate"] == pytest.approx(1 / 4)  # e: "These"
    assert m["length_median_yesno"] == pytest.approx(4.0) and m["length_median_short"] == pytest.approx(4.0)
    assert m["length_median_long"] == pytest.approx(6.0) and m["length_p95_long"] == pytest.approx(6.0)
    assert m["chars_median_yesno"] == pytest.approx(len("Yes, X is Y.")) and m["chars_median_long"] == pytest.approx(
        len("Treatment > Ph+ B-ALL: TKI These")
    )
    assert aggregate(scores)["answers"]["yesno_lead_precision"] == pytest.approx(1 / 2)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Nelarabine dose is 1500 mg/m². [1]\nOther context. [2]", True),
        ("Other context. [2]\nNelarabine dose is 1500 mg/m². [1]", False),
    ],
)
def test_key_facts_first_line(text: str, first: bool) -> None:
    score = score_document_item(
        item_id="x",
        category="factoid",
        gold_docs=["d"],
        key_facts=[["1500 mg/m"]],
        answer=_answer(text, False),
        latency_s=0.1,
        question="What is the dose of nelarabine?",
    )
    assert score.first_line_facts is first and all(score.key_facts)
    assert form_metrics([score])["key_facts_first_line"] == pytest.approx(1.0 if first else 0.0)


def test_names_missing_over_refusals_with_absent_notes() -> None:
    def refusal(item_id: str, text: str, notes: str | None) -> ItemScore:
        return score_item(
            item_id=item_id,
            category="unanswerable",
            expect_abstain=True,
            key_facts=[],
            gold_quotes=[],
            answer=_answer(text, abstained=True),
            latency_s=0.1,
            question="what about it?",
            notes=notes,
        )

    scores = [
        refusal(
            "a", "I can't answer this from ALLy's sources: no passage found mentions asciminib.", "absent: asciminib"
        ),
        refusal("b", "I can't answer this from ALLy's sources: no passage covers it.", "absent: defibrotide"),
        refusal("c", "I can't answer this from ALLy's sources: no passage covers it.", None),
    ]
    assert aggregate(scores)["abstention"]["names_missing"] == pytest.approx(1 / 2)
    assert "names_missing" not in aggregate(scores[2:])["abstention"]  # nothing to measure
