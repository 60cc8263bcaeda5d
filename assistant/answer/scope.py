"""Scope: what the ingested documents are about, and which of them may be evidence at all.

Built once per store generation from the documents' derived metadata (`DocumentFacts.subjects`,
`DocumentFacts.untrusted`, read from the manifest; set at ingest by `ally.subjects` and
`ally.untrusted`). A question that names a disease no ingested document is about is refused, naming
it; one that names a covered disease is answered only from documents about it or passages that name
it. A document flagged as untrusted (its text addresses the reader or the assistant) is never
evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ally.schema import DocumentFacts, DocumentInfo
from ally.subjects import labels


@dataclass(frozen=True)
class Scope:
    subjects: dict[str, frozenset[str]]  # doc id -> its diseases (documents with derived subjects)
    underived: frozenset[str]  # doc ids ingested before subjects were derived: judged by their text
    untrusted: frozenset[str]  # doc ids kept out of answers
    # doc id -> its authors, publisher, year and file name: "per Li 2025" names the source, not its
    # text. Tokenised on first use (opening a 100k-document generation tokenises none of them).
    source_text: dict[str, str] = field(default_factory=dict)
    tokens: Callable[[str], list[str]] | None = None
    _source_tokens: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
    _covered: frozenset[str] = field(init=False, default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        # the diseases some trusted document is about: `covers` is asked for every disease of every
        # question, and a loop over all documents' subjects cost ~0.5 ms per answer at 5k documents
        covered = frozenset().union(*(s for doc, s in self.subjects.items() if doc not in self.untrusted))
        object.__setattr__(self, "_covered", covered)

    @classmethod
    def of(
        cls, documents: Iterable[DocumentFacts | DocumentInfo], tokens: Callable[[str], list[str]] | None = None
    ) -> Scope:
        subjects: dict[str, frozenset[str]] = {}
        underived: set[str] = set()
        untrusted: set[str] = set()
        source_text: dict[str, str] = {}
        for d in documents:
            stem = d.path.rsplit("/", 1)[-1].rsplit(".", 1)[0] if d.path else ""
            source_text[d.doc_id] = " ".join(
                [*d.authors, d.publisher or "", str(d.year or ""), d.published or "", stem]
            )
            if d.subjects is None:
                underived.add(d.doc_id)
            else:
                subjects[d.doc_id] = frozenset(d.subjects)
            if d.untrusted:
                untrusted.add(d.doc_id)
        return cls(subjects, frozenset(underived), frozenset(untrusted), source_text, tokens)

    @classmethod
    def open(cls) -> Scope:
        """No documents known: every disease may be covered, nothing is untrusted (tests, fakes)."""
        return cls({}, frozenset({"*"}), frozenset())

    def covers(self, disease: str) -> bool:
        """Whether some trusted ingested document is about `disease` (or may be: not derived yet)."""
        if self.underived - self.untrusted:
            return True
        return disease in self._covered

    def about(self, doc_id: str, diseases: Iterable[str]) -> bool:
        """Whether the document is about one of `diseases` by its derived subjects."""
        return bool(self.subjects.get(doc_id, frozenset()) & set(diseases))

    def of_source(self, doc_id: str) -> frozenset[str]:
        found = self._source_tokens.get(doc_id)
        if found is None:
            text = self.source_text.get(doc_id, "")
            found = frozenset(self.tokens(text)) if self.tokens is not None and text else frozenset()
            self._source_tokens[doc_id] = found  # a dict write: safe across answer threads
        return found

    def trusted(self, doc_id: str) -> bool:
        return doc_id not in self.untrusted


def label(disease: str) -> str:
    return labels().get(disease, disease)
