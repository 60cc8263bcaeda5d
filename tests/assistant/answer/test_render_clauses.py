"""Rendering (`assistant.answer.render`): bullets as clauses without breadcrumbs, cut-off prose
repaired or dropped, and yes/no leads only where a quoted sentence states the answer."""

from __future__ import annotations

import pytest

from ally.chunks import BULLETS
from assistant.answer.choose import Choice
from assistant.answer.evidence import Unit, units_of
from assistant.answer.render import (
    NOT_DIRECT,
    bullet_clauses,
    case_only,
    clause_prefix,
    compose,
    repaired,
    verdict,
    without_section_label,
    yes_no_question,
)

from .conftest import chunk

PH_TREE = chunk(
    "ph",
    "- Blinatumomab +/- TKI\n- Inotuzumab ozogamicin +/- TKI\n  - Increases risk of veno-occlusive disease/liver toxicity",
    section="Treatment > Philadelphia chromosome positive B-cell ALL > If CR after induction: check MRD status > MRD+",
    flags=[BULLETS],
)
CHEMO = chunk(
    "chemo",
    "- ECOG 1910\n  - Cyclophosphamide, cytarabine, daunorubicin\n  - + rituximab for CD20 expression ≥20%",
    section="Treatment > Philadelphia chromosome negative B-cell ALL > Adult <65 and no significant comorbidities"
    " > Multi-agent chemo",
    flags=[BULLETS],
)


class TestClauses:
    def test_population_and_state_stay_the_path_does_not(self) -> None:
        (text,) = bullet_clauses(units_of(PH_TREE, 0))
        assert " > " not in text and not text.startswith("Treatment")
        assert text.startswith(
            "Philadelphia chromosome positive B-cell ALL, if CR after induction (check MRD status), MRD+: "
        )
        assert "Inotuzumab ozogamicin +/- TKI (Increases risk of veno-occlusive disease/liver toxicity)" in text

    def test_headings_drop_numbers_stay_verbatim(self) -> None:
        units = units_of(CHEMO, 0)
        texts = bullet_clauses(units[1:])  # the regimen's items without the regimen's own bullet
        assert texts == [
            "Philadelphia chromosome negative B-cell ALL, Adult <65 and no significant comorbidities, ECOG 1910: "
            "Cyclophosphamide, cytarabine, daunorubicin; + rituximab for CD20 expression ≥20%"
        ]
        assert "Multi-agent chemo" not in texts[0]

    def test_a_single_heading_is_the_clause_label(self) -> None:
        assert clause_prefix(["Risk assessment", "Poor risk"]) == "Poor risk"
        assert clause_prefix(["Background"]) == "Background"
        assert clause_prefix(["Treatment", "ALL therapy is divided into", "Consolidation"]) == "Consolidation"

    def test_compose_keeps_the_section_for_the_citation(self) -> None:
        comp = compose(Choice(False, units=units_of(PH_TREE, 0)), None)
        assert all(" > " not in s.text for s in comp.sentences)
        assert comp.cited == ["ph"]  # the citation carries the chunk, and with it the section path


class TestRepair:
    @pytest.mark.parametrize(
        ("raw", "fixed"),
        [
            (
                "Larotrectinib is the first selective inhibitor of all three TRK kinases to enter clinical "
                "development.tor of all three TRK kinases to enter clinical development.",
                "Larotrectinib is the first selective inhibitor of all three TRK kinases to enter clinical development.",
            ),
            (
                "hree anti-CD19 CAR T-cells are currently approved: axicabtagene ciloleucel and tisagenlecleucel.",
                "Anti-CD19 CAR T-cells are currently approved: axicabtagene ciloleucel and tisagenlecleucel.",
            ),
            (
                "our data indicate that the cGAS-STING pathway plays a role in HBV surveillance.",
                "Our data indicate that the cGAS-STING pathway plays a role in HBV surveillance.",
            ),
            (
                "Pexidartinib is a selective CSF1R inhibitor, which was recently approved by the FDA for the trea",
                "Pexidartinib is a selective CSF1R inhibitor, which was recently approved by the FDA.",
            ),
            (
                "It is unable to find local alignment with maximum degree of similarity (e.g.",
                "It is unable to find local alignment with maximum degree of similarity.",
            ),
            (
                "Li-Fraumeni syndrome shows many cancers (therefore, also referred to by the acronym SBLA "
                "syndrome).A syndrome).",
                "Li-Fraumeni syndrome shows many cancers (therefore, also referred to by the acronym SBLA syndrome).",
            ),
            (
                "Brd4 mediates E2-dependent transcriptional activation",
                "Brd4 mediates E2-dependent transcriptional activation.",
            ),
            (
                "mRNA accumulation correlates with poor translatability.",
                "mRNA accumulation correlates with poor translatability.",
            ),
            # the cut-off tail of a structured abstract's label goes; a whole label or an acronym stays
            ("ODS: This was a phase I study of binimetinib.", "This was a phase I study of binimetinib."),
            ("SIONS: The model predicts a tumor risk.", "The model predicts a tumor risk."),
            ("CONCLUSIONS: Aspirin prevents adenomas.", "CONCLUSIONS: Aspirin prevents adenomas."),
            ("ICANS: Grading was done daily.", "ICANS: Grading was done daily."),
            # a short common word ending an excerpt is a word: "of men" stays (1% of men is no 1%)
            ("Breast cancer occurs in about 1% of men", "Breast cancer occurs in about 1% of men."),
            ("Relapse was seen in most patients by day", "Relapse was seen in most patients by day."),
            ("he present experiment examined diazepam in rats.", "Present experiment examined diazepam in rats."),
            # a lone letter is a cut word, and a participle left without what it introduces goes with it
            (
                "Gilbert syndrome is a common inherited condition characterized b",
                "Gilbert syndrome is a common inherited condition.",
            ),
            ("Vitamin A deficiency was common in the cohort due to", "Vitamin A deficiency was common in the cohort."),
        ],
    )
    def test_cut_off_pieces_are_repaired(self, raw: str, fixed: str) -> None:
        assert repaired(raw, raw) == fixed

    @pytest.mark.parametrize("raw", ["These", "Pitolisant has been", "of the"])
    def test_pieces_too_short_to_stand_are_dropped(self, raw: str) -> None:
        assert repaired(raw, raw) is None

    def test_numbers_survive_repair(self) -> None:
        raw = "ing a threshold of 8 points or more, the NoSAS score had an AUC of 0·74 ("
        fixed = repaired(raw, raw)
        assert fixed is not None and "8 points" in fixed and "0·74" in fixed and not fixed.endswith("(")


class TestYesNo:
    @pytest.mark.parametrize(
        ("question", "expected"),
        [
            ("Is Ph-like ALL a high risk subtype?", True),
            ("does inotuzumab carry a VOD risk?", True),
            ("Preoperative platelet count in ESCC: is it a prognostic factor?", True),
            ("What is the dose of nelarabine?", False),
            ("Is iAMP21 favorable or poor risk?", False),
        ],
    )
    def test_yes_no_questions(self, question: str, expected: bool) -> None:
        assert yes_no_question(question) is expected

    def test_verdicts_handle_negation_and_hedges(self) -> None:
        q = "Is Ph-like ALL a high risk subtype?"
        assert verdict(q, "Ph-like ALL has emerged as a high-risk subtype.") == "yes"
        assert verdict(q, "Ph-like ALL may be a high-risk subtype.") is None  # hedged
        assert verdict(q, "Ph-like ALL is not a high-risk subtype.") == "no"
        assert verdict("Is Ph-like ALL not a high risk subtype?", "Ph-like ALL is a high-risk subtype.") == "no"
        assert verdict(q, "Patients without Ph-like ALL have a high-risk subtype.") is None  # negation elsewhere
        assert verdict(q, "Ph-like ALL is common.") is None  # does not state the proposition
        leep = "Does LEEP remove less tissue than cold knife conization?"
        aim = "To prospectively evaluate the amount of tissue removed at LEEP vs. cold knife conization."
        assert verdict(leep, aim) is None  # a study's aim states nothing
        tx = "Does tranexamic acid increase seizures after haemorrhage?"
        assert verdict(tx, "Tranexamic acid did not increase seizures after haemorrhage.") == "no"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            # the denial qualifies the disease the drug treats: it does not deny that it is used
            (
                "Nelarabine is used for T-ALL that has not responded to or has relapsed following two regimens.",
                None,
            ),
            ("Nelarabine is used for T-ALL in patients whose disease has not responded to two regimens.", None),
            ("Nelarabine is not used for T-ALL.", "no"),
            ("The trial showed that nelarabine was not used for T-ALL.", "no"),  # the finding itself
            ("Nelarabine, which is approved for lymphoma, is not used for T-ALL.", "no"),
        ],
    )
    def test_a_denial_inside_a_relative_clause_is_no_answer(self, text: str, expected: str | None) -> None:
        assert verdict("Is nelarabine used for T-ALL?", text) == expected

    @pytest.mark.parametrize(
        ("question", "text", "expected"),
        [
            # a verb's stem and its noun's ("reduc", "reduct") are one word's
            ("Can ponatinib be dose reduced?", "Ponatinib 45 mg daily (dose reduction to 30 mg or 15 mg).", "yes"),
            ("Was the dose reduced?", "The dose was reduced in 10 patients.", "yes"),
            ("Is ALL immune mediated?", "ALL is common in immunodeficiency.", None),  # "immun" is no short ending away
        ],
    )
    def test_a_word_s_verb_and_noun_state_it_alike(self, question: str, text: str, expected: str | None) -> None:
        assert verdict(question, text) == expected

    @pytest.mark.parametrize(
        ("question", "text", "expected"),
        [
            # a two-letter acronym is a word the sentence must state: the route asked is not "orally"
            ("Is ponatinib IV?", "ponatinib — Dosing Schedule: 45 mg orally once daily", None),
            ("Is ponatinib oral?", "ponatinib — Dosing Schedule: 45 mg orally once daily", "yes"),
            ("Is clofarabine IV?", "clofarabine — Dosing Schedule: 52 mg/m² IV over 2 hours daily", "yes"),
        ],
    )
    def test_a_two_letter_acronym_counts(self, question: str, text: str, expected: str | None) -> None:
        assert verdict(question, text) == expected

    @pytest.mark.parametrize(
        ("question", "text", "expected"),
        [
            # a question asking what ought to be done needs a sentence that says so
            (
                "Should tumor depth be included in prognostication of soft tissue sarcoma?",
                "Most of the prognostic value of tumor depth in soft tissue sarcoma can be explained by tumor size.",
                None,
            ),
            ("Should ketamine be used for depression?", "The use of ketamine for depression has expanded.", None),
            ("Should ketamine be used for depression?", "Ketamine should be used for resistant depression.", "yes"),
            ("Is ketamine used for depression?", "The use of ketamine for depression has expanded.", "yes"),
        ],
    )
    def test_a_should_question_needs_a_recommendation(self, question: str, text: str, expected: str | None) -> None:
        assert verdict(question, text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            # a code of short parts is one word: "PD-L1" is no "PD-1" and not dropped as two short words
            ("ICI such as the PD-1 inhibitors nivolumab and pembrolizumab and the PD-L1 inhibitor atezolizumab.", None),
            # paired with another code, which of the pair a listed drug is, is not said
            ("Five PD-1/PD-L1 checkpoint inhibitors are approved: atezolizumab, nivolumab and avelumab.", None),
            ("Antibodies targeting PD-1 or PD-L1 (atezolizumab, nivolumab) were approved.", None),
            ("Nivolumab is a PD-L1 inhibitor.", "yes"),
        ],
    )
    def test_a_code_of_short_parts_is_one_word_and_a_pair_says_neither(self, text: str, expected: str | None) -> None:
        assert verdict("Is nivolumab a PD-L1 inhibitor?", text) == expected

    @pytest.mark.parametrize(
        ("question", "text", "expected"),
        [
            ("Is nelarabine approved for B-ALL?", "Nelarabine is approved for T-ALL.", None),
            ("Is nelarabine approved for T-ALL?", "Nelarabine is approved for T-ALL.", "yes"),
            ("Is dasatinib approved for Ph+ ALL?", "Dasatinib is approved for Ph- ALL.", None),
            ("Is dasatinib approved for Ph+ ALL?", "Dasatinib is approved for Ph+ ALL.", "yes"),
        ],
    )
    def test_a_verdict_needs_every_name_told_apart_by_one_letter_or_a_sign(
        self, question: str, text: str, expected: str | None
    ) -> None:
        assert verdict(question, text) == expected

    @pytest.mark.parametrize(
        ("question", "text", "expected"),
        [
            # asked what a thing is, the words must meet in one sentence
            ("Is p53 an oncogene?", "A p53-induced transcript was found. This peptide inhibits oncogenes.", None),
            ("Is p53 an oncogene?", "In this model p53 is an oncogene.", "yes"),
            # an asked word denied by its prefix is no "Yes"
            ("Is Shingrix a live vaccine?", "Shingrix, a non-live recombinant vaccine, was approved.", None),
            ("Is Shingrix a live vaccine?", "Shingrix is a live vaccine.", "yes"),
            (
                "Is pembrolizumab used in non-small cell lung cancer?",
                "Pembrolizumab is used in non-small cell lung cancer.",
                "yes",
            ),
            # a sentence setting the thing beside another: the asked word may be the other's
            (
                "Is Shingrix a live vaccine?",
                "The CDC recommends the recombinant vaccine Shingrix over the zoster vaccine live.",
                None,
            ),
            ("Is dasatinib better than imatinib?", "Dasatinib was better than imatinib.", "yes"),  # asked as such
            # lists paired "respectively": which is which is not in the words
            (
                "Is hemochromatosis a copper disorder?",
                "Hemochromatosis and Wilson disease are iron and copper disorders, respectively.",
                None,
            ),
            # a sentence turning to another thing ("whereas", "and the …", ", of which")
            (
                "Is alemtuzumab an anti-CD20 antibody?",
                "The anti-CD52 antibody alemtuzumab and the anti-CD20 antibodies rituximab and ocrelizumab deplete cells.",
                None,
            ),
            (
                "Is rituximab an anti-CD20 antibody?",
                "The anti-CD52 antibody alemtuzumab and the anti-CD20 antibodies rituximab and ocrelizumab deplete cells.",
                "yes",
            ),
            # nor across a second predicate: approved in one thing, effective in another
            (
                "Is blinatumomab approved for MRD-positive ALL?",
                "Blinatumomab was the first bispecific antibody approved in oncology and has shown efficacy in "
                "MRD-positive ALL.",
                None,
            ),
            ("Is blinatumomab approved for MRD-positive ALL?", "Blinatumomab is approved for MRD-positive ALL.", "yes"),
            # a "can" question met only by a rate ("low cure rates") is neither yes nor no
            ("Can ALL be cured?", "Adult ALL had extremely low cure rates following relapse.", None),
            ("Can ALL be cured?", "Most children with ALL can be cured.", "yes"),
            # the kind asked written as one phrase, never given "with" it
            (
                "Is ipilimumab a PD-1 inhibitor?",
                "Inhibitors such as nivolumab (anti-PD-1 antibodies) and ipilimumab are in use.",
                None,
            ),
            ("Is ipilimumab a PD-1 inhibitor?", "Combinations of a PD-1 inhibitor with ipilimumab are used.", None),
            (
                "Is glioblastoma the most common brain tumor?",
                "Loss of chromosome 10 is common in glioblastoma, the most malignant glial brain tumor.",
                None,
            ),
            (
                "Is nivolumab a PD-1 inhibitor?",
                "The FDA has approved the PD-1 inhibitors nivolumab and pembrolizumab.",
                "yes",
            ),
            # a few plain words among the kind's words are still one phrase
            (
                "Is tisagenlecleucel a CD19 CAR-T therapy?",
                "Tisagenlecleucel is a chimeric antigen receptor (CAR) T-cell therapy targeting CD19.",
                "yes",
            ),
            # a clause, not a kind, after the article: the question's words anywhere in one clause
            (
                "Are the members of the KRAB-ZNF gene family promoting gene repression?",
                "The KRAB-ZNF gene family members act by promoting gene repression.",
                "yes",
            ),
        ],
    )
    def test_a_verdict_is_not_read_across_sentences_negated_words_or_comparisons(
        self, question: str, text: str, expected: str | None
    ) -> None:
        assert verdict(question, text) == expected

    def test_a_semicolon_list_states_a_proposition_only_within_one_item(self) -> None:
        q = "Is type 2 diabetes associated with cancer?"
        approvals = (
            "Liraglutide (Xultophy) for type-2 diabetes; rucaparib (Rubraca) for BRCA mutation-associated ovarian "
            "cancer; and nusinersen (Spinraza) for spinal muscular atrophy."
        )
        assert verdict(q, approvals) is None  # each item is about another thing
        assert verdict(q, "Type 2 diabetes is associated with cancer; the risk rises with age.") == "yes"

    def test_a_verdict_needs_every_figure_the_question_gives(self) -> None:
        card = "nelarabine — Adults: 1500 mg/m² IV over 2 hours on Days 1, 3, 5; repeated every 21 days"
        q = "Is nelarabine given to adults at 1500 mg/m² over 2 hours on days 1, 3, 5 every {} days?"
        assert verdict(q.format(21), card) == "yes"
        assert verdict(q.format(28), card) is None  # most words match, the cycle length does not

    def test_a_verdict_needs_every_name_the_question_tells_apart_by_a_letter(self) -> None:
        q = "Is factor VIII deficiency hemophilia A?"
        assert verdict(q, "Factor VIII deficiency is hemophilia A.") == "yes"
        assert verdict(q, "Hemophilia occurs in patients with factor VIII deficiency.") is None  # not "hemophilia A"
        assert verdict("Does vitamin D reduce fractures?", "Vitamin C reduces fractures.") is None

    @pytest.mark.parametrize(
        ("question", "text", "expected"),
        [
            (
                "Did blinatumomab improve survival in patients over 55?",
                "Blinatumomab improved survival in patients under 55.",
                None,
            ),
            (
                "Did blinatumomab improve survival in patients over 55?",
                "Blinatumomab improved survival in patients over 55.",
                "yes",
            ),
            (
                "Did blinatumomab improve survival in patients over 55?",
                "Blinatumomab improved survival in patients.",
                None,
            ),
            (
                "Is ponatinib used in patients aged 65 and older?",
                "Ponatinib is used in older patients aged ≥ 65.",
                "yes",
            ),
            ("Is ponatinib used in patients < 40?", "Ponatinib is used in patients aged 40 years or older.", None),
        ],
    )
    def test_a_bounded_figure_must_be_bounded_the_same_way(
        self, question: str, text: str, expected: str | None
    ) -> None:
        assert verdict(question, text) == expected

    def test_lead_goes_on_the_stating_sentence(self) -> None:
        passage = chunk("p", "Ph-like ALL is frequent in adults. Ph-like ALL has emerged as a high-risk subtype.")
        comp = compose(Choice(False, units=units_of(passage, 0)), None, question="Is Ph-like ALL a high risk subtype?")
        assert comp.sentences[0].text == "Yes, Ph-like ALL has emerged as a high-risk subtype."

    @pytest.mark.parametrize(("section", "lead"), [("Results", "Yes, "), ("Background", ""), ("Methods", "")])
    def test_a_sentence_setting_up_a_study_decides_nothing(self, section: str, lead: str) -> None:
        """Under an abstract's background or methods (a PubMed XML label), as with the label written
        in the text ("BACKGROUND: …"), a sentence states no finding: no Yes or No from it."""
        passage = chunk("p", "Ph-like ALL has emerged as a high-risk subtype.", section=section)
        comp = compose(Choice(False, units=units_of(passage, 0)), None, question="Is Ph-like ALL a high risk subtype?")
        assert comp.sentences[0].text.startswith(lead or NOT_DIRECT), comp.sentences[0].text

    def test_the_lead_goes_on_a_stating_clause_before_a_title_saying_the_same(self) -> None:
        passage = chunk(
            "p",
            "The use of methotrexate in rheumatoid arthritis. "
            "Methotrexate has been used in the treatment of rheumatoid arthritis since the 1980s.",
        )
        question = "Is methotrexate used in the treatment of rheumatoid arthritis?"
        comp = compose(Choice(False, units=units_of(passage, 0)), None, question=question)
        assert comp.sentences[0].text.startswith("Yes, Methotrexate has been used")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("CONCLUSIONS: Most of the value is explained by size.", "Most of the value is explained by size."),
            ("CONCLUSIONS Apremilast was effective.", "Apremilast was effective."),
            ("PURPOSE OF REVIEW: Aortitis is an inflammation.", "Aortitis is an inflammation."),
            ("RESULTS AND CONCLUSIONS: We found no link.", "We found no link."),
            # an acronym starting a sentence or a clause stays; so does a label before an enumeration
            ("HSCT: Recommended in first remission.", "HSCT: Recommended in first remission."),
            ("FDA Approves blinatumomab.", "FDA Approves blinatumomab."),
            ("AIMS: 1) to verify a difference.", "AIMS: 1) to verify a difference."),
        ],
    )
    def test_a_structured_abstract_label_is_no_part_of_the_sentence(self, text: str, expected: str) -> None:
        assert without_section_label(text) == expected

    def test_a_label_goes_after_a_lead_and_a_labelled_copy_of_a_sentence_is_said_once(self) -> None:
        labelled = chunk("a", "CONCLUSIONS: Apremilast was effective in treating oral ulcers.")
        plain = chunk("b", "Apremilast was effective in treating oral ulcers.")
        units = [*units_of(labelled, 0), *units_of(plain, 1)]
        comp = compose(Choice(False, units=units), None, question="Is apremilast effective in treating oral ulcers?")
        assert [s.text for s in comp.sentences] == ["Yes, Apremilast was effective in treating oral ulcers."]

    def test_a_negated_question_gets_the_statement_first_and_no_yes_or_no(self) -> None:
        passage = chunk("p", "Ph-like ALL is frequent in adults. Ph-like ALL has emerged as a high-risk subtype.")
        question = "Is Ph-like ALL not a high risk subtype?"
        comp = compose(Choice(False, units=units_of(passage, 0)), None, question=question)
        assert comp.sentences[0].text == "Ph-like ALL has emerged as a high-risk subtype."

    def test_no_direct_statement_says_so(self) -> None:
        passage = chunk("p", "Ph-like ALL is frequent in adults.")
        comp = compose(Choice(False, units=units_of(passage, 0)), None, question="Is Ph-like ALL a high risk subtype?")
        assert comp.sentences[0].text == NOT_DIRECT + "Ph-like ALL is frequent in adults."

    @pytest.mark.parametrize(
        ("question", "text", "missing", "expected"),
        [
            (  # a yes/no question: no "Yes" or "No" on it
                "Is Ph-like ALL a high risk subtype?",
                "Ph-like ALL has emerged as a high-risk subtype.",
                "CRLF2",
                "The sources do not say directly (the passages found do not mention CRLF2); "
                "Ph-like ALL has emerged as a high-risk subtype.",
            ),
            (  # any other question too
                "What did the phase II IH-2014 study find?",
                "The IH-2014 study showed the regimen was effective in adults with ALL.",
                "phase II",
                "The passages found do not mention phase II; the IH-2014 study showed the regimen was effective "
                "in adults with ALL.",
            ),
        ],
    )
    def test_a_part_the_passages_do_not_mention_is_said_in_the_lead(
        self, question: str, text: str, missing: str, expected: str
    ) -> None:
        choice = Choice(False, units=units_of(chunk("p", text), 0), unmentioned=[missing])
        assert compose(choice, None, question=question).sentences[0].text == expected

    @pytest.mark.parametrize("order", [(0, 1), (1, 0)])
    def test_units_sharing_a_sentence_render_it_once_in_passage_order(self, order: tuple[int, int]) -> None:
        s1, s2, s3 = (
            "CAR-T gave remission in most patients.",
            "These findings show rapid remission.",
            "At the same time, research is expanding.",
        )
        passage = chunk("p", f"{s1} {s2} {s3}")
        pairs = [Unit(passage, 0, 0, f"{s1} {s2}", [], "sentence"), Unit(passage, 0, 1, f"{s2} {s3}", [], "sentence")]
        comp = compose(Choice(False, units=[pairs[i] for i in order]), None)
        assert [s.text for s in comp.sentences] == [f"{s1} {s2} {s3}"]

    def test_other_questions_get_no_lead(self) -> None:
        passage = chunk("p", "Ph-like ALL has emerged as a high-risk subtype.")
        comp = compose(Choice(False, units=units_of(passage, 0)), None, question="What is Ph-like ALL?")
        assert comp.sentences[0].text == "Ph-like ALL has emerged as a high-risk subtype."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45 year old with Ph+ B-ALL, newly diagnosed", True),  # a case, nothing asked: what to do is asked
        ("45 year old with Ph+ B-ALL, newly diagnosed: what is the prognosis?", False),
        ("Is a 45 year old with Ph+ B-ALL eligible for CAR-T", False),
        ("blinatumomab in Ph-positive ALL", False),  # a topic, no patient
        ("nelarabine dose for a 10 year old", False),  # a dose asked, without a question mark
        ("45 year old with T-ALL on nelarabine", False),  # a therapy named: asks about it
        ("8 year old B-ALL prognosis", False),  # a word no case is written with: what is asked
        ("60 year old with T-ALL, newly diagnosed, fit", True),
        ("8 year old with B-ALL", True),
    ],
)
def test_a_case_described_with_nothing_asked(text: str, expected: bool) -> None:
    assert case_only(text) is expected
