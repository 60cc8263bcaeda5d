"""Metric unit tests with hand-computed values."""

from __future__ import annotations

import math

import pytest

from ally.schema import Answer, Citation, PathwayOption, PathwayResult, RetrievedPassage, TherapyCheck
from evals.dataset import PathwayCase
from evals.metrics import (
    abstention_metrics,
    aggregate,
    aggregate_pathway,
    check_citations,
    contains_quote,
    forbidden_offered,
    hit_at_k,
    key_fact_hits,
    markers_in,
    ndcg_at_k,
    option_sets_equal,
    percentile,
    recall_at_k,
    reciprocal_rank,
    relevance,
    score_document_item,
    score_item,
    score_pathway_case,
    sentence_numbers,
    sentence_supported,
    split_sentences,
)

PONATINIB = "Dosing Schedule: 45 mg orally once daily (dose reduction to 30 mg or 15 mg for response/toxicity)"


def _answer(text: str, cited: dict[int, str], retrieved: list[str], abstained: bool = False) -> Answer:
    return Answer(
        answer=text,
        abstained=abstained,
        citations=[Citation(n=n, doc_id="d", title="t", chunk_id=f"c{n}", text=t) for n, t in cited.items()],
        retrieved=[RetrievedPassage(doc_id="d", chunk_id=f"r{i}", text=t) for i, t in enumerate(retrieved)],
    )


def test_quote_matching_folds_mojibake_nbsp_and_case() -> None:
    assert contains_quote("Adults: 1500 mg/mΒ² IV over\u00a02 hours", "1500 mg/m² IV over 2 hours")
    assert contains_quote("TARGET DOSE: 1 Γ— 10", "target dose: 1 × 10")
    assert not contains_quote("45 mg orally", "45 mg orally once daily")


def test_retrieval_metrics_hand_computed() -> None:
    passages = ["alpha X beta", "nothing here", "Y gamma", "delta"]
    quotes = ["x", "y", "z"]
    rels = relevance(passages, quotes)
    assert rels == [True, False, True, False]
    assert hit_at_k([False, True], 1) == 0.0 and hit_at_k([False, True], 3) == 1.0
    assert recall_at_k(passages, quotes, 1) == pytest.approx(1 / 3)
    assert recall_at_k(passages, quotes, 3) == pytest.approx(2 / 3)
    assert recall_at_k(passages, quotes, 10) == pytest.approx(2 / 3)
    assert reciprocal_rank([False, False, True]) == pytest.approx(1 / 3)
    assert reciprocal_rank([False, False]) == 0.0
    # DCG = 1/log2(3) + 1/log2(5); IDCG (2 relevant) = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([False, True, False, True], 2) == pytest.approx(expected)
    assert ndcg_at_k([False, True, False, True], 2) == pytest.approx(0.650921, abs=1e-6)
    assert ndcg_at_k([True], 1) == 1.0
    assert ndcg_at_k([True, True], 1) == 1.0  # capped
    assert ndcg_at_k([False] * 12 + [True], 1) == 0.0  # beyond k


def test_key_facts_ignore_citation_markers() -> None:
    assert key_fact_hits("Give 45 mg daily [1].", [[r"45\s*mg"], [r"\b1\b"], [r"30\s*mg", r"daily"]]) == [
        True,
        False,
        True,
    ]
    assert key_fact_hits("1500 mg/m² IV", [[r"1,?500\s*mg/m2"]]) == [True]  # NFKC: ² -> 2
    assert markers_in("a [1] b [2, 3] c [4][5]") == [1, 2, 3, 4, 5]


def test_sentence_split_keeps_markers_and_abbreviations() -> None:
    text = "TKI + chemo (e.g. HyperCVAD) is used [1]. It lasts 21 days. [2] Next one\n- a bullet [3]\n[4]"
    assert split_sentences(text) == [
        "TKI + chemo (e.g. HyperCVAD) is used [1].",
        "It lasts 21 days. [2]",
        "Next one",
        "- a bullet [3]",
    ]
    assert sentence_numbers("6,500 cases; 85.4% [3] in 2024.") == {"6500", "85.4", "2024"}


def test_support_requires_numbers_concepts_and_words() -> None:
    assert sentence_supported("Ponatinib is given at 45 mg orally once daily [1].", [PONATINIB + " ponatinib"])
    assert not sentence_supported("Ponatinib is given at 60 mg orally once daily [1].", [PONATINIB + " ponatinib"])
    # a concept the passage lacks (blinatumomab) makes it unsupported even with the numbers right
    assert not sentence_supported("Blinatumomab is given at 45 mg orally once daily [1].", [PONATINIB])
    # brand name counts as the concept
    assert sentence_supported("Iclusig: 45 mg orally once daily [1].", ["ponatinib " + PONATINIB])
    assert not sentence_supported("Anything [1].", [])


def test_citation_check_counts_coverage_and_invalid_markers() -> None:
    ans = _answer(
        "Ponatinib dose is 45 mg orally once daily [1]. Reductions exist. It is made by Takeda [7].",
        {1: "ponatinib " + PONATINIB},
        [],
    )
    c = check_citations(ans)
    assert (c.sentences, c.cited_sentences, c.markers, c.invalid_markers, c.supported_sentences) == (3, 2, 2, 1, 1)
    assert c.uncited == ["Reductions exist."]


def test_a_population_note_is_part_of_its_citation_not_an_uncited_sentence() -> None:
    note = "this passage concerns adult patients"
    ans = _answer(
        f"In adults, ALL is rare: under 1% of adult cancers. [1] ({note})",
        {1: "In adults, ALL is rare: under 1% of adult cancers."},
        [],
    )
    ans.citations[0].population_note = note
    c = check_citations(ans)
    assert (c.sentences, c.cited_sentences, c.uncited) == (1, 1, [])
    # a parenthesis that is no citation's note is still a sentence to cite
    other = _answer("In adults, ALL is rare: under 1% of adult cancers. [1] (adults only)", {1: "x"}, [])
    assert check_citations(other).uncited == ["(adults only)"]


def test_score_item_and_aggregate() -> None:
    good = _answer("Ponatinib: 45 mg orally once daily [1].", {1: "ponatinib " + PONATINIB}, ["x", PONATINIB])
    s1 = score_item(
        item_id="a",
        category="dosing",
        expect_abstain=False,
        key_facts=[[r"45\s*mg"], [r"daily"]],
        gold_quotes=["45 mg orally once daily"],
        answer=good,
        latency_s=0.1,
    )
    assert s1.correct and s1.retrieval["hit@1"] == 0.0 and s1.retrieval["mrr"] == 0.5 and s1.gold_cited
    half = _answer("It is 45 mg [1].", {1: PONATINIB}, [PONATINIB])
    s2 = score_item(
        item_id="b",
        category="dosing",
        expect_abstain=False,
        key_facts=[[r"45\s*mg"], [r"30\s*mg"]],
        gold_quotes=["45 mg orally"],
        answer=half,
        latency_s=0.3,
    )
    assert not s2.correct and s2.key_facts == [True, False] and any("missing key facts" in r for r in s2.reasons)
    refused = _answer("The sources do not say.", {}, ["unrelated"], abstained=True)
    s3 = score_item(
        item_id="c",
        category="unanswerable",
        expect_abstain=True,
        key_facts=[],
        gold_quotes=[],
        answer=refused,
        latency_s=0.2,
    )
    s4 = score_item(
        item_id="d",
        category="facts",
        expect_abstain=False,
        key_facts=[[r"x"]],
        gold_quotes=["q"],
        answer=None,
        latency_s=None,
        error="boom",
    )
    assert s3.correct and not s4.correct and s4.error == "boom"
    m = aggregate([s1, s2, s3, s4])
    assert m["answers"]["full_correctness"] == pytest.approx(1 / 3)  # a, b, d answerable; only a correct
    assert m["answers"]["key_fact_recall"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["answers"]["accuracy_all"] == pytest.approx(2 / 4)
    assert m["retrieval"]["hit@1"] == pytest.approx(0.5)  # a: rank 2, b: rank 1
    assert m["retrieval"]["mrr"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["citations"]["coverage"] == 1.0
    assert m["abstention"] == {"precision": 1.0, "recall": 1.0, "false_abstention_rate": 0.0}
    assert m["latency"]["p50_ms"] == pytest.approx(200.0)


def test_abstention_and_percentiles() -> None:
    pairs = [(True, True), (True, False), (False, True), (False, False), (False, False)]
    assert abstention_metrics(pairs) == {"precision": 0.5, "recall": 0.5, "false_abstention_rate": pytest.approx(1 / 3)}
    assert abstention_metrics([(False, False)])["precision"] is None
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([], 50) is None


def test_pathway_option_matching_and_scoring() -> None:
    assert option_sets_equal(["Blinatumomab +/- TKI", "TKI"], ["TKI", "Blincyto ± tyrosine kinase inhibitor"])
    assert not option_sets_equal(["Blinatumomab +/- TKI", "TKI"], ["Blinatumomab +/- TKI"])
    # the head names the option; details, work-up steps and the same therapy from two sources do not count
    predicted = [
        "CNS prophylaxis: intrathecal chemo ± systemic high-dose MTX",
        "Work-up: CBC with diff",
        "CALGB 10403 (pediatric-inspired): daunorubicin, pegaspargase, prednisone, vincristine",
        "DFCI Protocol 00-01",
        "DFCI 00-01 (CSCO)",
    ]
    assert option_sets_equal(["CALGB 10403", "DFCI Protocol 00-01"], predicted)
    assert not option_sets_equal(["CALGB 10403"], predicted)
    assert not option_sets_equal(["TKI", "TKI + chemo"], ["TKI + chemo", "TKI + steroid"])
    assert forbidden_offered(["TKI", "revumenib"], ["imatinib + chemo", "Blinatumomab"]) == ["TKI"]
    assert forbidden_offered(["ponatinib"], ["TKI"]) == []
    case = PathwayCase(
        id="p",
        patient={"lineage": "B"},
        propose="imatinib",
        expected_options=["Blinatumomab", "TKI"],
        forbidden_options=["revumenib"],
        expected_verdict="off",
        expected_missing=["mrd"],
    )
    result = PathwayResult(
        options=[PathwayOption(therapy="Blincyto"), PathwayOption(therapy="Revumenib (if KMT2A rearranged)")],
        missing=["mrd", "age"],
        check=TherapyCheck(therapy="imatinib", verdict="on", reason="r"),
    )
    s = score_pathway_case(case, result)
    assert s.exact_match is False and s.forbidden_hits == ["revumenib"]
    assert s.verdict_correct is False and s.missing_correct is True
    failed = score_pathway_case(case, None, "boom")
    agg = aggregate_pathway([s, failed])
    assert agg == {
        "exact_option_match": 0.0,
        "forbidden_option_rate": 1.0,
        "verdict_accuracy": 0.0,
        "missing_recall": 0.5,
    }


def test_document_gold_scoring_and_aggregate() -> None:
    gold = ["pmid-1", "pmid-2"]
    facts = [["UPDtool"], ["AsCNAR", "allele\\-specific"]]
    answer = Answer(
        answer="UPDtool detects UPD [1]. AsCNAR does too [2].",
        abstained=False,
        citations=[
            Citation(n=1, doc_id="pmid-1", title="t", chunk_id="a", text="UPDtool detects UPD."),
            Citation(n=2, doc_id="pmid-9", title="t", chunk_id="b", text="AsCNAR does too."),
        ],
        retrieved=[
            RetrievedPassage(doc_id="pmid-9", chunk_id="b", text="x"),
            RetrievedPassage(doc_id="pmid-1", chunk_id="a", text="y"),
            RetrievedPassage(doc_id="pmid-1", chunk_id="c", text="z"),
        ],
    )
    score = score_document_item(
        item_id="q", category="bioasq-list", gold_docs=gold, key_facts=facts, answer=answer, latency_s=0.1
    )
    assert score.correct and score.gold_cited and score.key_facts == [True, True]
    assert score.citation_precision == 0.5
    assert score.retrieval["hit@1"] == 0.0 and score.retrieval["mrr"] == 0.5
    assert score.retrieval["recall@3"] == 0.5  # one of the two gold documents, however many of its passages
    refused = Answer(answer="I can't answer this", abstained=True)
    no = score_document_item(
        item_id="r", category="bioasq-list", gold_docs=gold, key_facts=[], answer=refused, latency_s=0.1
    )
    assert not no.correct and no.reasons
    metrics = aggregate([score, no])
    assert metrics["citations"]["doc_precision"] == 0.5
    assert metrics["answers"]["key_fact_recall"] == 1.0  # over the items that list key facts
    assert metrics["abstention"]["false_abstention_rate"] == 0.5
