"""Export the pathway book as a FHIR R4 PlanDefinition in a collection Bundle (validated with the
`fhir.resources` R4B models).

Mapping:
- each tree node is an action (nested as in the tree); a node's options sit in a sub-action group
  "options" (selectionBehavior any) and its branches in a group "branches" (exactly-one);
- branch and requirement conditions are applicability conditions whose FHIRPath expression is
  evaluated with the ALLy patient record (the contract's fields, unknown fields absent) as the
  context resource; FHIRPath's empty result plays the part of "unknown";
- quotes are RelatedArtifact citations (action.documentation) naming the document and source;
- recommendation levels are the CPG strength-of-recommendation extension;
- each source is a RelatedArtifact of the PlanDefinition; source gaps are documentation artifacts
  of the node where they apply.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.pathway.models import Node, Option, PathwayBook, Quote

STRENGTH_URL = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-strengthOfRecommendation"
LEVEL_SYSTEM = "urn:ally:recommendation-level"
CONCEPT_SYSTEM = "urn:ally:vocabulary"
ACTION_KIND_SYSTEM = "urn:ally:pathway-action"
PLAN_ID = "ally-all-pathway"


def action_id(node_or_option_id: str) -> str:
    """A FHIR-safe action id for a node id ('b_phneg/cr/mrd_neg') or option id ('node#option')."""
    return re.sub(r"[^A-Za-z0-9\-.]", "-", node_or_option_id.replace("#", "--").replace("/", ".").replace("_", "-"))


def _doc_url(doc_id: str) -> str:
    return f"urn:ally:doc:{doc_id}"


def _citation(book: PathwayBook, quote: Quote) -> dict[str, Any]:
    source = book.sources[quote.source]
    return {
        "type": "citation",
        "label": source.id,
        "display": source.name,
        "citation": quote.text,
        "document": {"url": _doc_url(source.doc_id), "title": source.title},
    }


def _condition(expression: str, description: str) -> dict[str, Any]:
    return {
        "kind": "applicability",
        "expression": {"language": "text/fhirpath", "expression": expression, "description": description},
    }


def _option_action(book: PathwayBook, option: Option) -> dict[str, Any]:
    action: dict[str, Any] = {
        "id": action_id(option.id),
        "title": option.therapy,
        "code": [
            {"coding": [{"system": ACTION_KIND_SYSTEM, "code": f"option-{option.kind}"}], "text": option.kind},
            *({"coding": [{"system": CONCEPT_SYSTEM, "code": c}]} for c in option.concepts),
        ],
        "documentation": [_citation(book, q) for q in (*option.quotes, *(r.quote for r in option.requires))],
    }
    if option.detail:
        action["description"] = option.detail
    action["textEquivalent"] = f"{option.therapy} — {book.sources[option.source].name}"
    if option.requires:
        action["condition"] = [_condition(r.when.fhirpath(), r.text) for r in option.requires]
    if option.level:
        action["extension"] = [
            {
                "url": STRENGTH_URL,
                "valueCodeableConcept": {
                    "coding": [{"system": LEVEL_SYSTEM, "code": option.level, "display": option.level}],
                    "text": f"{option.level} ({book.sources[option.source].name})",
                },
            }
        ]
    return action


def _node_action(book: PathwayBook, node: Node) -> dict[str, Any]:
    action: dict[str, Any] = {
        "id": action_id(node.id),
        "title": node.label,
        "code": [{"coding": [{"system": ACTION_KIND_SYSTEM, "code": "branch"}], "text": "branch"}],
    }
    if node.when is not None:
        action["condition"] = [_condition(node.when.fhirpath(), node.when.describe())]
    documentation = [_citation(book, q) for q in node.quotes]
    for ref in node.notes:
        gap = book.gaps[ref.gap]
        when = f" (applies when {ref.when.describe()})" if ref.when is not None else ""
        documentation.append({"type": "documentation", "label": f"gap:{gap.id}", "display": gap.note() + when})
    if documentation:
        action["documentation"] = documentation
    groups: list[dict[str, Any]] = []
    if node.options:
        groups.append(
            {
                "id": action_id(node.id) + "--options",
                "title": "options",
                "selectionBehavior": "any",
                "action": [_option_action(book, o) for o in node.options],
            }
        )
    if node.children:
        groups.append(
            {
                "id": action_id(node.id) + "--branches",
                "title": "branches",
                "selectionBehavior": "exactly-one",
                "action": [_node_action(book, c) for c in node.children],
            }
        )
    if groups:
        action["action"] = groups
    return action


def plan_definition(book: PathwayBook) -> dict[str, Any]:
    return {
        "resourceType": "PlanDefinition",
        "id": PLAN_ID,
        "url": f"urn:ally:plandefinition:{PLAN_ID}",
        "name": "ALLyAcuteLymphoblasticLeukemiaPathway",
        "title": "ALLy: acute lymphoblastic leukemia treatment pathway (cited)",
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/plan-definition-type", "code": "clinical-protocol"}
            ]
        },
        "status": "draft",
        "experimental": True,
        "description": (
            "The SchistoSite ALL pathway with the CSCO 2024 updates and FDA label constraints, each option "
            "citing a verbatim quote. Applicability conditions are FHIRPath expressions evaluated with the ALLy "
            "patient record (fields age, lineage, ph, phase, response, mrd, fit, kmt2a, cd20_percent, t315i, "
            "high_risk, prior_regimens, asparaginase_hypersensitivity; unknown fields absent) as the context "
            "resource; an empty result means the record leaves the condition unknown."
        ),
        "usage": "Decision support over cited sources; not a substitute for clinical judgement.",
        "relatedArtifact": [
            {
                "type": "documentation",
                "label": s.id,
                "display": s.name,
                "citation": s.title,
                "document": {"url": _doc_url(s.doc_id), "title": s.title},
            }
            for s in book.sources.values()
        ],
        "action": [_node_action(book, book.root)],
    }


def export_fhir(book: PathwayBook) -> dict[str, Any]:
    """The pathway as a FHIR R4 collection Bundle holding one PlanDefinition, validated (R4B models;
    `fhir.resources` is imported here, on first use)."""
    from fhir.resources.R4B.bundle import Bundle

    bundle = {
        "resourceType": "Bundle",
        "id": f"{PLAN_ID}-bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:ally:plandefinition:{PLAN_ID}", "resource": plan_definition(book)},
        ],
    }
    validated = Bundle.model_validate(bundle)
    return validated.model_dump(mode="json", exclude_none=True)


def iter_actions(action: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action nested in `action` (inclusive), depth first."""
    out = [action]
    for child in action.get("action", []):
        out.extend(iter_actions(child))
    return out
