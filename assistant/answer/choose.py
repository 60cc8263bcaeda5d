"""Choosing the evidence: which scored units answer the question, or why ALLy abstains.

From the scored evidence units of the retrieved passages, the chooser refuses what is out of
scope (an instruction, another disease, nothing searchable), selects the units that answer the
question relative to the best one, completes a selected pathway branch with its sibling options
and a drug card with the fields asked about, removes near-duplicates, abstains (saying what was
not found) when the evidence does not cover the question or lacks the dose or figure asked for,
and pairs units that give different figures on the same point. Rendering is `render.py`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ally.settings import Settings
from ally.vocab import Vocabulary
from assistant.answer.evidence import IdfTable, Unit, UnitCache, score_units
from assistant.answer.question import DOSE_RE, QuestionAnalysis
from assistant.answer.retrieval import Hit

_PERCENT_RE = re.compile(r"\d+(?:\.\d+)?\s*%")


@dataclass
class Choice:
    """The units chosen to answer (and pairs of units that disagree), or an abstention."""

    abstained: bool
    units: list[Unit] = field(default_factory=list)
    pairs: list[tuple[Unit, Unit]] = field(default_factory=list)
    reason: str = ""
    missing: list[str] = field(default_factory=list)


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class Chooser:
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
    def choose(self, q: QuestionAnalysis, hits: list[Hit]) -> Choice:
        refusal = self._refusal(q)
        if refusal:
            return Choice(True, reason=refusal[0], missing=refusal[1])
        if not hits:
            return Choice(True, reason="no passage in the store matches the question", missing=q.terms)
        chosen = self.select(q, hits)
        if not chosen:
            return Choice(True, reason="no passage in the store matches the question", missing=q.terms)
        top = chosen[0]
        unseen_share, unseen = self._unseen_share(q)
        covered = set().union(*(u.tokens for u in chosen))
        missing = [t for t in q.terms if t not in covered and not t.startswith("c_")]
        if top.coverage < self.settings.abstain_threshold or unseen_share > 0.34:
            what = ", ".join(unseen or missing) or "the question's terms"
            return Choice(True, reason=f"no passage covers {what}", missing=unseen or missing)
        if q.wants_dose:
            therapies = {c for c in q.concepts if self.vocab.concepts[c].therapy} - {"c_tki", "c_chemo"}
            broader = {b for c in therapies for b in self.vocab.with_broader({c}) if b != c}
            specific = therapies - broader  # the narrowest: "Kymriah" asks about tisagenlecleucel, not any CAR-T
            about = [u for u in chosen if not specific or specific & u.tokens]
            if not any(DOSE_RE.search(u.text) for u in about):
                names = ", ".join(sorted(self.vocab.label(c) for c in specific)) or "this"
                return Choice(True, reason=f"no passage gives a dose for {names}", missing=[f"dose of {names}"])
        if q.wants_number and not any(u.numbers for u in chosen[:3]):
            return Choice(True, reason="no passage gives the figure asked for", missing=missing)

        pool = score_units(self.cache.gather(hits, len(hits)), q, self.vocab, self.idf)
        pairs = self._disagreements(q, chosen, pool)
        for _, other in pairs:
            if all(other.text != u.text for u in chosen):
                chosen.append(other)
        return Choice(False, units=chosen, pairs=pairs)
