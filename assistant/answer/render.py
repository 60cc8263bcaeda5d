"""Rendering: the one place that turns chosen evidence into the text a clinician reads.

It quotes each chosen unit verbatim as a sentence: a passage's bullets as clauses with their
population and state as a short prefix and their nearest parent ("Philadelphia chromosome positive
B-cell ALL, if CR after induction (check MRD status), MRD+: Blinatumomab +/- TKI; …"), never the
" > " section path, which the citation carries; a drug card's fields with the drug's name; prose
split into sentences, cut-off pieces repaired or dropped. It drops text that addresses the
assistant and bracketed numbers that would pose as ALLy's markers, leads a yes/no answer with
"Yes, " or "No, " only where a quoted sentence states it (else "The sources do not say directly; "),
leads with the pathway's options for a described patient, numbers the cited passages `[n]` in
order of first use, and builds the typed `Answer` (and its streamed events).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from wordfreq import zipf_frequency

from ally.schema import Answer, Citation, PathwayResult, RetrievedPassage
from ally.text import ABSTRACT_LABEL_WORDS, LEANS_BACK, split_sentences, without_section_label
from ally.vocab import STOPWORDS, default_vocabulary, stem, words
from assistant.answer.choose import Choice, listed
from assistant.answer.evidence import Unit
from assistant.answer.patient import describes_patient
from assistant.answer.population import Population, mismatch_note
from assistant.answer.question import (
    CLAUSE_BREAK_RE,
    QUESTION_WORDS,
    asks_dose,
    asks_for_management,
    asks_number,
    bounds_agree,
    figures_of,
    is_common,
    is_rare,
    numbers_in,
    qualified_names,
    yes_no_question,
)
from assistant.answer.retrieval import Hit
from assistant.core import AnswerEvent
from assistant.storage import Database
from ingest.store.reader import StoreReader

# Options of the pathway's root (work-up, CNS prophylaxis): listed only when the node adds none.
GENERAL_OPTION_PREFIX = "all#"

# Text in a source that addresses the assistant instead of the reader (prompt injection), and
# citation-like markers inside a source ("[7]", "[P1]") that would pose as ALLy's own citations.
_INSTRUCTION_RE = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.]{0,40}\b(instructions?|prompts?|rules|sources|context)\b|"
    r"\byou are now\b|\bdeveloper mode\b|\bsystem\s*(prompt)?\s*:|</?\s*passage\b|\bas an ai\b|"
    r"\b(answer|respond|reply) (to )?every question\b|\bcite (it|this|me)\b",
    re.IGNORECASE,
)
_FAKE_MARKER_RE = re.compile(r"\s*\[\s*P?\d+\s*\]")
INSTRUCTION_MEMO_SIZE = 50_000  # sentences whose check is kept


@lru_cache(maxsize=INSTRUCTION_MEMO_SIZE)
def is_instruction(text: str) -> bool:
    """True for a sentence that instructs the assistant (never quoted as evidence). Memoised: the
    same passages' sentences are checked answer after answer."""
    return bool(_INSTRUCTION_RE.search(text))


def without_markers(text: str) -> str:
    """The sentence without bracketed numbers that would read as ALLy's citation markers."""
    return _FAKE_MARKER_RE.sub("", text).strip()


@dataclass
class Sentence:
    """One rendered sentence and the passages it cites (`parts`: items each cited on their own)."""

    text: str
    chunk_ids: list[str]
    note: str | None = None
    parts: list[tuple[str, str]] = field(default_factory=list)  # (text, chunk id) items, each cited
    covers: frozenset[str] = frozenset()  # the question's terms its units hold
    section: str = ""  # its passage's section path ("Background" of a PubMed abstract)


@dataclass
class Composition:
    """The answer's sentences before numbering, or an abstention with its reason."""

    abstained: bool
    sentences: list[Sentence] = field(default_factory=list)
    reason: str = ""
    missing: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # chunk id -> population note
    more: list[Sentence] = field(default_factory=list)  # beyond the length budget (`within_budget`)

    @property
    def cited(self) -> list[str]:
        """Chunk ids in order of first citation."""
        return list(dict.fromkeys(c for s in self.sentences for c in [*(c for _, c in s.parts), *s.chunk_ids]))


# A path part that names a population or a disease state ("Philadelphia chromosome positive B-cell
# ALL", "Adult <65 and no significant comorbidities", "If CR after induction"): kept as the clause's
# qualifier. Other parts ("Multi-agent chemo", "To identify if …") are headings, left to the
# citation's section label.
_QUALIFIER_RE = re.compile(
    r"\b(ALL|B-ALL|T-ALL|B-cell|T-cell|Ph[+-]?|Philadelphia|[Aa]dults?|AYA|[Aa]dolescents?|[Pp]ediatric|"
    r"[Cc]hild(?:ren)?|[Ee]lderly|[Oo]lder|MRD[+-]?|CR|[Rr]emission|[Rr]elapsed|[Rr]efractory|R/R|[Ff]rail|"
    r"comorbidit\w*|[Rr]isk)\b|^If\b|[<>≥≤]\s*\d"
)
_LEAD_IN_RE = re.compile(r"^(To|For|How|See)\b|\b(into|include|includes|including|are|is|of|as|following)$")


def _qualifier(part: str) -> str:
    """A path part as a qualifier: "If no CR: Treat as relapsed/refractory disease" -> "If no CR
    (treat as relapsed/refractory disease)"."""
    head, sep, rest = part.rstrip(":").strip().partition(": ")
    if not (sep and rest):
        return head
    return f"{head} ({rest[0].lower() + rest[1:] if rest[:2].istitle() else rest})"


def clause_prefix(context: list[str]) -> str:
    """A bullet's context as a short prefix phrase: the population and state parts of its path
    (the top heading left out) and its nearest parent, for example "Philadelphia chromosome
    positive B-cell ALL, if CR after induction, MRD+"; never the " > " breadcrumb."""
    parts = [p.rstrip(":").strip() for p in context if p.strip()]
    if not parts:
        return ""
    *outer, nearest = parts
    kept = [_qualifier(p) for p in outer[1:] if _QUALIFIER_RE.search(p) and not _LEAD_IN_RE.search(p.split(": ")[0])]
    kept.append(_qualifier(nearest))
    kept = list(dict.fromkeys(k for k in kept if k))
    return ", ".join([kept[0], *(k[0].lower() + k[1:] if k.startswith("If ") else k for k in kept[1:])])


def bullet_clauses(members: list[Unit]) -> list[str]:
    """One passage's selected bullets as readable clauses, one per parent: the parent's prefix
    phrase (`clause_prefix`), then its items, nested items in parentheses after their own parent
    ("Ph+ B-ALL, if CR after induction: MRD+: Blinatumomab; MRD+: Inotuzumab ozogamicin (Anti-CD22
    ADC)"). A list header without its items loses its colon. The section path itself goes to the
    citation's label."""
    entries: list[tuple[tuple[str, ...], str, list[str]]] = []  # (context, item, nested items)
    for m in sorted(members, key=lambda u: u.index):
        context = tuple(m.context)
        parent = next((e for e in entries if (*e[0], e[1].rstrip(":").strip()) == context), None)
        if parent is not None:
            parent[2].append(m.text)
        else:
            entries.append((context, m.text, []))
    clauses: dict[tuple[str, ...], list[str]] = {}
    for context, item, kids in entries:
        text = f"{item.rstrip(':').strip()} ({'; '.join(kids)})" if kids else item.rstrip(":").strip()
        clauses.setdefault(context, []).append(text)
    out = []
    for context, items in clauses.items():
        prefix = clause_prefix(list(context))
        out.append(f"{prefix}: {'; '.join(items)}" if prefix else "; ".join(items))
    return out


# --- repairing cut-off prose ------------------------------------------------------------------

# Two texts run together where excerpts were stitched ("… clinical development.tor of all three"):
# a full stop between a word and lower-case letters. Not a domain name.
_RUN_TOGETHER_RE = re.compile(r"(?<=[a-z)\]])\.(?=[a-z]{2,}\b)(?!(?:gov|org|com|net|edu|html?|int)\b)")
_LABEL_JOINED_RE = re.compile(r"(?<=[a-z0-9)])\.(?=[A-Z]{3,}:)")  # "… pexidartinib.METHODS: …"
_SHORT_TAIL_RE = re.compile(r"(?<=[.!?])\s+[a-z]{1,5}\s*\.?$")  # "… related kinases. ses"
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "and",
        "or",
        "but",
        "as",
        "from",
        "that",
        "which",
        "whose",
        "whom",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "its",
        "their",
        "this",
        "these",
        "those",
        "than",
        "into",
        "between",
        "including",
        "such",
        "via",
        "per",
    ]
)
_COMMON_STARTS = frozenset(
    [
        "a",
        "an",
        "as",
        "at",
        "by",
        "for",
        "in",
        "it",
        "is",
        "of",
        "on",
        "or",
        "to",
        "we",
        "our",
        "all",
        "and",
        "any",
        "are",
        "but",
        "few",
        "its",
        "new",
        "one",
        "two",
    ]
)


_LETTER_RUN = re.compile(r"[A-Za-z]+")
# Words that cannot end a statement: what they introduce follows them ("characterized by …", "due to …").
_NEEDS_COMPLEMENT = frozenset(
    ["characterized", "characterised", "caused", "associated", "defined", "marked", "followed", "accompanied",
     "mediated", "induced", "driven", "related", "due", "such", "including", "like", "than", "whereas", "which"]
)  # fmt: skip


def _partial_word(word: str, source: str, *, last: bool = False) -> bool:
    """Whether a lower-case word at a passage's edge is a piece of a word ("hree", "ctober", "ing"):
    short or unknown to English, and nowhere else in the passage as a whole word. A short common
    word ending the text is a word: dropping it changes what is said ("1% of men" is no "1%"),
    where a cut start ("he present experiment", "n the review") is a piece of "The", "In"."""
    if len(word) > 3 and word.lower() in {w.lower() for w in _LETTER_RUN.findall(source[1:-1])}:
        return False
    if len(word) == 1:
        return word not in ("a", "i")  # a lone letter ("characterized b") is a cut word
    if len(word) <= 3:
        # at a text's end a common word ("men", "day", "age") is one; "ing", "ion", "ses" are pieces
        return word not in _COMMON_STARTS and not (last and is_common(word))
    freq = zipf_frequency(word, "en")
    return freq < 1.0 or (freq < 3.0 and len(word) <= 4)


_CUT_LABEL_RE = re.compile(r"([A-Z]{2,}):\s+(?=\S)")


def _cut_label(word: str) -> bool:
    """Whether a capitalised word is the tail of a structured abstract's label an excerpt was cut
    from ("ODS" of METHODS, "SIONS" of CONCLUSIONS), not a label or an acronym of its own."""
    return word not in ABSTRACT_LABEL_WORDS and any(
        label.endswith(word) and len(word) >= 3 for label in ABSTRACT_LABEL_WORDS
    )


def _repair_start(text: str, source: str) -> str:
    if (cut := _CUT_LABEL_RE.match(text)) and _cut_label(cut.group(1)):
        text = text[cut.end() :]  # "ODS: This was a phase I study …": the label's cut-off tail goes
    m = re.match(r"([a-z]+)\b", text)
    if not m:
        return text
    if _partial_word(m.group(1), source):
        text = text[m.end() :].lstrip(" ,;:-")
    if re.match(r"[a-z]+(?:'s)?(?:[\s,-]|$)", text):  # a lower-case word, not "mRNA" or "cGAS"
        text = text[0].upper() + text[1:]
    return text


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _drop_repeated_tail(text: str) -> str:
    """The sentence without a tail that only repeats what it already said, as stitched excerpts
    leave it ("… (SBLA syndrome).A syndrome).", "… (CDAI). to Crohn's disease activity index (CDAI).DAI).")."""
    for m in re.finditer(r"\.", text[:-1]):
        head, tail = text[: m.end()], text[m.end() :]
        pieces = [p.strip() for p in tail.split(".") if p.strip()]
        if pieces and all(_compact(p) in _compact(head) or re.fullmatch(r"[A-Z]{3,}:?", p) for p in pieces):
            return head
    return text


def _repair_end(text: str, source: str) -> str | None:
    text = text.rstrip()
    while text.count("(") > text.count(")"):
        text = text[: text.rindex("(")].rstrip()
    if text[-1:] in ".!?" or text.rstrip(")]\"'”’")[-1:] in ".!?":
        return text if len(text.split()) >= 3 else None
    ws = text.split()
    if ws and re.fullmatch(r"[a-z]+", ws[-1]) and _partial_word(ws[-1], source, last=True):
        ws.pop()
    # a cut end's function words, and a participle left without what it needs ("… a common inherited
    # condition characterized [by …]": the condition is stated, what characterizes it was cut)
    while ws and (ws[-1].lower().strip(",;:-") in _FUNCTION_WORDS or ws[-1].lower() in _NEEDS_COMPLEMENT):
        ws.pop()
    text = " ".join(ws).rstrip(" ,;:-–—")
    if len(text.split()) < 4:
        return None  # too little is left to stand as a sentence
    return text if text[-1:] in ".!?" else f"{text}."


def repaired(sentence: str, source: str) -> str | None:
    """A prose sentence cut from a passage, repaired to stand on its own, or None when nothing of
    it can: the tail after two run-together texts dropped, a partial first word dropped, a
    lower-case start capitalised, a cut-off end trimmed to its last whole word and closed with a
    full stop. `source` is the passage the sentence comes from."""
    m = _RUN_TOGETHER_RE.search(sentence)
    if m:
        sentence = sentence[: m.end()]
    sentence = _drop_repeated_tail(_SHORT_TAIL_RE.sub("", sentence).strip())
    if not sentence or not re.search(r"[A-Za-z]", sentence):
        return None
    return _repair_end(_repair_start(sentence, source), source)


def prose_sentences(text: str, source: str) -> list[str]:
    """A prose unit's lines: its sentences, each repaired (`repaired`; pieces that cannot stand are
    dropped), a sentence that leans on the one before ("The study reported 85.4% …") on the same line
    as it, as the unit quotes them: the finding reads with what it is about."""
    out: list[str] = []
    for piece in split_sentences(_LABEL_JOINED_RE.sub(". ", text)):
        fixed = repaired(piece, source)
        if fixed and out and LEANS_BACK.match(fixed):
            out[-1] = f"{out[-1]} {fixed}"
        elif fixed:
            out.append(fixed)
    return out


def _groups(units: list[Unit]) -> list[list[Unit]]:
    """Units grouped as they are rendered (a passage's bullets together, a card's fields together,
    each prose unit alone), in order of first appearance, duplicates dropped."""
    groups: dict[tuple[str, str], list[Unit]] = {}
    for u in units:
        if u.kind == "bullet":
            key = (u.chunk.chunk_id, u.chunk.section)  # nested bullets render inside their parent
        elif u.kind == "field":
            key = u.group_key
        else:
            key = (u.chunk.chunk_id, f"#{u.index}")
        members = groups.setdefault(key, [])
        if all(x.text != u.text for x in members):
            members.append(u)
    return [sorted(members, key=lambda u: u.index) for members in groups.values()]


def field_clauses(members: list[Unit], population: Population | None) -> list[str]:
    """A drug card's chosen fields as one sentence with the drug's name ("Ponatinib — Status: FDA
    Approved 2012; Manufacturer: Takeda"); a field about another population than the question's
    stays a sentence of its own, so that its note marks it alone."""
    plain = [m for m in members if population is None or mismatch_note(population, m.display) is None]
    own = [m.display for m in members if m not in plain]
    if not plain:
        return own
    fields = "; ".join(m.text.rstrip(". ") for m in plain)
    return [f"{plain[0].context[0]} — {fields}" if plain[0].context else fields, *own]


def _texts(members: list[Unit], population: Population | None = None) -> list[str]:
    first = members[0]
    if first.kind == "bullet" and first.context:
        return bullet_clauses(members)
    if first.kind == "field":
        return field_clauses(members, population)
    if first.kind == "sentence":
        return prose_sentences(first.text, first.chunk.text)
    return split_sentences(first.text)


# --- yes/no leads ------------------------------------------------------------------------------

_NEGATED_Q_RE = re.compile(r"\bnot\b|n't\b", re.IGNORECASE)
# A unit that hedges does not state the proposition: no lead from it.
_HEDGE_RE = re.compile(
    r"\b(may|might|could|possibl[ey]|potential(?:ly)?|suggests?|suggested|suggesting|unclear|uncertain|remains?|"
    r"whether|appears?|appeared|seems?|likely|unlikely|warrant\w*|further (?:studies|research|investigation)|"
    r"controversial|debated?|inconclusive|limited|hypothes\w+|trend|if|unknown|conflicting|questionable|"
    r"no evidence|claimed|aims?|aimed|purpose|objectives?|to (?:\w+ly )?(?:determine|assess|evaluate|investigate|"
    r"compare|examine|explore|study)|we (?:studied|conducted|investigated|assessed|evaluated|examined|sought|tested)|"
    r"BACKGROUND|METHODS|INTRODUCTION|OBJECTIVES?|UNLABELLED|PURPOSE|CONTEXT)\b",
    re.IGNORECASE,
)
# A study's section that sets it up rather than states what it found: a sentence under it decides no
# yes/no question (as one carrying the label itself does, `_HEDGE_RE`: "BACKGROUND: …").
_UNSTATING_SECTION_RE = re.compile(
    r"(?:^|>)\s*(?:background|methods?|introduction|objectives?|unlabelled|purpose|context|aims?)\s*$", re.I
)
# Negation that denies the proposition ("was not associated", "no significant difference").
_DENIES_RE = re.compile(
    r"\b(?:(?:is|are|was|were|did|does|do|has|have|had|can|could|would|will)\s+not|"
    r"no\s+(?:significant|statistically|difference|differences|association|effect|benefit|correlation|"
    r"relationship|impact|increase|improvement|advantage|change)|"
    r"not\s+(?:associated|significant|related|correlated|effective|superior|different|predictive)|"
    r"neither|failed\s+to|lacks?|lacking|cannot)\b",
    re.IGNORECASE,
)
# A question asking whether something can be ("Can ALL be cured?", "Could adults survive it?").
_CAN_Q_RE = re.compile(r"^\s*(?:can|could)\b", re.IGNORECASE)
# A question asking what a thing is ("Is p53 an oncogene?", "Are statins associated with …?").
_COPULA_Q_RE = re.compile(r"^\s*(?:is|are|was|were)\b", re.IGNORECASE)
# Where a sentence turns from one thing to another ("Ipilimumab (anti-CTLA-4) is …, whereas antibodies
# targeting PD-1 …", "the anti-CD52 antibody alemtuzumab and the anti-CD20 antibodies rituximab …",
# "Gliomas are the most common …, of which glioblastoma is …"): what a thing is, is said on one side.
_CONTRAST_RE = re.compile(
    r"\b(?:whereas|while|but|however|unlike)\b|,\s*of which\b|\band (?:the|a|an)\b|"
    r"\band (?:has|have|had|is|are|was|were)\b",  # a second predicate: "was approved in oncology and has shown …"
    re.I,
)
_RESPECTIVELY_RE = re.compile(r"\brespectively\b", re.I)
# The kind a what-is question asks of its subject: the words after the article ("Is ipilimumab a PD-1
# inhibitor?": "PD-1 inhibitor"), to be written as one phrase: at most `_KIND_SPAN` other words among them,
# none a name.
_KIND_RE = re.compile(r"^\s*(?:is|are|was|were)\s+.+?\s+(?:a|an|the)\s+([^?]+)\??\s*$", re.I)
_KIND_SPAN = 5
_TOGETHER_RE = re.compile(r"\b(?:with|plus)\b|\s\+\s", re.I)
_KIND_WORDS = 4  # a kind is a short noun phrase ("the most common brain tumor")
_VERB_FORM_RE = re.compile(r"\w{3,}(?:ing|ed)\b", re.I)
# A word denied by its prefix ("non-live", "non-significant", "unrelated" is left alone: "un" starts many words).
_PREFIX_NEGATED_RE = re.compile(r"\bnon-?([a-z]{3,})", re.IGNORECASE)
# A sentence setting the thing beside another ("recommends it over the zoster vaccine live", "compared
# with imatinib", "than chemotherapy"): an asked word in it may belong to either.
_COMPARES_RE = re.compile(
    r"\b(?:compared (?:with|to)|in comparison (?:with|to)|versus|vs\.?|than|rather than|instead of|"
    r"over the|unlike|relative to)\b",
    re.IGNORECASE,
)
_NEGATION_RE = re.compile(r"\b(?:not|no|never|none|without|nor|neither|cannot|lacks?|lacking|failed)\b|n't\b", re.I)
# A clause that qualifies a noun ("patients whose disease has not responded", "T-ALL that has not
# responded to two regimens"): a denial inside it says what the noun is, not that the proposition is
# false. "that" after a verb of finding or saying ("showed that … did not") opens the finding itself.
_RELATIVE_RE = re.compile(r"\b(?:which|who|whom|whose)\b|(?<!\w)that\b", re.IGNORECASE)
_REPORTS_THAT_RE = re.compile(
    r"\b(?:show\w*|found|finds?|demonstrat\w*|indicat\w*|suggest\w*|report\w*|conclud\w*|confirm\w*|"
    r"reveal\w*|observ\w*|noted?|establish\w*|means?|meant|believ\w*|known|clear|evident|so|such)\s+that\W*$",
    re.IGNORECASE,
)


def _denies(text: str) -> bool:
    """A denial of the sentence's own proposition ("X was not associated with Y"): a `_DENIES_RE`
    match outside a relative clause (`_RELATIVE_RE`) opened since the last clause break."""
    for m in _DENIES_RE.finditer(text):
        clause = CLAUSE_BREAK_RE.split(text[: m.start()])[-1]
        opener = list(_RELATIVE_RE.finditer(clause))
        if not opener or _REPORTS_THAT_RE.search(clause[: opener[-1].end()]):
            return True
    return False


# A name told apart by one letter joined with a hyphen ("B-ALL", "T-cell") or by a sign ("Ph+", "CD20-"):
# the words verdicts compare drop the letter and the sign.
_LETTER_CODE_RE = re.compile(r"(?<![\w-])[A-Za-z]-[A-Za-z]\w*|(?<![\w-])[A-Za-z]\w*[+-](?![\w-])")
YESNO_COVERAGE = 0.85  # share of the question's content words a unit must state to answer it
NOT_DIRECT = "The sources do not say directly; "
_LOWER_LEAD = frozenset([*_FUNCTION_WORDS, "it", "we", "our", "there", "both", "in", "here"])


# A code of short capitalised parts ending in a number ("PD-L1", "HLA-B27"; not "B-ALL"): one word, or
# its parts are too short to count and "Is nivolumab a PD-L1 inhibitor?" reads as "Is nivolumab an
# inhibitor?"
_SHORT_PART_CODE_RE = re.compile(r"\b([A-Z]{1,5})[-\u2010\u2011]([A-Z]{1,3}\d{1,3})\b")


def _coded_words(text: str) -> list[str]:
    """`words`, a code of short parts ending in a number one word ("PD-L1": pdl1)."""
    return words(_SHORT_PART_CODE_RE.sub(r"\1\2", text))


_TWO_LETTER_ACRONYM_RE = re.compile(r"(?<![\w-])([A-Z]{2})(?![\w-])")  # "IV", "IM", "CR", "OS"


def _content(text: str) -> set[str]:
    """The words a verdict compares: stems of three letters or more, and a two-letter acronym written
    in capitals ("Is ponatinib IV?" asks the route, not only "ponatinib")."""
    acronyms = {a.lower() for a in _TWO_LETTER_ACRONYM_RE.findall(text)} - STOPWORDS - QUESTION_WORDS
    return acronyms | {
        stem(w)
        for w in _coded_words(text)
        if len(w) > 2 and w not in STOPWORDS and w not in QUESTION_WORDS and not _NEGATION_RE.fullmatch(w)
    }


def verdict(question: str, text: str) -> str | None:
    """ "yes" or "no" when a quoted sentence states the question's proposition (`_verdict`); a prose
    list joined by semicolons ("A for type-2 diabetes; B for BRCA-associated ovarian cancer") states
    it only within one of its items (a drug card's fields, "nelarabine — Adults: …; repeated every 21
    days", are one statement about the drug)."""
    items = [i for i in text.split(";") if i.strip()]
    if len(items) < 2 or " \u2014 " in items[0]:
        return _verdict(question, text)
    found = {v for item in items if (v := _verdict(question, item))}
    return found.pop() if len(found) == 1 else None


def _stating_parts(question: str, text: str) -> list[str]:
    """The spans of `text` one of which must hold the question's words: the whole text, or, asked what
    a thing is, each clause (`_CONTRAST_RE`) of each sentence that writes the kind asked as one phrase
    ("a PD-1 inhibitor": its words within `_KIND_SPAN` words of each other, not "inhibitors such as
    … (anti-PD-1 antibodies)"); none where a sentence pairs lists "respectively"."""
    if not _COPULA_Q_RE.match(question):
        return [text]
    if _RESPECTIVELY_RE.search(text):
        return []  # "X and Y are iron and copper disorders, respectively": which is which is not in the words
    clauses = [c for sentence in split_sentences(text) for c in _CONTRAST_RE.split(sentence)]
    kind = _KIND_RE.match(question)
    if kind is None or len(_coded_words(kind[1])) > _KIND_WORDS or _VERB_FORM_RE.search(kind[1]):
        return clauses  # no kind named, but a clause ("the members of … promoting gene repression")
    asked = [stem(w) for w in _coded_words(kind[1]) if len(w) > 2 and w not in STOPWORDS and w not in QUESTION_WORDS]
    # "combinations of a PD-1 inhibitor with ipilimumab": what is given with the kind is not of it
    parts = [p for c in clauses for p in _TOGETHER_RE.split(c)]
    said = {w.lower() for w in _coded_words(question)}
    return [p for p in parts if _as_one_phrase(asked, _coded_words(p), said)]


def _as_one_phrase(asked: list[str], written: list[str], said: set[str]) -> bool:
    """Whether every asked word of a kind occurs in the `written` words within a run of `_KIND_SPAN`
    more words than asked, with no name the question does not write among them ("inhibitors such as
    pembrolizumab and nivolumab (anti-PD-1 …)" names the PD-1 inhibitors, not the subject)."""
    if len(set(asked)) < 2:
        return True
    tokens = [stem(w.lower()) for w in written]
    reach = len(asked) + _KIND_SPAN
    for i, token in enumerate(tokens):
        if token not in asked:
            continue
        window = tokens[i : i + reach]
        if not set(asked) <= set(window):
            continue
        last = max(window.index(a) for a in set(asked))
        between = written[i + 1 : i + last]
        if not any(is_rare(w.lower()) and w.lower() not in said for w in between):
            return True
    return False


_ENDING_GAP = 3  # "reduc" (reduced) and "reduct" (reduction): one word's stems, a short ending apart


def _stated(wanted: set[str], content: set[str]) -> int:
    """How many of the question's stems `content` holds, a verb's stem counting for its noun's when one
    extends the other by a short ending ("dose reduced" is stated by "dose reduction")."""

    def held(w: str) -> bool:
        if w in content:
            return True
        return len(w) >= 5 and any(
            0 < abs(len(c) - len(w)) <= _ENDING_GAP
            and (c.startswith(w) or w.startswith(c))
            and min(len(c), len(w)) >= 5
            for c in content
        )

    return sum(1 for w in wanted if held(w))


def _rate_for_possibility(question: str, text: str, wanted: set[str]) -> bool:
    """Whether a "can" question ("Can ALL be cured?") meets one of its words only as a rate ("low cure
    rates", "dismal survival rates"): a figure, which says neither that it can nor that it cannot."""
    return bool(_CAN_Q_RE.match(question)) and any(
        re.search(rf"\b{re.escape(w)}\w*\s+rates?\b", text, re.I) for w in wanted
    )


def _verdict(question: str, text: str) -> str | None:
    """ "yes" or "no" when a quoted sentence states the question's proposition (or its negation)
    directly: it holds most of the question's content words (one clause of it, when the question
    asks what a thing is: "Is p53 an oncogene?" is not stated by "… p53-induced transcript … This
    peptide inhibits … oncogenes"), does not hedge, is not set apart from the proposition
    (`_set_apart`), and either denies plainly or holds no negation at all; None otherwise. A negated
    question ("Is X not …?") flips it."""
    wanted = _content(question)
    if not wanted or _HEDGE_RE.search(text):
        return None
    if not any(_stated(wanted, _content(p)) / len(wanted) >= YESNO_COVERAGE for p in _stating_parts(question, text)):
        return None
    if _set_apart(question, text, wanted):
        return None
    if _denies(text):
        states = False
    elif _NEGATION_RE.search(text):
        return None  # a negation that may not bear on the proposition: no lead
    else:
        states = True
    if _NEGATED_Q_RE.search(question):
        states = not states
    return "yes" if states else "no"


# A question asking what ought to be done ("Should X be included …?", "Is it advisable to …?") is
# answered only by a sentence that says so: a recommendation, an obligation or an indication.
_SHOULD_Q_RE = re.compile(r"^\s*(?:should|must|ought)\b|^\s*is\s+it\s+(?:advisable|necessary|recommended|wise)\b", re.I)
_NORMATIVE_RE = re.compile(
    r"\b(?:should|must|ought|recommend\w*|advis\w*|warrant\w*|indicated|need(?:s|ed)?\s+to|required|"
    r"necessary|essential|mandatory|justif\w*|suggest\w*|support\w*)\b",
    re.I,
)
_PAIRED_WITH = r"(?:\s*/\s*|\s+(?:or|and)\s+)"  # "PD-1/PD-L1", "PD-1 or PD-L1", "PD-1 and PD-L1"
_PARTNER_CODE = r"[A-Z]{1,6}-?[A-Z]{0,3}\d{1,3}"  # another code of the kind: "PD-1", "CTLA-4"


def _paired_only(question: str, text: str) -> bool:
    """Whether a code the question writes ("PD-L1") is written in the text only paired with another
    code ("PD-1/PD-L1 inhibitors", "antibodies targeting PD-1 or PD-L1 (… nivolumab …)"), a pair the
    question does not write: which of the two a thing listed with them is, the words do not say."""
    for m in _SHORT_PART_CODE_RE.finditer(question):
        code = re.escape(m[0])
        pair = re.compile(rf"\b{_PARTNER_CODE}{_PAIRED_WITH}{code}\b|\b{code}{_PAIRED_WITH}{_PARTNER_CODE}\b")
        if pair.search(question):
            continue
        spans = [p.span() for p in pair.finditer(text)]
        mentions = [c.start() for c in re.finditer(rf"(?<![\w-]){code}(?![\w-])", text)]
        if spans and mentions and all(any(a <= at < b for a, b in spans) for at in mentions):
            return True
    return False


def _set_apart(question: str, text: str, wanted: set[str]) -> bool:
    """Whether a sentence holding the question's words still does not state its proposition: an asked
    word only in its negated form, a comparison, a bound, figure, qualified name or one-letter name
    the question gives and the sentence does not, or a rate where a possibility is asked."""
    if any(
        stem(m[1].lower()) in wanted and not re.search(rf"\bnon-?{m[1]}", question, re.I)
        for m in _PREFIX_NEGATED_RE.finditer(text)
    ):
        return True  # "a non-live vaccine" for "is it a live vaccine?": the word is there, denied
    if _COMPARES_RE.search(text) and not _COMPARES_RE.search(question):
        return True  # "recommends it over the zoster vaccine live": the asked word may be the other's
    if not bounds_agree(question, text):
        return True  # "over 55" asked, "under 55" (or no 55) stated: not the proposition
    if set(figures_of(question)) - set(figures_of(text)):
        return True  # "every 28 days" asked, "every 21 days" stated: a figure the sentence does not give
    if set(qualified_names(question)) - set(qualified_names(text)):
        return True  # "hemophilia A" asked, "hemophilia" stated: the name the question qualifies is not given
    if _SHOULD_Q_RE.match(question) and not _NORMATIVE_RE.search(text):
        return True  # "Should tumor depth be included …?" asks a recommendation; "… can be explained by …" makes none
    if _paired_only(question, text):
        return True  # "PD-1/PD-L1 checkpoint inhibitors … nivolumab": which of the pair it is, is not said
    if any(code.lower() not in text.lower() for code in _LETTER_CODE_RE.findall(question)):
        return True  # "B-ALL" asked, "T-ALL" stated; "Ph+" asked, "Ph-" stated: a letter or sign tells them apart
    return _rate_for_possibility(question, text, wanted)  # "Can ALL be cured?" is no "low cure rates"


# A clause states something: a finite verb among its words (a title — "The use of methotrexate in
# rheumatoid arthritis." — names a topic and states nothing).
_FINITE_RE = re.compile(
    r"\b(?:is|are|was|were|be|been|being|has|have|had|does|do|did|can|could|will|would|shall|should|must|"
    r"remains?|showed|shows?|found|reduced|improved|increased|decreased|induced|inhibit(?:s|ed)|causes?|caused|"
    r"belongs?|contains?|includes?|involves?|binds?|targets?|leads?|results?|acts?|plays?)\b",
    re.IGNORECASE,
)


def _lower_lead(text: str) -> str:
    """A quoted sentence as it reads after a lead ("Yes, "): no section label before it, and a
    capitalised function word ("The", "In", "We") lower-cased."""
    text = without_section_label(text)
    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first.lower() in _LOWER_LEAD and first[:1].isupper() else text


def lead_yes_no(comp: Composition, question: str, unmentioned: list[str] | None = None) -> None:
    """Lead a yes/no answer with "Yes, " or "No, " on the quoted sentence that states it (moved
    first); when none does, or they disagree, with "The sources do not say directly; ". A negated
    question ("Is CAR-T not an option …?") gets the stating sentence first and no "Yes" or "No":
    which of them answers a negative question is ambiguous in English ("No, it is an option").
    `unmentioned`: what the question asks of its subject that the quoted passages do not mention;
    then no sentence states the proposition, and the lead says what is not there."""
    if unmentioned and comp.sentences:
        first = comp.sentences[0]
        gap = f"the passages found do not mention {listed(unmentioned)}"
        first.text = f"{NOT_DIRECT.rstrip('; ')} ({gap}); {_lower_lead(first.text)}"
        return
    found = [
        (v, i)
        for i, s in enumerate(comp.sentences)
        if s.chunk_ids and not _UNSTATING_SECTION_RE.search(s.section) and (v := verdict(question, s.text))
    ]
    if found and len({v for v, _ in found}) == 1:
        # the stating sentence that reads as a clause, before a title saying the same
        answer, at = next(((v, i) for v, i in found if _FINITE_RE.search(comp.sentences[i].text)), found[0])
        sentence = comp.sentences.pop(at)
        if not _NEGATED_Q_RE.search(question):
            sentence.text = f"{answer.capitalize()}, {_lower_lead(sentence.text)}"
        comp.sentences.insert(0, sentence)
    elif comp.sentences:
        first = comp.sentences[0]
        first.text = f"{NOT_DIRECT}{_lower_lead(first.text)}"


def within_budget(comp: Composition, budget: int) -> None:
    """Keep in the answer the sentences that fit in `budget` characters; beyond it, only those that
    continue a passage already quoted (a sentence leans on the one before: "The study showed …") or
    answer a part of the question no kept sentence covers (and a disagreement between sources,
    always): the direct answer and what qualifies it. The other sentences move to `more`, shown
    behind the answer, still cited."""
    used = 0
    kept: list[Sentence] = []
    covered: set[str] = set()
    cited: set[str] = set()
    over = False
    for i, s in enumerate(comp.sentences):
        size = len(s.text) + 5 * len(s.chunk_ids)
        over = over or (i > 0 and used + size > budget)
        leans = bool(s.chunk_ids) and set(s.chunk_ids) <= cited  # continues a passage already quoted
        if over and not (s.parts or leans or not s.covers <= covered):
            comp.more.append(s)
            continue
        used += size
        covered |= s.covers
        cited |= set(s.chunk_ids)
        kept.append(s)
    comp.sentences = kept


def _joined_to_shown(shown: list[Sentence], text: str, chunk_id: str, covers: frozenset[str]) -> bool:
    """Join a line that shares a sentence with a line already shown from the same passage to that
    line, in the passage's order ("S1 S2" shown, "S2 S3" chosen too: "S1 S2 S3", never S2 twice);
    False when it shares none."""
    parts = split_sentences(text)
    for earlier in shown:
        if earlier.chunk_ids != [chunk_id] or earlier.parts:
            continue
        had = split_sentences(earlier.text)
        if not set(parts) & set(had):
            continue
        extra = [p for p in parts if p not in had]
        if parts[0] in had:  # it goes on from the line shown
            earlier.text = " ".join([earlier.text, *extra])
        elif parts[-1] in had:  # it leads up to it
            earlier.text = " ".join([*extra, earlier.text])
        else:
            continue
        earlier.covers = earlier.covers | covers
        return True
    return False


def compose(
    choice: Choice, population: Population | None, question: str | None = None, budget: int | None = None
) -> Composition:
    """The chosen units as cited sentences (or the choice's abstention); a yes/no `question` gets
    its lead (`lead_yes_no`); with a `budget`, the sentences that fit it (`within_budget`)."""
    if choice.abstained:
        return Composition(True, reason=choice.reason, missing=choice.missing)
    comp = Composition(False)
    seen: set[str] = set()
    for members in _groups(choice.units):
        cid = members[0].chunk.chunk_id
        covers = frozenset(t for m in members for t in m.tokens if t in choice.terms)
        for raw in _texts(members, population):
            note = mismatch_note(population, raw) if population is not None else None
            if note:
                comp.notes[cid] = note
            text = without_markers(raw)
            said = without_section_label(text)  # "CONCLUSIONS X." and "X." say the same
            if text and said not in seen and not is_instruction(text):
                seen.add(said)
                if not _joined_to_shown(comp.sentences, text, cid, covers):
                    comp.sentences.append(Sentence(text, [cid], note, covers=covers, section=members[0].chunk.section))
    for pair in choice.pairs:  # say what each source gives, each figure cited to its own passage
        about = f" for {pair.measure}" if pair.measure else ""
        parts = [(pair.figure_a, pair.a.chunk.chunk_id), (pair.figure_b, pair.b.chunk.chunk_id)]
        comp.sentences.append(Sentence(f"The cited sources give different figures{about}", [], parts=parts))
    if not comp.sentences:
        return Composition(True, reason="no passage in the store answers the question as evidence")
    if question and yes_no_question(question):
        lead_yes_no(comp, question, choice.unmentioned)
    elif choice.unmentioned:  # what the question names of its subject that the passages found do not
        first = comp.sentences[0]
        first.text = f"The passages found do not mention {listed(choice.unmentioned)}; {_lower_lead(first.text)}"
    if budget is not None:
        within_budget(comp, budget)
    return comp


# --- the pathway's lead ---------------------------------------------------------------------


# A question rather than a case: a question mark, or a question word or auxiliary first.
_ASKS_RE = re.compile(
    r"\?|^\s*(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|should|would|"
    r"will|may|might|must|shall|has|have|tell|list|explain|describe|compare)\b",
    re.I,
)


_CASE_WORDS = frozenset(
    [
        "year",
        "years",
        "yr",
        "yrs",
        "yo",
        "old",
        "month",
        "months",
        "aged",
        "age",
        "male",
        "female",
        "man",
        "woman",
        "boy",
        "girl",
        "child",
        "adult",
        "patient",
        "pt",
        "fit",
        "frail",
        "unfit",
        "comorbidity",
        "comorbidities",
        "comorbid",
        "significant",
        "no",
        "without",
        "newly",
        "new",
        "recently",
        "just",
    ]
)


def case_only(text: str) -> bool:
    """Whether the text only describes a patient ("45 year old with Ph+ B-ALL, newly diagnosed"), asking
    nothing: no question mark or question word, no dose or figure asked and no therapy named
    ("nelarabine dose for a 10 year old" asks a dose). What to do for the patient is then what is
    asked."""
    if not describes_patient(text) or _ASKS_RE.search(text) or asks_dose(text) or asks_number(text):
        return False
    vocab = default_vocabulary()
    if any(vocab.concepts[c].therapy for c in vocab.concepts_in(text)):
        return False
    # every other word describes the patient: a vocabulary term ("Ph+", "newly diagnosed"), a number,
    # a stopword or a word of a case's grammar (`_CASE_WORDS`: "year old", "fit"); any other
    # ("prognosis") is what is asked
    rest = text
    for m in sorted(vocab.matches(text), key=lambda m: -m.start):
        rest = rest[: m.start] + " " + rest[m.end :]
    return all(w in STOPWORDS or w in _CASE_WORDS or any(ch.isdigit() for ch in w) for w in words(rest))


DECIDED_VERDICTS = frozenset({"on", "off"})  # the checker's verdicts that settle a proposed therapy


def pathway_leads(pathway: PathwayResult | None, explicit_patient: bool, question: str) -> bool:
    """Whether the pathway's options lead the answer: a node with options of its own, and a
    patient record given, a question that asks what to do, or a case described and nothing asked; or
    a therapy proposed for the patient described, whose checker verdict leads even where the node
    still needs a field ("Can I give nelarabine to a 40 year old with newly diagnosed T-ALL?": off
    at diagnosis and in every branch below it)."""
    if pathway is None:
        return False
    if pathway.check is not None and pathway.check.verdict in DECIDED_VERDICTS:
        return True
    return any(not (o.id or "").startswith(GENERAL_OPTION_PREFIX) for o in pathway.options) and (
        explicit_patient or asks_for_management(question) or case_only(question)
    )


def unanswered_case(pathway: PathwayResult) -> Choice:
    """The answer to a case described with nothing asked, where the pathway has no options for it
    yet ("8 year old with B-ALL": no phase): what the pathway needs to list them, not whichever
    passage shares the case's words (another phase's indication)."""
    needs = f"; to list options the pathway needs: {', '.join(pathway.missing)}" if pathway.missing else ""
    return Choice(True, reason=f"the question describes a patient and asks nothing{needs}", missing=pathway.missing)


def _supported(text: str, chunk_id: str, reader: StoreReader) -> bool:
    """Every number of `text` is in the passage (its section path included)."""
    chunk = reader.chunks_by_id.get(chunk_id)
    if chunk is None:
        return False
    evidence = f"{chunk.section}\n{chunk.text}"
    return all(n in evidence for n in numbers_in(text))


def pathway_sentences(pathway: PathwayResult | None, reader: StoreReader) -> list[Sentence]:
    """Lead sentences for a described patient: the pathway's options, each with its passage.

    The node label (which carries ALLy's own resolutions such as age bands) stays in the
    `pathway` object; the prose keeps only text whose numbers are in the cited passage.
    """
    if pathway is None:
        return []
    items: list[tuple[str, str]] = []
    specific = [o for o in pathway.options if not (o.id or "").startswith(GENERAL_OPTION_PREFIX)]
    # with a therapy proposed and no option of the node's own yet, the verdict on it is the lead, not
    # the work-up every patient gets
    decided = pathway.check is not None and pathway.check.verdict in DECIDED_VERDICTS
    for option in specific or ([] if decided else pathway.options):
        ids = [c.chunk_id for c in option.citations if c.chunk_id]
        if ids and _supported(option.therapy, ids[0], reader):
            items.append((option.therapy, ids[0]))
    out: list[Sentence] = []
    if items:
        out.append(Sentence("For the patient described, the pathway lists", [], parts=items))
    check = pathway.check
    if check is not None:
        ids = [c.chunk_id for c in check.citations if c.chunk_id]
        if ids:
            reason = f" — {check.reason}" if _supported(check.reason, ids[0], reader) else ""
            out.append(Sentence(f"Proposed {check.therapy}: {check.verdict}{reason}", ids[:1]))
    check_ids = [c.chunk_id for c in check.citations if c.chunk_id] if check is not None else []
    anchor = items[0][1] if items else (check_ids[0] if check_ids else None)
    if pathway.missing and anchor:
        out.append(Sentence(f"To narrow this down the pathway needs: {', '.join(pathway.missing)}", [anchor]))
    return out


# --- numbering and the Answer -----------------------------------------------------------------


def retrieved_passages(hits: list[Hit]) -> list[RetrievedPassage]:
    return [
        RetrievedPassage(
            doc_id=h.chunk.doc_id,
            chunk_id=h.chunk.chunk_id,
            text=h.chunk.text,
            score=round(h.score, 6),
            section=h.chunk.section,
            title=h.chunk.title,
        )
        for h in hits
    ]


class _Numbering:
    """Citation numbers in order of first use."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def __call__(self, chunk_id: str) -> int:
        if chunk_id not in self.order:
            self.order.append(chunk_id)
        return self.order.index(chunk_id) + 1


def _line(s: Sentence, ns: list[int]) -> str:
    """One rendered line: every sentence in it carries its citation (a sentence that leans on the one
    before shares its line, each with the marker)."""
    marks = "".join(f"[{n}]" for n in ns)
    note = f" ({s.note})" if s.note else ""
    pieces = split_sentences(s.text) if marks else []
    body = f" {marks} ".join(pieces) if len(pieces) > 1 else s.text
    return f"{body} {marks}{note}".replace("  ", " ").rstrip()


def _text(comp: Composition, lines: list[tuple[Sentence, list[int]]], abstained: bool) -> str:
    if abstained:
        return f"I can't answer this from ALLy's sources: {comp.reason}."
    rendered = [_line(s, ns) for s, ns in lines]
    if comp.abstained:
        rendered.append(f"The sources do not answer the rest of the question: {comp.reason}.")
    return "\n".join(rendered)


def _citations(order: list[str], hits: list[Hit], comp: Composition, reader: StoreReader) -> list[Citation]:
    citations = []
    for i, cid in enumerate(order, start=1):
        chunk = reader.chunks_by_id[cid]
        doc = reader.document(chunk.doc_id)
        hit_score = next((h.score for h in hits if h.chunk.chunk_id == cid), 0.0)
        citations.append(
            Citation(
                n=i,
                doc_id=chunk.doc_id,
                title=chunk.title,
                chunk_id=cid,
                text=chunk.text,
                score=round(hit_score, 6),
                section=chunk.section,
                year=doc.year,
                population_note=comp.notes.get(cid),
            )
        )
    return citations


def build_answer(
    comp: Composition,
    hits: list[Hit],
    pathway: PathwayResult | None,
    reader: StoreReader,
    *,
    lead_pathway: bool,
    corpus_version: str,
    id: Any = None,
    conversation_id: str | None = None,
) -> Answer:
    """The `Answer`: pathway lead (when it leads), the composed sentences, each with its markers."""
    number = _Numbering()
    lines: list[tuple[Sentence, list[int]]] = []
    pathway_lines = pathway_sentences(pathway, reader) if lead_pathway else []
    for s in [*pathway_lines, *([] if comp.abstained else comp.sentences)]:
        if s.parts:
            s.text = f"{s.text}: " + "; ".join(f"{t} [{number(c)}]" for t, c in s.parts)
        lines.append((s, [number(c) for c in s.chunk_ids]))
    more = [] if comp.abstained else [_line(s, [number(c) for c in s.chunk_ids]) for s in comp.more]
    abstained = comp.abstained and not pathway_lines
    retrieved = retrieved_passages(hits)
    return Answer(
        id=id,
        answer=_text(comp, lines, abstained),
        abstained=abstained,
        citations=_citations(number.order, hits, comp, reader),
        retrieved=retrieved,
        pathway=pathway,
        answer_id=Database.new_id(),
        conversation_id=conversation_id,
        corpus_version=corpus_version,
        related=retrieved[:3] if abstained else [],
        missing=comp.missing if comp.abstained else [],
        more=more,
    )


def answer_events(answer: Answer) -> Iterator[AnswerEvent]:
    """The answer as events: retrieval, each sentence, citations, pathway, done."""
    yield AnswerEvent(type="retrieval", data={"retrieved": [r.model_dump() for r in answer.retrieved]})
    for line in answer.answer.split("\n"):
        if line.strip():
            yield AnswerEvent(type="sentence", data={"text": line})
    yield AnswerEvent(type="citations", data={"citations": [c.model_dump() for c in answer.citations]})
    yield AnswerEvent(type="pathway", data={"pathway": answer.pathway.model_dump() if answer.pathway else None})
    yield AnswerEvent(type="done", data={"answer": answer.model_dump()})
