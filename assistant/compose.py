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
from assistant.analysis import DOSE_RE, QuestionAnalysis, is_specific
from assistant.evidence import IdfTable, Unit, UnitCache, score_units
from assistant.population import Population, mismatch_note
from assistant.retrieval import Hit

_SPLIT_RE = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bapprox)(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_PERCENT_RE = re.compile(r"\d+(?:\.\d+)?\s*%")


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
        return None

    def _unseen_share(self, q: QuestionAnalysis) -> tuple[float, list[str]]:
        weights = {t: self.idf(t) for t in q.terms}
        total = sum(weights.values()) or 1.0
        unseen = [t for t in q.terms if t not in self.idf.df and is_specific(t, q.corrected)]
        return sum(weights[t] for t in unseen) / total, unseen

    # --- selection -------------------------------------------------------------------------
    def select(self, q: QuestionAnalysis, hits: list[Hit]) -> list[Unit]:
        units = score_units(self.cache.gather(hits, 6), q, self.vocab, self.idf)
        units = [u for u in units if not u.text.rstrip().endswith(":")]
        units.sort(key=lambda u: (-u.score, u.hit_rank, u.index))
        if not units:
            return []
        best = units[0].score
        floor = max(0.7 * best, self.settings.abstain_threshold * 0.8)
        chosen: list[Unit] = []
        for u in units:
            if u.score < floor or len(chosen) >= self.settings.max_answer_sentences:
                break
            if any(u.text == c.text or _jaccard(u.tokens, c.tokens) >= 0.85 for c in chosen):
                continue
            chosen.append(u)
        return self._complete_branches(chosen, units)

    def _complete_branches(self, chosen: list[Unit], pool: list[Unit]) -> list[Unit]:
        """Add the sibling options of a selected pathway branch (same passage, same context)."""
        out = list(chosen)
        taken = {(u.group_key, u.text) for u in out}
        for u in chosen:
            if u.kind != "bullet" or len(u.context) < 2:
                continue
            siblings = [s for s in pool if s.group_key == u.group_key and (s.group_key, s.text) not in taken]
            if len(siblings) > 8:
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
                if len(shared) >= 3 and a_pct.isdisjoint(b_pct) and _jaccard(a.tokens, b.tokens) >= 0.2:
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
            specific = {c for c in q.concepts if self.vocab.concepts[c].therapy} - {"c_tki", "c_chemo"}
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
            key = u.group_key if u.kind in ("bullet", "field") else (u.chunk.chunk_id, f"#{u.index}")
            if key not in groups:
                groups[key] = []
                order.append(key)
            if all(x.text != u.text for x in groups[key]):
                groups[key].append(u)
        for key in order:
            members = sorted(groups[key], key=lambda u: u.index)
            first = members[0]
            cid = first.chunk.chunk_id
            if cid not in comp.cited:
                comp.cited.append(cid)

            def note_for(text: str, cid: str = cid) -> str | None:
                if population is None:
                    return None
                note = mismatch_note(population, text)
                if note:
                    comp.notes[cid] = note
                return note

            def add(text: str, note: str | None, cid: str = cid) -> None:
                if text not in seen:
                    seen.add(text)
                    comp.sentences.append(Sentence(text, [cid], note))

            if first.kind == "bullet" and first.context:
                text = f"{' > '.join(first.context)}: {'; '.join(m.text for m in members)}"
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
        return comp
