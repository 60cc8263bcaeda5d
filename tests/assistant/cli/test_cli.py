"""The `ally` command line, against the contract (shared/spec/contract.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app

runner = CliRunner()
CORPUS = Path(__file__).resolve().parents[3] / "corpus"


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env)


class TestIngestCommand:
    def test_json_report_fields_and_idempotence(self, ingested_store: Path) -> None:
        result = invoke("ingest", str(CORPUS), "--store", str(ingested_store), "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        for key in ("added", "updated", "skipped", "removed", "failed", "embedded", "chunks"):
            assert isinstance(report[key], int), key
        assert report["embedded"] == 0 and report["skipped"] == 5 and report["failures"] == []

    def test_nothing_ingestable_exits_non_zero(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.txt"
        bad.write_bytes(b"\x00\x01")
        result = invoke("ingest", str(bad), "--store", str(tmp_path / "s"), "--json")
        assert result.exit_code == 1
        assert json.loads(result.stdout)["failures"][0]["path"].endswith("bad.txt")


class TestReadCommands:
    def test_docs_lists_five_clean_titles(self, ingested_store: Path) -> None:
        result = invoke("docs", "--store", str(ingested_store), "--json")
        docs = [json.loads(line) for line in result.stdout.splitlines()]
        assert {d["doc_id"] for d in docs} == {p.stem for p in CORPUS.glob("*.txt")}
        titles = {d["title"] for d in docs}
        assert "CAR-T Cell Therapy in Acute Lymphoblastic Leukemia" in titles
        assert all(d["chunks"] > 0 for d in docs)
        assert not any("Β" in t or "Γ" in t for t in titles)

    def test_chunks_jsonl_contract(self, ingested_store: Path) -> None:
        result = invoke("chunks", "--store", str(ingested_store), "--json")
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert rows and all(set(r) == {"chunk_id", "doc_id", "section", "text"} for r in rows)
        one_doc = invoke("chunks", "--store", str(ingested_store), "--doc", "li-2025-car-t-in-all", "--json")
        assert {json.loads(x)["doc_id"] for x in one_doc.stdout.splitlines()} == {"li-2025-car-t-in-all"}

    def test_show_passage_with_section_and_source(self, ingested_store: Path) -> None:
        rows = [json.loads(x) for x in invoke("chunks", "--store", str(ingested_store), "--json").stdout.splitlines()]
        mrd = next(
            r for r in rows if r["section"].endswith("MRD+") and "Philadelphia chromosome positive" in r["section"]
        )
        result = invoke("show", mrd["chunk_id"], "--store", str(ingested_store))
        assert result.exit_code == 0
        assert "Acute Lymphoblastic Leukemia (ALL)" in result.stdout
        assert mrd["section"] in result.stdout and "Blinatumomab +/- TKI" in result.stdout

    def test_unknown_chunk_exit_4(self, ingested_store: Path) -> None:
        result = invoke("show", "nope", "--store", str(ingested_store))
        assert result.exit_code == 4 and "no passage 'nope'" in result.output


class TestErrors:
    def test_missing_store_exit_3_with_fix(self, tmp_path: Path) -> None:
        result = invoke("docs", "--store", str(tmp_path / "none"))
        assert result.exit_code == 3 and "ally ingest corpus --store" in result.output

    def test_unknown_setting_rejected(self, ingested_store: Path) -> None:
        result = invoke("docs", "--store", str(ingested_store), env={"ALLY_STOER": "x"})
        assert result.exit_code == 2 and "ALLY_STOER" in result.output

    def test_bad_setting_value_named(self, ingested_store: Path) -> None:
        result = invoke("docs", "--store", str(ingested_store), env={"ALLY_TOP_K": "two"})
        assert result.exit_code == 2 and "ALLY_TOP_K" in result.output

    @pytest.mark.parametrize(
        ("patient", "field"),
        [('{"age": 200}', "age"), ('{"lineage": "X"}', "lineage"), ('{"colour": 1}', "colour"), ("{bad", "--patient")],
    )
    def test_bad_patient_exit_2_names_field(self, ingested_store: Path, patient: str, field: str) -> None:
        result = invoke("ask", "options?", "--patient", patient, "--store", str(ingested_store))
        assert result.exit_code == 2 and field in result.output


def test_console_script_runs_offline(ingested_store: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "docs", "--store", str(ingested_store)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "schistosite-all-2025" in out.stdout


class TestPreconditions:
    def test_eval_without_a_store_exits_3_before_any_baseline_runs(self, tmp_path: Path) -> None:
        started = time.perf_counter()
        result = invoke("eval", "--store", str(tmp_path / "nonexistent"), "--corpus", str(CORPUS))
        assert result.exit_code == 3, result.output
        assert "ally ingest corpus --store" in result.output
        assert "starting" not in result.output, "no system may start before the store is checked"
        assert time.perf_counter() - started < 20

    def test_eval_of_baselines_that_need_no_store_does_not_check_one(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"id": "x"}\n', encoding="utf-8")
        result = invoke("eval", "--dataset", str(bad), "--systems", "langchain", "--store", str(tmp_path / "none"))
        assert result.exit_code == 2, result.output  # the data set's error, not the store's


def test_printed_answer_shows_more_and_labels(capsys: pytest.CaptureFixture[str]) -> None:
    from ally.schema import Answer, Citation
    from assistant.cli.ask import print_answer

    cite = Citation(n=1, doc_id="d", title="Guideline", chunk_id="c1", text="t", section="Treatment > MRD+", year=2025)
    print_answer(Answer(answer="A. [1]", abstained=False, citations=[cite], more=["B. [1]"]))
    out = capsys.readouterr().out
    assert out.index("A. [1]") < out.index("More from the sources:\n  B. [1]") < out.index("Sources:")
    assert "[1] Guideline, 2025 · Treatment · MRD+  (c1)" in out
