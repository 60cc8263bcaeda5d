"""Exhaustive verification of the pathway book and evaluator over the enumerated patients
(see cases.py: the full product of the routing features, and at each node the full product of the
option features its options read, unknowns and the issue's ages included).

- every combination reaches exactly one node (a leaf) or an explicit needs-info result;
- no unreachable node or option;
- no condition comparison that never changes an outcome (mutation: replace it by true / false);
- every numeric threshold is enumerated on both sides;
- check(p, t) == "on" exactly when t is among evaluate(p)'s options;
- at missing fields, every needs-info node has what-if branches, each equal to evaluate with the
  field set, and every value that changes the node or the options has one.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ally.schema import Patient
from ally.vocab import default_vocabulary
from assistant.pathway.evaluator import check, check_therapy, evaluate, normalise_therapy, walk
from assistant.pathway.models import Condition, PathwayBook

from .cases import AGES, DOMAINS, ISSUE_AGES, OPTION_FEATURES, ROUTING, Outcome, make, path_options


def test_enumeration_covers_the_issue_ages_and_unknowns(patients: list[Patient]) -> None:
    assert set(ISSUE_AGES) <= set(AGES)
    for name, values in DOMAINS.items():
        assert None in values, f"{name}: the enumeration must include unknown"
    assert set(DOMAINS) == set(Patient.model_fields), "every contract field is enumerated"
    assert len(patients) > 50_000
    assert len(set(patients)) == len(patients)


def test_enumeration_straddles_every_threshold(book: PathwayBook) -> None:
    for cond in book.conditions():
        for field, bound in cond.thresholds():
            values = [v for v in DOMAINS[field] if v is not None]
            assert any(v < bound for v in values), (field, bound)
            assert any(v >= bound for v in values), (field, bound)


def test_every_patient_reaches_one_node_or_needs_info(
    book: PathwayBook, patients: list[Patient], outcomes: list[Outcome]
) -> None:
    """The walk raises if two branches overlap or none covers a patient; here: a leaf or needs-info."""
    leaves = {n.id for n in book.nodes() if not n.children}
    counts = {True: 0, False: 0}
    for p, o in zip(patients, outcomes, strict=True):
        counts[o.complete] += 1
        if o.complete:
            assert o.node_id in leaves and not o.missing
        else:
            assert o.node_id not in leaves, p.known()
            assert o.missing and all(getattr(p, f) is None for f in o.missing), p.known()
        if all(getattr(p, f) is not None for f in ROUTING) and p.high_risk is not None:
            assert o.complete, p.known()  # with every branch feature known, a leaf is always reached
    assert counts[True] > 5_000 and counts[False] > 5_000


def test_no_unreachable_node_or_option(book: PathwayBook, outcomes: list[Outcome]) -> None:
    on_path: set[str] = set()
    reached_leaf: set[str] = set()
    seen_status: dict[str, set[bool | None]] = defaultdict(set)
    for node_id in {o.node_id for o in outcomes}:
        on_path.update(n.id for n in book.path_to(node_id))
    for o in outcomes:
        if o.complete:
            reached_leaf.add(o.node_id)
    by_node: dict[str, set[tuple[bool | None, ...]]] = defaultdict(set)
    for o in outcomes:
        by_node[o.node_id].add(o.statuses)
    for node_id, status_sets in by_node.items():
        ids = path_options(book, node_id)
        for statuses in status_sets:
            for oid, status in zip(ids, statuses, strict=True):
                seen_status[oid].add(status)
    assert on_path == {n.id for n in book.nodes()}
    assert reached_leaf == {n.id for n in book.nodes() if not n.children}
    for _, option in book.options():
        assert True in seen_status[option.id], f"{option.id} is never on the pathway"
        if option.requires:
            assert False in seen_status[option.id], f"{option.id}: its requirements never rule it out"
            assert None in seen_status[option.id], f"{option.id}: never conditional on a missing field"


def _value(cond: Condition | bool, p: Patient) -> bool | None:
    return cond if isinstance(cond, bool) else cond.evaluate(p)


def test_no_condition_never_changes_an_outcome(
    book: PathwayBook, patients: list[Patient], outcomes: list[Outcome]
) -> None:
    """Each comparison in each branch and requirement condition, replaced by true and by false,
    changes the condition's value (so the node reached or the option's status) for some enumerated
    patient who reaches that condition."""
    reaching: dict[str, list[Patient]] = defaultdict(list)
    for p, o in zip(patients, outcomes, strict=True):
        for n in book.path_to(o.node_id):
            reaching[n.id].append(p)
    parent = {c.id: n.id for n in book.nodes() for c in n.children}
    checked = 0
    for node in book.nodes():
        conditions: list[tuple[str, Condition, str]] = []
        if node.when is not None:
            conditions.append((f"branch {node.id}", node.when, parent[node.id]))
        for option in node.options:
            conditions.extend((f"{option.id} requirement {i}", r.when, node.id) for i, r in enumerate(option.requires))
        for name, cond, at in conditions:
            fields = sorted(cond.fields())
            sample = list({tuple(getattr(p, f) for f in fields): p for p in reaching[at]}.values())
            for index, atom in enumerate(cond.atoms()):
                for constant in (True, False):
                    mutated = cond.replace_atom(index, constant)
                    assert any(_value(mutated, p) != cond.evaluate(p) for p in sample), (
                        f"{name}: '{atom.describe()}' replaced by {constant} never changes an outcome"
                    )
                    checked += 1
    assert checked > 100


def therapies() -> list[str]:
    vocab = default_vocabulary()
    names = [vocab.label(c.id) for c in vocab.concepts.values() if c.therapy]
    names += [
        "Blincyto",
        "InO",
        "Besponsa",
        "Kymriah",
        "Tecartus",
        "Iclusig",
        "Gleevec",
        "Sprycel",
        "Rylaze",
        "Oncaspar",
        "Arranon",
        "Clolar",
        "Revuforj",
        "Rituxan",
        "Hyper-CVAD",
        "allo-SCT",
        "blinatumomab + TKI",
        "TKI + chemo",
        "rituximab + HyperCVAD",
        "nelarabine + allo-HSCT",
        "ABL kinase domain testing",
        "intrathecal chemotherapy",
        "NGS",
        "inotuzumab + TKI",
    ]
    return names


def test_check_is_on_exactly_when_evaluate_lists_it(
    book: PathwayBook, patients: list[Patient], outcomes: list[Outcome]
) -> None:
    """Every enumerated patient with a rotating therapy (each of the ~60 names is checked thousands of
    times, at every node), and every name for one patient per distinct outcome."""
    names = therapies()
    concepts = {t: normalise_therapy(t, book)[1] for t in names}
    option_concepts = {o.id: frozenset(o.concepts) for _, o in book.options()}
    ids_at = {n.id: path_options(book, n.id) for n in book.nodes()}

    def listed(o: Outcome, t: str) -> bool:
        return any(
            s is True and concepts[t] <= option_concepts[i] for i, s in zip(ids_at[o.node_id], o.statuses, strict=True)
        )

    representatives: dict[Outcome, Patient] = {}
    for i, (p, o) in enumerate(zip(patients, outcomes, strict=True)):
        representatives.setdefault(o, p)
        t = names[i % len(names)]
        assert (check_therapy(p, t, book).verdict == "on") == listed(o, t), (p.known(), t)
    for o, p in representatives.items():
        result = evaluate(p, book)
        assert [x.id for x in result.options] == [i for i, s in zip(ids_at[o.node_id], o.statuses, strict=True) if s]
        for t in names:
            on = check_therapy(p, t, book).verdict == "on"
            assert on == any(concepts[t] <= set(x.concepts) for x in result.options), (p.known(), t)
    assert len(representatives) > 200


def test_public_check_agrees_with_check_therapy(book: PathwayBook, patients: list[Patient]) -> None:
    for p in patients[::997]:
        for t in ("blinatumomab", "rituximab", "ponatinib", "nelarabine"):
            result = check(p, t, book)
            assert result.check is not None
            assert result.check.verdict == check_therapy(p, t, book).verdict
            assert result.model_dump(exclude={"check"}) == evaluate(p, book).model_dump(exclude={"check"})


def test_every_verdict_cites_and_off_never_rests_on_an_unknown(book: PathwayBook, patients: list[Patient]) -> None:
    for p in patients[::211]:
        for t in ("inotuzumab", "rituximab", "revumenib", "brexucabtagene", "clofarabine", "CAR-T", "nelarabine"):
            ck = check_therapy(p, t, book)
            assert ck.citations and ck.reason, (p.known(), t)
            if ck.verdict in ("conditional", "needs_info"):
                assert ck.missing and all(getattr(p, f) is None for f in ck.missing), (p.known(), t, ck)
            if ck.verdict == "off":  # filling an unknown field can never turn off into on or conditional
                for f in [f for f in DOMAINS if getattr(p, f) is None][:4]:
                    for v in DOMAINS[f][1:]:
                        assert check_therapy(make({**p.known(), f: v}), t, book).verdict == "off", (p.known(), f, v, t)


# --- properties (hypothesis) -----------------------------------------------------------------------

_patient_values = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in DOMAINS.items()})


@settings(max_examples=300, deadline=None)
@given(base=_patient_values, extra=_patient_values, mask=st.lists(st.booleans(), min_size=13, max_size=13))
def test_knowing_more_never_contradicts_the_walk(
    book: PathwayBook, base: dict[str, Any], extra: dict[str, Any], mask: list[bool]
) -> None:
    """Kleene monotonicity: filling unknown fields keeps the path so far and every decided option."""
    p = make(base)
    filled = dict(base)
    for (k, v), use in zip(extra.items(), mask, strict=True):
        if use and filled.get(k) is None:
            filled[k] = v
    wp, wq = walk(p, book), walk(make(filled), book)
    assert wq.path[: len(wp.path)] == wp.path
    if wp.complete:
        assert wq.path == wp.path
    status_q = {s.option.id: s.status for s in wq.options}
    for s in wp.options:
        if s.status is not None:
            assert status_q[s.option.id] == s.status


@settings(max_examples=300, deadline=None)
@given(base=_patient_values, other=_patient_values)
def test_unread_fields_do_not_matter(book: PathwayBook, base: dict[str, Any], other: dict[str, Any]) -> None:
    """Changing fields that no condition on the patient's walk reads leaves the result unchanged
    (which is why the enumeration varies option features only where a node reads them)."""
    p = make(base)
    w = walk(p, book)
    read: set[str] = set()
    for node in w.path:
        for child in node.children:
            assert child.when is not None
            read |= child.when.fields()
        for option in node.options:
            for req in option.requires:
                read |= req.when.fields()
        for note in node.notes:
            if note.when is not None:
                read |= note.when.fields()
    q = make({**base, **{k: v for k, v in other.items() if k not in read}})
    # (the what-if branches may read further fields below the walk: they are checked in TestBranchesOnField)
    unread = {"patient", "branches"}
    assert evaluate(q, book).model_dump(exclude=unread) == evaluate(p, book).model_dump(exclude=unread)


# --- what-if branches at missing fields --------------------------------------------------------------

BRANCH_STRIDE = 7  # every 7th needs-info record, besides one per distinct outcome
SHOWN = {"node", "node_id", "needs_info", "options", "conditional", "missing"}  # what a branch carries


@pytest.fixture(scope="module")
def with_missing(book: PathwayBook, patients: list[Patient], outcomes: list[Outcome]) -> list[tuple[Patient, Any]]:
    """Needs-info records (one per distinct outcome, so every needs-info node, and every 7th), and
    every 97th record whose result lists a missing field (conditional options included)."""
    chosen: dict[Patient, None] = {}
    first: dict[Outcome, Patient] = {}
    needs = [(p, o) for p, o in zip(patients, outcomes, strict=True) if not o.complete]
    for p, o in needs:
        first.setdefault(o, p)
    chosen.update(dict.fromkeys(first.values()))
    chosen.update(dict.fromkeys(p for p, _ in needs[::BRANCH_STRIDE]))
    chosen.update(dict.fromkeys(patients[::97]))
    results = [(p, evaluate(p, book)) for p in chosen]
    return [(p, r) for p, r in results if r.missing]


def _set(p: Patient, field: str, value: Any) -> Patient:
    return make({**p.known(), field: value})


def _shown(result: Any) -> tuple[Any, ...]:
    return result.node_id, tuple(o.id for o in result.options)


def _in_label(value: float, label: str, field: str) -> bool:
    """Whether a numeric value lies in a branch label such as 'age < 18', '18 ≤ age < 40', 'age ≥ 65'."""
    ops = {"<": lambda a, b: a < b, "≤": lambda a, b: a <= b, "≥": lambda a, b: a >= b, ">": lambda a, b: a > b}
    parts = label.split()
    if parts[0] == field:  # 'age < 18', 'age ≥ 65', 'age = 18'
        op, bound = parts[1], float(parts[2])
        return value == bound if op == "=" else ops[op](value, bound)
    lo, op_lo, _, op_hi, hi = parts  # '18 ≤ age < 40'
    return ops[op_lo](float(lo), value) and ops[op_hi](value, float(hi))


def test_every_needs_info_node_has_branches(
    book: PathwayBook, outcomes: list[Outcome], with_missing: list[tuple[Patient, Any]]
) -> None:
    needs_info_nodes = {o.node_id for o in outcomes if not o.complete}
    seen: set[str] = set()
    for p, result in with_missing:
        if result.needs_info:
            assert result.branches, p.known()
            seen.add(result.node_id)
            routed = {b.field for b in result.branches if b.node_id != result.node_id}
            assert routed, f"{p.known()}: no answer leads below {result.node_id}"
    assert seen == needs_info_nodes
    assert len(with_missing) > 2_000


def test_no_branches_when_nothing_is_missing(book: PathwayBook, patients: list[Patient]) -> None:
    for p in patients[::101]:
        result = evaluate(p, book)
        if not result.missing:
            assert result.branches == [], p.known()


@pytest.mark.parametrize("field", list(DOMAINS))
class TestBranchesOnField:
    """For each patient field: the branches on it at the sampled results."""

    def test_each_branch_is_evaluate_with_the_field_set(
        self, book: PathwayBook, with_missing: list[tuple[Patient, Any]], field: str
    ) -> None:
        checked = 0
        for p, result in with_missing:
            for b in (b for b in result.branches if b.field == field):
                assert field in result.missing and getattr(p, field) is None
                expected = evaluate(_set(p, field, b.value), book)
                assert b.model_dump(include=SHOWN) == expected.model_dump(include=SHOWN), (p.known(), field, b.value)
                checked += 1
        if any(field in r.missing for _, r in with_missing):
            assert checked, f"{field} is missing in the sample but never branched on"

    def test_every_answer_that_changes_the_result_is_listed(
        self, book: PathwayBook, with_missing: list[tuple[Patient, Any]], field: str
    ) -> None:
        """Each enumerated value of a missing field that changes the node or the options (compared
        with leaving it unknown or with another value) has a branch leading where it leads."""
        for p, result in with_missing:
            if field not in result.missing:
                continue
            values = [v for v in DOMAINS[field] if v is not None]
            shown = {v: _shown(evaluate(_set(p, field, v), book)) for v in values}
            branches = [b for b in result.branches if b.field == field]
            if set(shown.values()) == {_shown(result)}:
                assert not branches, (p.known(), field)
                continue
            for v, where in shown.items():
                if field in ("age", "cd20_percent", "prior_regimens"):
                    match = [b for b in branches if _in_label(float(v), b.label, field)]
                else:
                    match = [b for b in branches if b.value == v]
                assert len(match) == 1, (p.known(), field, v, [b.label for b in branches])
                assert _shown(match[0]) == where, (p.known(), field, v)

    def test_branch_values_are_distinct_and_valid(
        self, book: PathwayBook, with_missing: list[tuple[Patient, Any]], field: str
    ) -> None:
        for p, result in with_missing:
            values = [b.value for b in result.branches if b.field == field]
            assert len(values) == len(set(values)), (p.known(), field)
            for v in values:
                assert getattr(Patient.model_validate({field: v}), field) == v


@pytest.mark.parametrize("field", list(OPTION_FEATURES))
def test_option_features_are_read_somewhere(book: PathwayBook, field: str) -> None:
    assert any(field in c.fields() for c in book.conditions())
