"""FHIR export: a valid R4 (R4B models) PlanDefinition bundle with nested actions, FHIRPath
applicability conditions, RelatedArtifact citations and strength of recommendation; and the
exported FHIRPath, evaluated with fhirpathpy, agrees with the native evaluator on every enumerated
patient."""

from __future__ import annotations

import re
from typing import Any

import fhirpathpy
import pytest

from ally.schema import Patient
from assistant.pathway import export_fhir
from assistant.pathway.fhir import STRENGTH_URL, action_id, iter_actions
from assistant.pathway.models import PATIENT_FIELDS, PathwayBook

from .cases import Outcome


@pytest.fixture(scope="module")
def bundle(book: PathwayBook) -> dict[str, Any]:
    return export_fhir(book)


def _root(bundle: dict[str, Any]) -> dict[str, Any]:
    return bundle["entry"][0]["resource"]["action"][0]


def test_bundle_validates_with_fhir_resources(bundle: dict[str, Any]) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.plandefinition import PlanDefinition

    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    Bundle.model_validate(bundle)
    plan = PlanDefinition.model_validate(bundle["entry"][0]["resource"])
    assert plan.status == "draft"
    assert {a.label for a in plan.relatedArtifact or []} == {"schistosite", "csco2024", "fda"}


def test_every_node_and_option_is_an_action_with_its_conditions_and_citations(
    bundle: dict[str, Any], book: PathwayBook
) -> None:
    actions = {a["id"]: a for a in iter_actions(_root(bundle))}
    for node in book.nodes():
        action = actions[action_id(node.id)]
        assert action["title"] == node.label
        if node.when is not None:
            (condition,) = action["condition"]
            assert condition["kind"] == "applicability"
            assert condition["expression"]["language"] == "text/fhirpath"
            assert condition["expression"]["expression"] == node.when.fhirpath()
        if node.children:
            branches = next(g for g in action["action"] if g["title"] == "branches")
            assert branches["selectionBehavior"] == "exactly-one"
            assert [b["id"] for b in branches["action"]] == [action_id(c.id) for c in node.children]
    for _, option in book.options():
        action = actions[action_id(option.id)]
        quotes = {d["citation"] for d in action["documentation"] if d["type"] == "citation"}
        assert {q.text for q in option.quotes} <= quotes
        assert all(d["document"]["url"].startswith("urn:ally:doc:") for d in action["documentation"])
        assert len(action.get("condition", [])) == len(option.requires)
        strength = [e for e in action.get("extension", []) if e["url"] == STRENGTH_URL]
        if option.level:
            assert strength[0]["valueCodeableConcept"]["coding"][0]["code"] == option.level
        else:
            assert not strength
    nested_depth = max(len(a.split(".")) for a in actions)
    assert nested_depth >= 3


def test_gap_notes_are_exported(bundle: dict[str, Any], book: PathwayBook) -> None:
    labels = {d["label"] for a in iter_actions(_root(bundle)) for d in a.get("documentation", [])}
    assert {f"gap:{g}" for g in book.gaps} <= labels


# --- FHIRPath agreement -----------------------------------------------------------------------------

_FIELD_RE = re.compile(r"\b(" + "|".join(PATIENT_FIELDS) + r")\b")


class FhirEvaluator:
    """Walks the exported action tree, evaluating each FHIRPath condition with fhirpathpy (memoised
    on the values of the fields the expression names)."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.memo: dict[tuple[str, tuple[Any, ...]], bool | None] = {}
        self.calls = 0

    def value(self, expression: str, patient: Patient) -> bool | None:
        fields = sorted(set(_FIELD_RE.findall(expression)))
        key = (expression, tuple(getattr(patient, f) for f in fields))
        if key not in self.memo:
            resource = {f: getattr(patient, f) for f in fields if getattr(patient, f) is not None}
            out = fhirpathpy.evaluate(resource, expression)
            self.calls += 1
            assert out in ([], [True], [False]), (expression, out)
            self.memo[key] = out[0] if out else None
        return self.memo[key]

    def conditions(self, action: dict[str, Any], patient: Patient) -> bool | None:
        result: bool | None = True
        for c in action.get("condition", []):
            v = self.value(c["expression"]["expression"], patient)
            if v is False:
                return False
            if v is None:
                result = None
        return result

    def walk(self, patient: Patient) -> tuple[str, bool, tuple[bool | None, ...]]:
        action = self.root
        statuses: list[bool | None] = []
        complete = True
        while True:
            groups = {g["title"]: g for g in action.get("action", [])}
            for option in groups.get("options", {}).get("action", []):
                statuses.append(self.conditions(option, patient))
            branches = groups.get("branches", {}).get("action", [])
            if not branches:
                break
            values = [(b, self.conditions(b, patient)) for b in branches]
            chosen = [b for b, v in values if v is True]
            assert len(chosen) <= 1
            if chosen:
                action = chosen[0]
                continue
            assert any(v is None for _, v in values)
            complete = False
            break
        return action["id"], complete, tuple(statuses)


def test_fhirpath_agrees_with_the_native_evaluator_on_every_enumerated_case(
    bundle: dict[str, Any], patients: list[Patient], outcomes: list[Outcome]
) -> None:
    fhir = FhirEvaluator(_root(bundle))
    for p, o in zip(patients, outcomes, strict=True):
        node, complete, statuses = fhir.walk(p)
        assert (node, complete, statuses) == (action_id(o.node_id), o.complete, o.statuses), p.known()
    assert fhir.calls > 100


def test_fhirpath_three_valued_logic_matches_on_partial_records(book: PathwayBook) -> None:
    """Unknowns: FHIRPath's empty result is the native 'unknown' for and/or/not."""
    fhir = FhirEvaluator({})
    for cond in book.conditions():
        for p in (Patient(), Patient(age=70), Patient(fit=False), Patient(age=30, fit=True), Patient(ph="like")):
            assert fhir.value(cond.fhirpath(), p) == cond.evaluate(p), (cond.describe(), p.known())
