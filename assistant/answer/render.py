"""Rendering: the one place that turns chosen evidence into the text a clinician reads.

It quotes each chosen unit verbatim as a sentence (a passage's bullets as one sentence with their
section path and parents, a drug card's fields with the drug's name, prose split into sentences),
drops text that addresses the assistant and bracketed numbers that would pose as ALLy's markers,
leads with the pathway's options for a described patient, numbers the cited passages `[n]` in
order of first use, and builds the typed `Answer` (and its streamed events).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ally.schema import Answer, Citation, PathwayResult, RetrievedPassage
from ally.text import split_sentences
from assistant.answer.choose import Choice
from assistant.answer.evidence import Unit
from assistant.answer.population import Population, mismatch_note
from assistant.answer.question import asks_for_management, numbers_in
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


def is_instruction(text: str) -> bool:
    """True for a sentence that instructs the assistant (never quoted as evidence)."""
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


@dataclass
class Composition:
    """The answer's sentences before numbering, or an abstention with its reason."""

    abstained: bool
    sentences: list[Sentence] = field(default_factory=list)
    reason: str = ""
    missing: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # chunk id -> population note

    @property
    def cited(self) -> list[str]:
        """Chunk ids in order of first citation."""
        return list(dict.fromkeys(c for s in self.sentences for c in s.chunk_ids))


def bullet_sentence(members: list[Unit]) -> str:
    """One passage's selected bullets as a sentence: its section path, then the items, nested
    items in parentheses after their parent ("…MRD+: Blinatumomab +/- TKI; Inotuzumab ozogamicin
    +/- TKI (Anti-CD22 ADC; …); TKI")."""
    path = [p for p in members[0].chunk.section.split(" > ") if p]
    top: list[tuple[str, list[str]]] = []
    for m in sorted(members, key=lambda u: u.index):
        inner = m.context[len(path) :]
        if not inner:
            top.append((m.text, []))
        elif top and top[-1][0].rstrip(":").strip() == inner[-1]:
            top[-1][1].append(m.text)
        else:
            top.append((f"{' > '.join(inner)}: {m.text}", []))
    items = [f"{t} ({'; '.join(kids)})" if kids else t for t, kids in top]
    return f"{' > '.join(path)}: {'; '.join(items)}" if path else "; ".join(items)


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


def _texts(members: list[Unit]) -> list[str]:
    first = members[0]
    if first.kind == "bullet" and first.context:
        return [bullet_sentence(members)]
    if first.kind == "field":
        return [m.display for m in members]
    return split_sentences(first.text)


def compose(choice: Choice, population: Population | None) -> Composition:
    """The chosen units as cited sentences (or the choice's abstention)."""
    if choice.abstained:
        return Composition(True, reason=choice.reason, missing=choice.missing)
    comp = Composition(False)
    seen: set[str] = set()
    for members in _groups(choice.units):
        cid = members[0].chunk.chunk_id
        for raw in _texts(members):
            note = mismatch_note(population, raw) if population is not None else None
            if note:
                comp.notes[cid] = note
            text = without_markers(raw)
            if text and text not in seen and not is_instruction(text):
                seen.add(text)
                comp.sentences.append(Sentence(text, [cid], note))
    if choice.pairs:
        ids = list(dict.fromkeys(i for a, b in choice.pairs for i in (a.chunk.chunk_id, b.chunk.chunk_id)))
        comp.sentences.append(Sentence("The cited sources give different figures on this point", ids))
    if not comp.sentences:
        return Composition(True, reason="no passage in the store answers the question as evidence")
    return comp


# --- the pathway's lead ---------------------------------------------------------------------


def pathway_leads(pathway: PathwayResult | None, explicit_patient: bool, question: str) -> bool:
    """Whether the pathway's options lead the answer: a node with options of its own, and a
    patient record given or a question that asks what to do."""
    return (
        pathway is not None
        and any(not (o.id or "").startswith(GENERAL_OPTION_PREFIX) for o in pathway.options)
        and (explicit_patient or asks_for_management(question))
    )


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
    for option in specific or pathway.options:
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
    anchor = items[0][1] if items else None
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


def _text(comp: Composition, lines: list[tuple[Sentence, list[int]]], abstained: bool) -> str:
    if abstained:
        return f"I can't answer this from ALLy's sources: {comp.reason}."
    rendered = []
    for s, ns in lines:
        marks = "".join(f"[{n}]" for n in ns)
        note = f" ({s.note})" if s.note else ""
        rendered.append(f"{s.text} {marks}{note}".replace("  ", " ").rstrip())
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
