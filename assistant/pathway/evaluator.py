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

No I/O and no model: the book is passed in (see `loader.default_book`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ally.errors import InputError
from ally.schema import PathwayCitation, PathwayOption, PathwayResult, Patient, TherapyCheck, parse_patient
from ally.vocab import Vocabulary, default_vocabulary
from assistant.pathway.models import PATIENT_FIELDS, Compiled, Node, Option, PathwayBook, Quote, Requirement, Tri

_CACHE_LIMIT = 20_000


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


def _plan(book: PathwayBook) -> _NodePlan:
    plan = book._cache.get("plan")
    if plan is None:
        plan = _compile_node(book.root)
        book._cache["plan"] = plan
    return plan


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


def walk(patient: Patient, book: PathwayBook) -> Walk:
    """The patient's walk through the tree (memoised per book; a pure function of its inputs)."""
    cache = book._cache
    key = ("walk", patient)
    hit = cache.get(key)
    if hit is not None:
        return hit
    result = _walk(patient, book)
    if len(cache) > _CACHE_LIMIT:
        plan = cache.get("plan")
        cache.clear()
        cache["plan"] = plan
    cache[key] = result
    return result


def _walk(patient: Patient, book: PathwayBook) -> Walk:
    plan = _plan(book)
    path = [plan]
    routing_missing: set[str] = set()
    candidates: list[_NodePlan] = []
    complete = True
    while plan.children:
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
        if true_children:
            plan = true_children[0]
            path.append(plan)
            continue
        if not unknown_children:
            raise AssertionError(f"pathway data: no branch of {plan.node.id!r} covers {patient.known()}")
        complete = False
        candidates = unknown_children
        for child in unknown_children:
            routing_missing |= _unknown_fields(patient, child.when_fields)
        break
    states = tuple(_option_state(n.node, o, patient) for n in path for o in n.options)
    notes: list[str] = []
    for n in path:
        for gap, fn in n.notes:
            if fn is None or fn(patient) is True:
                text = book.gaps[gap].note()
                if text not in notes:
                    notes.append(text)
    return Walk(
        path=tuple(n.node for n in path),
        complete=complete,
        routing_missing=_ordered(routing_missing),
        candidates=tuple(candidates),
        options=states,
        notes=tuple(notes),
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


def evaluate(patient: Patient | Mapping[str, Any], book: PathwayBook | None = None, *, id: Any = None) -> PathwayResult:
    """The node the patient reaches, its on-pathway options with citations, and what is missing."""
    from assistant.pathway.loader import default_book

    book = book or default_book()
    p = _as_patient(patient)
    w = walk(p, book)
    missing = set(w.routing_missing)
    for s in w.options:
        if s.status is None:
            missing |= s.unknown_fields
    return PathwayResult(
        id=id,
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


def procedure_concepts(book: PathwayBook, vocab: Vocabulary) -> frozenset[str]:
    """Non-drug concepts the book's options cover (tests, work-up, prophylaxis) that can be proposed."""
    return frozenset(
        c for _, o in book.options() for c in o.concepts if c in vocab.concepts and not vocab.concepts[c].therapy
    )


def normalise_therapy(
    name: str, book: PathwayBook | None = None, vocab: Vocabulary | None = None
) -> tuple[str, frozenset[str]]:
    """The display label and concept ids of a proposed therapy (brand names, abbreviations, combos).

    Raises InputError (field 'propose') when the vocabulary knows no therapy in `name`.
    """
    from assistant.pathway.loader import default_book

    book = book or default_book()
    vocab = vocab or default_vocabulary()
    key = ("therapy", name, id(vocab))
    hit = book._cache.get(key)
    if hit is not None:
        return hit
    result = _normalise_therapy(name, book, vocab)
    book._cache[key] = result
    return result


def _normalise_therapy(name: str, book: PathwayBook, vocab: Vocabulary) -> tuple[str, frozenset[str]]:
    if not name or not name.strip():
        raise InputError("propose: give a therapy name, e.g. 'blinatumomab' or 'Blincyto'", field="propose")
    single = vocab.therapy_concept(name)
    if single is not None:
        return vocab.label(single), frozenset({single})
    procedures = procedure_concepts(book, vocab)
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


def check(
    patient: Patient | Mapping[str, Any],
    therapy: str,
    book: PathwayBook | None = None,
    *,
    id: Any = None,
    vocab: Vocabulary | None = None,
) -> PathwayResult:
    """`evaluate` plus a verdict on `therapy`, in `result.check`."""
    from assistant.pathway.loader import default_book

    book = book or default_book()
    vocab = vocab or default_vocabulary()
    p = _as_patient(patient)
    result = evaluate(p, book, id=id)
    result.check = check_therapy(p, therapy, book, vocab=vocab)
    return result


def check_therapy(
    patient: Patient, therapy: str, book: PathwayBook, *, vocab: Vocabulary | None = None
) -> TherapyCheck:
    """The verdict on one proposed therapy for one patient."""
    vocab = vocab or default_vocabulary()
    label, concepts = normalise_therapy(therapy, book, vocab)
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
