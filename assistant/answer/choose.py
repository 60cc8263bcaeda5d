"""Choosing the evidence: which scored units answer the question, or why ALLy abstains.

From the scored evidence units of the retrieved passages, the chooser refuses what it cannot
answer (an instruction; a disease no ingested document is about; a specific thing -- a drug, trial,
gene -- the corpus never mentions, named in the refusal; an attribute the corpus never writes asked
of a therapy it does; nothing searchable), keeps out what may
never be evidence (passages of untrusted documents, units that address the reader or the
assistant, units about another disease than the one asked about, units whose only overlap with
the question is generic words), selects the units that answer the question relative to the best
one, completes a selected pathway branch with its sibling options and a drug card with the fields
asked about, removes near-duplicates, abstains (saying what was not found) when the evidence does
not cover the question (or covers little of it and means nothing close to it), does not mention a
specific thing the question names (a yes/no question about a subject the units do name, relating it
to a thing the corpus names elsewhere, is answered with that gap said), or lacks the dose, figure,
share, age, bounded group or product attribute (side effects, maker, cost, approval) asked for (the
unit that gives it leads; a figure never comes from another product's passage or card, nor from a
sentence that points back to another therapy, nor from a unit that does not name the measure
asked, nor, at a timepoint, from a unit giving none there), leads a "which disease" answer with a
unit naming one and an answer led by a study's aim with that study's finding (read from the
document's other passages when retrieval returned none), answers a comparison about both things,
and pairs units that give different figures on the same point. Rendering is `render.py`'s.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import astuple, dataclass, field
from functools import partial

import numpy as np
from wordfreq import zipf_frequency

from ally.chunks import Chunk
from ally.settings import Settings
from ally.subjects import diseases_in
from ally.text import split_sentences, without_section_label
from ally.vocab import STOPWORDS, Vocabulary, stem, words
from assistant.answer.evidence import IdfTable, Unit, UnitCache, coverage, defines, score_units
from assistant.answer.meaning import UnitSimilarity
from assistant.answer.population import Population, mismatch_note, other_subtype, population_of
from assistant.answer.question import (
    AGE_FIGURE,
    CAUSE_RE,
    CLAUSE_BREAK_RE,
    DATE_RE,
    DOSE_RE,
    FREQUENCY_RE,
    MEANS_RE,
    NUMBER_RE,
    REQUIRES_RE,
    RESULT_RE,
    SHARE_FIGURE,
    STUDY_AIM_RE,
    UBIQUITOUS_SHARE,
    QuestionAnalysis,
    Timepoint,
    bound_phrases,
    bounds_agree,
    bounds_contradict,
    condition_words,
    counted_re,
    excludes_age,
    figures_of,
    greek_before_names,
    in_setting,
    inflects_common,
    is_common,
    is_variant,
    number_words,
    qualified_names,
    qualified_written,
    question_patient_age,
    spelled_out,
    without_timepoints,
    written_at,
)
from assistant.answer.retrieval import Hit
from assistant.answer.scope import Scope, label

# A word below this Zipf frequency in general English names a thing (a gene, drug or trial: "KRAS"
# 2.1, "RAS" 3.2 as asked, "nelarabine" 0); the words that describe a measure are above it
# ("remission" 3.2, "lineage" 3.5, "survival" 4.0, "patients" 4.6). Two figures whose lead-ins name
# different things are not one quantity.
NAME_ZIPF = 3.0
# A hyphen glueing a number to the word before it ("Mortality-3", "COVID-19"), ending at the number.
_GLUED = re.compile(r"[A-Za-z][-\u2010\u2011]$")
# How far (characters) a figure may sit from the measure it gives, in the same sentence.
MEASURE_REACH = 60
_SENTENCE_END = re.compile(r"[.;!?]\s")
_PERCENT_RE = re.compile(r"\d+(?:\.\d+)?\s*%")


# A sentence opening on a word that stands for what an earlier one named ("These agents …", "It
# belongs to …", "Such tumors …"): read alone, the reader cannot tell what it is about. An "it" that
# stands for nothing ("It is well known that …", "It is important to …") opens a statement.
_REFERS_BACK = re.compile(
    r"^(?:It\b(?!\s+(?:is|was|has been|remains|seems|appears)\s+(?:\w+\s+){0,2}(?:that|to|whether)\b)|"
    r"(?:Its|These|Those|They|Their|Such|Both)\b)"
)


@dataclass
class Disagreement:
    """Two units that give different figures (`figure_a`, `figure_b`) for the same measure of the
    same population; `measure` is what they measure, as both write it ("B-cell"), or ""."""

    a: Unit
    b: Unit
    figure_a: str
    figure_b: str
    measure: str = ""


def _figure(text: str) -> str:
    return re.sub(r"\s+", "", text)


_WORD_RE = re.compile(r"[\w+/-]*\w[\w+/-]*")


def _measure(before_a: str, before_b: str) -> str:
    """The words that lead up to both figures, as the first writes them, in its order (at most 5)."""
    theirs = {w.casefold() for w in _WORD_RE.findall(before_b)}
    shared = [w for w in _WORD_RE.findall(before_a) if w.casefold() in theirs and w.casefold() not in STOPWORDS]
    return " ".join(dict.fromkeys(shared[-5:]))


@dataclass(frozen=True)
class _Window:
    """A figure in a unit and what leads up to it."""

    figure: str
    before: str
    tokens: set[str]
    names: frozenset[str]

    def same_quantity(self, other: _Window) -> bool:
        """Both figures measure the same thing: what leads up to them names the same things (both
        "B-cell"; "KRAS" is not the "RAS" asked about), or, where neither names anything, most of
        their words agree."""
        if self.names or other.names:
            return self.names == other.names
        return _jaccard(_worded(self.tokens), _worded(other.tokens)) >= 0.5


def _worded(tokens: set[str]) -> set[str]:
    return {t for t in tokens if not any(ch.isdigit() for ch in t)}


def _populations_differ(a: Unit, b: Unit) -> bool:
    pa, pb = population_of(a.display), population_of(b.display)
    return any(x and y and x != y for x, y in zip(astuple(pa), astuple(pb), strict=True))


@dataclass
class Choice:
    """The units chosen to answer (and pairs of units that disagree), or an abstention."""

    abstained: bool
    units: list[Unit] = field(default_factory=list)
    pairs: list[Disagreement] = field(default_factory=list)
    reason: str = ""
    missing: list[str] = field(default_factory=list)
    terms: frozenset[str] = frozenset()  # the question's terms (what each rendered sentence covers)
    unmentioned: list[str] = field(default_factory=list)  # what a yes/no question asks of its subject
    # that the chosen units do not mention (said in the lead: "the passages found do not mention PD-L1")


def _writes(q: QuestionAnalysis, term: str, tokens: AbstractSet[str], text: str) -> bool:
    """Whether a text (its `tokens`) names a question's term, or spells out the acronym the question
    writes for it ("irritable bowel syndrome" for "IBS", "the United States" for "US")."""
    return term in tokens or spelled_out(q.word(term), text)


def _passage_names(q: QuestionAnalysis, terms: AbstractSet[str], u: Unit) -> bool:
    """Whether a unit's passage names each of `terms` (`_writes`)."""
    return all(_writes(q, t, u.passage_tokens, u.chunk.text) for t in terms)


def _figure_of(q: QuestionAnalysis, u: Unit, subject: set[str]) -> bool:
    """Whether a unit gives a figure about the things a question names: a number in a unit naming
    one of them (not all: "per Li 2025" names the source, not what is measured), or spelling out one
    the question writes as an acronym (`_writes`)."""
    return bool(u.numbers) and any(_writes(q, t, u.tokens, u.text) for t in subject)


# A question about what a study set out to do ("What was evaluated …?", "the aim of …"): its aim answers it.
_ASKS_AIM_RE = re.compile(
    r"\b(?:aims?|aimed|purpose|objectives?|goals?|evaluated|assessed|investigated|examined|studied|designed)\b", re.I
)
ABSTRACT_PASSAGES = 12  # a document of at most this many passages is read whole for a study's finding
# The heading of a study's findings (the last part of a section path, or a sentence's own label):
# "Results", "CONCLUSIONS: …".
_FINDINGS_SECTION_RE = re.compile(r"(?:^|>)\s*(?:results?|conclusions?|findings|interpretation)\s*$", re.I)
_FINDINGS_LABEL_RE = re.compile(r"^\s*(?:RESULTS?|CONCLUSIONS?|FINDINGS|INTERPRETATION)\s*:")
_CONCLUSIONS_SECTION_RE = re.compile(r"(?:^|>)\s*(?:conclusions?|interpretation)\s*$", re.I)
_CONCLUSIONS_LABEL_RE = re.compile(r"^\s*(?:CONCLUSIONS?|INTERPRETATION)\s*:|^\s*in conclusion\b", re.I)


def _finding(u: Unit) -> bool:
    """Whether a unit is a sentence stating a study's finding: under its results or conclusions (a
    section or a label of its own), or reporting a result ("… showed …"), and not saying what it set
    out to do."""
    if u.kind != "sentence" or _states_aim(u):
        return False
    return bool(
        _FINDINGS_SECTION_RE.search(u.chunk.section) or _FINDINGS_LABEL_RE.match(u.text) or RESULT_RE.search(u.text)
    )


def _concludes(u: Unit) -> bool:
    """Whether a finding is the study's conclusion (its section, its label, "In conclusion, …")."""
    return bool(_CONCLUSIONS_SECTION_RE.search(u.chunk.section) or _CONCLUSIONS_LABEL_RE.match(u.text))


def _states_aim(u: Unit) -> bool:
    """Whether a unit is a sentence saying what a study set out to do or how (`STUDY_AIM_RE`)."""
    return u.kind == "sentence" and bool(STUDY_AIM_RE.match(u.text))


def _gives(timepoint: Timepoint, u: Unit) -> bool:
    """Whether a unit gives a figure at the timepoint ("5-year", "5 years", "five-year"): it names the
    timepoint and a figure beside timepoints ("1-year mortality was 20%", not "the end points were
    30-day and 1-year mortality")."""
    return bool(timepoint.pattern.search(u.text)) and bool(NUMBER_RE.search(without_timepoints(u.text)))


def _bounded_alike(question: str, share: bool, u: Unit) -> bool:
    """Whether a unit bounds every figure the question bounds, the same way, and gives the share
    asked for (when one is) beside it."""
    return bounds_agree(question, u.text) and (not share or bool(SHARE_FIGURE.search(u.text)))


def _about(informative: set[str], specific: set[str], u: Unit) -> bool:
    """Whether a unit is about what is asked: it holds an informative term, and its passage names the
    therapy asked (never another product's figure)."""
    return (not informative or bool(u.tokens & informative)) and (not specific or bool(u.passage_tokens & specific))


def _by_head(names: tuple[tuple[str, str], ...] | set[tuple[str, str]]) -> dict[str, set[str]]:
    """Qualified names grouped by their head word: {"hepat": {"B", "C"}} for "hepatitis B and C"."""
    grouped: dict[str, set[str]] = {}
    for head, qualifier in names:
        grouped.setdefault(head, set()).add(qualifier)
    return grouped


def _writes_each(asked: tuple[tuple[str, str], ...], text: str) -> bool:
    """Whether `text` writes, for each head word the question qualifies, one of its asked qualifiers
    ("hepatitis B and C" asked: "hepatitis C" written is enough)."""
    written = _by_head(set(qualified_names(text)))
    return all(written.get(head, set()) & qualifiers for head, qualifiers in _by_head(asked).items())


def _names_another(asked: tuple[tuple[str, str], ...], text: str) -> bool:
    """Whether `text` names a head word the question qualifies ("vitamin D") only with other
    qualifiers ("vitamin C", "Delta hepatitis" for hepatitis C); a text naming the head without one,
    or with the asked one too, does not."""
    written = _by_head(set(qualified_names(text)) | set(greek_before_names(text)))
    return any(head in written and not written[head] & qualifiers for head, qualifiers in _by_head(asked).items())


# A share whose group is named by the sentences before it: "69 (13.0%) of these had developed
# dementia", "of whom 100 (20.8%)", "among them".
_SHARE_OF_CONTEXT_RE = re.compile(r"\b(?:of|among|in)\s+(?:these|those|them|whom|this group|this cohort)\b", re.I)


def _gives_share(
    informative: set[str],
    specific: set[str],
    group: AbstractSet[str],
    u: Unit,
    context: Callable[[Unit], AbstractSet[str]] | None = None,
) -> bool:
    """Whether a unit about what is asked gives a share or rate ("25%", "3 of 40", "one in five"),
    and names the group the share is asked of (`group`: informative words of "of smokers", any one),
    or takes its group from its context ("… of these had …": its passage names the group, or
    `context`'s tokens do: the other sections of the abstract it is in)."""
    if not SHARE_FIGURE.search(u.text) or not _about(informative, specific, u):
        return False
    if not group or group & u.tokens:
        return True
    if not _SHARE_OF_CONTEXT_RE.search(u.text):
        return False
    return bool(group & u.passage_tokens) or (context is not None and bool(group & context(u)))


def _gives_age(informative: set[str], specific: set[str], groups: AbstractSet[str], u: Unit) -> bool:
    """Whether a unit about what is asked gives an age ("between ages 2 and 5", "aged 65") or, where
    an age group is asked (`groups`: the vocabulary's age groups), names one ("pediatric and young
    adult patients")."""
    gives = bool(AGE_FIGURE.search(u.text)) or bool(groups & u.own_tokens)
    return gives and _about(informative, specific, u)


def _gives_schedule(informative: set[str], specific: set[str], u: Unit) -> bool:
    """Whether a unit about what is asked gives a schedule ("every 2 weeks", "days 1, 3 and 5")."""
    return bool(FREQUENCY_RE.search(u.text)) and _about(informative, specific, u)


UNSEEN_SUBJECT_ZIPF = 4.0  # an unseen word rarer than this in English is what the question is about
HARM = "c_toxicity"  # the vocabulary's concept of harms (side effects, adverse events, CRS, VOD ...)


@dataclass(frozen=True)
class Asked:
    """Something a question asks of a named product ("the side effects of tisagenlecleucel", "who
    makes Kymriah"): the vocabulary's attribute concept, the tokens a passage about the product
    holds, and both as the reader names them ("the maker", "tisagenlecleucel")."""

    attribute: str
    about: frozenset[str]
    written: str
    thing: str

    def named_by(self, u: Unit) -> bool:
        """Whether a unit names the attribute itself: a sentence in its own words (not through its
        document's title: "… FDA-approved therapies" approves none of the sentences under it), a
        bullet or a card field with its path or field name."""
        return self.attribute in (u.own_tokens if u.kind == "sentence" else u.tokens)

    def given_by(self, u: Unit) -> bool:
        """Whether a unit gives it: it names the attribute and its passage names the product."""
        return self.named_by(u) and bool(u.passage_tokens & self.about)


def _dose_of_no_drug(q: QuestionAnalysis) -> Choice | None:
    """The refusal of a dose asked with no drug named ("What's the dose?", "the dose in kids?"; a
    follow-up names it from the turn before): any passage's dose would answer for a drug not asked
    about. `q.named` holds every therapy the question names; a name told apart by a letter ("vitamin
    D", `qualified_names`) names one too, though its words are common."""
    if q.wants_dose and not q.named - {"c_dose"} and not q.qualified:
        return Choice(True, reason="the question does not say which drug's dose it asks for", missing=["the drug"])
    return None


def listed(names: list[str], conjunction: str = "or") -> str:
    """Names as a reader lists them ("A, B or C")."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


# The subject of a sentence that points back to what the sentence before names ("The therapy
# achieved a 100% CR rate …", "It induced …"): its figures are that thing's.
_POINTS_BACK = re.compile(
    r"^(?:[A-Z][\w ]{0,25},\s+)?(?:(?:the|this|these|such)\s+(?:therap(?:y|ies)|treatments?|regimens?|drugs?|agents?|"
    r"approach(?:es)?|combinations?|products?|strateg(?:y|ies)|interventions?)|it|they)\b",
    re.IGNORECASE,
)


class Chooser:
    def __init__(
        self,
        settings: Settings,
        vocab: Vocabulary,
        idf: IdfTable,
        scope: Scope | None = None,
        meaning: UnitSimilarity | None = None,
        siblings: Callable[[str], Sequence[Chunk]] | None = None,
    ) -> None:
        self.settings = settings
        self.vocab = vocab
        self.idf = idf
        self.scope = scope or Scope.open()
        self.meaning = meaning if settings.unit_similarity_weight > 0 else None
        # a document's passages in order (the store's chunk table, in memory): a study's finding
        # for its aim when retrieval found only the aim (`_finding_for_aim`)
        self.siblings = siblings
        self.cache = UnitCache(vocab)
        self._classes = vocab.classes()  # concepts other concepts narrow
        # the vocabulary's age groups by their ages ("children": 0-17, "older adults": 65-130)
        self._age_ranges = {c.id: c.ages for c in vocab.concepts.values() if c.ages}
        self._age_groups = frozenset(self._age_ranges)

    # --- abstention checks -------------------------------------------------------------------
    def _refusal(self, q: QuestionAnalysis) -> tuple[str, list[str]] | None:
        if q.injection:
            return (
                "the question asks the assistant to follow instructions; ALLy only answers questions about its sources",
                [],
            )
        # every disease the question names must be covered: a comparison ("ALL and lymphoblastic
        # lymphoma") is not answered from one side of it
        uncovered = [d for d in q.diseases if not self.scope.covers(d)]
        if uncovered:
            names = [label(d) for d in uncovered]
            return (f"the sources do not cover {' or '.join(names)}", names)
        if not q.terms:
            return ("the question names nothing the sources could be searched for", [])
        if q.unseen_specific:
            names = sorted({q.word(t) for t in q.unseen_specific})
            return (f"the sources do not mention {listed(names)}", names)
        return self._unseen_attribute(q) or self._only_unseen_subject(q)

    def _only_unseen_subject(self, q: QuestionAnalysis) -> tuple[str, list[str]] | None:
        """The refusal when every word of the question that could tell passages apart is one the
        corpus never uses and rarer than everyday English (`UNSEEN_SUBJECT_ZIPF`: "Does caffeine
        improve memory?": "caffeine"; the rest is common English): any passage found would share only
        generic words with it ("improved outcomes"). A plainer word ("smell" of a title's metaphor,
        "Would a man smell a rose then throw it away?") names no subject of its own."""
        unseen = [
            t
            for t in q.terms
            if t in q.unseen_uncommon
            and len(q.word(t)) >= 4
            and not inflects_common(q.word(t))
            and zipf_frequency(q.word(t).lower(), "en") < UNSEEN_SUBJECT_ZIPF
        ]
        if not unseen or self.informative(q):
            return None
        names = list(dict.fromkeys(q.word(t) for t in unseen))
        return (f"the sources do not mention {listed(names)}", names)

    def _unseen_attribute(self, q: QuestionAnalysis) -> tuple[str, list[str]] | None:
        """The refusal when the question asks about a therapy it names, and all it asks about that
        therapy is in words the corpus never uses ("Does nelarabine cause neuropathy?", "contraindications
        to inotuzumab?"): any passage found would be about the therapy, not about what is asked."""
        specific = self.asked_therapies(q)
        # words of four letters or more: clinical shorthand ("peg" for pegaspargase) names no attribute,
        # and neither does a verb's form of a common word ("when should X be switched to Y?")
        unseen = [
            t for t in q.terms if t in q.unseen_uncommon and len(q.word(t)) >= 4 and not inflects_common(q.word(t))
        ]
        if not specific or not unseen or self.informative(q) - self.vocab.with_broader(specific):
            return None
        names = sorted({q.word(t) for t in unseen})
        drugs = ", ".join(sorted(self.vocab.label(c) for c in specific))
        return (f"the sources do not mention {listed(names, 'and')} for {drugs}", names)

    def _asked_of(self, q: QuestionAnalysis) -> list[Asked]:
        """What the question asks of the product it names (`Asked`); a harm may come from a passage
        about the product's class (CRS of "CAR-T cell therapy" for tisagenlecleucel), a maker, cost or
        approval only from one about the product, and only of a product the vocabulary knows, not of a
        class ("which immunotherapies are approved?"). The harms of a product the vocabulary lacks are
        asked of the question's rare words ("nivolumab")."""
        attributes = sorted(c for c in q.concepts if self.vocab.concepts[c].attribute)
        if not attributes:
            return []
        products = self.asked_therapies(q)
        if specific := products:
            thing = ", ".join(sorted(self.vocab.label(c) for c in specific))
        else:
            specific = {t for t in q.terms if t in q.named and not t.startswith("c_") and not self._ubiquitous(t)}
            thing = ", ".join(self._readable(q, [t for t in q.terms if t in specific]))
        if not specific:
            return []
        asked = []
        for a in attributes:
            if a == HARM:  # a class's harms are its products' ("the side effects of CAR-T")
                about = self.vocab.with_broader(products) if products else specific
            elif not products or products & self._classes:
                # "which immunotherapies are approved …?" asks which products, not one's approval (a
                # word the vocabulary lacks may name a class: only its harms are asked of it)
                continue
            else:
                about = specific
            asked.append(Asked(a, frozenset(about), self.vocab.label(a), thing))
        return asked

    def _of_asked_things(self, q: QuestionAnalysis, chosen: list[Unit], named: set[str]) -> list[Unit]:
        """The chosen units less the neighbours of what the question names, where figures or harms
        are asked."""
        for asked in self._asked_of(q):
            # another drug's side effects ("severe adverse effects … in the ibuprofen group") or maker
            # are no answer about this one's
            chosen = [u for u in chosen if not asked.named_by(u) or asked.given_by(u)] or chosen
        if named and (q.wants_dose or q.units):
            # a figure asked about a named drug, trial or gene: units of passages that never name it are
            # neighbours (another drug's card), not evidence
            chosen = [u for u in chosen if self._names_any(q, named, u)] or chosen
        if specific := self.asked_therapies(q):
            # a question about one product is not answered with another's figures ("85.4% ORR" of a CD19
            # CAR-T study for tisagenlecleucel): a unit with figures comes from a passage naming it
            chosen = [u for u in chosen if u.passage_tokens & specific or not u.numbers] or chosen
            # nor with another product's card ("Is revumenib approved?": brexucabtagene's indications)
            chosen = [u for u in chosen if not self._card_of_another(u, specific)] or chosen
        return chosen

    def _of_asked_ages(self, q: QuestionAnalysis, chosen: list[Unit]) -> list[Unit] | Choice:
        """Where a figure is asked for an age group, the chosen units less another age group's figures
        and words about them ("> 80% in pediatric and young adult patients" for adults; "5-year survival
        … exceeds 90%" of children and "around 40%" of adults for teenagers); the refusal when that
        leaves none (as `_same_side`: another group's figure is no answer, not even a partial one)."""
        if not self._figure_asked(q) or not (groups := self._asked_age_groups(q)):
            return chosen
        for_ages = [u for u in chosen if self._for_ages(groups, u)]
        # a figure in a unit naming no age group is the asked group's only where its passage names one
        # that holds it ("60% 5-year survival" from a passage naming no age is no children's figure)
        same_ages = [u for u in for_ages if not u.numbers or self._passage_for_ages(groups, u)]
        if same_ages:
            return same_ages
        label = " ".join([self._topic(q, sorted(groups)), *bound_phrases(q.corrected)])  # "adults over 60"
        drugs = sorted(self.vocab.label(c) for c in self.asked_therapies(q))
        of = f" of {listed(drugs, 'and')}" if drugs else ""
        if for_ages:  # figures found, none said to be of any age group
            return Choice(
                True, reason=f"the passages found do not say their figures{of} are for {label}", missing=[label]
            )
        return Choice(
            True, reason=f"the passages found give figures{of} for another age group than {label}", missing=[label]
        )

    def _narrowed(self, q: QuestionAnalysis, chosen: list[Unit], named: set[str]) -> list[Unit] | Choice:
        """The chosen units that may answer: on the question's side of a bound, about the things it
        names, no unasked drug's card figures; the refusal when none is left."""
        same_side = self._same_side(q, chosen)
        if isinstance(same_side, Choice):
            return same_side
        same_ages = self._of_asked_ages(q, self._of_asked_things(q, same_side, named))
        if isinstance(same_ages, Choice):
            return same_ages
        return self._without_unasked_cards(q, same_ages)

    def _without_unasked_cards(self, q: QuestionAnalysis, chosen: list[Unit]) -> list[Unit] | Choice:
        """Where a figure is asked, the chosen units less the figures of drug cards whose drug the
        question does not name (a card's figures are its drug's); the refusal when that leaves none."""
        if not (q.wants_dose or q.wants_number or q.wants_frequency or q.units):
            return chosen
        cards = [u for u in chosen if self._card_not_asked(q, u)]
        if len(cards) < len(chosen):
            return [u for u in chosen if u not in cards]
        drugs = listed(list(dict.fromkeys(u.context[0] for u in cards)), "and")
        return _dose_of_no_drug(q) or Choice(
            True, reason=f"the passages found give figures for {drugs}, not for what is asked"
        )

    def _card_not_asked(self, q: QuestionAnalysis, u: Unit) -> bool:
        """Whether a unit is a figure of a drug card whose drug the question names neither itself nor by
        its class ("how often is intrathecal chemo given?" is not answered by nelarabine's "repeated
        every 21 days"). A card whose name the vocabulary lacks is asked when the question holds a word
        of its name."""
        if u.kind != "field" or not u.context or not u.numbers:
            return False
        drugs = self._narrowest({c for c in self.vocab.concepts_in(u.context[0]) if self.vocab.concepts[c].therapy})
        if drugs:
            return not self._related(drugs, {c for c in q.concepts if self.vocab.concepts[c].therapy})
        name = {t for t in self.vocab.tokens(u.context[0]) if not self._ubiquitous(t)}
        return bool(name) and not name & set(q.terms)

    def _card_of_another(self, u: Unit, specific: set[str]) -> bool:
        """Whether a unit is a field of the card of a therapy other than those asked (nor their class,
        nor a product of an asked class)."""
        if u.kind != "field" or not u.context:
            return False
        # the card's own product, not its class ("CAR-T" of brexucabtagene is tisagenlecleucel's too)
        drugs = self._narrowest({c for c in self.vocab.concepts_in(u.context[0]) if self.vocab.concepts[c].therapy})
        return bool(drugs) and not self._related(drugs, specific)

    @staticmethod
    def _same_side(q: QuestionAnalysis, chosen: list[Unit]) -> list[Unit] | Choice:
        """The chosen units less those about the group on the other side of a bound the question sets
        ("adults under 65" asked, "Adult >65 or with significant comorbidities" written), or whose age
        bound leaves out the patient the question describes ("45M with …", "aged 65 years and older"
        written); the refusal when that leaves none."""
        age = question_patient_age(q.corrected)
        if not bound_phrases(q.corrected) and age is None:
            return chosen
        same_side = [
            u
            for u in chosen
            if not bounds_contradict(q.corrected, u.display) and (age is None or not excludes_age(u.display, age))
        ]
        if same_side:
            return same_side
        label = " and ".join(bound_phrases(q.corrected)) or f"a {age}-year-old"
        return Choice(True, reason=f"the passages found concern another group than {label}", missing=[label])

    def _ubiquitous(self, token: str) -> bool:
        return self.idf.share(token) > UBIQUITOUS_SHARE

    def _name(self, q: QuestionAnalysis, token: str) -> str:
        """A term as a reader names it: a therapy or labelled concept by its label, another concept by
        the question's own words for it ("infusion", not the concept's first term "route")."""
        if token in self.vocab.concepts:
            concept = self.vocab.concepts[token]
            if not concept.label and not concept.therapy:
                written = [q.corrected[m.start : m.end] for m in self.vocab.matches(q.corrected) if m.concept == token]
                if written:
                    return written[0]
            return self.vocab.label(token)
        return q.word(token)

    def _topic(self, q: QuestionAnalysis, terms: list[str]) -> str:
        """What a figure is asked of, for a refusal: the first term's name, the others' after it in
        brackets ("blinatumomab (infusion)"); a common word beside it ("given") names nothing."""
        names = self._readable(q, terms)
        if not names:
            return "this"
        rest = [n for n in names[1:] if not is_common(n)]
        return names[0] + (f" ({', '.join(rest)})" if rest else "")

    def _readable(self, q: QuestionAnalysis, terms: list[str]) -> list[str]:
        """Question terms as a reader names them: the question's own word, a concept by its label
        (never an internal id such as "c_tki")."""
        return list(dict.fromkeys(self._name(q, t) for t in terms))

    def _absent_named(self, q: QuestionAnalysis, covered: set[str], chosen: list[Unit], hits: list[Hit]) -> list[str]:
        """The specific things the question names that neither the chosen units nor (as far as
        retrieved) their documents and sources mention."""
        # in the question's order: a message names them the same way on every run
        absent = sorted(
            (t for t in q.named if t not in covered and t in q.terms and not self._ubiquitous(t)),
            key=lambda t: (self._position(q, t), t),
        )
        if not absent:
            return []
        # named in the chosen units' documents (as far as retrieved) or their sources
        docs = {u.chunk.doc_id for u in chosen}
        seen = covered.union(*(self.scope.of_source(d) for d in docs))
        for hit in hits:
            if hit.chunk.doc_id in docs:
                seen |= self.cache.passage_tokens(hit.chunk)
        # or written there with another ending ("South Africa" for "South African"), or spelled out
        # ("the United States" for "US")
        texts = [u.chunk.text for u in chosen]
        return [
            t
            for t in absent
            if t not in seen
            and not any(is_variant(t, w) for w in seen if w[:3] == t[:3])
            and not any(spelled_out(q.word(t), text) for text in texts)
        ]

    def _position(self, q: QuestionAnalysis, token: str) -> int:
        """Where the question first writes a term (a concept by its first mention)."""
        if token.startswith("c_"):
            return min(
                (m.start for m in self.vocab.matches(q.corrected) if m.concept == token), default=len(q.corrected)
            )
        at = written_at(q.corrected, q.word(token))
        return len(q.corrected) if at is None else at

    def _subject_answered(self, q: QuestionAnalysis, chosen: list[Unit], absent: list[str]) -> list[Unit]:
        """For a yes/no question whose subject the chosen units name and say what the question asks
        of it, while a thing it relates the subject to is named elsewhere in the corpus but not there
        ("Is nivolumab a PD-L1 inhibitor?" answered by "PD-1 inhibitor nivolumab"): the units that
        name the subject and the asked predicate, to be given with that gap said. Empty (refused) when
        a figure is asked, the missing thing is the subject, it sets the setting, group or comparator
        ("in the AUGMENT trial", "for CD7-positive T-ALL": units of another setting would stand in
        for it), or no unit names the subject with the predicate."""
        if not q.yes_no or q.wants_dose or q.wants_number or q.wants_share or q.units or q.timepoints:
            return []
        if not all(t in self.idf.df and self._acronym_of(q, t) is None for t in absent):
            return []  # never written in the corpus: refused by name
        informative = sorted(self.informative(q), key=lambda t: (self._position(q, t), t))
        if not informative or informative[0] in absent or any(in_setting(q.corrected, q.word(t)) for t in absent):
            return []
        first_gap = min(self._position(q, t) for t in absent)
        subject = {t for t in informative if t in q.named and self._position(q, t) < first_gap}
        # what is asked of the subject, less the parts of the missing thing's own word ("PD" of "PD-L1")
        gap_words = {q.word(t).lower() for t in absent}
        asked = {
            t
            for t in informative
            if t not in subject
            and t not in absent
            and t not in q.named
            and not any(q.word(t).lower() in w for w in gap_words)
        }
        if not subject or not asked:
            return []
        return [u for u in chosen if u.tokens & subject and u.tokens & asked]

    def _acronym_of(self, q: QuestionAnalysis, token: str) -> str | None:
        """How the question writes a concept when it writes it as an acronym the concept's own words are
        not ("BLAST" trial for the concept "blasts"), else None."""
        if token not in self.vocab.concepts or any(c.isupper() for c in self.vocab.label(token)):
            return None
        for m in self.vocab.matches(q.corrected):
            written = q.corrected[m.start : m.end]
            if m.concept == token and written.isupper():
                return written
        return None

    def _absent_refusal(self, q: QuestionAnalysis, absent: list[str]) -> Choice:
        """The refusal naming what the passages found do not mention; where the corpus names it
        elsewhere, it says so (the thing is known, this answer about it is not there). An acronym the
        question writes for a common word's concept ("BLAST") is named as written, never as known."""
        acronyms = {t: a for t in absent if (a := self._acronym_of(q, t))}
        # a numeral alone is named with its head word ("class II", not "II")
        qualified = {qualifier.lower(): written for (_, qualifier), written in qualified_written(q.corrected).items()}
        names = list(
            dict.fromkeys(acronyms.get(t) or qualified.get(t) or self._name(q, t) for t in absent)
        )  # "PD", "L1": PD-L1
        if not acronyms and all(t in self.idf.df for t in absent):
            reason = (
                f"the passages found for this question do not mention {listed(names)} (the sources name it elsewhere)"
            )
            return Choice(True, reason=reason, missing=names)
        return Choice(True, reason=f"no passage found mentions {listed(names)}", missing=names)

    def informative(self, q: QuestionAnalysis) -> set[str]:
        """The question terms that can tell one passage from another: not common English words
        ("mechanism", "role", "patients") and not in most of the corpus's passages."""
        return {
            t
            for t in q.terms
            if (t in q.named or not is_common(q.word(t)))
            and not self._ubiquitous(t)
            and (t.startswith("c_") or t in self.idf.df)  # a word no passage holds tells none apart
        }

    def admissible(self, q: QuestionAnalysis, u: Unit, informative: set[str]) -> bool:
        """Whether a unit may be evidence for this question at all."""
        if u.untrusted or not self.scope.trusted(u.chunk.doc_id):
            return False
        if informative and not (u.tokens & informative):
            return False  # its only overlap with the question is generic words
        if q.qualified and (_names_another(q.qualified, u.text) or _names_another(q.qualified, u.chunk.text)):
            return False  # vitamin C for vitamin D, phase III for phase II: another thing of the same name
        covered = [d for d in q.diseases if self.scope.covers(d)]
        return not covered or bool(u.diseases & set(covered)) or self.scope.about(u.chunk.doc_id, covered)

    def _units(self, q: QuestionAnalysis, hits: list[Hit], limit: int) -> list[Unit]:
        informative = self.informative(q)
        gathered = [u for u in self.cache.gather(hits, limit) if self.admissible(q, u, informative)]
        return score_units(gathered, q, self.vocab, self.idf)

    # --- selection -------------------------------------------------------------------------
    def _add_meaning(self, q: QuestionAnalysis, units: list[Unit], vector: np.ndarray | None = None) -> None:
        """Fuse the best candidates' similarity with the question into their scores. The candidates
        are the best-scoring units; a sentence also given under its abstract label ("CONCLUSIONS Men
        who …" beside "Men who …") is weighed in one form only, so that one study's labelled copies
        leave room for another study's answer (they had taken every candidate's place)."""
        if self.meaning is None or not units:
            return
        limit = self.settings.unit_similarity_candidates
        top: list[Unit] = []
        shown: dict[str, str] = {}  # a sentence without its label -> the form first weighed
        for u in sorted(units, key=lambda u: -u.score):
            text = without_section_label(u.display)
            if shown.setdefault(text, u.display) != u.display:
                continue  # the same sentence with or without its label: weighed once
            top.append(u)
            if len(top) >= limit:
                break
        keyed = [(u.chunk.chunk_id, u.position, u.display) for u in top]
        for u, sim in zip(top, self.meaning.similarities(q.corrected, keyed, vector), strict=True):
            u.similarity = sim
            u.score += self.settings.unit_similarity_weight * sim

    def select(
        self,
        q: QuestionAnalysis,
        hits: list[Hit],
        population: Population | None = None,
        question_vector: np.ndarray | None = None,
    ) -> list[Unit]:
        units = self._of_population(self._units(q, hits, len(hits)), population)
        self._add_meaning(q, units, question_vector)
        # Ties go to the unit that says more (a sentence with the one it leans on).
        units.sort(key=lambda u: (-round(u.score, 6), u.hit_rank, -len(u.tokens), u.index))
        if not units:
            return []
        best = units[0].score
        floor = max(0.7 * best, self.settings.abstain_threshold * 0.8)
        chosen: list[Unit] = []
        for u in units:
            if u.score < floor or len(chosen) >= self.settings.max_answer_sentences:
                break
            wider = next((i for i, c in enumerate(chosen) if c.text in u.text and c.text != u.text), None)
            if wider is not None and not any(u.text in c.text for c in chosen):
                # u quotes a chosen sentence with the one that leans on it ("… CD5 CAR-T. The therapy
                # achieved 100% CR …"): it says more, so it takes that sentence's place
                chosen[wider] = u
                continue
            if any(u.text in c.text or c.text in u.text or _jaccard(u.tokens, c.tokens) >= 0.85 for c in chosen):
                continue
            chosen.append(u)
        chosen = self._without_shown_headers(self._without_other_cards(q, chosen))
        return self._complete_cards(q, self._complete_branches(self._direct_first(q, chosen), units), units)

    def _without_other_cards(self, q: QuestionAnalysis, chosen: list[Unit]) -> list[Unit]:
        """Asked what a thing is, a card of a drug the question does not name (nor its class) is no
        answer ("What is Ph+ ALL?" is not ponatinib's "Status: FDA Approved 2012 Ph+ ALL NEW"), unless
        nothing else is chosen."""
        if not q.what_it_is:
            return chosen
        specific = {c for c in q.concepts if self.vocab.concepts[c].therapy}
        return [u for u in chosen if not self._card_of_another(u, specific)] or chosen

    @staticmethod
    def _without_shown_headers(chosen: list[Unit]) -> list[Unit]:
        """Drop a list header ("Consolidation:") whose item is chosen too: the item renders with it
        as its context ("Consolidation: post-induction phase …"), so the header alone says nothing."""
        shown = {(u.chunk.doc_id, *u.context) for u in chosen}

        def item_shown(u: Unit) -> bool:
            text = u.text.rstrip()
            return text.endswith(":") and (u.chunk.doc_id, *u.context, text.rstrip(": ")) in shown

        kept = [u for u in chosen if not item_shown(u)]
        return kept or chosen

    def _timepoint_first(self, q: QuestionAnalysis, chosen: list[Unit]) -> None:
        """A figure asked at a timepoint ("What share developed dementia within a year?") is led by a
        chosen unit giving a figure there ("69 (13.0%) … at 1-year follow-up"), not by one giving it at
        another ("At 2-year follow-up … 100 (20.8%)"). A yes/no question's lead is the unit deciding it."""
        if q.yes_no or not self._figure_asked(q) or not q.timepoints or not chosen:
            return
        if any(_gives(t, chosen[0]) for t in q.timepoints):
            return
        at = next(
            (i for i, u in enumerate(chosen) if not _states_aim(u) and any(_gives(t, u) for t in q.timepoints)), None
        )
        if at:
            chosen.insert(0, chosen.pop(at))

    def _direct_first(self, q: QuestionAnalysis, chosen: list[Unit]) -> list[Unit]:
        """The lead is the chosen unit that scores best on what it shows: its score with the
        coverage of a prose sentence counted on its own words, not on its document's title (which
        the reader does not see in that line); for a question that asks what a thing is, the best
        of those that define it, when any does; never a unit that only restates the question."""
        if len(chosen) < 2:
            return chosen
        shown = [
            u.score - u.coverage + coverage(u.own_tokens, q, self.idf) if u.kind == "sentence" else u.score
            for u in chosen
        ]
        leads: list[int] = []
        if q.what_it_is:  # "what is X": a unit that says what X is leads, if one was chosen
            terms = set(q.terms)
            leads = [i for i, u in enumerate(chosen) if u.own_tokens & terms and defines(u.text, terms, self.vocab)]
        if not leads and q.wants_disease:
            # "which disease is X used to treat?": a unit that names a disease the question does not
            # leads ("… in chronic myeloid leukemia patients" before "… patients with adverse disease features")
            asked_diseases = set(q.diseases)
            leads = [i for i, u in enumerate(chosen) if set(diseases_in(u.display)) - asked_diseases]
        if not leads and q.wants_circumstances:
            # "when does someone need a transplant?": a unit naming what the question names and
            # stating a circumstance it does not ("… in first remission for high-risk disease") leads
            asked_tokens = set(q.terms).union(self.vocab.tokens(q.corrected))
            leads = [
                i
                for i, u in enumerate(chosen)
                if q.named <= set(self.vocab.tokens(u.display))
                and set(self.vocab.tokens(" ".join(condition_words(u.display)))) - asked_tokens
            ]
        if not leads and q.wants_findings:
            # "what did E1910 show?": a sentence reporting a finding, from a passage naming what is
            # asked, leads before one that describes it ("the E1910 regimen: cyclophosphamide, …")
            leads = [i for i, u in enumerate(chosen) if self._reports_finding(q, u)]
        if not leads and q.wants_method:
            # "how do you check for MRD?": a unit stating the means ("MRD assessment by flow cytometry or
            # PCR") leads before one that only names the step ("if CR after induction (check MRD status) …")
            leads = [i for i, u in enumerate(chosen) if self._states_means(q, u)]
        if not leads and q.wants_cause:
            # "what is the main cause of cervical cancer?": a unit naming what is asked and stating a
            # cause ("HPV infection … contribute to almost 100% cervical cancers") leads
            leads = [i for i, u in enumerate(chosen) if self._states_cause(q, u)]
        if not leads and (ages := self._asked_age_groups(q)):
            # "which CAR-T is approved for children?": a unit naming the asked age group (or one
            # holding it) leads before one naming none ("the first CAR-T approved in China …"), a
            # study's aim aside ("AIMS: to verify … in young adults born preterm"), and one that does
            # not itself name the thing asked about, or its class ("Most common childhood cancer …"
            # for "is blinatumomab used in children?")
            subject = (q.named & self.informative(q)) - self._age_groups
            leads = [
                i
                for i, u in enumerate(chosen)
                if (named := u.tokens & self._age_groups)
                and self._hold_asked(ages, named)
                and not (u.kind == "sentence" and STUDY_AIM_RE.match(u.text))
                and (not subject or bool(subject & (u.tokens | self._broader_of(u))))
            ]
        if not leads:
            # a unit whose own words only restate the question ("CALGB 10403" for "what's in CALGB
            # 10403?") does not lead while another says more
            asked = set(q.terms).union(self.vocab.tokens(q.corrected))
            says_more = [i for i, u in enumerate(chosen) if not u.own_tokens <= asked]
            leads = says_more if len(says_more) < len(chosen) else []
        candidates = leads or list(range(len(chosen)))
        # a sentence saying what a study set out to do ("We assessed …", "To determine …") does not
        # lead while one saying what is so can
        # nor does one leaning on a sentence it does not quote ("These agents, when combined …", its
        # antecedent lost with a list the page dropped)
        stating = [
            i
            for i in candidates
            if not (
                chosen[i].kind == "sentence"
                and (STUDY_AIM_RE.match(chosen[i].text) or _REFERS_BACK.match(chosen[i].text))
            )
        ]
        aim_first = bool(stating) and 0 not in stating
        best = max(stating or candidates, key=lambda i: (shown[i], -i))
        if best == 0 or (not leads and not aim_first and shown[best] <= shown[0]):
            return chosen
        return [chosen[best], *chosen[:best], *chosen[best + 1 :]]

    def _broader_of(self, u: Unit) -> set[str]:
        """The classes of the concepts a unit names ("CAR-T" for a brexucabtagene card's field)."""
        return self.vocab.with_broader({t for t in u.tokens if t in self.vocab.concepts})

    @staticmethod
    def _of_population(units: list[Unit], population: Population | None) -> list[Unit]:
        """`units` less those about another subtype (Ph status, lineage) than the one asked about: such
        a passage is never the answer (a sentence quoted with the one it leans on counts as about
        another subtype when either is)."""
        if population is None:
            return units
        return [
            u
            for u in units
            if not any(
                other_subtype(population, t) for t in (split_sentences(u.text) if u.kind == "sentence" else [u.display])
            )
        ]

    def _complete_cards(self, q: QuestionAnalysis, chosen: list[Unit], pool: list[Unit]) -> list[Unit]:
        """Add the other fields of a selected drug card that the question asks about ("year and maker")."""
        out = list(chosen)
        taken = {(u.chunk.chunk_id, u.text) for u in out}
        cards = {u.chunk.chunk_id for u in chosen if u.kind == "field"}
        for u in pool:
            if u.chunk.chunk_id in cards and (u.chunk.chunk_id, u.text) not in taken:
                asked = [t for t in q.terms if t not in u.context_tokens]
                if any(t in u.own_tokens for t in asked):
                    out.append(u)
                    taken.add((u.chunk.chunk_id, u.text))
        return out

    def _complete_branches(self, chosen: list[Unit], pool: list[Unit]) -> list[Unit]:
        """Add the sibling options of a selected pathway branch (same passage, same context)."""
        out = list(chosen)
        taken = {(u.group_key, u.text) for u in out}
        for u in chosen:
            if u.kind != "bullet" or len(u.context) < 2:
                continue
            siblings = [s for s in pool if s.group_key == u.group_key and (s.group_key, s.text) not in taken]
            if len(siblings) > 15:
                continue
            for s in sorted(siblings, key=lambda s: s.index):
                out.append(s)
                taken.add((s.group_key, s.text))
        return out

    # --- disagreement ----------------------------------------------------------------------
    def _names(self, text: str, tokens: set[str], informative: set[str]) -> frozenset[str]:
        """What a figure's lead-in names: the question's informative terms it holds, its concepts and
        its words uncommon in general English (a gene, a drug, a trial: `NAME_ZIPF`), leaving out
        those in most of the corpus's passages."""
        rare = {stem(w) for w in words(text) if len(w) > 1 and zipf_frequency(w, "en") < NAME_ZIPF}
        named = rare | (tokens & informative) | {t for t in tokens if t.startswith("c_")}
        return frozenset(t for t in named if not self._ubiquitous(t))

    def _windows(self, u: Unit, informative: set[str]) -> list[_Window]:
        """Each percentage in the unit with what it measures: the text that leads up to it (from the
        previous figure or the start of the unit), or, where that holds no words ("75% of cases are
        B-cell lineage, 25% …"), the text that follows it up to the next figure or clause mark."""
        found = list(_PERCENT_RE.finditer(u.text))
        out = []
        for i, m in enumerate(found):
            lead = u.text[found[i - 1].end() if i else 0 : m.start()]
            if not _worded(set(self.vocab.tokens(lead))):
                end = found[i + 1].start() if i + 1 < len(found) else len(u.text)
                lead = re.split(r"[,;.]", u.text[m.end() : end], maxsplit=1)[0]
            tokens = set(self.vocab.tokens(lead))
            out.append(_Window(m.group(0), lead, tokens, self._names(lead, tokens, informative)))
        return out

    def _disagreements(self, q: QuestionAnalysis, chosen: list[Unit], pool: list[Unit]) -> list[Disagreement]:
        """Pairs of units that give different figures for the same measure of the same population:
        what leads up to each figure names the same thing, the units share at least two question
        terms, and no population field (age group, Ph status, lineage, phase) differs."""
        q_terms = set(q.terms)
        informative = self.informative(q)
        pairs: list[Disagreement] = []
        with_pct = [u for u in pool if _PERCENT_RE.search(u.text) and u.coverage >= 0.5 * (chosen[0].coverage or 1)]
        windows: dict[int, list[_Window]] = {}  # each unit's once, not per pair, and only for a candidate pair

        def windows_of(u: Unit) -> list[_Window]:
            if id(u) not in windows:
                windows[id(u)] = self._windows(u, informative)
            return windows[id(u)]

        for a in chosen:
            a_windows = windows_of(a)
            if not a_windows:
                continue
            for b in with_pct:
                if b.chunk.chunk_id == a.chunk.chunk_id:
                    continue
                shared = (a.tokens & b.tokens & q_terms) - {"c_all", "all"}
                if len(shared) < 2 or _jaccard(a.tokens, b.tokens) < 0.3 or _populations_differ(a, b):
                    continue
                b_windows = windows_of(b)
                found = next(
                    (
                        Disagreement(a, b, wa.figure, wb.figure, _measure(wa.before, wb.before))
                        for wa in a_windows
                        for wb in b_windows
                        if _figure(wa.figure) != _figure(wb.figure) and wa.same_quantity(wb)
                    ),
                    None,
                )
                same_passages = any(
                    {p.a.chunk.chunk_id, p.b.chunk.chunk_id} == {a.chunk.chunk_id, b.chunk.chunk_id} for p in pairs
                )
                if (
                    found is not None
                    and not same_passages
                    and not any(_figure(found.figure_a) == _figure(w.figure) for w in b_windows)
                ):
                    pairs.append(found)
                    break
        return pairs

    def _figure_refusal(
        self, q: QuestionAnalysis, chosen: list[Unit], missing: list[str], named: set[str]
    ) -> Choice | None:
        """The refusal when a dose, a figure or a counted figure is asked and no chosen unit about
        what is asked gives it; None otherwise."""
        informative = self.informative(q)
        if unnamed := _dose_of_no_drug(q):
            return unnamed
        specific = self.asked_therapies(q)
        # a drug the vocabulary lacks is named by the question's rare words ("asciminib")
        unlisted = {t for t in q.named if not t.startswith("c_")} if not specific else set()
        drugs = ", ".join(sorted(self.vocab.label(c) for c in specific)) or listed(
            sorted({q.word(t) for t in unlisted}) or list(qualified_written(q.corrected).values()) or ["this"],
            "and",
        )
        if q.wants_dose:
            # a dose comes from a unit about the drug asked, never another drug's ("imatinib 400 mg"; an
            # IVIG dose for "the dose of vitamin K")
            about = [
                u
                for u in chosen
                if (not specific or specific & u.tokens)
                and unlisted <= u.tokens
                and _writes_each(q.qualified, u.display)
            ]
            if not any(DOSE_RE.search(u.text) for u in about):
                return Choice(True, reason=f"no passage gives a dose for {drugs}", missing=[f"dose of {drugs}"])
        elif (specific or unlisted) and (q.wants_number or q.wants_share):
            # a rate or figure asked for one drug comes from a passage about that drug and from a unit
            # that names what is measured ("ICANS", "ORR"), not from another product's trial
            measure = informative - self.vocab.with_broader(specific) - unlisted
            about = [
                u
                for u in chosen
                if (not specific or u.passage_tokens & specific)
                and _passage_names(q, unlisted, u)
                and (not measure or u.tokens & measure)
                and not (specific and self._figures_of_another(u, specific))
            ]
            # a rate asked is given as a share ("81%", "12 of 40"), not by a year or a count beside it
            if not any(SHARE_FIGURE.search(u.text) if q.wants_share else u.numbers for u in about):
                return Choice(True, reason=f"no passage gives the figure asked for {drugs}", missing=[drugs])
        if q.wants_frequency and not any(
            FREQUENCY_RE.search(u.text) and (not informative or u.tokens & informative) for u in chosen[:3]
        ):
            # "how often should MRD be measured?": a schedule, not a unit about MRD with any number
            topic = self._scheduled(q, informative)
            return Choice(
                True, reason=f"no passage gives a schedule (how often) for {topic}", missing=[f"how often ({topic})"]
            )
        if q.wants_number and not any(u.numbers and (not informative or u.tokens & informative) for u in chosen[:3]):
            # the figure must come from a unit about what is asked, not from any unit with a number
            return Choice(True, reason="no passage gives the figure asked for", missing=missing)
        if q.wants_number and q.measure and not any(self._gives_measure(q, u) for u in chosen[:3]):
            # and of the measure asked: a share of cases is no survival figure, a remission rate no cure rate
            asked = list(q.measure_names)
            return Choice(True, reason=f"no passage gives a figure for {listed(asked, 'or')}", missing=asked)
        if q.wants_number and q.measure and (refused := self._measure_elsewhere(q, chosen, informative)):
            return refused
        subject = named & informative
        if (q.wants_number or q.wants_share) and subject and not any(_figure_of(q, u, subject) for u in chosen[:3]):
            # and of the thing the question names: "25% of pediatric malignancies" is ALL's share, not
            # Ph+ ALL's ("How common is Ph+ ALL in children?")
            asked = self._readable(q, [t for t in q.terms if t in subject])
            return Choice(True, reason=f"no passage gives the figure asked for {listed(asked, 'and')}", missing=asked)
        return self._uncounted(q, chosen, informative, named)

    def _measure_elsewhere(self, q: QuestionAnalysis, chosen: list[Unit], informative: set[str]) -> Choice | None:
        """The refusal when no chosen unit giving the measure asked comes from a passage about all else
        the question asks (its source named, "per Li 2025", counts): "the sensitivity of CT for
        appendicitis" is not a CT sensitivity from a study of another disease beside appendicitis rates."""
        asking = number_words(q.corrected)  # "percentage", "proportion": what is wanted, not what about
        elsewhere = {
            t
            for t in informative
            if t not in q.measure
            and t not in asking
            and not (t.startswith("c_") and self.vocab.with_broader({t}) & q.measure)
        }
        giving = [u for u in chosen[:3] if self._gives_measure(q, u)]

        def held(u: Unit) -> frozenset[str]:
            return u.passage_tokens | self.scope.of_source(u.chunk.doc_id)

        if not elsewhere or not giving or any(elsewhere <= held(u) for u in giving):
            return None
        best = max(giving, key=lambda u: len(elsewhere & held(u)))
        lacking = self._readable(q, [t for t in q.terms if t in elsewhere - held(best)])
        measures = listed(list(q.measure_names), "or")
        return Choice(
            True,
            reason=f"no passage found about {listed(lacking, 'and')} gives a figure for {measures}",
            missing=lacking,
        )

    def _figures_of_another(self, u: Unit, specific: set[str]) -> bool:
        """Whether every figure of the unit is given in a sentence whose subject points back to a
        therapy other than those asked, named in the sentence before ("… CD5 CAR-T therapy for
        r/r T-ALL. The therapy achieved a 100% CR rate …, when followed by allo-HSCT": a CAR-T
        figure, not a transplant's)."""
        sentences = split_sentences(u.text)
        with_figures = [i for i, s in enumerate(sentences) if NUMBER_RE.search(s)]
        if not with_figures:
            return False
        for i in with_figures:
            if i == 0 or not _POINTS_BACK.match(sentences[i]):
                return False
            before = {c for c in self.vocab.concepts_in(sentences[i - 1]) if self.vocab.concepts[c].therapy}
            if not before or self._related(before, specific):
                return False
        return True

    def _gives_measure(self, q: QuestionAnalysis, u: Unit) -> bool:
        """Whether the unit gives a figure of the measure: a number in the same sentence, within
        `MEASURE_REACH` characters of where it names it ("5-year survival now exceeds 90%", "OS was
        60%"; not the "100% complete remission" of the sentence after "relapsed/refractory T-ALL.")."""
        measure = q.measure
        if not (u.numbers and u.tokens & measure):
            return False
        text = u.text
        spans = [(m.start, m.end) for m in self.vocab.matches(text) if self.vocab.with_broader({m.concept}) & measure]
        for t in measure:
            if not t.startswith("c_"):
                spans += [(m.start(), m.end()) for m in re.finditer(rf"\b{re.escape(t)}\w*", text, re.I)]
        # a population named is no measure: "R/R ALL", "relapsed/refractory B-ALL" (the vocabulary's
        # population cues) give no relapse rate
        cues = [(m.start(), m.end()) for rx in self.vocab.populations.values() for m in rx.finditer(text)]
        spans = [(s, e) for s, e in spans if not any(cs < e and s < ce for cs, ce in cues)]
        # a rate asked is given as a share ("20%", "12 of 40"), not by a day or a dose beside it
        figure_re = SHARE_FIGURE if q.wants_share else NUMBER_RE
        # a number glued to a word by a hyphen is part of a name ("Pediatric Index of Mortality-3"), not a figure
        figures = [(m.start(), m.end()) for m in figure_re.finditer(text) if not _GLUED.search(text, 0, m.start())]

        def near(s: int, e: int, fs: int, fe: int) -> bool:  # in one sentence, within reach
            between = text[min(e, fe) : max(s, fs)]
            return len(between) <= MEASURE_REACH and not _SENTENCE_END.search(between)

        return any(near(s, e, fs, fe) for s, e in spans for fs, fe in figures)

    @staticmethod
    def _names_any(q: QuestionAnalysis, named: set[str], u: Unit) -> bool:
        """Whether a unit's passage names one of `named` (`_writes`: or spells out its acronym)."""
        return any(_writes(q, t, u.passage_tokens, u.chunk.text) for t in named)

    def asked_therapies(self, q: QuestionAnalysis) -> set[str]:
        """The narrowest therapies the question names: "Kymriah" asks about tisagenlecleucel, not any
        CAR-T; the classes "TKI" and "chemotherapy" alone name no one drug."""
        return self._narrowest({c for c in q.concepts if self.vocab.concepts[c].therapy} - {"c_tki", "c_chemo"})

    def _narrowest(self, therapies: set[str]) -> set[str]:
        """The therapies less the classes of others among them ("CAR-T" beside tisagenlecleucel)."""
        return therapies - {b for c in therapies for b in self.vocab.with_broader({c}) if b != c}

    def _related(self, therapies: set[str], asked: set[str]) -> bool:
        """Whether any of `therapies` is an asked therapy, its class, or a product of an asked class."""
        return bool(therapies & self.vocab.with_broader(asked)) or any(
            self.vocab.with_broader({c}) & asked for c in therapies
        )

    def _scheduled(self, q: QuestionAnalysis, informative: set[str]) -> str:
        """What a schedule is asked of, for a refusal: the named things asked about, else what is."""
        scheduled = [t for t in q.terms if t in informative and t in q.named] or [
            t for t in q.terms if t in informative
        ]
        return self._topic(q, scheduled)

    def _uncounted(
        self, q: QuestionAnalysis, chosen: list[Unit], informative: set[str], named: set[str]
    ) -> Choice | None:
        """The refusal when a counted figure is asked ("how many years", "how long") and no chosen
        unit about what is asked gives a number in that unit ("one-year anniversary" of something
        else, "55 years old" for a duration, do not answer it); None otherwise."""
        if not q.units:
            return None
        asked = set(self.vocab.tokens(" ".join(q.units))) | set(self.vocab.tokens("many much long"))
        subject = informative or {t for t in q.terms if t not in asked and not self._ubiquitous(t)}
        about = [
            u for u in chosen if (not subject or u.tokens & subject) and (not named or self._names_any(q, named, u))
        ]
        if any(counted_re(q.units).search(u.text) for u in about):
            return None
        what = f"the number of {q.units[0]}s" if len(q.units) == 1 else "the duration"
        # what the figure is asked of, not the unit it is counted in ("cycles of nelarabine": nelarabine)
        topic = self._topic(
            q, [t for t in sorted(q.terms, key=lambda t: t not in named) if t in subject and t not in asked]
        )
        return Choice(True, reason=f"no passage gives {what} for {topic}", missing=[f"{what} ({topic})"])

    def _unstated(
        self, q: QuestionAnalysis, chosen: list[Unit], pool: list[Unit], population: Population | None
    ) -> Choice | None:
        """The refusal when what the question fixes is stated by no unit found: the answer it proposes
        ("…, antigen loss?"), the timepoint its figure is asked at ("5-year OS", "at 2 years"), the
        share or rate, the schedule or the age it asks for. A unit not chosen that states it joins the
        answer (in `chosen`; a proposed answer, a share, a schedule and an age lead it), never one
        giving another age group's figures than the one asked."""
        ages = self._asked_age_groups(q) if self._figure_asked(q) else frozenset()
        informative = self.informative(q)

        def for_ages(u: Unit) -> bool:
            return not ages or self._for_ages(ages, u)

        for what, reason, holds, leads in self._fixed(q):
            stating = next((i for i, u in enumerate(chosen) if holds(u)), None)
            if stating is not None:
                # the unit that gives what is asked comes first, unless it only says what a study set
                # out to measure ("The aim of this study was to analyse the 1-year mortality")
                lead = next((i for i, u in enumerate(chosen) if holds(u) and not _states_aim(u)), None)
                if leads and lead:
                    chosen.insert(0, chosen.pop(lead))
                continue
            backing = [u for u in self._of_population(pool, population) if holds(u) and for_ages(u)]
            if not backing:
                return Choice(True, reason=reason, missing=[what])
            # of the units stating it, one whose passage names more of what the question names ("key
            # risks" in the tisagenlecleucel passage, not "infection risks" of another CAR-T's), then the best
            chosen.insert(
                0 if leads else len(chosen),
                max(backing, key=lambda u: (len(u.passage_tokens & informative), u.score)),
            )
        return None

    def _timepoint_entries(self, q: QuestionAnalysis) -> list[tuple[str, str, Callable[[Unit], bool], bool]]:
        """Each timepoint the question fixes: a unit giving a figure there, from a passage about a
        thing the question names (a trial, a drug; not a class of therapy: "after chemotherapy"):
        "the 5-year OS in E1910" is no other study's 5-year survival."""
        concepts = self.vocab.concepts
        named = {t for t in q.named if t not in concepts or not concepts[t].therapy} | self.asked_therapies(q)

        def at(t: Timepoint, u: Unit) -> bool:
            return _gives(t, u) and (not named or self._names_any(q, named, u))

        # said in the refusal: "no passage found gives a figure at 5-year for ECOG 1910"
        written = self._readable(q, [t for t in q.terms if t in named])
        of = listed(written, "and") if written else ""
        entries: list[tuple[str, str, Callable[[Unit], bool], bool]] = []
        for t in q.timepoints:
            when = t.label if re.match(r"(?:at|after|within|by|over)\s", t.label, re.I) else f"at {t.label}"
            reason = f"no passage found gives a figure {when}" + (f" for {of}" if of else "")
            entries.append((t.label, reason, partial(at, t), False))
        return entries

    def _fixed(self, q: QuestionAnalysis) -> list[tuple[str, str, Callable[[Unit], bool], bool]]:
        """What the question fixes, each as (what, the refusal's reason, the test a unit stating it
        passes, whether that unit leads)."""
        fixed: list[tuple[str, str, Callable[[Unit], bool], bool]] = []
        if q.proposal:
            fixed.append((q.proposal, f"no passage found mentions {q.proposal}", partial(self._states, q), True))
        fixed += self._timepoint_entries(q)
        if (q.wants_number or q.wants_share) and (bounded := bound_phrases(q.corrected)):
            # a figure asked for a bounded group ("CR rate in adults over 26") comes from a unit that
            # bounds it the same way, not from one about another group ("pediatric and young adult")
            label = " and ".join(bounded)
            test = partial(_bounded_alike, q.corrected, q.wants_share)
            fixed.append((label, f"no passage found gives a figure for {label}", test, True))
        informative, specific = self.informative(q), self.asked_therapies(q)
        drugs = ", ".join(sorted(self.vocab.label(c) for c in specific))
        about = f" {drugs}" if drugs else ""
        ages = self._asked_age_groups(q) if self._figure_asked(q) else frozenset()
        if q.wants_share:
            fixed.append(self._share_entry(q, informative, specific, drugs, ages))
        for asked in self._asked_of(q):
            # the side effects, maker or approval of a named product: a unit giving it, from a passage
            # about the product, leads ("Tisagenlecleucel is a … CAR T-cell therapy targeting CD19" names
            # no side effect and no maker)
            what = f"{asked.written} of {asked.thing}"
            fixed.append((what, f"no passage found gives {asked.written} for {asked.thing}", asked.given_by, True))
        if q.wants_date:  # "when was X approved?": a unit about X giving a year or a date leads
            topic = self._scheduled(q, informative)

            # the thing and the event the "when" clause asks of ("When was X approved", not "and who makes it")
            clause = set(self.vocab.tokens(re.split(r"\band\b|[,;?]", q.corrected, maxsplit=1)[0])) & informative

            def dated(u: Unit) -> bool:
                # "In August, … published the E1910 study" dates no approval of blinatumomab; never another
                # drug's card ("FDA Approved 2021" of brexucabtagene)
                return bool(DATE_RE.search(u.display)) and clause <= u.tokens and not self._card_not_asked(q, u)

            fixed.append(("when", f"no passage found gives a year or date for {topic}", dated, True))
        if q.wants_frequency:  # "how often is X given?": the unit giving a schedule for X leads
            topic = self._scheduled(q, informative)

            def schedule(u: Unit) -> bool:  # never another drug's card ("repeated every 21 days" of nelarabine)
                return _gives_schedule(informative, specific, u) and not self._card_not_asked(q, u)

            fixed.append(
                (f"how often ({topic})", f"no passage gives a schedule (how often) for {topic}", schedule, True)
            )
        if q.wants_age:  # an age asked: a unit about what is asked that gives one leads ("6,500 cases" is no age)
            groups = self._age_groups if q.wants_age_group else frozenset()
            age = partial(_gives_age, informative, specific, groups)
            fixed.append((drugs or "the age", f"no passage found gives the age asked for{about}", age, True))
        if ages:
            fixed.append(self._age_group_entry(q, ages, informative, specific))
        return fixed

    def _share_entry(
        self, q: QuestionAnalysis, informative: set[str], specific: set[str], drugs: str, ages: frozenset[str]
    ) -> tuple[str, str, Callable[[Unit], bool], bool]:
        """A share or rate asked is answered by one ("25%", "3 of 40"), not by a dose or a grade, of
        the group asked ("of smokers": a share among patients with lung cancer is another's), naming
        what the share is of that group, and of the age group asked ("in older adults": `ages`)."""
        group = q.share_of & informative
        # what the share is of the group ("what percentage of pediatric ALL is T-cell?": T-ALL), named
        # by the unit: a remission rate among children is no share of T-cell disease
        subject = informative - q.share_of if group else set()

        def share(u: Unit) -> bool:
            return (
                _gives_share(informative, specific, group, u, self._document_tokens)
                and (not subject or bool(subject & u.tokens))
                and (not ages or self._for_ages(ages, u))
            )

        # the group as the reader wrote it, less the drug already named ("% of Kymriah pts": for
        # tisagenlecleucel, not "of CAR-T cell therapy, tisagenlecleucel")
        named = self.vocab.with_broader(specific) if specific else set()
        among = ", ".join(self._readable(q, [t for t in q.terms if t in group and t not in named]))
        # "… asked for tisagenlecleucel", "… asked of smokers", "… asked for X of adults", "… asked for"
        about = f" for {drugs}" if drugs else ("" if among else " for")
        reason = f"no passage gives the share or rate asked{about}" + (f" of {among}" if among else "")
        if ages and not among:
            reason += f" in {listed(self._readable(q, sorted(ages)), 'and')}"
        return (drugs or "the share or rate", reason, share, True)

    def _age_group_entry(
        self, q: QuestionAnalysis, groups: frozenset[str], informative: set[str], specific: set[str]
    ) -> tuple[str, str, Callable[[Unit], bool], bool]:
        """A figure asked for an age group ("remission rate … in adults") comes from a unit about what
        is asked and about that group, a wider one or no age group; none: refused saying so. It does
        not lead: the question's wording ranks the units ("which group of children has the highest
        incidence" is answered by the sentence naming the group, not by a children's figure)."""
        label = self._topic(q, sorted(groups))

        def for_group(u: Unit) -> bool:
            return bool(u.numbers) and _about(informative, specific, u) and self._for_ages(groups, u)

        # named as asked: "no passage found gives a dose of inotuzumab ozogamicin for adults"
        what = "a dose" if q.wants_dose else "a figure"
        drugs = listed(sorted(self.vocab.label(c) for c in specific), "and") if specific else ""
        of = f" of {drugs}" if drugs else ""
        return (label, f"no passage found gives {what}{of} for {label}", for_group, False)

    @staticmethod
    def _figure_asked(q: QuestionAnalysis) -> bool:
        return q.wants_number or q.wants_share or q.wants_dose

    def _asked_age_groups(self, q: QuestionAnalysis) -> frozenset[str]:
        """The age groups the question names in words ("in adults", "for kids"), else every group
        holding the age of the patient it is about (`QuestionAnalysis.patient_age`, written or from the
        patient record: "nelarabine dose for a 10 year old": children; a 45-year-old: adults; a
        70-year-old: adults and older adults)."""
        named = frozenset(c for c in self.vocab.concepts_in(q.corrected) if c in self._age_groups)
        if named:
            return named
        age = q.patient_age
        if age is None:
            return frozenset()
        return frozenset(g for g, (lo, hi) in self._age_ranges.items() if lo <= age <= hi)

    def _for_ages(self, asked: frozenset[str], u: Unit) -> bool:
        """Whether a unit's figures may be an asked age group's: it names no age group, or one whose
        ages hold an asked group's ("adults" for older adults; not "young adults" for adults; either
        line of a card for "adults vs peds")."""
        named = u.tokens & self._age_groups
        return not named or self._hold_asked(asked, named)

    def _passage_for_ages(self, asked: frozenset[str], u: Unit) -> bool:
        """Whether a unit's passage names an age group whose ages hold an asked group's (or the unit
        itself names one: a card's pediatric line)."""
        return self._hold_asked(asked, (u.tokens | u.passage_tokens) & self._age_groups)

    def _hold_asked(self, asked: frozenset[str], named: AbstractSet[str]) -> bool:
        """Whether one of the `named` age groups holds the ages of one of the `asked` groups."""
        ranges = [self._age_ranges[g] for g in named]
        return any(lo <= self._age_ranges[w][0] and self._age_ranges[w][1] <= hi for w in asked for lo, hi in ranges)

    @staticmethod
    def _reports_finding(q: QuestionAnalysis, u: Unit) -> bool:
        """Whether a unit is a sentence reporting a finding ("The study showed …") from a passage
        naming what the question names."""
        return u.kind == "sentence" and bool(RESULT_RE.search(u.text)) and q.named <= u.passage_tokens

    def _gaps(
        self, q: QuestionAnalysis, chosen: list[Unit], absent: list[str]
    ) -> tuple[list[Unit], list[str]] | Choice:
        """The answer may not stand in for a named thing with a neighbour: the refusal naming what the
        chosen passages do not mention (`absent`, and a name told apart by a letter they never write:
        "Does vitamin C cure T-ALL?" over passages without "vitamin C"), or, for a yes/no question
        whose subject they do answer, the units that do with the gap to be said ("Is there a link
        between PPARG variants and type 1 diabetes?" over a type 2 diabetes study)."""
        unmentioned: list[str] = []
        # a qualifier the tokenizer keeps ("ii" of "phase II") is its name's part: judged with the name below
        absent = [t for t in absent if t not in {qualifier.lower() for _, qualifier in q.qualified}]
        if absent:
            answered = self._subject_answered(q, chosen, absent)
            if not answered:
                return self._absent_refusal(q, absent)
            chosen, unmentioned = answered, self._readable(q, absent)  # what they say of the subject
        if unwritten := self._unwritten_names(q, chosen):
            if not self._after_subject(q, unwritten):
                return Choice(
                    True,
                    reason=f"the passages found for this question do not mention {listed(unwritten)}",
                    missing=unwritten,
                )
            unmentioned += unwritten
        return chosen, unmentioned

    def _after_subject(self, q: QuestionAnalysis, names: list[str]) -> bool:
        """Whether the question names its subject (a named thing of its informative terms) and `names`
        only relate or describe it, asking nothing counted: a yes/no question naming the subject before
        them ("Is there a link between PPARG variants and type 1 diabetes?"), or any question whose
        names are kinds of a common word ("the phase II IH-2014 study": a phase, a class, a type)."""
        if q.wants_dose or q.wants_number or q.wants_share or q.units or q.timepoints:
            return False
        subject = [self._position(q, t) for t in self.informative(q) if t in q.named]
        if not subject:
            return False
        if all(is_common(n.split()[0].lower()) for n in names):
            return True
        first = min((i for n in names if (i := q.corrected.find(n)) >= 0), default=-1)
        return q.yes_no and first >= 0 and min(subject) < first

    @staticmethod
    def _unwritten_names(q: QuestionAnalysis, chosen: list[Unit]) -> list[str]:
        """The names the question tells apart by a letter (`qualified_names`) that no chosen unit's
        passage writes, as the question writes them."""
        if not q.qualified:
            return []
        written = _by_head(set().union(*(qualified_names(u.chunk.text) for u in chosen)))
        asked = qualified_written(q.corrected)
        wanted = _by_head(q.qualified)
        # of names coordinated under one head ("hepatitis B and C"), one written is enough; the first named
        first = {head: (head, qualifier) for head, qualifier in reversed(q.qualified)}
        return [asked.get(first[head], head) for head in wanted if not written.get(head, set()) & wanted[head]]

    def _states_means(self, q: QuestionAnalysis, u: Unit) -> bool:
        """Whether a unit states how something the question names is done: a means ("by flow cytometry",
        "using NGS"), or what a clause naming the question's informative terms requires ("Diagnosis
        requires ≥20% bone marrow lymphoblasts", `REQUIRES_RE`), in a unit whose own words name them."""
        informative = self.informative(q)
        if not informative or not informative <= u.own_tokens:
            return False
        if MEANS_RE.search(u.display):
            return True
        return any(
            informative & set(self.vocab.tokens(CLAUSE_BREAK_RE.split(u.display[: m.start()])[-1]))
            for m in REQUIRES_RE.finditer(u.display)
        )

    def _states_cause(self, q: QuestionAnalysis, u: Unit) -> bool:
        """Whether a unit whose own words name the question's informative terms states a cause
        (`CAUSE_RE`: "caused by", "due to", "responsible for", "contribute to")."""
        informative = self.informative(q)
        return bool(informative) and informative <= u.own_tokens and bool(CAUSE_RE.search(u.display))

    def _means_first(
        self, q: QuestionAnalysis, chosen: list[Unit], pool: list[Unit], population: Population | None
    ) -> None:
        """For a question asking how something is done ("how do you check for MRD?"), a unit stating the
        means leads (the pathway's "(check MRD status)" bullets say when, not how); for one asking what
        causes something, a unit stating a cause of it (a case report naming the disease says nothing of
        its cause). One found among the retrieved passages joins first when no chosen unit states it."""
        for wanted, states in ((q.wants_method, self._states_means), (q.wants_cause, self._states_cause)):
            if not wanted or any(states(q, u) for u in chosen):
                continue
            found = [u for u in self._of_population(pool, population) if states(q, u)]
            if found:
                chosen.insert(0, max(found, key=lambda u: u.score))

    def _finding_for_aim(
        self, q: QuestionAnalysis, chosen: list[Unit], pool: list[Unit], population: Population | None
    ) -> None:
        """A question led by a study's sentences that say what it set out to do ("To evaluate whether
        RALP is less invasive than RRP", "The purpose of this study was to clarify the prognostic
        factors for …") or set it up ("Forty specimens were measured", "Despite advances …,
        improvement … has been difficult to establish") is led instead by that study's finding: a
        sentence of the same document under its results or conclusions, or reporting a result
        (`RESULT_RE`), chosen, among the retrieved passages or in the document's other passages; its
        conclusions first, then the best score. The aim restates the question; the finding answers
        it. Not for a figure question other than a yes/no one (the unit giving the figure leads), nor
        for one asking what a study assessed or aimed at."""
        if not chosen or (self._figure_asked(q) and not q.yes_no) or _ASKS_AIM_RE.search(q.corrected):
            return  # a figure asked is led by the unit giving it (`_unstated`); "what did it assess?" by the aim
        doc = chosen[0].chunk.doc_id
        own = [u for u in chosen if u.chunk.doc_id == doc]
        if _finding(chosen[0]) or not any(_states_aim(u) for u in own):
            return  # a finding leads, or the study's chosen sentences say nothing of what it set out to do
        found = [
            u
            for u in [*chosen, *self._of_population(pool, population)]
            if u.chunk.doc_id == doc and _finding(u) and not u.untrusted
        ]
        if not found:
            found = self._sibling_findings(q, doc, pool, population)
        if not found:
            return
        best = max(found, key=lambda u: (_concludes(u), u.score))
        at = next((i for i, u in enumerate(chosen) if u.text == best.text), None)
        chosen.insert(0, chosen.pop(at) if at is not None else best)

    def _document_tokens(self, u: Unit) -> frozenset[str]:
        """The tokens of every passage of a short document the unit is in (an abstract's sections,
        which a PubMed article stores as passages of their own); its own passage's otherwise."""
        passages = self.siblings(u.chunk.doc_id) if self.siblings is not None else []
        if not passages or len(passages) > ABSTRACT_PASSAGES:
            return u.passage_tokens
        return frozenset().union(u.passage_tokens, *(self.cache.passage_tokens(c) for c in passages))

    def _sibling_findings(
        self, q: QuestionAnalysis, doc: str, pool: list[Unit], population: Population | None
    ) -> list[Unit]:
        """The findings in the passages of a short document (an abstract's sections: a PubMed
        article's results and conclusions are passages of their own) that retrieval did not return."""
        if self.siblings is None:
            return []
        seen = {u.chunk.chunk_id for u in pool}
        passages = self.siblings(doc)
        if len(passages) > ABSTRACT_PASSAGES:
            return []
        extra = [Hit(c, 0.0, len(seen) + i) for i, c in enumerate(passages) if c.chunk_id not in seen]
        units = self._of_population(self._units(q, extra, len(extra)), population)
        return [u for u in units if _finding(u) and not u.untrusted]

    def _findings_first(
        self, q: QuestionAnalysis, chosen: list[Unit], pool: list[Unit], population: Population | None
    ) -> None:
        """For a question asking what a study or therapy showed ("what did inotuzumab achieve in
        trials?"), a sentence reporting a finding from a passage naming what is asked leads; one found
        among the retrieved passages joins when no chosen unit reports one (never a refusal: a
        description still answers in part)."""
        if not q.wants_findings or not q.named:  # a finding of something the question names
            return
        reports = partial(self._reports_finding, q)
        if any(reports(u) for u in chosen):
            return
        found = [u for u in self._of_population(pool, population) if reports(u) and u.own_tokens & set(q.terms)]
        if found:
            chosen.insert(0, max(found, key=lambda u: u.score))

    def _both_sides(
        self, q: QuestionAnalysis, chosen: list[Unit], pool: list[Unit], population: Population | None
    ) -> None:
        """A comparison ("the difference between Ph+ and Ph-like ALL", "is CAR-T better than a
        transplant?") is answered about both things: a side no chosen unit names gets the best unit
        found that does (in `chosen`, after them). A yes/no comparison is decided by a unit naming both:
        the first chosen one leads when the first names one only ("… outcomes comparable to allo-HSCT",
        not "CAR T-cell therapy for R/R B-ALL"); a question asking how two things differ keeps its order
        (each side's own unit answers it)."""
        if q.sides is None:
            return
        informative = self.informative(q)
        keys = []
        for side in q.sides:
            key = {t for t in side if t.startswith("c_") or t in q.named} & informative or side & informative
            keys.append(key)
            if not key or any(u.tokens & key for u in chosen):
                continue
            backing = [u for u in self._of_population(pool, population) if u.tokens & key]
            if backing:
                chosen.append(max(backing, key=lambda u: u.score))
        if not q.yes_no or not all(keys):
            return
        both = [i for i, u in enumerate(chosen) if all(u.tokens & key for key in keys)]
        if both and both[0] > 0:
            chosen.insert(0, chosen.pop(both[0]))

    @staticmethod
    def _states(q: QuestionAnalysis, u: Unit) -> bool:
        """Whether a unit states the answer the question proposes: all its words and figures."""
        if not q.proposal_terms <= u.tokens:
            return False
        return not q.proposal_figures or set(q.proposal_figures) <= set(figures_of(u.text))

    def _meant(self, q: QuestionAnalysis, chosen: list[Unit]) -> bool:
        """Whether a chosen unit supports the answer by meaning where no unit covers enough of the
        question's words: it means what the question asks (`support_similarity`) and its passage holds
        the question's terms (`support_passage_coverage`)."""
        best = max(chosen, key=lambda u: u.similarity or 0.0)
        return (best.similarity or 0.0) >= self.settings.support_similarity and coverage(
            best.passage_tokens, q, self.idf
        ) >= self.settings.support_passage_coverage

    def _uncovered(self, q: QuestionAnalysis, top: Unit, chosen: list[Unit], missing: list[str]) -> Choice | None:
        """The abstention when the chosen units do not cover the question: too little of its words
        (and nothing that means it), or little of them and nothing close in meaning (`_weak`)."""
        if top.coverage < self.settings.abstain_threshold and not self._meant(q, chosen):
            if missing:
                return Choice(True, reason=f"no passage covers {', '.join(missing)}", missing=missing)
            # each term is in some chosen passage, but no passage holds enough of them together
            asked = self._readable(q, [t for t in q.terms if not self._ubiquitous(t)]) or self._readable(q, q.terms)
            return Choice(True, reason=f"no passage covers {listed(asked, 'and')} together", missing=asked)
        if self._weak(top, chosen):
            asked = missing or self._readable(q, [t for t in q.terms if not self._ubiquitous(t)])
            return Choice(
                True,
                reason=f"no passage found is about {listed(asked, 'and')}: the passages share a few of the "
                "question's words but not its meaning",
                missing=asked,
            )
        return None

    def _weak(self, top: Unit, chosen: list[Unit]) -> bool:
        """Whether the evidence is too weak on both counts: the best unit covers less than
        `weak_coverage` of the question's words and no chosen unit means what it asks (cosine below
        `weak_similarity`): a question from another field that shares a few words with the corpus
        ("Does obesity impact the outcome of trauma in children?" against an ALL corpus)."""
        if self.meaning is None or self.settings.weak_similarity <= 0 or top.coverage >= self.settings.weak_coverage:
            return False
        scored = [u.similarity for u in chosen if u.similarity is not None]
        return bool(scored) and max(scored) < self.settings.weak_similarity

    def _of_named_documents(self, chosen: list[Unit], hits: list[Hit], named: set[str]) -> list[Unit]:
        """Where some chosen unit's document names a thing the question names (a drug, a gene, a
        trial), the chosen units from documents that name none of them are dropped: "Which receptor
        does ipilimumab block?" is not answered by "One site, competitively blocked by bungarotoxin …,
        is presumably the acetylcholine receptor" from an abstract that never names ipilimumab. A
        document names a thing in a retrieved passage of it or its source's title."""
        if not named:
            return chosen
        naming = {h.chunk.doc_id for h in hits if self.cache.passage_tokens(h.chunk) & named}
        naming |= {d for d in {u.chunk.doc_id for u in chosen} if self.scope.of_source(d) & named}
        kept = [u for u in chosen if u.chunk.doc_id in naming or u.tokens & named]
        return kept or chosen

    def _named_of_another_population(
        self, q: QuestionAnalysis, chosen: list[Unit], hits: list[Hit], population: Population | None, named: set[str]
    ) -> Choice | None:
        """The refusal when a thing the question names (a trial, a product) is named by no chosen
        unit's passage and every retrieved unit naming it is about another population than the one
        asked ("What did E1910 show in Ph-positive patients?" over E1910's Ph-negative trial and a
        guideline's Ph-positive sentence): the chosen units are about something else, and the thing's
        own passages are never the answer. It says whom they concern."""
        if population is None or not named:
            return None
        shown = set().union(*(u.passage_tokens for u in chosen))
        missing = [t for t in named if t not in shown]
        if not missing:
            return None
        naming = [u for u in self._units(q, hits, len(hits)) if any(t in u.tokens for t in missing)]
        if not naming or self._of_population(naming, population):
            return None
        notes = [n for u in naming if (n := mismatch_note(population, u.display))]
        if not notes:
            return None
        found = listed(
            list(dict.fromkeys(p.removeprefix("this passage concerns ") for n in notes for p in n.split("; "))), "and"
        )
        names = self._readable(q, sorted(missing, key=lambda t: (self._position(q, t), t)))
        return Choice(
            True,
            reason=f"the passages found about {listed(names, 'and')} concern {found}, not the population asked about",
            missing=names,
        )

    def _nothing_chosen(
        self, q: QuestionAnalysis, hits: list[Hit], population: Population | None, vector: np.ndarray | None
    ) -> Choice:
        """The abstention when no unit may answer: where the units found are about another subtype (the
        other Ph status, the other lineage), it says so."""
        if population is not None:
            others = self.select(q, hits, None, vector)
            note = next((n for u in others if (n := mismatch_note(population, u.display))), None)
            if note:
                found = " and ".join(n.removeprefix("this passage concerns ") for n in note.split("; "))
                return Choice(True, reason=f"the passages found concern {found}, not the population asked about")
        if q.wants_number and q.measure_names:  # "how many adults with ALL die?" over passages without deaths
            asked = list(q.measure_names)
            return Choice(True, reason=f"no passage gives a figure for {listed(asked, 'or')}", missing=asked)
        return Choice(True, reason="no passage in the store matches the question", missing=self._readable(q, q.terms))

    # --- composition -----------------------------------------------------------------------
    def choose(
        self,
        q: QuestionAnalysis,
        hits: list[Hit],
        population: Population | None = None,
        question_vector: np.ndarray | None = None,
    ) -> Choice:
        """What answers `q` from `hits`; `question_vector`: the encoder's vector of `q.corrected`
        when the caller has it (else unit similarity encodes the question)."""
        refusal = self._refusal(q)
        if refusal:
            return Choice(True, reason=refusal[0], missing=refusal[1])
        if not hits:
            return Choice(
                True, reason="no passage in the store matches the question", missing=self._readable(q, q.terms)
            )
        chosen = self.select(q, hits, population, question_vector)
        if not chosen:
            return self._nothing_chosen(q, hits, population, question_vector)
        # the drugs, trials and genes the question names (not a common word written as an acronym: "US")
        named = {
            t
            for t in q.named
            if t in q.terms and not self._ubiquitous(t) and (t.startswith("c_") or not is_common(q.word(t)))
        }
        elsewhere = self._named_of_another_population(q, chosen, hits, population, named)
        if elsewhere is not None:
            return elsewhere
        narrowed = self._narrowed(q, chosen, named)
        if isinstance(narrowed, Choice):
            return narrowed
        chosen = self._of_named_documents(narrowed, hits, named)
        top = max(chosen, key=lambda u: u.coverage)  # the unit that covers most of the question
        covered = set().union(*(u.tokens for u in chosen))
        missing = self._readable(q, [t for t in q.terms if t not in covered and not self._ubiquitous(t)])
        # the most specific reason first: a named thing not found, then a figure not given, then coverage
        absent = self._absent_named(q, covered, chosen, hits)
        gaps = self._gaps(q, chosen, absent)
        if isinstance(gaps, Choice):
            return gaps
        chosen, unmentioned = gaps
        missing = [m for m in missing if m not in unmentioned]
        pool = self._units(q, hits, len(hits))
        refused = self._unstated(q, chosen, pool, population) or self._figure_refusal(q, chosen, missing, named)
        if refused is None:
            refused = self._uncovered(q, top, chosen, missing)
        if refused is not None:
            return self._absent_refusal(q, absent) if absent else refused

        if q.wants_dose:  # the dose asked for leads: a card's dosing field before its status or indications
            chosen.sort(key=lambda u: DOSE_RE.search(u.text) is None)
        self._timepoint_first(q, chosen)
        self._both_sides(q, chosen, pool, population)
        self._findings_first(q, chosen, pool, population)
        self._means_first(q, chosen, pool, population)
        self._finding_for_aim(q, chosen, pool, population)
        pairs = self._disagreements(q, chosen, pool)
        for pair in pairs:
            if all(pair.b.text != u.text for u in chosen):
                chosen.append(pair.b)
        return Choice(False, units=chosen, pairs=pairs, terms=frozenset(q.terms), unmentioned=unmentioned)
