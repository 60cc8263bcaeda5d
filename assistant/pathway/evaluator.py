"""The pathway evaluator: pure functions from a patient record and the pathway book to a result.

`evaluate(patient, book)` walks the tree from the root, taking the one child whose branch
condition is true. It stops at a leaf, or where no child is true but some are unknown: then the
result says `needs_info` and `missing` names the fields that decide the branch. Options along the
path are on when all their requirements are true; options with an unknown requirement are listed
under `conditional` and their fields join `missing`. Nothing is guessed: unknown is never false.

`check(patient, therapy, book)` gives a verdict on one proposed therapy (names normalised through
the shared vocabulary: brand names, abbreviations, combinations):

- `on`: an option on the patient's path covers it;
- `conditional`: an option covers it but a requirement's field is unknown (e.g. CD20 for rituximab);
- `needs_info`: the branch is undetermined and the therapy is an option in some branch below;
- `off`: no option on the path or below covers it, or a requirement is false (the reason says which).

No I/O and no model: the book (with the vocabulary it was built with) is passed in; callers load
it once (`assistant.resources.load_pathway_book`). Walks, evaluations and therapy names are
memoised on `(patient, book)` (both hashable and immutable); `evaluate` hands out a fresh copy of
the memoised result, since callers set `id` and resolve citations on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ally.errors import InputError
from ally.schema import PathwayCitation, PathwayOption, PathwayResult, Patient, TherapyCheck, parse_patient
from assistant.pathway.models import PATIENT_FIELDS, Compiled, Node, Option, PathwayBook, Quote, Requirement, Tri

WALK_MEMO_SIZE = 20_000  # patient walks kept per process (least recently used dropped first)
RESULT_MEMO_SIZE = 4_096  # evaluated results kept (copied on the way out)
THERAPY_MEMO_SIZE = 4_096  # normalised therapy names kept


@dataclass(frozen=True)
class _ReqPlan:
    req: Requirement
    fn: Compiled
    fields: frozenset[str]


@dataclass(frozen=True)
class _OptPlan:
    option: Option
    reqs: tuple[_ReqPlan, ...]
    concepts: frozenset[str]


@dataclass(frozen=True)
class _NodePlan:
    """A node with its conditions compiled once per book (plain closures: fast to evaluate)."""

    node: Node
    when: Compiled | None
    when_fields: frozenset[str]
    options: tuple[_OptPlan, ...]
    notes: tuple[tuple[str, Compiled | None], ...]
    children: tuple[_NodePlan, ...]
    subtree_concepts: frozenset[str]


def _compile_node(node: Node) -> _NodePlan:
    children = tuple(_compile_node(c) for c in node.children)
    concepts = frozenset(c for o in node.options for c in o.concepts).union(*(c.subtree_concepts for c in children))
    return _NodePlan(
        node=node,
        when=node.when.compiled() if node.when is not None else None,
        when_fields=frozenset(node.when.fields()) if node.when is not None else frozenset(),
        options=tuple(
            _OptPlan(
                option=o,
                reqs=tuple(_ReqPlan(r, r.when.compiled(), frozenset(r.when.fields())) for r in o.requires),
                concepts=frozenset(o.concepts),
            )
            for o in node.options
        ),
        notes=tuple((n.gap, n.when.compiled() if n.when is not None else None) for n in node.notes),
        children=children,
        subtree_concepts=concepts,
    )


@lru_cache(maxsize=8)
def _plan(book: PathwayBook) -> _NodePlan:
    """The book's tree with its conditions compiled (once per book)."""
    return _compile_node(book.root)


@dataclass(frozen=True)
class OptionState:
    node: Node
    plan: _OptPlan
    status: Tri
    failed: tuple[Requirement, ...]
    unknown: tuple[Requirement, ...]
    unknown_fields: frozenset[str]

    @property
    def option(self) -> Option:
        return self.plan.option


@dataclass(frozen=True)
class Walk:
    """Where a patient lands in the tree: the path, whether a leaf was reached, and option states."""

    path: tuple[Node, ...]
    complete: bool
    routing_missing: tuple[str, ...]
    candidates: tuple[_NodePlan, ...]
    options: tuple[OptionState, ...]
    notes: tuple[str, ...]

    @property
    def node(self) -> Node:
        return self.path[-1]


def _ordered(fields: Iterable[str]) -> tuple[str, ...]:
    wanted = set(fields)
    return tuple(f for f in PATIENT_FIELDS if f in wanted)


def _unknown_fields(patient: Patient, fields: Iterable[str]) -> set[str]:
    values = patient.__dict__
    return {f for f in fields if values[f] is None}


def _option_state(node: Node, plan: _OptPlan, patient: Patient) -> OptionState:
    failed: list[Requirement] = []
    unknown: list[Requirement] = []
    unknown_fields: set[str] = set()
    for r in plan.reqs:
        value = r.fn(patient)
        if value is False:
            failed.append(r.req)
        elif value is None:
            unknown.append(r.req)
            unknown_fields |= _unknown_fields(patient, r.fields)
    status: Tri = False if failed else (None if unknown else True)
    return OptionState(node, plan, status, tuple(failed), tuple(unknown), frozenset(unknown_fields))


def _as_patient(patient: Patient | Mapping[str, Any] | None) -> Patient:
    if isinstance(patient, Patient):
        return patient
    return parse_patient(dict(patient) if patient is not None else None)


@lru_cache(maxsize=WALK_MEMO_SIZE)
def walk(patient: Patient, book: PathwayBook) -> Walk:
    """The patient's walk through the tree (memoised; a pure function of its inputs)."""
    return walk_uncached(patient, book)


def _branch(plan: _NodePlan, patient: Patient) -> tuple[_NodePlan | None, list[_NodePlan]]:
    """The one child whose branch condition is true (or None), and the children that are unknown."""
    true_children: list[_NodePlan] = []
    unknown_children: list[_NodePlan] = []
    for child in plan.children:
        assert child.when is not None
        value = child.when(patient)
        if value is True:
            true_children.append(child)
        elif value is None:
            unknown_children.append(child)
    if len(true_children) > 1:
        ids = ", ".join(c.node.id for c in true_children)
        raise AssertionError(f"pathway data: branches {ids} overlap for {patient.known()}")
    if not true_children and not unknown_children:
        raise AssertionError(f"pathway data: no branch of {plan.node.id!r} covers {patient.known()}")
    return (true_children[0] if true_children else None), unknown_children


def _gap_notes(path: list[_NodePlan], patient: Patient, book: PathwayBook) -> tuple[str, ...]:
    """The source-gap notes that apply along the path, each once, in path order."""
    notes: list[str] = []
    for n in path:
        for gap, fn in n.notes:
            if fn is None or fn(patient) is True:
                text = book.gaps[gap].note()
                if text not in notes:
                    notes.append(text)
    return tuple(notes)


def walk_uncached(patient: Patient, book: PathwayBook) -> Walk:
    """The patient's walk, computed afresh (for enumerations larger than the memo)."""
    plan = _plan(book)
    path = [plan]
    routing_missing: set[str] = set()
    candidates: list[_NodePlan] = []
    complete = True
    while plan.children:
        chosen, unknown_children = _branch(plan, patient)
        if chosen is not None:
            plan = chosen
            path.append(plan)
            continue
        complete = False
        candidates = unknown_children
        for child in unknown_children:
            routing_missing |= _unknown_fields(patient, child.when_fields)
        break
    return Walk(
        path=tuple(n.node for n in path),
        complete=complete,
        routing_missing=_ordered(routing_missing),
        candidates=tuple(candidates),
        options=tuple(_option_state(n.node, o, patient) for n in path for o in n.options),
        notes=_gap_notes(path, patient, book),
    )


# --- output ---------------------------------------------------------------------------------------


def _citation(book: PathwayBook, quote: Quote) -> PathwayCitation:
    source = book.sources[quote.source]
    return PathwayCitation.model_construct(doc_id=source.doc_id, chunk_id=None, text=quote.text, source=source.name)


def _citations(book: PathwayBook, quotes: Iterable[Quote]) -> list[PathwayCitation]:
    out: list[PathwayCitation] = []
    seen: set[tuple[str, str]] = set()
    for q in quotes:
        key = (q.source, q.text)
        if key not in seen:
            seen.add(key)
            out.append(_citation(book, q))
    return out


def option_citations(book: PathwayBook, option: Option) -> list[PathwayCitation]:
    return _citations(book, [*option.quotes, *(r.quote for r in option.requires)])


def _output_option(book: PathwayBook, option: Option) -> PathwayOption:
    return PathwayOption(
        id=option.id,
        therapy=option.therapy,
        detail=option.detail,
        level=option.level,
        source=book.sources[option.source].name,
        conditions=[r.text for r in option.requires],
        concepts=list(option.concepts),
        citations=option_citations(book, option),
    )


def node_label(path: tuple[Node, ...]) -> str:
    labels = [n.label for n in path[1:]] or [path[0].label]
    return " / ".join(labels)


def evaluate(patient: Patient | Mapping[str, Any], book: PathwayBook, *, id: Any = None) -> PathwayResult:
    """The node the patient reaches, its on-pathway options with citations, and what is missing."""
    result = _evaluated(_as_patient(patient), book).model_copy(deep=True)
    result.id = id
    return result


@lru_cache(maxsize=RESULT_MEMO_SIZE)
def _evaluated(p: Patient, book: PathwayBook) -> PathwayResult:
    """The memoised result (shared: never handed out, only copied)."""
    w = walk(p, book)
    missing = set(w.routing_missing)
    for s in w.options:
        if s.status is None:
            missing |= s.unknown_fields
    return PathwayResult(
        id=None,
        patient=p.known(),
        node=node_label(w.path),
        node_id=w.node.id,
        needs_info=not w.complete,
        options=[_output_option(book, s.option) for s in w.options if s.status is True],
        conditional=[_output_option(book, s.option) for s in w.options if s.status is None],
        missing=list(_ordered(missing)),
        notes=list(w.notes),
    )


# --- therapy checks --------------------------------------------------------------------------------


def procedure_concepts(book: PathwayBook) -> frozenset[str]:
    """Non-drug concepts the book's options cover (tests, work-up, prophylaxis) that can be proposed."""
    vocab = book.vocabulary
    return frozenset(
        c for _, o in book.options() for c in o.concepts if c in vocab.concepts and not vocab.concepts[c].therapy
    )


def normalise_therapy(name: str, book: PathwayBook) -> tuple[str, frozenset[str]]:
    """The display label and concept ids of a proposed therapy (brand names, abbreviations, combos),
    through the book's vocabulary (memoised).

    Raises InputError (field 'propose') when the vocabulary knows no therapy in `name`.
    """
    return _normalise_therapy(name, book)


@lru_cache(maxsize=THERAPY_MEMO_SIZE)
def _normalise_therapy(name: str, book: PathwayBook) -> tuple[str, frozenset[str]]:
    vocab = book.vocabulary
    if not name or not name.strip():
        raise InputError("propose: give a therapy name, e.g. 'blinatumomab' or 'Blincyto'", field="propose")
    single = vocab.therapy_concept(name)
    if single is not None:
        return vocab.label(single), frozenset({single})
    procedures = procedure_concepts(book)
    found: list[str] = []
    for m in vocab.matches(name):
        concept = vocab.concepts[m.concept]
        if (concept.therapy or m.concept in procedures) and m.concept not in found:
            found.append(m.concept)
    if not found:
        raise InputError(
            # the text is not echoed: free text may carry patient identifiers
            "propose: the text names no therapy in ALLy's vocabulary; use a generic or brand name "
            "(e.g. 'inotuzumab ozogamicin', 'Besponsa', 'TKI', 'CAR-T')",
            field="propose",
        )
    return " + ".join(vocab.label(c) for c in found), frozenset(found)


def _below(patient: Patient, w: Walk, concepts: frozenset[str]) -> list[OptionState]:
    """Options covering `concepts`, not ruled out, at candidate nodes and every branch below them
    that the patient could still reach."""
    out: list[OptionState] = []
    stack = list(w.candidates)
    while stack:
        plan = stack.pop()
        if not concepts <= plan.subtree_concepts:
            continue
        for o in plan.options:
            if concepts <= o.concepts:
                state = _option_state(plan.node, o, patient)
                if state.status is not False:
                    out.append(state)
        for child in plan.children:
            assert child.when is not None
            if child.when(patient) is not False:
                stack.append(child)
    return out


def _describe_option(book: PathwayBook, option: Option) -> str:
    source = book.sources[option.source].name
    level = f", {option.level}" if option.level else ""
    return f"{option.therapy} ({source}{level})"


def check(patient: Patient | Mapping[str, Any], therapy: str, book: PathwayBook, *, id: Any = None) -> PathwayResult:
    """`evaluate` plus a verdict on `therapy`, in `result.check`."""
    p = _as_patient(patient)
    result = evaluate(p, book, id=id)
    result.check = check_therapy(p, therapy, book)
    return result


def check_therapy(patient: Patient, therapy: str, book: PathwayBook) -> TherapyCheck:
    """The verdict on one proposed therapy for one patient."""
    label, concepts = normalise_therapy(therapy, book)
    w = walk(patient, book)
    where = node_label(w.path)
    matching = [s for s in w.options if concepts <= s.plan.concepts]
    on = [s for s in matching if s.status is True]
    matched = {id(s) for s in matching}
    alternatives = [
        s.option.therapy for s in w.options if s.status is True and id(s) not in matched and s.option.kind == "therapy"
    ]

    if on:
        names = "; ".join(_describe_option(book, s.option) for s in on)
        return TherapyCheck(
            therapy=label,
            verdict="on",
            reason=f"{label} is on the pathway at {where}: {names}.",
            citations=_citations(
                book, [q for s in on for q in (*s.option.quotes, *(r.quote for r in s.option.requires))]
            ),
            alternatives=alternatives,
        )

    conditional = [s for s in matching if s.status is None]
    if conditional:
        fields = _ordered(f for s in conditional for f in s.unknown_fields)
        needs = "; ".join(
            f"{_describe_option(book, s.option)} requires {' and '.join(r.text for r in s.unknown)}"
            for s in conditional
        )
        return TherapyCheck(
            therapy=label,
            verdict="conditional",
            reason=f"{label} is on the pathway at {where} only if a condition holds that the record leaves "
            f"unknown ({', '.join(fields)}): {needs}.",
            citations=_citations(
                book, [q for s in conditional for q in (*s.option.quotes, *(r.quote for r in s.option.requires))]
            ),
            alternatives=alternatives,
            missing=list(fields),
        )

    if not w.complete:
        below = _below(patient, w, concepts)
        if below:
            needed = set(w.routing_missing)
            for s in below:
                needed |= s.unknown_fields
            ordered = _ordered(needed)
            places = sorted({node_label(book.path_to(s.node.id)) for s in below})
            return TherapyCheck(
                therapy=label,
                verdict="needs_info",
                reason=f"The branch below {where} depends on {', '.join(ordered)}, which the record leaves "
                f"unknown; {label} is an option at {'; '.join(places)}.",
                citations=_citations(book, [q for s in below for q in s.option.quotes]),
                alternatives=alternatives,
                missing=list(ordered),
            )

    failed = [s for s in matching if s.status is False]
    if failed:
        parts = []
        for s in failed:
            reqs = "; ".join(f"{r.text} ({book.sources[r.source].name})" for r in s.failed)
            parts.append(f"{_describe_option(book, s.option)} requires {reqs}, which this patient does not meet")
        return TherapyCheck(
            therapy=label,
            verdict="off",
            reason=f"{label} is off the pathway at {where}: " + "; ".join(parts) + ".",
            citations=_citations(book, [q for s in failed for q in (*(r.quote for r in s.failed), *s.option.quotes)]),
            alternatives=alternatives,
        )

    scope = "at " + where + ("" if w.complete else " or in any branch below it")
    listed = [s for s in w.options if s.status is True and s.option.kind == "therapy"]
    quotes = [q for s in listed for q in s.option.quotes]
    if not quotes:  # nothing is listed here: cite where the source states this branch
        quotes = next((list(n.quotes) for n in reversed(w.path) if n.quotes), list(book.root.options[0].quotes))
    return TherapyCheck(
        therapy=label,
        verdict="off",
        reason=f"{label} is not among the options the sources give {scope}."
        + (f" On-pathway options: {', '.join(alternatives)}." if alternatives else ""),
        citations=_citations(book, quotes),
        alternatives=alternatives,
    )
