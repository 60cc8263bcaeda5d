"""The what-if branches pass through the API unchanged: /v1/pathway, the ask answer's pathway,
the chat stream's pathway event and the OpenAPI schema (over a fake whose pathway is the real
evaluator on the packaged book)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ally.schema import PathwayResult, Patient
from assistant.pathway import check, evaluate
from assistant.resources import load_pathway_book
from tests.fakes import FakeAssistant

from .conftest import ClientFactory
from .test_api_routes import QUESTION, parse_sse

T_CR = {"age": 30, "lineage": "T", "phase": "post_induction", "response": "CR", "mrd": "negative"}
B_DIAGNOSIS = {"age": 50, "lineage": "B", "ph": "negative", "fit": True, "phase": "diagnosis"}
COMPLETE = {"age": 70, "lineage": "B", "ph": "negative", "fit": False, "phase": "diagnosis"}


class EvaluatingFake(FakeAssistant):
    """The fake assistant with the real pathway evaluator (unresolved citations)."""

    def pathway(
        self, patient: Patient | dict[str, Any] | None, propose: str | None = None, id: Any = None
    ) -> PathwayResult:
        record = patient if isinstance(patient, Patient) else Patient.model_validate(patient or {})
        book = load_pathway_book()
        return check(record, propose, book, id=id) if propose else evaluate(record, book, id=id)


@pytest.fixture
def tc(make_client: ClientFactory, make_settings: Any) -> TestClient:
    return make_client(EvaluatingFake(settings=make_settings()))


def _expected(patient: dict[str, Any]) -> list[dict[str, Any]]:
    return [b.model_dump(mode="json") for b in evaluate(patient, load_pathway_book()).branches]


@pytest.mark.parametrize(
    ("patient", "fields"),
    [(T_CR, {"high_risk"}), (B_DIAGNOSIS, {"cd20_percent", "asparaginase_hypersensitivity"}), (COMPLETE, set())],
    ids=["t-all-needs-high-risk", "b-all-conditional-options", "nothing-missing"],
)
class TestBranchesInTheApi:
    def test_pathway_route_returns_the_branches(
        self, tc: TestClient, patient: dict[str, Any], fields: set[str]
    ) -> None:
        body = tc.post("/v1/pathway", json={"patient": patient, "id": 7}).json()
        assert body["id"] == 7
        assert body["branches"] == _expected(patient)
        assert {b["field"] for b in body["branches"]} == fields
        for b in body["branches"]:
            assert b["field"] in body["missing"]
            with_it = evaluate({**patient, b["field"]: b["value"]}, load_pathway_book()).model_dump(mode="json")
            for key in ("node", "node_id", "needs_info", "options", "conditional", "missing"):
                assert b[key] == with_it[key], (b["field"], b["value"], key)

    def test_pathway_with_a_proposed_therapy_keeps_the_branches(
        self, tc: TestClient, patient: dict[str, Any], fields: set[str]
    ) -> None:
        body = tc.post("/v1/pathway", json={"patient": patient, "propose": "blinatumomab"}).json()
        assert body["check"] is not None
        assert body["branches"] == _expected(patient)

    def test_ask_and_chat_carry_the_branches(self, tc: TestClient, patient: dict[str, Any], fields: set[str]) -> None:
        question = QUESTION
        asked = tc.post("/v1/ask", json={"question": question, "patient": patient}).json()
        assert asked["pathway"]["branches"] == _expected(patient)
        events = parse_sse(tc.post("/v1/chat", json={"question": question, "patient": patient}).text)
        (pathway,) = [d for k, d in events if k == "pathway"]
        assert pathway["pathway"]["branches"] == _expected(patient)


def test_the_openapi_schema_documents_the_branches(tc: TestClient) -> None:
    schema = tc.get("/openapi.json").json()["components"]["schemas"]
    assert "branches" in schema["PathwayResult"]["properties"]
    branch = schema["PathwayBranch"]["properties"]
    assert {"field", "value", "label", "node", "node_id", "needs_info", "options", "conditional", "missing"} <= set(
        branch
    )
    assert all(p.get("description") for p in branch.values())
