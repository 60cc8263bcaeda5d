"""Sentence splitting, once for the whole project: ingest (chunk windows, lost-list headers), the
answer path (evidence units, rendered and LLM sentences) and the eval harness use this module.

A sentence ends at `.`, `!` or `?` followed by white space and a capital, a digit, a quote, an
opening parenthesis or a dash; citation markers right after the full stop ("… daily. [1] Next")
stay with their sentence; "e.g.", "i.e.", "vs." and "approx." do not end one. Single initials
are not guarded: on real PubMed text ("… vitamins E and C. PM and FM provided …") that guard
merged true sentence ends. Plain regular expressions: deterministic and fast, which a 100k-chunk
ingest needs. A structured abstract's section label at a sentence's start ("CONCLUSIONS: …") is
told apart here too (`without_section_label`), for the answer path's choosing and rendering.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?])(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*\s+(?!\[)(?=[A-Z0-9\"'(-])")
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|vs|approx)\.$", re.IGNORECASE)
# A sentence that leans on the one before it (a pronoun or connective subject): quoted with it.
LEANS_BACK = re.compile(
    r"^(?:[A-Z][\w ]{0,25},\s+)?(It|it|Its|This|this|These|these|That|Those|They|they|Their|The study|"
    r"The therapy|The results|The findings|Results|Such|Both|However|In most cases|At the same time|"
    r"Additionally|Among these)\b"
)


def split_line(line: str) -> list[str]:
    """The sentences of one line of text, stripped, in order (empty pieces dropped)."""
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(line):
        if _ABBREVIATION.search(line[start : m.start()]):
            continue  # "e.g. HyperCVAD" is one sentence
        piece = line[start : m.end()].strip()
        if piece:
            sentences.append(piece)
        start = m.end()
    rest = line[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, line by line (a line break always ends a sentence)."""
    return [s for line in text.splitlines() for s in split_line(line)]


# The labels of NLM's structured abstracts ("CONCLUSIONS: …").
ABSTRACT_LABEL_WORDS = (
    "BACKGROUND", "CONCLUSIONS", "CONCLUSION", "RESULTS", "METHODS", "FINDINGS", "INTERPRETATION", "OBJECTIVES",
    "OBJECTIVE", "PURPOSE", "INTRODUCTION", "AIMS", "AIM", "CONTEXT", "SUMMARY", "DISCUSSION", "SIGNIFICANCE",
    "IMPORTANCE", "UNLABELLED",
)  # fmt: skip
# A structured abstract's section label at a sentence's start ("CONCLUSIONS:", "PURPOSE OF REVIEW:",
# "RESULTS In …"): one of the labels NLM's structured abstracts use, or several upper-case words and a
# colon (one such word is an acronym: "HSCT: recommended …" keeps it); a sentence follows it
# ("AIMS: 1) to verify …" keeps its label: the enumeration reads as one).
_SECTION_LABEL_RE = re.compile(
    rf"^(?:[A-Z]{{3,}}(?:\s+(?:OF|AND|[A-Z]{{3,}}))+\s*:|(?:{'|'.join(ABSTRACT_LABEL_WORDS)})(?:\s+AND\s+[A-Z]+)?\b:?)\s+"
    r"(?=[A-Z])"
)


def without_section_label(text: str) -> str:
    """The sentence without a structured abstract's section label at its start."""
    return _SECTION_LABEL_RE.sub("", text, count=1) or text
