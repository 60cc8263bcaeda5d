"""Subjects: which diseases a text is about, from the terms in `ally/data/subjects.yaml`.

Shared by ingest (a document's subjects are derived from its own text when it is chunked) and by
the answer path (a question naming a disease is answered only from documents or sections about it,
and refused, naming the disease, when no ingested document is about it). The data file lists
diseases and how they are written; which of them the sources cover follows from what was ingested.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ally import yaml_data
from ally.vocab import FOLD_SPECIAL, leading_run, runs

SUBJECTS_VERSION = 2  # bump when the data or the rule below change: stores re-derive document subjects
TITLE_WEIGHT = 3  # a disease named in the title counts as this many mentions
MIN_MENTIONS = 2  # a disease mentioned fewer times than this is a passing mention, not a subject
MIN_SHARE = 0.25  # ... or one mentioned less than this share of the document's leading disease
# A text this short (an excerpt, a snippet, a one-paragraph abstract) has no room for repeated
# mentions: the disease it names most is its subject even when named once.
SHORT_TEXT = 1000


@dataclass(frozen=True)
class Disease:
    id: str
    label: str
    pattern: re.Pattern[str]
    terms: tuple[str, ...] = ()  # lower-cased: the pattern can match only where one occurs
    abbreviations: tuple[str, ...] = ()  # as written (case matters)

    def may_occur(self, text: str, lowered: str) -> bool:
        """False when no term or abbreviation occurs in `text` at all (then the pattern cannot
        match): a substring test, far cheaper than the pattern."""
        return any(t in lowered for t in self.terms) or any(a in text for a in self.abbreviations)


def _disease(entry: dict[str, Any]) -> Disease:
    spelled = tuple(sorted({t.lower() for t in entry.get("terms", [])}, key=len, reverse=True))
    short = tuple(sorted(set(entry.get("abbreviations", [])), key=len, reverse=True))
    return Disease(entry["id"], entry["label"], _pattern(spelled, short), spelled, short)


def _pattern(spelled: Iterable[str], short: Iterable[str]) -> re.Pattern[str]:
    """Longest first: lower-cased terms matched in any case, abbreviations as written."""
    parts = [rf"(?i:{re.escape(t)})" for t in spelled] + [re.escape(a) for a in short]
    # Word boundaries that also hold next to "+", "-" and "/" ("Ph+ ALL", "B-ALL", "ALL/LBL").
    return re.compile(rf"(?<![\w-])(?:{'|'.join(parts)})(?![\w]|-\w)")


@lru_cache(maxsize=1)
def diseases() -> tuple[Disease, ...]:
    """The diseases of the data file, in its order."""
    raw = yaml_data.safe_load(resources.files("ally").joinpath("data/subjects.yaml").read_text(encoding="utf-8"))
    return tuple(_disease(d) for d in raw["diseases"])


@lru_cache(maxsize=1)
def labels() -> dict[str, str]:
    return {d.id: d.label for d in diseases()}


@lru_cache(maxsize=1)
def _by_run() -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """The diseases' positions by the leading run of each of their terms and abbreviations
    (`ally.vocab.leading_run`: a text names a disease only where one is a run of its own), and
    those tried on every text (a term that begins otherwise)."""
    index: dict[str, set[int]] = {}
    always: list[int] = []
    for i, d in enumerate(diseases()):
        keys = {leading_run(t) for t in (*d.terms, *d.abbreviations)}
        if "" in keys:
            always.append(i)
            continue
        for key in keys:
            index.setdefault(key, set()).add(i)
    return {k: tuple(sorted(v)) for k, v in index.items()}, tuple(always)


def mentions(text: str) -> Counter[str]:
    """How often each disease is named in `text` (disease id -> count)."""
    found: Counter[str] = Counter()
    # (a character that case-folds across letters, "ſ" ~ "s", defeats the substring test: none then)
    lowered = None if FOLD_SPECIAL.intersection(text) else text.lower()
    every = diseases()
    if lowered is None:
        tried: Iterable[Disease] = every
    else:  # only diseases one of whose terms begins with a run of letters and digits the text holds
        index, always = _by_run()
        keyed = (i for r in runs(lowered) if r in index for i in index[r])
        tried = [every[i] for i in sorted({*always, *keyed})]
    for d in tried:
        if lowered is not None and not d.may_occur(text, lowered):
            continue
        n = len(d.pattern.findall(text))
        if n:
            found[d.id] = n
    return found


def diseases_in(text: str) -> list[str]:
    """The diseases `text` names, in the data file's order."""
    return list(mentions(text))


def document_subjects(title: str, texts: Iterable[str]) -> list[str]:
    """The diseases a document is about: named in its title, or named repeatedly in its text (at
    least MIN_MENTIONS times and MIN_SHARE of its most named disease), or, in a text shorter than
    SHORT_TEXT characters, named most. Passing mentions ("unlike AML, ...") do not make a subject."""
    body = "\n".join(texts)
    counts = mentions(body)
    for d, n in mentions(title).items():
        counts[d] += TITLE_WEIGHT * n
    if not counts:
        return []
    top = max(counts.values())
    in_title = set(mentions(title))
    least = 1 if len(body) < SHORT_TEXT else MIN_MENTIONS
    return [
        d.id
        for d in diseases()
        if d.id in in_title
        or (counts.get(d.id, 0) >= MIN_MENTIONS and counts[d.id] >= MIN_SHARE * top)
        or (counts.get(d.id, 0) >= least and counts[d.id] == top)
    ]
