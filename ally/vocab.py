"""The ALL vocabulary: synonym, abbreviation and brand-name matching, shared by BM25 indexing,
query expansion and the pathway checker's therapy normalisation.

The data lives in `ally/data/vocabulary.yaml`; this module only knows how to match it. Matching is
longest-term-first and consumes the text it matched, so "Philadelphia chromosome negative" is not
also read as "Philadelphia chromosome". Short terms with capitals ("ALL", "CR", "Ph+") match
case-sensitively so that the word "all" is not read as the disease.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import snowballstemmer
from wordfreq import zipf_frequency

from ally import yaml_data

_WORD_RE = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
# A code name (letters and a number) is written with and without its hyphen: "LB-100" and "LB100",
# "IL-6" and "IL6", "PD-1" and "PD1" (in the real PubMed corpus about one mention in ten drops it).
# One word either way, unless the letters are a common English word that counts ("type 2", "day-30",
# "grade-3", "phase-2" are written with a space as often as with a hyphen) and not written in capitals
# (an acronym: "HER-2" is HER2, "MAP-2" MAP2, though "her" and "map" are common words).
_CODE_RE = re.compile(r"\b([A-Za-z]{2,6})[-\u2010\u2011](\d{1,5})\b")
CODE_WORD_ZIPF = 4.5


@lru_cache(maxsize=65536)
def _code_letters(letters: str) -> bool:
    return zipf_frequency(letters, "en") < CODE_WORD_ZIPF


def _joined(m: re.Match[str]) -> str:
    letters = m[1]
    return letters + m[2] if letters.isupper() or _code_letters(letters.lower()) else m[0]


# A chromosomal rearrangement in cytogenetic (ISCN) notation is one name: "t(12;21)", "t(9;22)",
# "del(9p)", "inv(16)", "der(22)". Split into its numbers, "t(12;21)" would match any "21 days".
_BAND = r"(?:\d{1,2}|[XY])[pq]?[\d.]*"  # a chromosome and its arm or band: "9", "9p", "11q23", "X"
KARYOTYPE_RE = re.compile(  # a translocation joins two or more ("t(1)" is no rearrangement: MRI's "T(1)")
    rf"\b(t)\(\s*({_BAND}(?:\s*;\s*{_BAND})+)\s*\)|\b([Dd]el|[Ii]nv|[Dd]up|[Dd]er|[Ii]ns)\(\s*({_BAND}(?:\s*;\s*{_BAND})*)\s*\)"
)


def karyotype_word(m: re.Match[str]) -> str:
    """The one word a rearrangement is written as: "t(12;21)" -> "t12.21", "del(9p)" -> "del9p"."""
    kind, bands = (m[1], m[2]) if m[1] else (m[3], m[4])
    return kind.lower() + re.sub(r"\s*;\s*", ".", bands).lower().rstrip(".")


def join_codes(text: str) -> str:
    """`text` with each hyphenated code name written whole ("LB-100" -> "LB100", "Covid-19" ->
    "Covid19"; "type-2" stays) and each rearrangement in cytogenetic notation one word
    (`KARYOTYPE_RE`)."""
    if "(" in text:
        text = KARYOTYPE_RE.sub(karyotype_word, text)
    return _CODE_RE.sub(_joined, text) if "-" in text or "\u2010" in text or "\u2011" in text else text


STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "it's",
        "may",
        "might",
        "more",
        "most",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "under",
        "up",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "about",
        "after",
        "against",
        "also",
        "any",
        "each",
        "other",
        "over",
        "same",
        "some",
        "very",
        "via",
        "vs",
    ]
)


# Bump when `tokens()` changes: stores re-tokenise their BM25 index when it differs.
# 7: a code in capitals is one word whatever its letters ("HER-2" is HER2); 8: a rearrangement in
# cytogenetic notation is one word ("t(12;21)" is t12.21)
TOKENIZER_VERSION = 8
_STEMMER = snowballstemmer.stemmer("english")  # PyStemmer's C build (a dependency) where installed
_STEMMER_LOCK = threading.Lock()  # a snowballstemmer stemmer keeps its word in itself: one thread at a time


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of a lower-cased word; words with digits are kept whole."""
    if any(ch.isdigit() for ch in word):
        return word
    with _STEMMER_LOCK:  # answer threads stem at once (a shared stemmer raised IndexError under load)
        return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    """Lower-cased word tokens (before stopword removal and stemming); a code name is one word."""
    return _WORD_RE.findall(join_codes(text).lower())


@dataclass(frozen=True)
class Concept:
    id: str
    terms: tuple[str, ...]
    label: str | None = None
    broader: tuple[str, ...] = ()
    therapy: bool = False
    # something asked of a product (its side effects, maker, cost, approval): the unit that answers
    # gives it, from a passage about that product (`attribute: true`)
    attribute: bool = False
    # term -> (words right before it, words right after it) that give it another sense ("T-cell" is
    # T-ALL in "B-cell (85%) or T-cell (15%) lineage", not in "CAR T-cell therapy" or "T-cell engager")
    senses: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict, compare=False)
    # the ages in years, inclusive, that the concept's age group covers ("children": 0-17): a patient's
    # age written in a question ("a 70 year old") stands for the group the sources write in words
    ages: tuple[int, int] | None = None


def _ages(entry: dict[str, Any]) -> tuple[int, int] | None:
    """A concept entry's `ages: [youngest, oldest]`, checked."""
    ages = entry.get("ages")
    if ages is None:
        return None
    if not (
        isinstance(ages, list)
        and len(ages) == 2
        and all(isinstance(a, int) and a >= 0 for a in ages)
        and ages[0] <= ages[1]
    ):
        raise ValueError(
            f"vocabulary: {entry.get('id')!r} has ages {ages!r}; write two whole years, youngest first: [0, 17]"
        )
    return (ages[0], ages[1])


@dataclass(frozen=True)
class Match:
    concept: str
    start: int
    end: int
    term: str


def _term_pattern(term: str, before: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> re.Pattern[str]:
    """A term's pattern; `before` / `after`: words that, right before or after it, give it another
    sense (one space or hyphen between, "open label" and "open-label": the look-behinds are fixed-width)."""
    case_sensitive = len(term) <= 5 and any(c.isupper() for c in term)
    body = r"\s+".join(re.escape(part) for part in term.split())
    flags = 0 if case_sensitive else re.IGNORECASE
    not_after = "".join(rf"(?<!\b{re.escape(w)}[\s-])" for w in before)
    not_before = rf"(?!\s+(?i:{'|'.join(re.escape(w) for w in after)})\b)" if after else ""
    return re.compile(rf"(?<![\w]){not_after}{body}(?![\w+]){not_before}", flags)


# Characters that re.IGNORECASE matches to a different lower-case letter (Kelvin sign ~ k, long s ~ s, ...).
FOLD_SPECIAL = frozenset(
    "\u212a\u212b\u2126\u017f\u0131\u0130\u00b5\u03c2\u03d0\u03d1\u03d5\u03d6\u03f0\u03f1\u03f5\u1e9e\ufb05\ufb06"
)
# A maximal run of letters and digits. A term can match only where the run its first word begins
# with is a whole run of the lower-cased text: terms start where no word character precedes them
# and that run ends at a non-word character of the term or at its end, where the text must not go
# on with a word character. So the runs of a text select the few terms worth trying.
_RUN_RE = re.compile(r"[^\W_]+")


def leading_run(term: str) -> str:
    """The run of letters and digits `term` begins with, lower-cased ("bcr" of "BCR::ABL1"); "" where
    it begins with another character or the run goes on with "_" (then the term is always tried)."""
    low = term.lower()
    m = _RUN_RE.match(low)
    if m is None or low[m.end() : m.end() + 1] == "_":
        return ""
    return m.group(0)


def runs(lowered: str) -> set[str]:
    """The maximal runs of letters and digits of a lower-cased text."""
    return set(_RUN_RE.findall(lowered))


MATCH_MEMO_SIZE = 200_000  # texts whose concept matches are kept (cleared when full)


@dataclass
class Vocabulary:
    concepts: dict[str, Concept]
    populations: dict[str, re.Pattern[str]] = field(default_factory=dict)
    _patterns: list[tuple[str, str, re.Pattern[str]]] = field(default_factory=list, repr=False)
    # Memo of `matches` by text: passages are matched on every answer (see benchmarks/).
    _memo: dict[str, tuple[Match, ...]] = field(default_factory=dict, repr=False, compare=False)
    _needles: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # pattern positions by the leading run of their term's first word; those tried on every text
    _by_run: dict[str, list[int]] = field(default_factory=dict, repr=False, compare=False)
    _always: list[int] = field(default_factory=list, repr=False, compare=False)
    # The bytes this vocabulary was read from: what an index built with it records (`vocab_hash`),
    # so that an index is never labelled with a vocabulary file changed while it was being built.
    source: bytes = field(default=b"", repr=False, compare=False)
    # the words of the vocabulary's terms by their stem ("nelarabin": "nelarabine"), for typo correction
    surfaces: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _narrow: dict[str, tuple[int, int]] | None = field(default=None, repr=False, compare=False)
    _classes: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for c in self.concepts.values():
            for term in c.terms:
                for w in re.findall(r"[a-z][a-z-]*[a-z]", term.lower()):
                    if len(w) >= 5:
                        self.surfaces.setdefault(stem(w), w)
        pairs = [(c.id, t) for c in self.concepts.values() for t in c.terms]
        pairs.sort(key=lambda p: len(p[1]), reverse=True)
        self._patterns = [
            (cid, term, _term_pattern(term, *self.concepts[cid].senses.get(term, ((), ())))) for cid, term in pairs
        ]
        self._needles = {term: term.split()[0].lower() if term.split() else "" for _, term in pairs}
        for i, (_, term, _) in enumerate(self._patterns):
            key = leading_run(self._needles[term])
            if key:
                self._by_run.setdefault(key, []).append(i)
            else:
                self._always.append(i)

    @classmethod
    def from_yaml(cls, path: Path | None = None) -> Vocabulary:
        if path is None:
            data = resources.files("ally").joinpath("data/vocabulary.yaml").read_bytes()
        else:
            data = path.read_bytes()
        raw = yaml_data.safe_load(data.decode("utf-8"))
        concepts: dict[str, Concept] = {}
        for entry in raw["concepts"]:
            concept = Concept(
                id=entry["id"],
                terms=tuple(entry["terms"]),
                label=entry.get("label"),
                broader=tuple(entry.get("broader", ())),
                therapy=bool(entry.get("therapy", False)),
                attribute=bool(entry.get("attribute", False)),
                senses={
                    t: (tuple(ws.get("before", ())), tuple(ws.get("after", ())))
                    for t, ws in (entry.get("other_senses") or {}).items()
                },
                ages=_ages(entry),
            )
            if unknown := set(concept.senses) - set(concept.terms):
                raise ValueError(f"vocabulary: {concept.id!r} lists other senses of terms it lacks: {sorted(unknown)}")
            if concept.id in concepts:
                raise ValueError(f"vocabulary: concept id {concept.id!r} is defined twice")
            concepts[concept.id] = concept
        for concept in concepts.values():
            for b in concept.broader:
                if b not in concepts:
                    raise ValueError(f"vocabulary: {concept.id!r} names unknown broader concept {b!r}")
        populations = {name: re.compile(rx, re.IGNORECASE) for name, rx in (raw.get("populations") or {}).items()}
        return cls(concepts, populations, source=data)

    def narrow_age_groups(self) -> dict[str, tuple[int, int]]:
        """The age groups (`ages`) that hold no other group whole: those a patient's age or a
        passage's age bound stands for. "Adults" holds "older adults" and is named only in words
        ("45M" is no question about adults as a whole; "aged 65 and older" is about older adults).
        Computed once (every unit's age bound asks it); the concepts are fixed once read, as the
        compiled patterns already assume."""
        if self._narrow is None:
            groups = {c.id: c.ages for c in self.concepts.values() if c.ages}
            self._narrow = {
                g: (lo, hi)
                for g, (lo, hi) in groups.items()
                if not any(o != g and lo <= a and b <= hi for o, (a, b) in groups.items())
            }
        return self._narrow

    def classes(self) -> frozenset[str]:
        """The concepts other concepts narrow ("CAR-T" of tisagenlecleucel, "TKI" of ponatinib): a
        class, not one product. Computed once, as `narrow_age_groups` is."""
        if self._classes is None:
            self._classes = frozenset(b for c in self.concepts.values() for b in c.broader)
        return self._classes

    def age_groups(self, age: int) -> set[str]:
        """The narrow age groups (`narrow_age_groups`) that hold a patient of `age` years."""
        return {g for g, (lo, hi) in self.narrow_age_groups().items() if lo <= age <= hi}

    # --- matching -----------------------------------------------------------------------------
    def matches(self, text: str) -> list[Match]:
        """Every concept mention in `text`, longest terms first, without overlaps, in text order."""
        memo = self._memo.get(text)
        if memo is None:
            if len(self._memo) >= MATCH_MEMO_SIZE:
                self._memo.clear()
            memo = self._memo[text] = tuple(self._match(text))
        return list(memo)

    def _match(self, text: str) -> list[Match]:
        taken = [False] * len(text)
        found: list[Match] = []
        # Prefilter: a term can match only if its first word occurs in the lower-cased text (unless
        # the text holds a character that case-folds across letters, e.g. "ſ" ~ "s": then no prefilter).
        # When lower-casing keeps positions, the regex is tried only where the first word occurs
        # (what finditer would find, scanning left to right without overlaps, but without a scan).
        probe = None if FOLD_SPECIAL.intersection(text) else text.lower()
        positional = probe is not None and len(probe) == len(text)
        if probe is None:
            tried: Iterable[int] = range(len(self._patterns))
        else:  # only the terms whose first word's leading run is a run of the text (see `_RUN_RE`)
            # (a membership test per run of the text: `set & dict.keys()` would copy every key)
            keyed = (i for r in runs(probe) if r in self._by_run for i in self._by_run[r])
            tried = sorted([*self._always, *keyed])
        for cid, term, pattern in (self._patterns[i] for i in tried):
            needle = self._needles[term]
            if probe is not None and needle not in probe:
                continue
            if positional and needle and probe is not None:
                hits: list[re.Match[str]] = []
                pos, last_end = probe.find(needle), 0
                while pos != -1:
                    if pos >= last_end and (m := pattern.match(text, pos)) is not None:
                        hits.append(m)
                        last_end = m.end()
                    pos = probe.find(needle, pos + 1)
                candidates: Iterable[re.Match[str]] = hits
            else:
                candidates = pattern.finditer(text)
            for m in candidates:
                if any(taken[m.start() : m.end()]):
                    continue
                for i in range(m.start(), m.end()):
                    taken[i] = True
                found.append(Match(cid, m.start(), m.end(), term))
        found.sort(key=lambda m: m.start)
        return found

    def with_broader(self, ids: set[str] | list[str]) -> set[str]:
        out: set[str] = set()
        stack = list(ids)
        while stack:
            cid = stack.pop()
            if cid in out:
                continue
            out.add(cid)
            stack.extend(self.concepts[cid].broader)
        return out

    def concepts_in(self, text: str) -> set[str]:
        """Concept ids mentioned in `text`, with their broader concepts."""
        return self.with_broader({m.concept for m in self.matches(text)})

    # --- BM25 tokens -------------------------------------------------------------------------
    def tokens(self, text: str) -> list[str]:
        """BM25 tokens: stemmed lower-cased words without stopwords, plus one token per concept mentioned."""
        words = [stem(w) for w in _WORD_RE.findall(join_codes(text).lower()) if w not in STOPWORDS and len(w) > 1]
        concept_tokens = sorted(self.concepts_in(text))
        return words + concept_tokens

    # --- therapies ----------------------------------------------------------------------------
    def therapy_concept(self, name: str) -> str | None:
        """The therapy concept that `name` denotes (brand names, abbreviations), or None.

        The whole name must be one therapy term, e.g. "Blincyto" or "InO"; a combination such as
        "blinatumomab + TKI" is not a single therapy and returns None.
        """
        stripped = name.strip()
        for cid, _term, pattern in self._patterns:
            m = pattern.fullmatch(stripped)
            if m and self.concepts[cid].therapy:
                return cid
        return None

    def therapies_in(self, text: str) -> list[str]:
        """Therapy concept ids mentioned in `text`, in order, without repeats."""
        seen: list[str] = []
        for m in self.matches(text):
            if self.concepts[m.concept].therapy and m.concept not in seen:
                seen.append(m.concept)
        return seen

    def label(self, concept_id: str) -> str:
        c = self.concepts[concept_id]
        return c.label or c.terms[0]


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    return Vocabulary.from_yaml()
