"""Follow-up resolution: a short or elliptical question is read in the context of earlier turns.

"and if MRD-negative?" after "options for Ph+ B-ALL MRD+ after induction" becomes a query about
Ph+ B-ALL after induction with MRD-negative: the new question's concepts replace the earlier
turn's concepts of the same family (MRD status, Ph status, lineage, therapy), the rest is kept.
"""

from __future__ import annotations

import re

from wordfreq import zipf_frequency

from ally.vocab import STOPWORDS, Vocabulary, words

# Concept families: a new value in a family replaces the old one.
AGE_GROUPS = {"c_pediatric", "c_aya", "c_elderly"}
FAMILIES: list[set[str]] = [
    {"c_mrd_pos", "c_mrd_neg"},
    {"c_ph_pos", "c_ph_neg", "c_ph_like", "c_bcr_abl1"},
    {"c_b_all", "c_t_all"},
    AGE_GROUPS,
    {"c_poor_risk", "c_favorable_risk"},
    {"c_cr", "c_no_cr"},
]
_FOLLOWUP_START = re.compile(
    r"^\s*(and|what about|how about|and if|if|what if|in|for|then|also|same|that|this|it|they|those|these|"
    r"what dose|which dose|how long|why|and for)\b",
    re.I,
)
_PRONOUN = re.compile(r"\b(it|its|this|that|these|those|they|them|the same|such)\b", re.I)
AGE_CUES = ("pediatric", "adult", "young_adult")  # population cues of `ally/data/vocabulary.yaml`
# A follow-up that is a whole question of its own ("Is it used in children?", "Why does it matter?")
# asks its own thing of the earlier subject: the dose or attribute asked before does not carry over.
# An elliptical one ("and in kids?", "what about inotuzumab?", "what is it in children?") keeps it.
_OWN_QUESTION = re.compile(
    r"^\s*(?!what about|how about|what if|and\b|if\b|then\b|also\b)(is|are|was|were|does|do|did|can|could|"
    r"should|will|would|has|have|how|why|when|where|which|who|what)\b",
    re.I,
)
_WH = frozenset({"what", "which", "who", "whom", "whose", "how", "why", "when", "where"})
DOSE = "c_dose"  # the vocabulary's concept of a dose: asked of a therapy like its attributes
_SUBJECT_CONCEPTS = {"c_all", "c_b_all", "c_t_all", "c_ph_pos", "c_ph_neg", "c_ph_like"}


# "it", "its", "they", "them" stand for the earlier subject ("What chemo before it?"); "this", "that",
# "these", "those" are as often determiners of a new one ("this patient")
_REFERS_BACK = re.compile(r"\b(it|its|they|them|their)\b", re.I)


PRODUCT_ZIPF = 2.5  # a therapy written in a word this common in English names a kind ("chemo" 3.3), not a product


def _products(question: str, vocab: Vocabulary) -> set[str]:
    """The therapies the question names that are products ("blinatumomab", "imatinib"), not a kind of
    treatment: a class other therapies belong to (CAR-T) or one written as an English word ("chemo",
    "transplant"). A product named is a new subject; a kind asked of "it" is not."""
    classes = vocab.classes()
    return {
        m.concept
        for m in vocab.matches(question)
        if vocab.concepts[m.concept].therapy
        and m.concept not in classes
        and zipf_frequency(question[m.start : m.end].lower(), "en") < PRODUCT_ZIPF
    }


def is_followup(question: str, vocab: Vocabulary) -> bool:
    words = question.split()
    concepts = vocab.concepts_in(question)
    therapies = [c for c in concepts if vocab.concepts[c].therapy]
    if _FOLLOWUP_START.match(question):
        return True
    if len(words) <= 6 and not therapies:
        return True
    if _REFERS_BACK.search(question) and not (concepts & _SUBJECT_CONCEPTS) and not _products(question, vocab):
        return True  # "What chemo before it?": a class of therapy asked of the earlier subject
    return bool(_PRONOUN.search(question)) and not (concepts & _SUBJECT_CONCEPTS) and not therapies


def _family(cid: str, vocab: Vocabulary) -> str | None:
    for i, fam in enumerate(FAMILIES):
        if cid in fam:
            return f"f{i}"
    if vocab.concepts[cid].therapy:
        return "therapy"
    if vocab.concepts[cid].attribute or cid == DOSE:
        return "attribute"  # what is asked of the subject: "who makes it?" after its dose asks the maker only
    return None


def _asks_its_own(question: str, vocab: Vocabulary) -> bool:
    """Whether the follow-up is a whole question with a word of its own beyond pronouns, stopwords,
    wh-words and the vocabulary's terms ("used" of "Is it used in children?")."""
    if not _OWN_QUESTION.match(question):
        return False
    rest = question
    for m in sorted(vocab.matches(question), key=lambda m: m.start, reverse=True):
        rest = rest[: m.start] + " " + rest[m.end :]
    own = [w for w in words(rest.lower()) if w not in STOPWORDS and w not in _WH and not _PRONOUN.fullmatch(w)]
    return bool(own)


def resolve(question: str, previous: str, vocab: Vocabulary) -> str:
    """The follow-up `question` completed with what still holds from the `previous` resolved query."""
    new_matches = vocab.matches(question)
    new_families = {f for m in new_matches if (f := _family(m.concept, vocab))}
    if _asks_its_own(question, vocab):
        new_families.add("attribute")
    if _REFERS_BACK.search(question) and not _products(question, vocab):
        new_families.discard("therapy")  # "it" is the earlier therapy: a class asked of it does not replace it
    if "f2" in new_families and any(m.concept == "c_t_all" for m in new_matches):
        new_families.add("f1")  # Ph status is a B-lineage notion: dropped when T-ALL is asked about
    kept = previous
    for m in sorted(vocab.matches(previous), key=lambda m: m.start, reverse=True):
        if _family(m.concept, vocab) in new_families:
            kept = kept[: m.start] + kept[m.end :]
    # An age group asked about ("and for kids?") replaces the earlier one, also where that was a plain
    # word rather than a concept ("the adult dose").
    ages = [vocab.populations[c] for c in AGE_CUES if c in vocab.populations]
    if any(m.concept in AGE_GROUPS for m in new_matches) or any(p.search(question) for p in ages):
        for p in ages:
            kept = p.sub(" ", kept)
    kept = re.sub(r"\s{2,}", " ", kept).strip()
    return f"{question.strip()} {kept}".strip()
