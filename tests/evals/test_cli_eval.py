"""`ally eval` end to end on a slice of the data set: all four systems, JSON, reports and the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from evals.dataset import default_pathway_path, default_questions_path

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = ["dose-01", "appr-06", "dis-01", "unans-01", "unans-11", "conv-02-t1", "conv-02-t2", "conv-02-t3"]
CASES = ["pw-07", "pw-12", "pw-16"]


def _slice(source: Path, ids: list[str], dest: Path) -> Path:
    lines = [ln for ln in source.read_text(encoding="utf-8").splitlines() if json.loads(ln)["id"] in ids]
    assert len(lines) == len(ids)
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


@pytest.mark.slow
def test_ally_eval_runs_all_four_systems_and_gates(ingested_store: Path, tmp_path: Path) -> None:
    questions = _slice(default_questions_path(), QUESTIONS, tmp_path / "q.jsonl")
    cases = _slice(default_pathway_path(), CASES, tmp_path / "p.jsonl")
    impossible = tmp_path / "strict.yaml"
    impossible.write_text("system: ally\nmin:\n  answers.full_correctness: 1.01\n", encoding="utf-8")
    out = tmp_path / "report"
    args = [
        "eval",
        "--dataset",
        str(questions),
        "--pathway-cases",
        str(cases),
        "--store",
        str(ingested_store),
        "--corpus",
        str(REPO / "corpus"),
        "--thresholds",
        str(impossible),
        "--out",
        str(out),
        "--json",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # the gate fails on an impossible bound
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(payload["systems"]) == ["langchain", "bm25", "dense", "ally"]
    ally = payload["systems"]["ally"]
    assert ally["info"]["corpus_version"] and ally["info"]["settings"]["embedding_model"] == "all-MiniLM-L6-v2"
    assert ally["metrics"]["pathway"]["verdict_accuracy"] is not None
    assert ally["metrics"]["retrieval"]["hit@10"] is not None and ally["metrics"]["latency"]["p50_ms"] > 0
    assert payload["systems"]["langchain"]["metrics"]["abstention"]["recall"] == 0.0  # never abstains
    assert payload["systems"]["langchain"]["info"]["chunks"] > 0
    assert payload["gate"]["passed"] is False
    assert payload["gate"]["violations"][0].startswith("answers.full_correctness")
    html = (out / "report.html").read_text(encoding="utf-8")
    for name in ("langchain", "bm25", "dense", "ally"):
        assert f"Failed items: {name}" in html
    assert "data:image/png;base64," in html and (out / "report.md").is_file()


@pytest.mark.slow
def test_ally_eval_passes_and_prints_a_table(ingested_store: Path, tmp_path: Path) -> None:
    questions = _slice(default_questions_path(), QUESTIONS[:4], tmp_path / "q.jsonl")
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("system: bm25\nmin:\n  answers.key_fact_recall: 0.0\n", encoding="utf-8")
    args = [
        "eval",
        "--dataset",
        str(questions),
        "--no-pathway",
        "--store",
        str(ingested_store),
        "--systems",
        "bm25",
        "--thresholds",
        str(lenient),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "System" in result.stdout and "bm25" in result.stdout and "gate on bm25: passed" in result.stdout


def test_ally_eval_rejects_a_bad_dataset_with_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "q", "category": "nope", "key_facts": [["a"]], "gold_quotes": ["a"]}\n')
    result = CliRunner().invoke(app, ["eval", "--dataset", str(bad), "--systems", "langchain"])
    assert result.exit_code == 2
    assert "bad.jsonl:1: field 'category'" in result.output


def test_ally_eval_rejects_unknown_systems(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "--systems", "gpt", "--no-pathway"])
    assert result.exit_code == 2 and "unknown system(s) gpt" in result.output
