"""Reports: the summary table, the Markdown and self-contained HTML files, charts and failed items."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from ally.schema import Answer, Citation, RetrievedPassage
from evals.gate import Thresholds, check_gate
from evals.metrics import aggregate, per_category, score_item
from evals.report import summary_table, write_reports
from evals.runner import EvalRun, ItemRecord, SystemRun

PASSAGE = "Dosing Schedule: 45 mg orally once daily (dose reduction to 30 mg or 15 mg for response/toxicity)"


def _system(name: str, answer_text: str) -> SystemRun:
    answer = Answer(
        answer=answer_text,
        abstained=False,
        citations=[Citation(n=1, doc_id="overview", title="Overview", chunk_id="c1", text=PASSAGE)],
        retrieved=[RetrievedPassage(doc_id="overview", chunk_id="c1", text=PASSAGE + " <b>")],
    )
    score = score_item(
        item_id="dose-01",
        category="dosing",
        expect_abstain=False,
        key_facts=[[r"45\s*mg"]],
        gold_quotes=["45 mg orally once daily"],
        answer=answer,
        latency_s=0.05,
    )
    run = SystemRun(
        name=name,
        description=name,
        info={"corpus_version": "abc123"},
        items=[
            ItemRecord(
                item_id="dose-01",
                question="Iclusig dose?",
                category="dosing",
                answer=answer,
                latency_s=0.05,
                score=score,
            )
        ],
    )
    run.metrics = aggregate([score])
    run.categories = per_category([score])
    return run


def test_reports_show_every_system_charts_and_failed_items(tmp_path: Path) -> None:
    run = EvalRun(
        run_id="r1",
        started_at="2026-01-01T00:00:00+00:00",
        dataset={"path": "q.jsonl", "sha256": "0" * 64, "items": 1},
        systems=[
            _system("langchain", "Ponatinib 30 mg <script>"),
            _system("ally", "Ponatinib: 45 mg orally once daily [1]."),
        ],
    )
    table = summary_table(run)
    assert table.splitlines()[0].split()[0] == "System"
    assert [line.split()[0] for line in table.splitlines()[2:]] == ["langchain", "ally"]
    gate = check_gate(
        run.systems[1].metrics, Thresholds(min={"answers.full_correctness": 1.0, "pathway.verdict_accuracy": 1})
    )
    assert gate.passed and gate.skipped == ["pathway.verdict_accuracy (not measured)"]
    paths = write_reports(run, gate, tmp_path / "out")
    html = paths["html"].read_text(encoding="utf-8")
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) >= 4 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "<script>" not in html and "Ponatinib 30 mg &lt;script&gt;" in html  # escaped answer
    assert "Failed items: langchain (1 of 1)" in html and "Failed items: ally (0 of 1)" in html
    assert "45 mg orally once daily (dose reduction" in html  # the retrieved passage of the failed item
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "| langchain |" in md and "| ally |" in md and "![retrieval](charts/retrieval.png)" in md
    assert (tmp_path / "out" / "charts" / "retrieval.png").read_bytes().startswith(b"\x89PNG")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["gate"]["passed"] is True and len(data["run"]["systems"]) == 2
    failing = check_gate(run.systems[0].metrics, Thresholds(min={"answers.full_correctness": 0.5}))
    assert not failing.passed and failing.violations == ["answers.full_correctness = 0.000, must be >= 0.5"]
