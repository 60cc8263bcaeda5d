"""Evidence units: the sentences, bullets and drug-card fields of retrieved passages, each with the
context it needs to read correctly on its own, scored against the question.

A bullet is quoted with its section path and parent bullets ("Treatment > Philadelphia chromosome
positive B-cell ALL > If CR after induction: check MRD status > MRD+: Blinatumomab +/- TKI"); a
drug-card field with the drug's name ("nelarabine — Dosing Schedule: …"); a prose sentence that
leans on the one before ("The study reported …") together with it. Unit text is always verbatim
from the stored passage or its section path.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property

from cachetools import LRUCache

from ally.chunks import PATH_SEP, Chunk
from ally.subjects import diseases_in
from ally.units import display_text, unit_parts
from ally.untrusted import is_untrusted
from ally.vocab import STOPWORDS, Vocabulary
from assistant.answer.question import (
    AGE_FIGURE,
    QUESTION_WORDS,
    Lexicon,
    QuestionAnalysis,
    bounded_age_groups,
    numbers_in,
)
from assistant.answer.retrieval import Hit

UNSEEN_UNCOMMON_WEIGHT = 0.5
_DEFINES = re.compile(r"\b(is|are) (a|an)\b|\b(is|are) defined (as|by)\b|\brefers? to\b|^[A-Z][\w -]+: [A-Z]")
# An abbreviation spelled out before it: "disease-modifying anti-rheumatic drug (DMARD)"
_GLOSSED = re.compile(r"\w[\w -]{8,}\(([A-Z][A-Za-z0-9-]{1,11})\)")
# A sentence that opens with a name and an appositive: "Rylaze®, a recombinant Erwinia asparaginase, …"
_APPOSITIVE = re.compile(r"^([A-Z][\w®™-]*)(?:\s+\(?[\w®™-]+\)?){0,3},\s+(a|an)\s")


def defines(text: str, terms: AbstractSet[str], vocab: Vocabulary, *, spelled_out: bool = True) -> bool:
    """Whether a unit reads as a definition ("X is a …", "X is defined as …", "X: Y"), spells out an
    abbreviation among the question's `terms` ("… anti-rheumatic drug (DMARD)"), or opens with one
    of them and an appositive ("Rylaze®, a recombinant Erwinia asparaginase"). `spelled_out` False
    leaves abbreviations out (for questions that do not ask what a thing is, "(ALL)" says nothing)."""
    if _DEFINES.search(text):
        return True
    if spelled_out and any(t in terms for g in _GLOSSED.findall(text) for t in vocab.tokens(g)):
        return True
    m = _APPOSITIVE.match(text)
    if m is None or m.group(1).lower() in STOPWORDS:
        return False
    return any(t in terms for t in vocab.tokens(m.group(0)))


_FIELD_RE = re.compile(r"^([A-Z][A-Za-z /()]+?):\s+(.*)$")


@dataclass
class Unit:
    chunk: Chunk
    hit_rank: int
    index: int
    text: str
    context: list[str]
    kind: str
    tokens: set[str] = field(default_factory=set)
    own_tokens: set[str] = field(default_factory=set)
    context_tokens: set[str] = field(default_factory=set)
    numbers: list[str] = field(default_factory=list)
    score: float = 0.0
    coverage: float = 0.0
    diseases: frozenset[str] = frozenset()  # diseases the unit, its context or its section names
    untrusted: bool = False  # addresses the reader or the assistant (ally.untrusted): never cited
    passage_tokens: frozenset[str] = frozenset()  # of the whole passage, its section and its title
    similarity: float | None = None  # cosine with the question (assistant.answer.meaning), when computed

    position: int = 0  # the unit's place among its passage's units (its row among the stored unit vectors)

    @property
    def display(self) -> str:
        return display_text(self.text, self.context, self.kind)

    @property
    def group_key(self) -> tuple[str, str]:
        return (self.chunk.chunk_id, PATH_SEP.join(self.context))

    def at_rank(self, hit_rank: int) -> Unit:
        """A copy for one question's scoring, its passage at `hit_rank` (what `dataclasses.replace`
        gives, sharing the computed token sets, without re-running `__init__`: an answer copies
        ~200 units, and `replace` was a tenth of the answer path's time holding the GIL)."""
        copy = object.__new__(Unit)
        copy.__dict__.update(self.__dict__)
        copy.hit_rank = hit_rank
        return copy


def units_of(chunk: Chunk, hit_rank: int) -> list[Unit]:
    """Split one passage into evidence units with their context (`ally.units`: the segmentation the
    stored unit vectors follow)."""
    return [
        Unit(chunk, hit_rank, p.index, p.text, list(p.context), p.kind, position=i)
        for i, p in enumerate(unit_parts(chunk))
    ]


class IdfTable:
    """Inverse document frequencies of content tokens over the store's passages."""

    def __init__(self, doc_freq: dict[str, int], n: int) -> None:
        self.n = max(n, 1)
        self.df = doc_freq
        self.unseen = math.log(1 + self.n / 0.5)

    def __call__(self, token: str) -> float:
        d = self.df.get(token)
        if not d:
            return self.unseen
        return math.log(1 + self.n / d)

    def share(self, token: str) -> float:
        """The share of the passages that hold the token."""
        return self.df.get(token, 0) / self.n

    @cached_property
    def known(self) -> Lexicon:
        """The store's terms, indexed for the question analysis (built once: `df` does not change)."""
        return Lexicon(self.df)


def term_weights(question: QuestionAnalysis, idf: IdfTable) -> dict[str, float]:
    """Each question term's weight in coverage: its idf; an uncommon word the corpus never uses
    ("vaccination", "labs") weighs half (the sources may say it in other words, but evidence that
    lacks it covers less of the question)."""
    q_terms = [t for t in question.terms if t not in QUESTION_WORDS]
    return {t: idf(t) * (UNSEEN_UNCOMMON_WEIGHT if t in question.unseen_uncommon else 1.0) for t in q_terms}


def coverage(tokens: AbstractSet[str], question: QuestionAnalysis, idf: IdfTable) -> float:
    """The idf-weighted share of the question's terms among `tokens`."""
    weight = term_weights(question, idf)
    return sum(w for t, w in weight.items() if t in tokens) / (sum(weight.values()) or 1.0)


def score_units(units: list[Unit], question: QuestionAnalysis, vocab: Vocabulary, idf: IdfTable) -> list[Unit]:
    """Score each unit: idf-weighted share of the question's terms it covers, plus a small rank prior.

    A drug-card field must itself match the question (beyond the drug's name), unless the question
    asks about nothing but the drug: "dose of nelarabine" selects the dosing field, not the manufacturer.
    """
    weight = term_weights(question, idf)
    q_terms = list(weight)
    asked = set(q_terms)
    q_weight = sum(weight.values()) or 1.0
    for u in units:
        # an age asked ("which age group …"): a unit giving one covers the words that ask it
        frame = question.age_frame if question.age_frame and AGE_FIGURE.search(u.text) else frozenset()
        u.coverage = sum(w for t, w in weight.items() if t in u.tokens or t in frame) / q_weight
        if u.kind == "field":
            beyond_name = [t for t in q_terms if t not in u.context_tokens]
            if beyond_name and not any(t in u.own_tokens for t in beyond_name):
                u.coverage *= 0.5
        prior = 0.12 / (1 + u.hit_rank)
        bonus = 0.0
        if question.wants_dose or question.wants_number:
            bonus = 0.08 if u.numbers else -0.1
        if (
            question.wants_definition
            and u.own_tokens & asked
            and defines(u.text, asked, vocab, spelled_out=question.what_it_is)
        ):
            bonus += 0.1
        if u.text.rstrip().endswith(":"):
            bonus -= 0.05  # a list header: its items are elsewhere
        if question.named:  # a passage about the very things the question names reads first
            bonus += 0.1 * len(question.named & u.passage_tokens) / len(question.named)
        u.score = u.coverage + prior + bonus
    return units


UNIT_CACHE_SIZE = 20_000  # passages whose units are kept (least recently used dropped first)


class UnitCache:
    """Units of each passage with their tokens, computed once per passage (vocabulary matching is
    the costly part), copied per question for scoring. Bounded (LRU), so a server answering for
    months over a 100k-chunk store does not end up holding units for every passage."""

    def __init__(self, vocab: Vocabulary, max_passages: int = UNIT_CACHE_SIZE) -> None:
        self.vocab = vocab
        self._units: LRUCache[str, list[Unit]] = LRUCache(maxsize=max(1, max_passages))
        self._lock = threading.Lock()  # answer threads read and insert concurrently

    def _compute(self, chunk: Chunk) -> list[Unit]:
        found = units_of(chunk, 0)
        title_tokens = set(self.vocab.tokens(chunk.title))
        for u in found:
            # an age bound names its age group ("Adult >65": older adults), as a patient's age does
            u.own_tokens = set(self.vocab.tokens(u.text)) | bounded_age_groups(u.text, self.vocab)
            u.context_tokens = (
                set(self.vocab.tokens(" ".join(u.context))) | bounded_age_groups(" ; ".join(u.context), self.vocab)
                if u.context
                else set()
            )
            if u.kind == "sentence":  # a prose sentence is about its document's subject too
                u.context_tokens |= title_tokens
            u.tokens = u.own_tokens | u.context_tokens
            u.numbers = numbers_in(u.text)
            u.diseases = frozenset(diseases_in(" ".join([chunk.section, *u.context, u.text])))
            u.untrusted = is_untrusted(u.text)
        passage = frozenset(title_tokens.union(self.vocab.tokens(chunk.section), *(u.tokens for u in found)))
        for u in found:
            u.passage_tokens = passage
        return found

    def units(self, chunk: Chunk) -> list[Unit]:
        with self._lock:
            found = self._units.get(chunk.chunk_id)
        if found is None:
            found = self._compute(chunk)
            with self._lock:
                self._units[chunk.chunk_id] = found
        return found

    def passage_tokens(self, chunk: Chunk) -> frozenset[str]:
        """The tokens of a whole passage, its section and its title."""
        found = self.units(chunk)
        return found[0].passage_tokens if found else frozenset()

    def __len__(self) -> int:
        return len(self._units)

    def gather(self, hits: list[Hit], limit: int) -> list[Unit]:
        out: list[Unit] = []
        for hit in hits[:limit]:
            out.extend(u.at_rank(hit.rank) for u in self.units(hit.chunk))
        return out
