"""Exhaustive enumeration of patient records for the pathway tests.

The routing features (the ones branch conditions read) are enumerated as a full cartesian product,
unknowns included, with the issue's ages plus the label bounds (0.5, 17, 18). At each reached node
the option features that the node's options and notes read are enumerated as a full product too, so
every combination of every feature the pathway branches on at that node is visited. (That fields a
node never reads cannot change its result is checked separately by `test_unread_fields_do_not_matter`.)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ally.schema import Patient
from assistant.pathway.evaluator import Walk, walk_uncached
from assistant.pathway.models import PathwayBook

AGES: list[float | None] = [None, 0.5, 1, 14, 15, 17, 18, 21, 22, 39, 40, 64, 65, 66, 80]
# The features that choose the branch at almost every level: a full cartesian product.
ROUTING: dict[str, list[Any]] = {
    "lineage": [None, "B", "T"],
    "ph": [None, "positive", "negative", "like"],
    "phase": [None, "diagnosis", "post_induction", "relapsed_refractory"],
    "response": [None, "CR", "no_CR"],
    "mrd": [None, "positive", "negative"],
    "fit": [None, True, False],
    "age": AGES,
}
# Features read only at some nodes: a full product wherever the walk reads them.
OPTION_FEATURES: dict[str, list[Any]] = {
    "high_risk": [None, True, False],
    "kmt2a": [None, True, False],
    "cd20_percent": [None, 10, 19.9, 20, 40],
    "t315i": [None, True, False],
    "prior_regimens": [None, 0, 1, 2],
    "asparaginase_hypersensitivity": [None, True, False],
}
DOMAINS: dict[str, list[Any]] = {**ROUTING, **OPTION_FEATURES}
ISSUE_AGES = [1, 14, 15, 21, 22, 39, 40, 64, 65, 66, 80]


def make(values: dict[str, Any]) -> Patient:
    return Patient(**{k: v for k, v in values.items() if v is not None})


def routing_patients() -> Iterator[dict[str, Any]]:
    names = list(ROUTING)
    for combo in itertools.product(*(ROUTING[n] for n in names)):
        yield dict(zip(names, combo, strict=True))


def fields_read(w: Walk) -> set[str]:
    """Every field a condition on the walk reads: the branches tried at each level, the options and
    notes along the path."""
    fields: set[str] = set()
    for node in w.path:
        for child in node.children:
            if child.when is not None:
                fields |= child.when.fields()
        for option in node.options:
            for req in option.requires:
                fields |= req.when.fields()
        for note in node.notes:
            if note.when is not None:
                fields |= note.when.fields()
    return fields


def _extend(
    book: PathwayBook, values: dict[str, Any], assigned: frozenset[str], out: list[tuple[Patient, Walk]]
) -> None:
    patient = make(values)
    w = walk_uncached(patient, book)  # uncached: the enumeration is larger than the evaluator's memo
    new = [f for f in OPTION_FEATURES if f in fields_read(w) and f not in assigned]
    if not new:
        out.append((patient, w))
        return
    for combo in itertools.product(*(OPTION_FEATURES[f] for f in new)):
        _extend(book, {**values, **dict(zip(new, combo, strict=True))}, assigned | set(new), out)


def enumerate_cases(book: PathwayBook) -> tuple[list[Patient], list[Outcome]]:
    """The full routing product, each record extended (to a fixpoint) by the full product of the
    other features wherever its walk reads them, unknown included; with each record's outcome."""
    patients: list[Patient] = []
    outcomes: list[Outcome] = []
    for values in routing_patients():
        found: list[tuple[Patient, Walk]] = []
        _extend(book, values, frozenset(ROUTING), found)
        for patient, w in found:
            patients.append(patient)
            outcomes.append(Outcome(w.node.id, w.complete, w.routing_missing, tuple(s.status for s in w.options)))
    return patients, outcomes


@dataclass(frozen=True)
class Outcome:
    """A compact record of one patient's walk (the evaluator's decision, without the output text)."""

    node_id: str
    complete: bool
    missing: tuple[str, ...]
    statuses: tuple[bool | None, ...]  # option statuses along the path, in book order


def path_options(book: PathwayBook, node_id: str) -> list[str]:
    """Ids of the options along the path to `node_id`, in the order `Outcome.statuses` uses."""
    return [o.id for n in book.path_to(node_id) for o in n.options]
