"""Question understanding: what is asked (intent: a dose, a figure, a definition, what to do),
about what (content terms, concepts), and whether it is in scope at all (another disease, an
instruction-injection attempt, nothing ALL-related).

Pure functions over the question text and the vocabulary; typo correction uses the store's own
term list, so "blinatumomb" is read as "blinatumomab" only when the corpus knows that word.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from ally.vocab import STOPWORDS, Vocabulary, stem, words

# Words that say what kind of answer is wanted, not what it is about.
QUESTION_WORDS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "tell",
        "me",
        "about",
        "explain",
        "describe",
        "list",
        "give",
        "show",
        "please",
        "there",
        "any",
        "options",
        "option",
        "recommended",
        "recommend",
        "recommendation",
        "recommendations",
        "treatment",
        "treatments",
        "treat",
        "treated",
        "therapy",
        "therapies",
        "patient",
        "patients",
        "use",
        "used",
        "role",
        "according",
        "source",
        "sources",
        "say",
        "says",
        "mean",
        "means",
        "known",
        "mentioned",
        "mention",
        "listed",
        "happen",
        "happens",
        "happened",
        "nowadays",
        "today",
        "currently",
        "current",
        "usually",
        "typically",
        "generally",
        "kind",
        "kinds",
        "type",
        "types",
        "thing",
        "things",
        "way",
        "ways",
        "anything",
        "something",
        "main",
        "key",
        "important",
        "overall",
        "exactly",
        "roughly",
        "approximately",
        "described",
        "detail",
        "details",
        "summary",
        "summarise",
        "summarize",
        "briefly",
    ]
)
_OTHER_DISEASES = re.compile(
    r"\b(AML|acute myeloid|CML|chronic myeloid|CLL|chronic lymphocytic|multiple myeloma|myeloma|hodgkin|"
    r"non-hodgkin|DLBCL|follicular lymphoma|mantle cell|MDS|myelodysplastic|breast cancer|lung cancer|"
    r"prostate cancer|colon cancer|colorectal|melanoma|glioblastoma|sickle cell|hemophilia|diabetes|"
    r"hypertension|covid|influenza|asthma|psoriasis|rheumatoid|alzheimer|parkinson|HIV infection)\b",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget) (all |any |the |your )?(previous|prior|above|earlier)? ?(instructions|rules|prompts?)\b|"
    r"\bsystem prompt\b|\byou are now\b|\bact as\b|\bpretend (to be|you)\b|\bjailbreak\b|\bdeveloper mode\b|"
    r"\breveal (your|the) (instructions|prompt)\b|"
    r"\b(ignore|disregard|forget|bypass) (all |any |the |your )?(sources|passages|context|guardrails|citations)\b|"
    r"\b(just|simply) (state|say|write|confirm|claim|tell (me|them)) that\b|\bwithout (any )?citations?\b",
    re.IGNORECASE,
)
_DOSE_INTENT = re.compile(r"\b(dose|doses|dosing|dosage|how much|mg|mg/m²|mg/m2)\b", re.I)
_DEFINITION = re.compile(r"^\s*(what|who)\s+(is|are|was)\b|\bdefin(e|ed|ition)\b|\bmeaning of\b", re.I)
_NUMBER_INTENT = re.compile(
    r"\b(what percent(age)?|percentage|proportion|how many|how often|how common|what share|fraction|rate|rates|"
    r"incidence|survival|how likely)\b",
    re.I,
)
# Questions that ask what to do: only these are led by the pathway's options for a described patient.
_MANAGEMENT = re.compile(
    r"\b(options?|treat|treated|treatment|manage|managed|management|therap(y|ies)|regimens?|next steps?|"
    r"what (should|to) do|recommend(ed|ation|ations)?|induction|consolidation|maintenance|approach|plan|"
    r"first[- ]line|frontline|salvage|choices?|should (we|i)|appropriate|consider|on[- ]pathway|eligible)\b",
    re.IGNORECASE,
)
DOSE_RE = re.compile(r"\d[\d,.]*\s*(mg|mcg|µg|g|units|IU)(/m²|/kg|/m2)?\b|mg/m²|cells/kg", re.I)
NUMBER_RE = re.compile(r"(?<![\w.])[<>≥≤]?\d+(?:[.,]\d+)*(?:\s*%)?")


@dataclass
class QuestionAnalysis:
    text: str
    corrected: str
    terms: list[str]
    concepts: set[str]
    wants_dose: bool
    wants_number: bool
    wants_definition: bool
    other_disease: str | None
    injection: bool
    corrections: dict[str, str] = field(default_factory=dict)
    unseen_specific: set[str] = field(default_factory=set)  # named things the corpus never mentions
    unknown_share: float = 0.0  # share of the question's content words the corpus never uses

    @property
    def in_scope_terms(self) -> bool:
        return bool(self.terms)


_SPECIFIC_SUFFIX = re.compile(
    r"\w{3,}(mab|nib|cel|leucel|lax|stat|tinib|zumab|ximab|cin|ase|ation|itis|osis|emia|aemia|ectomy|ology|"
    r"opathy|scopy|graphy|plasty|oma)$|\w{5,}ine$"
)


def is_specific(term: str, question: str) -> bool:
    """Whether an unseen question term names something specific (a drug, a place, a trial, a number),
    rather than a common word the corpus happens not to use ("listed", "kids")."""
    if term.isdigit() or term in STOPWORDS or term in QUESTION_WORDS:
        return False
    # Named things the sources may lack: numbers, drug-like names ("venetoclax", "azacitidine") and
    # medical nouns ("vaccination", "mucositis"); plain words ("goal", "share") are not specific.
    if any(ch.isdigit() for ch in term) or _SPECIFIC_SUFFIX.search(term):
        return True
    return re.search(rf"(?<![.?!]\s)(?<!^)\b{re.escape(term)}\b", question, re.I) is not None and bool(
        re.search(rf"\b{re.escape(term[0].upper() + term[1:])}\b", question)
    )


def content_tokens(text: str, vocab: Vocabulary) -> list[str]:
    """Vocabulary-expanded tokens without stopwords or question words."""
    return [t for t in vocab.tokens(text) if t not in QUESTION_WORDS and t not in STOPWORDS]


def correct_typos(text: str, known: set[str], vocab: Vocabulary) -> tuple[str, dict[str, str]]:
    """Replace words the corpus does not know by a close known word (length ≥ 5, similarity ≥ 0.84)."""
    corrections: dict[str, str] = {}
    candidates = [w for w in known if len(w) >= 5 and w.isalpha()]

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if len(low) < 5 or stem(low) in known or low in STOPWORDS or low in QUESTION_WORDS or not low.isalpha():
            return word
        if vocab.concepts_in(word):
            return word
        close = difflib.get_close_matches(low, candidates, n=1, cutoff=0.84)
        # A typo keeps its first two letters ("blinatumomb"); "fraction" is not "reaction".
        if close and close[0][:2] == low[:2]:
            corrections[word] = close[0]
            return close[0]
        return word

    corrected = re.sub(r"[A-Za-z][A-Za-z-]*[A-Za-z]", fix, text)
    return corrected, corrections


def analyse(question: str, vocab: Vocabulary, known_terms: set[str]) -> QuestionAnalysis:
    corrected, corrections = correct_typos(question, known_terms, vocab)
    # Words the corpus never uses carry no evidence either way unless they name something specific
    # (a drug, a trial, a place): "listed" is dropped, "venetoclax" is kept (and will not be found).
    # Words inside a vocabulary term ("brexu-cel") are covered by the term's concept.
    in_terms = {w for m in vocab.matches(corrected) for w in words(corrected[m.start : m.end])}
    keep: set[str] = set()
    unseen_specific: set[str] = set()
    content = 0
    unknown = 0
    for raw in words(corrected):
        token = stem(raw)
        if raw in STOPWORDS or raw in QUESTION_WORDS or len(raw) < 2:
            continue
        content += 1
        if token in known_terms:
            keep.add(token)
            continue
        if raw in in_terms:  # part of a vocabulary term ("brexu-cel"): its concept token stands for it
            continue
        unknown += 1
        if is_specific(raw, corrected):
            keep.add(token)
            unseen_specific.add(token)
    terms = [t for t in content_tokens(corrected, vocab) if t.startswith("c_") or t in keep]
    other = _OTHER_DISEASES.search(corrected)
    return QuestionAnalysis(
        text=question,
        corrected=corrected,
        terms=list(dict.fromkeys(terms)),
        concepts=vocab.concepts_in(corrected),
        wants_dose=bool(_DOSE_INTENT.search(corrected)),
        wants_number=bool(_NUMBER_INTENT.search(corrected)),
        wants_definition=bool(_DEFINITION.search(corrected)),
        unseen_specific=unseen_specific,
        unknown_share=unknown / content if content else 0.0,
        other_disease=other.group(0) if other else None,
        injection=bool(_INJECTION.search(question)),
        corrections=corrections,
    )


def asks_for_management(question: str) -> bool:
    """Whether the question asks what to do (options, treatment, next steps)."""
    return bool(_MANAGEMENT.search(question))


def numbers_in(text: str) -> list[str]:
    """Numbers as written (with %, <, ≥ …), for the verbatim-number checks."""
    return [m.group(0).strip() for m in NUMBER_RE.finditer(text)]
