"""Deterministic evaluation metrics (no model, no LLM judge, no I/O).

Owns: text normalisation for matching, retrieval metrics (hit@k, recall@k, MRR, nDCG@10, where a
retrieved passage is relevant when it contains a gold quote), answer metrics (full correctness,
key-fact recall), citation metrics (coverage, deterministic support, gold passage cited, invalid
markers), abstention metrics, pathway metrics, latency percentiles, and the per-item scoring and
aggregation that the runner and the report share.

Every definition is documented in `evals/datasets/README.md`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from ally.schema import Answer, PathwayResult
from ally.text import split_sentences as ally_sentences
from ally.vocab import STOPWORDS, Vocabulary, default_vocabulary

KS: tuple[int, ...] = (1, 3, 5, 10)
NDCG_K = 10
MIN_CONTENT_WORD_COVERAGE = 0.7
"""Share of a sentence's content words that its cited passages must contain to count as supported."""

# Mis-decoded sequences found in raw pages; folded so that a raw-text baseline's passages still match a
# gold quote written from the cleaned text (retrieval is measured, not cleaning).
_MOJIBAKE = {"Γ—": "×", "Β²": "²", "Β³": "³", "Β°": "°", "â€™": "'", "â€“": "–", "â€”": "—", "Â ": " "}
BREADCRUMB = " > "
"""The separator of a section path ("Treatment > Ph+ B-ALL"): an answer that contains it quotes a breadcrumb."""
_MARKER_RE = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_WORD_RE = re.compile(r"[a-z][a-z0-9\-]*[a-z0-9]|[a-z]")
_EXTRA_STOP = frozenset(
    [
        "according",
        "also",
        "although",
        "among",
        "around",
        "based",
        "both",
        "been",
        "between",
        "could",
        "during",
        "either",
        "especially",
        "following",
        "however",
        "including",
        "into",
        "itself",
        "just",
        "many",
        "much",
        "must",
        "often",
        "only",
        "other",
        "own",
        "per",
        "rather",
        "shown",
        "since",
        "still",
        "such",
        "than",
        "them",
        "then",
        "there",
        "these",
        "they",
        "those",
        "though",
        "through",
        "thus",
        "upon",
        "well",
        "were",
        "what",
        "when",
        "whether",
        "which",
        "while",
        "within",
        "without",
        "yet",
        "source",
        "sources",
        "says",
        "said",
        "reported",
        "report",
        "reports",
        "states",
        "stated",
    ]
)


# --- normalisation --------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Text for matching: mojibake folded, NFKC (nbsp -> space, ² -> 2), whitespace collapsed."""
    for bad, good in _MOJIBAKE.items():
        text = text.replace(bad, good)
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", " ", text).strip()


def _fold(text: str) -> str:
    return normalize(text).casefold()


def contains_quote(passage: str, quote: str) -> bool:
    """True when `passage` contains `quote` (normalised, case-insensitive)."""
    return _fold(quote) in _fold(passage)


# --- retrieval ------------------------------------------------------------------------------------


def relevance(passages: Sequence[str], gold_quotes: Sequence[str]) -> list[bool]:
    """Per retrieved passage: does it contain any gold quote?"""
    folded = [_fold(q) for q in gold_quotes]
    return [any(q in _fold(p) for q in folded) for p in passages]


def hit_at_k(rels: Sequence[bool], k: int) -> float:
    return 1.0 if any(rels[:k]) else 0.0


def recall_at_k(passages: Sequence[str], gold_quotes: Sequence[str], k: int) -> float:
    """Share of the gold quotes found in at least one of the top-k passages."""
    if not gold_quotes:
        return 0.0
    top = [_fold(p) for p in passages[:k]]
    found = sum(1 for q in gold_quotes if any(_fold(q) in p for p in top))
    return found / len(gold_quotes)


def reciprocal_rank(rels: Sequence[bool]) -> float:
    for i, r in enumerate(rels, start=1):
        if r:
            return 1.0 / i
    return 0.0


def ndcg_at_k(rels: Sequence[bool], n_relevant: int, k: int = NDCG_K) -> float:
    """Binary-relevance nDCG@k; the ideal ranking has min(n_relevant, k) relevant passages on top."""
    ideal_n = min(max(n_relevant, 0), k)
    if ideal_n == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, r in enumerate(rels[:k], start=1) if r)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, ideal_n + 1))
    return min(1.0, dcg / idcg)


# --- answers --------------------------------------------------------------------------------------


def markers_in(text: str) -> list[int]:
    """Citation marker numbers in order of appearance ("[1]", "[1, 2]" and "[1][3]" all count)."""
    out: list[int] = []
    for m in _MARKER_RE.finditer(text):
        out.extend(int(n) for n in re.split(r"\s*[,;]\s*", m.group(1)))
    return out


def strip_markers(text: str) -> str:
    return _MARKER_RE.sub("", text)


def key_fact_hits(answer_text: str, key_facts: Sequence[Sequence[str]]) -> list[bool]:
    """Per key fact: does any of its regex alternatives match the answer (markers removed, NFKC)?"""
    text = normalize(strip_markers(answer_text))
    return [any(re.search(alt, text, flags=re.IGNORECASE) for alt in alts) for alts in key_facts]


# --- citations ------------------------------------------------------------------------------------


def split_sentences(text: str) -> list[str]:
    """Answer sentences: each line (bullets included) split after sentence-final punctuation
    (`ally.text`, the project's one splitter). Markers that follow the full stop ("... daily. [1]
    Next") stay with their sentence; text that is only markers or punctuation is not a sentence.
    """
    sentences = ally_sentences(text)
    return [s for s in sentences if re.search(r"[A-Za-z0-9]", strip_markers(s))]


def sentence_numbers(text: str) -> set[str]:
    """Numbers in a text (markers removed), thousands separators dropped: "6,500" -> "6500"."""
    out: set[str] = set()
    for m in _NUMBER_RE.finditer(normalize(strip_markers(text))):
        token = m.group(0)
        if re.fullmatch(r"\d{1,3}(,\d{3})+", token):
            token = token.replace(",", "")
        out.add(token.rstrip(".,"))
    return out


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def content_words(text: str) -> set[str]:
    words = _WORD_RE.findall(normalize(strip_markers(text)).casefold())
    return {_stem(w) for w in words if len(w) >= 4 and w not in STOPWORDS and w not in _EXTRA_STOP}


def direct_concepts(text: str, vocab: Vocabulary) -> set[str]:
    return {m.concept for m in vocab.matches(normalize(strip_markers(text)))}


def sentence_supported(sentence: str, cited_texts: Sequence[str], vocab: Vocabulary | None = None) -> bool:
    """ALCE-style support made deterministic.

    The cited passages together must contain every number of the sentence, every vocabulary concept
    it names (synonyms and brand names count as the concept), and at least
    MIN_CONTENT_WORD_COVERAGE of its content words.
    """
    if not cited_texts:
        return False
    vocab = vocab or default_vocabulary()
    evidence = " ".join(cited_texts)
    if not sentence_numbers(sentence) <= sentence_numbers(evidence):
        return False
    if not direct_concepts(sentence, vocab) <= vocab.concepts_in(normalize(evidence)):
        return False
    words = content_words(sentence)
    if not words:
        return True
    have = content_words(evidence)
    return len(words & have) / len(words) >= MIN_CONTENT_WORD_COVERAGE


class CitationCheck(BaseModel):
    sentences: int = 0
    cited_sentences: int = 0
    supported_sentences: int = 0
    markers: int = 0
    invalid_markers: int = 0
    unsupported: list[str] = Field(default_factory=list)
    uncited: list[str] = Field(default_factory=list)


def check_citations(answer: Answer, vocab: Vocabulary | None = None) -> CitationCheck:
    vocab = vocab or default_vocabulary()
    # a passage is read with its section path and document title, as the store presents it
    by_n = {c.n: " ".join(x for x in (c.title, c.section, c.text) if x) for c in answer.citations}
    out = CitationCheck()
    text = shown_text(answer)
    # ALLy's note on a cited passage's population ("… [1] (this passage concerns adult patients)") is
    # an annotation of that citation, given in the answer's citations, not a sentence of its own
    for note in {c.population_note for c in answer.citations if c.population_note}:
        text = text.replace(f" ({note})", "")
    for sentence in split_sentences(text):
        out.sentences += 1
        numbers = markers_in(sentence)
        out.markers += len(numbers)
        invalid = [n for n in numbers if n not in by_n]
        out.invalid_markers += len(invalid)
        valid = [n for n in dict.fromkeys(numbers) if n in by_n]
        if not numbers:
            out.uncited.append(sentence)
            continue
        out.cited_sentences += 1
        if valid and sentence_supported(sentence, [by_n[n] for n in valid], vocab):
            out.supported_sentences += 1
        else:
            out.unsupported.append(sentence)
    return out


# --- abstention, latency --------------------------------------------------------------------------


def abstention_metrics(pairs: Iterable[tuple[bool, bool]]) -> dict[str, float | None]:
    """From (expected_abstain, abstained) pairs: precision, recall and false-abstention rate."""
    tp = fp = fn = answerable = 0
    for expected, abstained in pairs:
        if expected and abstained:
            tp += 1
        elif abstained:
            fp += 1
        elif expected:
            fn += 1
        if not expected:
            answerable += 1
    return {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "false_abstention_rate": fp / answerable if answerable else None,
    }


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * p / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# --- pathway --------------------------------------------------------------------------------------


def option_head(name: str) -> str:
    """The part of an option label that names it: the text before the first "(", ":" or ";"
    ("CALGB 10403 (pediatric-inspired): daunorubicin, ..." -> "CALGB 10403")."""
    return re.split(r"[(:;]", normalize(name), maxsplit=1)[0].strip()


def option_key(name: str, vocab: Vocabulary | None = None) -> frozenset[str]:
    """What identifies an option: the therapy concepts its head names (so "Blincyto ± TKI" equals
    "Blinatumomab +/- TKI"); empty for options that name no therapy (work-up steps, criteria)."""
    vocab = vocab or default_vocabulary()
    return frozenset(vocab.therapies_in(option_head(name)))


def therapy_option_keys(names: Sequence[str], vocab: Vocabulary | None = None) -> list[frozenset[str]]:
    """The distinct non-empty option keys (the same therapy from two sources counts once)."""
    vocab = vocab or default_vocabulary()
    keys: list[frozenset[str]] = []
    for name in names:
        key = option_key(name, vocab)
        if key and key not in keys:
            keys.append(key)
    return keys


def option_sets_equal(expected: Sequence[str], predicted: Sequence[str], vocab: Vocabulary | None = None) -> bool:
    """True when the therapy options offered are exactly the expected ones (as sets of option keys)."""
    vocab = vocab or default_vocabulary()
    return set(therapy_option_keys(expected, vocab)) == set(therapy_option_keys(predicted, vocab))


def forbidden_offered(forbidden: Sequence[str], predicted: Sequence[str], vocab: Vocabulary | None = None) -> list[str]:
    """The forbidden therapies that some predicted option contains (a broader concept counts: a
    forbidden "TKI" is offered by an "imatinib" option)."""
    vocab = vocab or default_vocabulary()
    hits: list[str] = []
    option_concepts = [vocab.with_broader(set(vocab.therapies_in(normalize(p)))) for p in predicted]
    option_texts = [normalize(p).casefold() for p in predicted]
    for f in forbidden:
        wanted = set(vocab.therapies_in(normalize(f)))
        if wanted:
            if any(wanted <= oc for oc in option_concepts):
                hits.append(f)
        elif any(normalize(f).casefold() in t for t in option_texts):
            hits.append(f)
    return hits


# --- answer form ----------------------------------------------------------------------------------

# A yes/no question: it starts with an auxiliary verb ("Is …", "Does …", "Can …", "Is X not …").
YESNO_QUESTION_RE = re.compile(
    r"^\s*(is|are|am|isn't|aren't|does|do|doesn't|don't|did|didn't|can|could|should|shall|has|have|had|"
    r"was|were|wasn't|weren't|will|would|may|might|must)\b",
    re.IGNORECASE,
)
_LEAD_RE = re.compile(r"^\s*(yes|no)\s*,", re.IGNORECASE)
_DOSE_QUESTION_RE = re.compile(r"\b(dose|doses|dosing|dosage|how much)\b", re.IGNORECASE)
_LIST_QUESTION_RE = re.compile(
    r"^\s*(list|name|enumerate|what are|which (are|drugs|genes|options|therapies|agents))\b|"
    r"\b(options?|regimens?|alternatives)\b",
    re.IGNORECASE,
)
LONG_KINDS = frozenset(["list", "summary"])
FIRST_LINE_KINDS = frozenset(["factoid", "dose"])  # kinds whose key facts belong in the first line
# A clause rendered from a list ("Poor risk: Hypodiploidy; TP53 mutation"): a label, a colon, items.
_CLAUSE_RE = re.compile(r"^[^.!?]{1,200}?: \S")
# A drug card's field ("ponatinib — Dosing Schedule: …"): starts with the drug's (lower-case) name.
_FIELD_LINE_RE = re.compile(r"^[^—]{1,80} — [A-Z][^:]{0,60}:")
# Two pieces of text run together ("clinical development.tor of all three"): a full stop between
# lower-case letters with no space, other than a domain name or an abbreviation.
_RUN_TOGETHER_RE = re.compile(r"\b[a-z]{3,}\.(?!(?:gov|org|com|net|edu|html?|int)\b)[a-z]{3,}\b")
_CLOSERS = ")]\"'”’»"


def question_kind(question: str | None, category: str = "") -> str:
    """yesno, dose, list, summary or factoid: from the set's question type where the category
    carries one ("bioasq-yesno", "dosing"), else from the question's wording."""
    cat = category.lower()
    for kind in ("yesno", "list", "factoid", "summary"):
        if kind in cat:
            return kind
    if cat == "dosing":
        return "dose"
    text = question or ""
    if YESNO_QUESTION_RE.search(text):
        return "yesno"
    if _DOSE_QUESTION_RE.search(text):
        return "dose"
    if _LIST_QUESTION_RE.search(text):
        return "list"
    return "factoid"


def yesno_lead(answer_text: str) -> str | None:
    """ "yes" or "no" when the answer leads with "Yes, " or "No, "; None otherwise."""
    m = _LEAD_RE.match(answer_text)
    return m.group(1).lower() if m else None


def _balanced(text: str) -> bool:
    return text.count("(") == text.count(")") and text.count("[") == text.count("]")


def is_fragment(sentence: str) -> bool:
    """A cut-off piece of text: it starts lower-case (a chunk that starts mid-sentence) or with
    punctuation, runs two texts together ("development.tor of"), or ends without final punctuation
    while it is not a list clause ("Poor risk: Hypodiploidy; TP53 mutation") or a drug card's field."""
    text = normalize(strip_markers(sentence)).strip()
    if not text or (text.startswith("(") and text.endswith(")") and _balanced(text)):
        return False  # empty, or a note in parentheses that follows its sentence
    if _RUN_TOGETHER_RE.search(text):
        return True
    first = text[0]
    if first.islower():
        word = text.split()[0]
        if not (any(c.isupper() or c.isdigit() for c in word) or _FIELD_LINE_RE.match(text)):
            return True
    elif not (first.isalnum() or first in "(\"'“‘[<>≤≥±+-~"):
        return True
    if _CLAUSE_RE.match(text) or _FIELD_LINE_RE.match(text):
        return False
    return not _balanced(text) or text.rstrip(_CLOSERS)[-1:] not in (".", "!", "?")


def fragments(answer_text: str) -> list[str]:
    """The answer's sentences that are cut-off pieces of text (`is_fragment`)."""
    return [s for s in split_sentences(answer_text) if is_fragment(s)]


def repeats(answer_text: str) -> list[str]:
    """The answer's sentences (markers aside) that it says more than once."""
    seen: set[str] = set()
    out: list[str] = []
    for sentence in split_sentences(answer_text):
        text = " ".join(strip_markers(sentence).split())
        if text in seen and text not in out:
            out.append(text)
        seen.add(text)
    return out


def shown_text(answer: Answer) -> str:
    """Everything the answer shows the reader: its text and, behind it, the further cited sentences
    beyond its length budget (`Answer.more`). Key facts and citation support are checked on this;
    length, the first line and the yes/no lead on the answer's text alone."""
    return "\n".join([answer.answer, *answer.more])


def answer_chars(answer_text: str) -> int:
    """The answer's length in characters (markers left out)."""
    return len(normalize(strip_markers(answer_text)))


def first_line(answer_text: str) -> str:
    """The answer's first rendered sentence (ALLy renders one cited unit per line)."""
    return answer_text.strip().split("\n", 1)[0]


def _score_first_line(score: ItemScore, answer: Answer, key_facts: Sequence[Sequence[str]]) -> None:
    """Whether an answered factoid or dose question has all its key facts in the first line."""
    if not answer.abstained and key_facts and score.kind in FIRST_LINE_KINDS:
        score.first_line_facts = all(key_fact_hits(first_line(answer.answer), key_facts))


def answer_words(answer_text: str) -> int:
    """The answer's length in words (markers left out)."""
    return len(strip_markers(answer_text).split())


def absent_thing_words(notes: str | None) -> list[str]:
    """For a note "absent: AUGMENT-101 trial (revumenib itself is in the sources)": the words of
    four letters or more of the thing named ("AUGMENT", "trial"); empty for other notes."""
    if not notes or not notes.lower().startswith("absent:"):
        return []
    thing = re.sub(r"\([^)]*\)", " ", notes.split(":", 1)[1])
    return [w for w in re.findall(r"[A-Za-z]{4,}", thing) if w.lower() not in STOPWORDS]


def names_absent_thing(answer_text: str, notes: str | None) -> bool | None:
    """Whether a refusal names the absent thing of an "absent:" note (any of its words, any case);
    None for items without such a note."""
    found = absent_thing_words(notes)
    if not found:
        return None
    low = answer_text.casefold()
    return any(w.casefold() in low for w in found)


def _score_form(
    score: ItemScore,
    answer: Answer,
    *,
    question: str | None,
    expected_yesno: str | None,
    notes: str | None,
) -> None:
    """The answer's form: breadcrumbs, fragments, length, the yes/no lead, a refusal's naming."""
    score.kind = question_kind(question, score.category)
    score.expected_yesno = expected_yesno
    if expected_yesno is not None or score.kind == "yesno":
        score.yesno_lead = None if answer.abstained else yesno_lead(answer.answer)
    if answer.abstained:
        score.names_missing = names_absent_thing(answer.answer, notes)
        return
    score.answer_words = answer_words(answer.answer)
    score.answer_chars = answer_chars(answer.answer)
    score.breadcrumb = BREADCRUMB in answer.answer
    score.fragments = fragments(answer.answer)
    score.repeats = repeats(answer.answer)


# --- per-item scores and aggregation --------------------------------------------------------------


class ItemScore(BaseModel):
    """Everything measured on one item for one system."""

    item_id: str
    category: str
    expect_abstain: bool
    error: str | None = None
    abstained: bool = False
    correct: bool = False
    key_facts: list[bool] = Field(default_factory=list)
    retrieval: dict[str, float] = Field(default_factory=dict)
    citations: CitationCheck | None = None
    gold_cited: bool | None = None
    citation_precision: float | None = None  # document-gold items: share of citations to a gold document
    latency_s: float | None = None
    reasons: list[str] = Field(default_factory=list)
    # the answer's form (`_score_form`): set on answers, None where not measured
    kind: str | None = None  # question kind: yesno, dose, factoid, list, summary
    answer_words: int | None = None
    answer_chars: int | None = None
    lead_key_facts: list[bool] = Field(default_factory=list)  # the same, in the answer without its `more`
    first_line_facts: bool | None = None  # answered factoid/dose item: every key fact in its first line
    breadcrumb: bool | None = None
    fragments: list[str] | None = None
    repeats: list[str] | None = None  # sentences the answer says twice
    expected_yesno: str | None = None  # the set's gold yes/no/maybe, when it gives one
    yesno_lead: str | None = None  # "yes"/"no" when the answer leads with one
    names_missing: bool | None = None  # an "absent:" item's refusal names the absent thing


def score_item(
    *,
    item_id: str,
    category: str,
    expect_abstain: bool,
    key_facts: Sequence[Sequence[str]],
    gold_quotes: Sequence[str],
    answer: Answer | None,
    latency_s: float | None,
    error: str | None = None,
    vocab: Vocabulary | None = None,
    question: str | None = None,
    expected_yesno: str | None = None,
    notes: str | None = None,
) -> ItemScore:
    """Score one answer against one item (answer None means the system failed: counted wrong).

    `question`, `expected_yesno` and `notes` (the item's own, where the runner passes them) feed
    the form metrics: question kind, the yes/no lead against the gold label, and whether a refusal
    names the thing an "absent:" note says the sources lack."""
    vocab = vocab or default_vocabulary()
    score = ItemScore(item_id=item_id, category=category, expect_abstain=expect_abstain, latency_s=latency_s)
    if answer is None:
        score.error = error or "no answer"
        score.key_facts = [False] * len(key_facts)
        score.reasons.append(f"error: {score.error}")
        return score
    score.abstained = answer.abstained
    _score_form(score, answer, question=question, expected_yesno=expected_yesno, notes=notes)
    if not expect_abstain and gold_quotes:
        _score_retrieval(score, [p.text for p in answer.retrieved], gold_quotes)
    if expect_abstain:
        score.correct = answer.abstained
        if not answer.abstained:
            score.reasons.append("answered a question the sources do not answer (expected abstention)")
        return score
    score.key_facts = key_fact_hits(shown_text(answer), key_facts)
    score.lead_key_facts = key_fact_hits(answer.answer, key_facts)
    _score_first_line(score, answer, key_facts)
    if answer.abstained:
        score.reasons.append("abstained on an answerable question")
    else:
        _score_answer(score, answer, key_facts, gold_quotes, vocab)
    return score


def score_document_item(
    *,
    item_id: str,
    category: str,
    gold_docs: Sequence[str],
    key_facts: Sequence[Sequence[str]],
    answer: Answer | None,
    latency_s: float | None,
    error: str | None = None,
    vocab: Vocabulary | None = None,
    question: str | None = None,
    expected_yesno: str | None = None,
) -> ItemScore:
    """Score one answer to a document-gold question (answerable by construction: its authors chose
    the gold documents as its evidence). Correct = answered, a gold document cited, every key fact
    stated; retrieval relevance is by document."""
    vocab = vocab or default_vocabulary()
    score = ItemScore(item_id=item_id, category=category, expect_abstain=False, latency_s=latency_s)
    if answer is None:
        score.error = error or "no answer"
        score.key_facts = [False] * len(key_facts)
        score.reasons.append(f"error: {score.error}")
        return score
    score.abstained = answer.abstained
    _score_form(score, answer, question=question, expected_yesno=expected_yesno, notes=None)
    gold = set(gold_docs)
    _score_retrieval_by_document(score, [p.doc_id for p in answer.retrieved], gold)
    score.key_facts = key_fact_hits(shown_text(answer), key_facts)
    score.lead_key_facts = key_fact_hits(answer.answer, key_facts)
    _score_first_line(score, answer, key_facts)
    if answer.abstained:
        score.reasons.append("abstained on a question whose gold documents are in the store")
        return score
    score.citations = check_citations(answer, vocab)
    cited = [c.doc_id in gold for c in answer.citations]
    score.gold_cited = any(cited)
    score.citation_precision = sum(cited) / len(cited) if cited else None
    score.correct = score.gold_cited and all(score.key_facts)
    missing = [" | ".join(alts) for alts, hit in zip(key_facts, score.key_facts, strict=True) if not hit]
    if missing:
        score.reasons.append("missing key facts: " + "; ".join(missing))
    if not score.gold_cited:
        score.reasons.append("no cited passage comes from a gold document")
    if score.citations.uncited:
        score.reasons.append(f"{len(score.citations.uncited)} sentence(s) without a citation")
    return score


def _score_retrieval_by_document(score: ItemScore, doc_ids: list[str], gold: set[str]) -> None:
    """Retrieval metrics where a passage is relevant when its document is gold; recall@k is the
    share of the gold documents with a passage among the top k."""
    rels = [d in gold for d in doc_ids]
    for k in KS:
        score.retrieval[f"hit@{k}"] = hit_at_k(rels, k)
        score.retrieval[f"recall@{k}"] = len(gold.intersection(doc_ids[:k])) / len(gold)
    score.retrieval["mrr"] = reciprocal_rank(rels)
    score.retrieval["ndcg@10"] = ndcg_at_k(rels, len(gold), NDCG_K)
    if score.retrieval["hit@5"] == 0.0:
        score.reasons.append("no gold passage in the top 5 retrieved")


def _score_retrieval(score: ItemScore, passages: list[str], gold_quotes: Sequence[str]) -> None:
    rels = relevance(passages, gold_quotes)
    for k in KS:
        score.retrieval[f"hit@{k}"] = hit_at_k(rels, k)
        score.retrieval[f"recall@{k}"] = recall_at_k(passages, gold_quotes, k)
    score.retrieval["mrr"] = reciprocal_rank(rels)
    score.retrieval["ndcg@10"] = ndcg_at_k(rels, len(gold_quotes), NDCG_K)
    if score.retrieval["hit@5"] == 0.0:
        score.reasons.append("no gold passage in the top 5 retrieved")


def _score_answer(
    score: ItemScore,
    answer: Answer,
    key_facts: Sequence[Sequence[str]],
    gold_quotes: Sequence[str],
    vocab: Vocabulary,
) -> None:
    """Correctness, citations and gold citation of an answer that was given."""
    score.correct = all(score.key_facts)
    missing = [" | ".join(alts) for alts, hit in zip(key_facts, score.key_facts, strict=True) if not hit]
    if missing:
        score.reasons.append("missing key facts: " + "; ".join(missing))
    score.citations = check_citations(answer, vocab)
    score.gold_cited = any(contains_quote(c.text, q) for c in answer.citations for q in gold_quotes)
    if score.citations.invalid_markers:
        score.reasons.append(f"{score.citations.invalid_markers} invalid citation marker(s)")
    if score.citations.uncited:
        score.reasons.append(f"{len(score.citations.uncited)} sentence(s) without a citation")
    if score.citations.unsupported:
        score.reasons.append(f"{len(score.citations.unsupported)} cited sentence(s) not supported by their passages")
    if not score.gold_cited:
        score.reasons.append("no cited passage contains a gold quote")


def _mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


def aggregate(scores: Sequence[ItemScore]) -> dict[str, dict[str, float | None]]:
    """Metric families -> metric -> value (None where a metric is undefined for these items)."""
    answerable = [s for s in scores if not s.expect_abstain]
    with_retrieval = [s for s in answerable if s.retrieval]
    retrieval: dict[str, float | None] = {}
    for name in [*(f"hit@{k}" for k in KS), *(f"recall@{k}" for k in KS), "mrr", "ndcg@10"]:
        retrieval[name] = _mean(s.retrieval[name] for s in with_retrieval)
    answered = [s for s in answerable if not s.abstained and s.error is None]
    answers: dict[str, float | None] = {
        "full_correctness": _mean(1.0 if s.correct else 0.0 for s in answerable),
        # over the items that list key facts (all answerable items of the built-in set do; most
        # document-gold items do not): an abstention scores 0
        "key_fact_recall": _mean(
            (sum(s.key_facts) / len(s.key_facts)) if not s.abstained else 0.0 for s in answerable if s.key_facts
        ),
        "key_fact_recall_lead": _mean(
            (sum(s.lead_key_facts) / len(s.lead_key_facts)) if not s.abstained else 0.0
            for s in answerable
            if s.lead_key_facts
        ),
        "accuracy_all": _mean(1.0 if s.correct else 0.0 for s in scores),
        "errors": float(sum(1 for s in scores if s.error is not None)),
    }
    checks = [s.citations for s in answered if s.citations is not None]
    n_sent = sum(c.sentences for c in checks)
    n_cited = sum(c.cited_sentences for c in checks)
    n_markers = sum(c.markers for c in checks)
    citations: dict[str, float | None] = {
        "coverage": n_cited / n_sent if n_sent else None,
        "support": sum(c.supported_sentences for c in checks) / n_sent if n_sent else None,
        "support_of_cited": sum(c.supported_sentences for c in checks) / n_cited if n_cited else None,
        "gold_cited": _mean(1.0 if s.gold_cited else 0.0 for s in answered),
        "doc_precision": _mean(s.citation_precision for s in answered if s.citation_precision is not None),
        "invalid_marker_rate": sum(c.invalid_markers for c in checks) / n_markers if n_markers else 0.0,
    }
    abstention = abstention_metrics((s.expect_abstain, s.abstained) for s in scores if s.error is None)
    latencies = [s.latency_s for s in scores if s.latency_s is not None]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    latency: dict[str, float | None] = {
        "p50_ms": p50 * 1000 if p50 is not None else None,
        "p95_ms": p95 * 1000 if p95 is not None else None,
    }
    answers.update(form_metrics(scores))
    names = [s.names_missing for s in scores if s.names_missing is not None]
    if names:  # only sets whose refusals carry an "absent:" note measure it
        abstention["names_missing"] = sum(names) / len(names)
    return {
        "retrieval": retrieval,
        "answers": answers,
        "citations": citations,
        "abstention": abstention,
        "latency": latency,
    }


def form_metrics(scores: Sequence[ItemScore]) -> dict[str, float | None]:
    """The answers' form: breadcrumb, fragment and repeated-sentence rates over the answered items, length in words
    (median, p95) by question kind (short: factoid, dose, yes/no; long: list, summary) and per
    kind, and the same in characters; the share of answered factoid and dose items with every key
    fact in the first line; the yes/no leads against the set's gold labels (rate over the labelled
    items, precision over the leads given)."""
    answered = [s for s in scores if s.answer_words is not None]
    out: dict[str, float | None] = {
        "breadcrumb_rate": _mean(1.0 if s.breadcrumb else 0.0 for s in answered),
        "fragment_rate": _mean(1.0 if s.fragments else 0.0 for s in answered),
        "repeat_rate": _mean(1.0 if s.repeats else 0.0 for s in answered),
    }
    groups: dict[str, list[float]] = {"short": [], "long": []}
    chars: dict[str, list[float]] = {"short": [], "long": []}
    for s in answered:
        kind = s.kind or "factoid"
        for by, value in ((groups, float(s.answer_words or 0)), (chars, float(s.answer_chars or 0))):
            by["long" if kind in LONG_KINDS else "short"].append(value)
            by.setdefault(kind, []).append(value)
    for kind, values in groups.items():
        out[f"length_median_{kind}"] = percentile(values, 50)
        out[f"length_p95_{kind}"] = percentile(values, 95)
    for kind, values in chars.items():
        out[f"chars_median_{kind}"] = percentile(values, 50)
        out[f"chars_p95_{kind}"] = percentile(values, 95)
    out["key_facts_first_line"] = _mean(
        1.0 if s.first_line_facts else 0.0 for s in scores if s.first_line_facts is not None
    )
    labelled = [s for s in scores if s.expected_yesno is not None]
    leads = [s for s in labelled if s.yesno_lead is not None]
    out["yesno_lead_rate"] = len(leads) / len(labelled) if labelled else None
    out["yesno_lead_precision"] = _mean(1.0 if s.yesno_lead == s.expected_yesno else 0.0 for s in leads)
    return out


def per_category(scores: Sequence[ItemScore]) -> dict[str, dict[str, float | int]]:
    out: dict[str, dict[str, float | int]] = {}
    for cat in sorted({s.category for s in scores}):
        group = [s for s in scores if s.category == cat]
        out[cat] = {"n": len(group), "accuracy": sum(1 for s in group if s.correct) / len(group)}
    return out


# --- pathway scoring ------------------------------------------------------------------------------


class PathwayScore(BaseModel):
    case_id: str
    error: str | None = None
    options: list[str] = Field(default_factory=list)
    exact_match: bool | None = None
    forbidden_hits: list[str] = Field(default_factory=list)
    forbidden_checked: bool = False
    verdict: str | None = None
    verdict_correct: bool | None = None
    missing_correct: bool | None = None
    reasons: list[str] = Field(default_factory=list)


def score_pathway_case(
    case: Any, result: PathwayResult | None, error: str | None = None, vocab: Vocabulary | None = None
) -> PathwayScore:
    """Score one pathway result against a `PathwayCase` (typed as Any to keep this module pure)."""
    vocab = vocab or default_vocabulary()
    out = PathwayScore(case_id=case.id)
    if result is None:
        out.error = error or "no result"
        out.reasons.append(f"error: {out.error}")
        out.exact_match = False if case.expected_options is not None else None
        out.forbidden_checked = bool(case.forbidden_options)
        out.verdict_correct = False if case.expected_verdict is not None else None
        out.missing_correct = False if case.expected_missing is not None else None
        return out
    out.options = [o.therapy for o in result.options]
    if case.expected_options is not None:
        out.exact_match = option_sets_equal(case.expected_options, out.options, vocab)
        if not out.exact_match:
            out.reasons.append(f"options {out.options} != expected {case.expected_options}")
    if case.forbidden_options:
        out.forbidden_checked = True
        out.forbidden_hits = forbidden_offered(case.forbidden_options, out.options, vocab)
        if out.forbidden_hits:
            out.reasons.append(f"forbidden options offered: {out.forbidden_hits}")
    if case.expected_verdict is not None:
        out.verdict = result.check.verdict if result.check else None
        out.verdict_correct = out.verdict == case.expected_verdict
        if not out.verdict_correct:
            out.reasons.append(f"verdict {out.verdict} != expected {case.expected_verdict}")
    if case.expected_missing is not None:
        out.missing_correct = set(case.expected_missing) <= set(result.missing)
        if not out.missing_correct:
            out.reasons.append(f"missing {result.missing} lacks expected {case.expected_missing}")
    return out


def aggregate_pathway(scores: Sequence[PathwayScore]) -> dict[str, float | None]:
    exact = [s.exact_match for s in scores if s.exact_match is not None]
    forb = [s for s in scores if s.forbidden_checked]
    verdicts = [s.verdict_correct for s in scores if s.verdict_correct is not None]
    missing = [s.missing_correct for s in scores if s.missing_correct is not None]
    return {
        "exact_option_match": _mean(1.0 if x else 0.0 for x in exact),
        "forbidden_option_rate": _mean(1.0 if (s.forbidden_hits or s.error) else 0.0 for s in forb),
        "verdict_accuracy": _mean(1.0 if x else 0.0 for x in verdicts),
        "missing_recall": _mean(1.0 if x else 0.0 for x in missing),
    }
