"""`ally pathway` on the command line: single (text and --json), --batch JSONL with ids,
--export fhir, exit code 2 naming the field for bad input; with and without a store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app

runner = CliRunner()
PATIENT = {"age": 70, "lineage": "B", "ph": "negative", "fit": False, "phase": "diagnosis"}


def _run(*args: str) -> Any:
    return runner.invoke(app, ["pathway", *args])


@pytest.fixture
def no_store(tmp_path: Path) -> str:
    return str(tmp_path / "no-store")


def test_single_json_without_a_store(no_store: str) -> None:
    result = _run("--patient", json.dumps(PATIENT), "--propose", "Besponsa", "--json", "--store", no_store)
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.strip().splitlines()
    data = json.loads(line)
    assert data["node"] == "B-ALL / Ph-negative / diagnosis (induction) / older (≥65) or with significant comorbidities"
    assert data["patient"] == PATIENT
    assert data["missing"] == []
    assert data["check"]["verdict"] == "on" and data["check"]["therapy"] == "inotuzumab ozogamicin"
    assert all(c["doc_id"] and c["text"] for o in data["options"] for c in o["citations"])
    assert "citations carry no chunk ids" in result.stderr


def test_single_readable_text(no_store: str) -> None:
    patient = {"age": 50, "lineage": "B", "ph": "negative", "fit": True, "phase": "diagnosis"}
    result = _run("--patient", json.dumps(patient), "--propose", "rituximab", "--store", no_store)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Pathway node: B-ALL / Ph-negative / diagnosis (induction) / adult 40–64" in out
    assert "Missing: cd20_percent, asparaginase_hypersensitivity" in out
    assert "Proposed rituximab: CONDITIONAL" in out
    assert '"+ rituximab for CD20+ disease and CD20 expression ≥20%"' in out


@pytest.mark.parametrize(
    ("patient", "field"),
    [
        ('{"age": 170}', "age"),
        ('{"agee": 70}', "agee"),
        ('{"ph": "maybe"}', "ph"),
        ('{"cd20_percent": 120}', "cd20_percent"),
        ('{"prior_regimens": -1}', "prior_regimens"),
        ("{not json", "patient"),
        ("[1, 2]", "patient"),
    ],
)
def test_bad_patient_exits_2_naming_the_field(no_store: str, patient: str, field: str) -> None:
    result = _run("--patient", patient, "--store", no_store)
    assert result.exit_code == 2
    assert field in result.stderr
    assert not result.stdout


def test_unknown_therapy_exits_2(no_store: str) -> None:
    result = _run("--patient", json.dumps(PATIENT), "--propose", "unobtainium", "--store", no_store)
    assert result.exit_code == 2
    assert "propose" in result.stderr


def test_exactly_one_mode_is_required() -> None:
    assert _run().exit_code == 2
    assert _run("--patient", "{}", "--export", "fhir").exit_code == 2
    assert _run("--export", "pdf").exit_code == 2


def test_batch_jsonl_carries_ids_and_reports_bad_lines(tmp_path: Path, no_store: str) -> None:
    batch = tmp_path / "batch.jsonl"
    lines = [
        {"id": "a", "patient": PATIENT},
        {
            "id": 7,
            "patient": {"age": 50, "lineage": "B", "ph": "positive", "phase": "post_induction", "response": "CR"},
            "propose": "inotuzumab",
        },
        {"id": "bad", "patient": {"age": -3}},
        {"id": "extra", "patient": {}, "question": "?"},
    ]
    batch.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    result = _run("--batch", str(batch), "--json", "--store", no_store)
    assert result.exit_code == 2  # some lines failed; every line still answered
    out = [json.loads(x) for x in result.stdout.strip().splitlines()]
    assert [o["id"] for o in out] == ["a", 7, "bad", "extra"]
    assert out[0]["node_id"] == "b_phneg/diagnosis/older_or_unfit"
    assert out[1]["check"]["verdict"] == "needs_info" and out[1]["missing"] == ["mrd"]
    assert out[2]["field"] == "age" and "error" in out[2]
    assert out[3]["field"] == "question"


def test_batch_all_good_exits_0(tmp_path: Path, no_store: str) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"id": 1, "patient": PATIENT, "propose": "POMP"}) + "\n", encoding="utf-8")
    result = _run("--batch", str(batch), "--json", "--store", no_store)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["check"]["verdict"] == "on"


def test_export_fhir_to_file(tmp_path: Path) -> None:
    from fhir.resources.R4B.bundle import Bundle

    out = tmp_path / "pathway.fhir.json"
    result = _run("--export", "fhir", "--out", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    Bundle.model_validate(data)
    assert data["entry"][0]["resource"]["resourceType"] == "PlanDefinition"


def test_export_fhir_to_stdout() -> None:
    result = _run("--export", "fhir")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["resourceType"] == "Bundle"


@pytest.mark.slow
def test_single_with_the_ingested_store_resolves_chunk_ids(ingested_settings: Any) -> None:
    patient = {
        "age": 45,
        "lineage": "B",
        "ph": "negative",
        "phase": "relapsed_refractory",
        "kmt2a": True,
        "prior_regimens": 1,
    }
    result = _run(
        "--patient", json.dumps(patient), "--propose", "Revuforj", "--json", "--store", str(ingested_settings.store)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["check"]["verdict"] == "on"
    assert all(c["chunk_id"] for o in data["options"] for c in o["citations"])
    assert all(c["chunk_id"] for c in data["check"]["citations"])


T_CR = {"age": 30, "lineage": "T", "phase": "post_induction", "response": "CR", "mrd": "negative"}
B_RR_PH = {"age": 50, "lineage": "B", "ph": "positive", "phase": "relapsed_refractory", "prior_regimens": 1}


@pytest.mark.parametrize(
    ("patient", "field", "lines"),
    [
        (
            T_CR,
            "high_risk",
            [
                "If high_risk is yes: T-ALL / post-induction / CR / MRD-positive or high-risk features — ",
                "If high_risk is no: T-ALL / post-induction / CR / MRD-negative, no high-risk features — ",
            ],
        ),
        (B_RR_PH, "t315i", ["If t315i is yes: B-ALL / Ph-positive / no CR / relapsed-refractory — "]),
    ],
    ids=["t-all-high-risk", "ph-positive-t315i"],
)
class TestWhatIfBranches:
    """Where a field is missing, the text and JSON show what each answer to it leads to."""

    def test_text_has_one_line_per_branch(
        self, no_store: str, patient: dict[str, Any], field: str, lines: list[str]
    ) -> None:
        from assistant.pathway import evaluate
        from assistant.resources import load_pathway_book

        result = _run("--patient", json.dumps(patient), "--store", no_store)
        assert result.exit_code == 0, result.output
        out = result.stdout.splitlines()
        assert "What each answer would lead to:" in out
        for start in lines:
            (line,) = [x for x in out if x.strip().startswith(start)]
            assert line.rstrip().endswith("]") or "(still needs:" in line  # the citations close the line
        branches = [b for b in evaluate(patient, load_pathway_book()).branches if b.field == field]
        for b in branches:
            (line,) = [x for x in out if x.strip().startswith(f"If {b.label}:")]
            assert all(o.therapy in line for o in b.options)
            assert all(c.doc_id in line for o in b.options for c in o.citations)

    def test_json_carries_the_branches_as_evaluate_gives_them(
        self, no_store: str, patient: dict[str, Any], field: str, lines: list[str]
    ) -> None:
        from assistant.pathway import evaluate
        from assistant.resources import load_pathway_book

        result = _run("--patient", json.dumps(patient), "--json", "--store", no_store)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        book = load_pathway_book()
        assert data["branches"] == [b.model_dump(mode="json") for b in evaluate(patient, book).branches]
        mine = [b for b in data["branches"] if b["field"] == field]
        assert mine
        for b in mine:
            expected = evaluate({**patient, field: b["value"]}, book).model_dump(mode="json")
            assert b["node_id"] == expected["node_id"] and b["options"] == expected["options"]


def test_no_branch_lines_when_nothing_is_missing(no_store: str) -> None:
    result = _run("--patient", json.dumps(PATIENT), "--store", no_store)
    assert result.exit_code == 0, result.output
    assert "What each answer would lead to:" not in result.stdout
    data = json.loads(_run("--patient", json.dumps(PATIENT), "--json", "--store", no_store).stdout)
    assert data["missing"] == [] and data["branches"] == []


@pytest.mark.slow
def test_branch_citations_resolve_with_the_ingested_store(ingested_settings: Any) -> None:
    result = _run("--patient", json.dumps(T_CR), "--json", "--store", str(ingested_settings.store))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {b["value"] for b in data["branches"] if b["field"] == "high_risk"} == {True, False}
    assert all(c["chunk_id"] for b in data["branches"] for o in b["options"] for c in o["citations"])
