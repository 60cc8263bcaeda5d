"""Extractive answer composition with a citation on every sentence, and honest abstention.

From the scored evidence units of the retrieved passages, the composer selects the ones that
answer the question, completes a selected branch of a pathway with its sibling options, removes
duplicates, orders them, and renders each as a sentence followed by its marker `[n]` (n numbers
the cited passages in order of first use). Numbers are never rewritten: every unit is verbatim.
It abstains, saying what was not found, when the evidence does not cover the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ally.settings import Settings
from ally.vocab import Vocabulary
from assistant.analysis import DOSE_RE, QuestionAnalysis
from assistant.evidence import IdfTable, Unit, UnitCache, score_units
from assistant.population import Population, mismatch_note
from assistant.retrieval import Hit

_SPLIT_RE = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bapprox)(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_PERCENT_RE = re.compile(r"\d+(?:\.\d+)?\s*%")
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
    text: str
    chunk_ids: list[str]
    note: str | None = None
    parts: list[tuple[str, str]] = field(default_factory=list)  # (text, chunk id) items, each cited


@dataclass
class Composition:
    abstained: bool
    sentences: list[Sentence] = field(default_factory=list)
    reason: str = ""
    missing: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)  # chunk ids in citation order
    notes: dict[str, str] = field(default_factory=dict)  # chunk id -> population note


def _bullet_sentence(members: list[Unit]) -> str:
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


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT_RE.split(text) if s.strip()]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class Composer:
    def __init__(self, settings: Settings, vocab: Vocabulary, idf: IdfTable) -> None:
        self.settings = settings
        self.vocab = vocab
        self.idf = idf
        self.cache = UnitCache(vocab)

    # --- abstention checks -------------------------------------------------------------------
    def _refusal(self, q: QuestionAnalysis) -> tuple[str, list[str]] | None:
        if q.injection:
            return (
                "the question asks the assistant to follow instructions; ALLy only answers questions about "
                "acute lymphoblastic leukemia from its sources",
                [],
            )
        all_terms = {"c_all", "c_b_all", "c_t_all"}
        if q.other_disease and not (q.concepts & all_terms):
            return (f"the sources cover acute lymphoblastic leukemia, not {q.other_disease}", [q.other_disease])
        if not q.terms:
            return ("the question names nothing the sources could be searched for", [])
        if q.unknown_share > 0.5:
            return ("most of what the question asks about never occurs in the sources", [])
        return None

    def _unseen_share(self, q: QuestionAnalysis) -> tuple[float, list[str]]:
        weights = {t: self.idf(t) for t in q.terms}
        total = sum(weights.values()) or 1.0
        unseen = [t for t in q.terms if t in q.unseen_specific]
        return sum(weights[t] for t in unseen) / total, unseen

    # --- selection -------------------------------------------------------------------------
    def select(self, q: QuestionAnalysis, hits: list[Hit]) -> list[Unit]:
        units = score_units(self.cache.gather(hits, 10), q, self.vocab, self.idf)
        # Ties go to the unit that says more (a sentence with the one it leans on).
        units.sort(key=lambda u: (-round(u.score, 6), u.hit_rank, -len(u.tokens), u.index))
        if not units:
            return []
        best = units[0].score
        floor = max(0.7 * best, self.settings.abstain_threshold * 0.8)
        chosen: list[Unit] = []
        for u in units:
            if u.score < floor or len(chosen) >= self.settings.max_answer_sentences:
                break
            if any(u.text in c.text or c.text in u.text or _jaccard(u.tokens, c.tokens) >= 0.85 for c in chosen):
                continue
            chosen.append(u)
        return self._complete_cards(q, self._complete_branches(chosen, units), units)

    def _complete_cards(self, q: QuestionAnalysis, chosen: list[Unit], pool: list[Unit]) -> list[Unit]:
        """Add the other fields of a selected drug card that the question asks about ("year and maker")."""
        out = list(chosen)
        taken = {(u.chunk.chunk_id, u.text) for u in out}
        cards = {u.chunk.chunk_id for u in chosen if u.kind == "field"}
        for u in pool:
            if u.chunk.chunk_id in cards and (u.chunk.chunk_id, u.text) not in taken:
                asked = [t for t in q.terms if t not in u.context_tokens]
                if any(t in u.own_tokens for t in asked):
                    out.append(u)
                    taken.add((u.chunk.chunk_id, u.text))
        return out

    def _complete_branches(self, chosen: list[Unit], pool: list[Unit]) -> list[Unit]:
        """Add the sibling options of a selected pathway branch (same passage, same context)."""
        out = list(chosen)
        taken = {(u.group_key, u.text) for u in out}
        for u in chosen:
            if u.kind != "bullet" or len(u.context) < 2:
                continue
            siblings = [s for s in pool if s.group_key == u.group_key and (s.group_key, s.text) not in taken]
            if len(siblings) > 15:
                continue
            for s in sorted(siblings, key=lambda s: s.index):
                out.append(s)
                taken.add((s.group_key, s.text))
        return out

    # --- disagreement ----------------------------------------------------------------------
    def _disagreements(self, q: QuestionAnalysis, chosen: list[Unit], pool: list[Unit]) -> list[tuple[Unit, Unit]]:
        q_terms = set(q.terms)
        pairs: list[tuple[Unit, Unit]] = []
        with_pct = [u for u in pool if _PERCENT_RE.search(u.text) and u.coverage >= 0.5 * (chosen[0].coverage or 1)]
        for a in chosen:
            a_pct = set(_PERCENT_RE.findall(a.text))
            if not a_pct:
                continue
            for b in with_pct:
                if b.chunk.chunk_id == a.chunk.chunk_id:
                    continue
                b_pct = set(_PERCENT_RE.findall(b.text))
                shared = (a.tokens & b.tokens & q_terms) - {"c_all", "all"}
                if len(shared) >= 2 and a_pct.isdisjoint(b_pct) and _jaccard(a.tokens, b.tokens) >= 0.3:
                    pairs.append((a, b))
                    break
        return pairs

    # --- composition -----------------------------------------------------------------------
    def compose(self, q: QuestionAnalysis, hits: list[Hit], population: Population | None) -> Composition:
        refusal = self._refusal(q)
        if refusal:
            return Composition(True, reason=refusal[0], missing=refusal[1])
        if not hits:
            return Composition(True, reason="no passage in the store matches the question", missing=q.terms)
        chosen = self.select(q, hits)
        if not chosen:
            return Composition(True, reason="no passage in the store matches the question", missing=q.terms)
        top = chosen[0]
        unseen_share, unseen = self._unseen_share(q)
        covered = set().union(*(u.tokens for u in chosen))
        missing = [t for t in q.terms if t not in covered and not t.startswith("c_")]
        if top.coverage < self.settings.abstain_threshold or unseen_share > 0.34:
            what = ", ".join(unseen or missing) or "the question's terms"
            return Composition(True, reason=f"no passage covers {what}", missing=unseen or missing)
        if q.wants_dose:
            therapies = {c for c in q.concepts if self.vocab.concepts[c].therapy} - {"c_tki", "c_chemo"}
            broader = {b for c in therapies for b in self.vocab.with_broader({c}) if b != c}
            specific = therapies - broader  # the narrowest: "Kymriah" asks about tisagenlecleucel, not any CAR-T
            about = [u for u in chosen if not specific or specific & u.tokens]
            if not any(DOSE_RE.search(u.text) for u in about):
                names = ", ".join(sorted(self.vocab.label(c) for c in specific)) or "this"
                return Composition(True, reason=f"no passage gives a dose for {names}", missing=[f"dose of {names}"])
        if q.wants_number and not any(u.numbers for u in chosen[:3]):
            return Composition(True, reason="no passage gives the figure asked for", missing=missing)

        pool = score_units(self.cache.gather(hits, len(hits)), q, self.vocab, self.idf)
        pairs = self._disagreements(q, chosen, pool)
        for _, other in pairs:
            if all(other.text != u.text for u in chosen):
                chosen.append(other)
        return self._render(chosen, pairs, population)

    def _render(self, units: list[Unit], pairs: list[tuple[Unit, Unit]], population: Population | None) -> Composition:
        comp = Composition(False)
        seen: set[str] = set()
        groups: dict[tuple[str, str], list[Unit]] = {}
        order: list[tuple[str, str]] = []
        for u in units:
            if u.kind == "bullet":
                key = (u.chunk.chunk_id, u.chunk.section)  # nested bullets render inside their parent
            elif u.kind == "field":
                key = u.group_key
            else:
                key = (u.chunk.chunk_id, f"#{u.index}")
            if key not in groups:
                groups[key] = []
                order.append(key)
            if all(x.text != u.text for x in groups[key]):
                groups[key].append(u)
        for key in order:
            members = sorted(groups[key], key=lambda u: u.index)
            first = members[0]
            cid = first.chunk.chunk_id

            def note_for(text: str, cid: str = cid) -> str | None:
                if population is None:
                    return None
                note = mismatch_note(population, text)
                if note:
                    comp.notes[cid] = note
                return note

            def add(text: str, note: str | None, cid: str = cid) -> None:
                text = without_markers(text)
                if text and text not in seen and not is_instruction(text):
                    seen.add(text)
                    comp.sentences.append(Sentence(text, [cid], note))
                    if cid not in comp.cited:
                        comp.cited.append(cid)

            if first.kind == "bullet" and first.context:
                text = _bullet_sentence(members)
                add(text, note_for(text))
            elif first.kind == "field":
                for m in members:
                    add(m.display, note_for(m.display))
            else:
                for s in split_sentences(first.text):
                    add(s, note_for(s))
        if pairs:
            ids: list[str] = []
            for a, b in pairs:
                ids.extend([a.chunk.chunk_id, b.chunk.chunk_id])
            ids = list(dict.fromkeys(ids))
            comp.sentences.append(Sentence("The cited sources give different figures on this point", ids))
            comp.cited.extend(i for i in ids if i not in comp.cited)
        if not comp.sentences:
            return Composition(True, reason="no passage in the store answers the question as evidence")
        return comp
