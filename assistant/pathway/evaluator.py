"""The pathway evaluator: pure functions from a patient record and the pathway book to a result.

`evaluate(patient, book)` walks the tree from the root, taking the one child whose branch
condition is true. It stops at a leaf, or where no child is true but some are unknown: then the
result says `needs_info` and `missing` names the fields that decide the branch. Options along the
path are on when all their requirements are true; options with an unknown requirement are listed
under `conditional` and their fields join `missing`. Nothing is guessed: unknown is never false.
Where something is missing, `branches` says what each answer to a missing field would lead to:
one entry per value (or range of a numeric field) that changes the node or the options, each the
result `evaluate` gives with that field set (see "what-if branches" below).

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

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast, get_args

from pydantic import BaseModel, ValidationError

from ally.errors import InputError
from ally.schema import (
    PathwayBranch,
    PathwayCitation,
    PathwayOption,
    PathwayResult,
    Patient,
    TherapyCheck,
    parse_patient,
)
from assistant.pathway.models import (
    NUMERIC_FIELDS,
    PATIENT_FIELDS,
    Compiled,
    Node,
    Option,
    PathwayBook,
    Quote,
    Requirement,
    Scalar,
    Tri,
)

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


@lru_cache(maxsize=8)
def _output_options(book: PathwayBook) -> dict[str, PathwayOption]:
    """Every option of the book as output (built once per book; shared: only copied)."""
    return {o.id: _output_option(book, o) for _, o in book.options()}


def _fresh(value: Any) -> Any:
    """A copy of a memoised model with fresh models, lists and dicts all the way down (much faster
    than `model_copy(deep=True)`; the leaves are immutable strings and numbers)."""
    if isinstance(value, BaseModel):
        copied = value.model_copy()
        fields = copied.__dict__
        for name, item in fields.items():
            if isinstance(item, _MUTABLE):
                fields[name] = _fresh(item)
        return copied
    if isinstance(value, list):
        return [_fresh(v) if isinstance(v, _MUTABLE) else v for v in value]
    if isinstance(value, dict):
        return {k: _fresh(v) if isinstance(v, _MUTABLE) else v for k, v in value.items()}
    return value


_MUTABLE = (BaseModel, list, dict)


def evaluate(patient: Patient | Mapping[str, Any], book: PathwayBook, *, id: Any = None) -> PathwayResult:
    """The node the patient reaches, its on-pathway options with citations, what is missing, and
    what each answer to a missing field would lead to (`branches`)."""
    result: PathwayResult = _fresh(_evaluated(_as_patient(patient), book))
    result.id = id
    return result


@lru_cache(maxsize=RESULT_MEMO_SIZE)
def _evaluated(p: Patient, book: PathwayBook) -> PathwayResult:
    """The memoised result with its what-if branches (shared: never handed out, only copied)."""
    result = _walk_result(p, book)
    if not result.missing:
        return result
    return result.model_copy(update={"branches": _branches(p, book, result.missing)})


def _missing(w: Walk) -> tuple[str, ...]:
    """The fields the walk's branch or its conditional options depend on, in contract order."""
    missing = set(w.routing_missing)
    for s in w.options:
        if s.status is None:
            missing |= s.unknown_fields
    return _ordered(missing)


@lru_cache(maxsize=RESULT_MEMO_SIZE)
def _walk_result(p: Patient, book: PathwayBook) -> PathwayResult:
    """The memoised result of the walk alone, without branches (shared: only copied)."""
    w = walk(p, book)
    output = _output_options(book)
    return PathwayResult(
        id=None,
        patient=p.known(),
        node=node_label(w.path),
        node_id=w.node.id,
        needs_info=not w.complete,
        options=[output[s.option.id] for s in w.options if s.status is True],
        conditional=[output[s.option.id] for s in w.options if s.status is None],
        missing=list(_missing(w)),
        notes=list(w.notes),
    )


# --- what-if branches at missing fields --------------------------------------------------------------
#
# For each missing field, the values it can take are cut into answers: booleans and enums give one
# answer per allowed value (from the Patient model); a numeric field gives one answer per range
# between the thresholds the book's conditions compare it with (each threshold itself, the open
# interval between consecutive ones, below the lowest and above the highest; adjacent ranges that
# lead to the same result are merged). Each answer is evaluated with one value of its range set; a
# field is listed when some answer changes the node or the options compared with the others or
# with leaving it unknown.


@dataclass(frozen=True)
class _Answer:
    value: Scalar
    label: str


@dataclass(frozen=True)
class _Range:
    """Values of a numeric field between two bounds (None: unbounded), each end open or closed."""

    lo: float | None
    lo_closed: bool
    hi: float | None
    hi_closed: bool


def _plain(value: Scalar) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _field_type(field: str) -> Any:
    """The field's type in the Patient model without None: bool, int, float or a Literal."""
    args = [a for a in get_args(Patient.model_fields[field].annotation) if a is not type(None)]
    return args[0]


def _valid(field: str, value: Scalar) -> Scalar | None:
    """The value as the Patient model stores it, or None when the model rejects it."""
    try:
        return cast(Scalar, getattr(Patient.model_validate({field: value}), field))
    except ValidationError:
        return None


def _ranges(thresholds: list[float]) -> list[_Range]:
    """The ranges between sorted thresholds: below the first, each threshold, between, above the last."""
    bounds: list[float | None] = [None, *thresholds, None]
    out: list[_Range] = []
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        if i > 0:
            out.append(_Range(lo, True, lo, True))
        out.append(_Range(lo, False, hi, False))
    return out


def _pick(r: _Range, integral: bool) -> float | None:
    """One value inside the range (None when the range holds no value of the field's type)."""
    if r.lo is not None and r.lo == r.hi:
        return r.lo if not integral or r.lo.is_integer() else None
    if integral:
        v = float(math.floor(r.lo) + 1 if r.lo is not None else math.ceil(r.hi or 0) - 1)
    elif r.lo is None or r.hi is None:
        v = r.lo + 1 if r.lo is not None else (r.hi or 0) - 1
    else:
        v = (r.lo + r.hi) / 2
    inside = (r.lo is None or v > r.lo) and (r.hi is None or v < r.hi)
    return v if inside else None


def _range_label(field: str, r: _Range) -> str:
    """The range in words, e.g. 'age < 18', '18 ≤ age < 40', 'cd20_percent ≥ 20'."""
    if r.lo is None and r.hi is None:
        return f"{field} is known"
    if r.hi is None:
        return f"{field} {'≥' if r.lo_closed else '>'} {_plain(cast(float, r.lo))}"
    if r.lo == r.hi:
        return f"{field} = {_plain(r.hi)}"
    upper = f"{'≤' if r.hi_closed else '<'} {_plain(r.hi)}"
    if r.lo is None:
        return f"{field} {upper}"
    return f"{_plain(r.lo)} {'≤' if r.lo_closed else '<'} {field} {upper}"


def _cut_points(field: str, book: PathwayBook) -> list[float]:
    """The values the book's conditions compare a numeric field with (thresholds and equalities)."""
    points = {t for c in book.conditions() for f, t in c.thresholds() if f == field}
    atoms = [a for c in book.conditions() for a in c.atoms() if a.field == field]
    for values in [a.in_ if a.in_ is not None else [a.eq] for a in atoms]:
        points.update(float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool))
    return sorted(points)


@lru_cache(maxsize=64)
def _numeric_ranges(field: str, book: PathwayBook) -> tuple[tuple[_Range, Scalar], ...]:
    """The field's non-empty ranges between the book's thresholds, each with a valid value inside."""
    thresholds = _cut_points(field, book)
    integral = _field_type(field) is int
    out: list[tuple[_Range, Scalar]] = []
    for r in _ranges(thresholds):
        v = _pick(r, integral)
        value = _valid(field, int(v) if integral and v is not None else v) if v is not None else None
        if value is not None:
            out.append((r, value))
    return tuple(out)


def _choice_answers(field: str) -> list[_Answer]:
    kind = _field_type(field)
    values: tuple[Scalar, ...] = (True, False) if kind is bool else get_args(kind)
    return [_Answer(v, f"{field} is {_plain(v)}") for v in values]


def _decision(p: Patient, book: PathwayBook) -> tuple[Any, ...]:
    """Everything a branch shows, as decided by the walk (cheap to compare)."""
    w = walk(p, book)
    return (w.node.id, w.complete, tuple(s.status for s in w.options), _missing(w))


def _with(p: Patient, field: str, value: Scalar) -> Patient:
    return p.model_copy(update={field: value})


def _numeric_answers(p: Patient, field: str, book: PathwayBook) -> list[_Answer]:
    """One answer per run of adjacent ranges that lead to the same result."""
    runs: list[tuple[_Range, Scalar, tuple[Any, ...]]] = []
    for r, value in _numeric_ranges(field, book):
        decision = _decision(_with(p, field, value), book)
        if runs and runs[-1][2] == decision:
            first = runs[-1][0]
            runs[-1] = (_Range(first.lo, first.lo_closed, r.hi, r.hi_closed), runs[-1][1], decision)
        else:
            runs.append((r, value, decision))
    return [_Answer(value, _range_label(field, r)) for r, value, _ in runs]


def _answers(p: Patient, field: str, book: PathwayBook) -> list[_Answer]:
    if field in NUMERIC_FIELDS:
        return _numeric_answers(p, field, book)
    return _choice_answers(field)


def _shown(p: Patient, book: PathwayBook) -> tuple[str, tuple[str, ...]]:
    """The node and the on-pathway options: what a branch must change to be listed."""
    w = walk(p, book)
    return w.node.id, tuple(s.option.id for s in w.options if s.status is True)


def _field_branches(p: Patient, field: str, book: PathwayBook) -> list[PathwayBranch]:
    answers = _answers(p, field, book)
    shown = {_shown(_with(p, field, a.value), book) for a in answers}
    if shown == {_shown(p, book)}:
        return []  # no answer changes the node or the options
    out: list[PathwayBranch] = []
    for a in answers:
        r = _walk_result(_with(p, field, a.value), book)
        out.append(
            PathwayBranch(
                field=field,
                value=a.value,
                label=a.label,
                node=r.node,
                node_id=r.node_id,
                needs_info=r.needs_info,
                options=r.options,
                conditional=r.conditional,
                missing=r.missing,
            )
        )
    return out


def _branches(p: Patient, book: PathwayBook, missing: Iterable[str]) -> list[PathwayBranch]:
    """What each answer to each missing field leads to (see the section comment)."""
    return [b for field in missing for b in _field_branches(p, field, book)]


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
