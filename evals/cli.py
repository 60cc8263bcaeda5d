"""`ally eval`: the evaluation harness on the command line (registered in assistant/cli.py).

Module-level imports stay light (typer only) so `ally --help` is fast; the harness, the models and the
report load inside the command. Exit codes: 0 all thresholds met, 1 the gate failed, 2 bad input or
settings, 3 store problems.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_SYSTEMS = "langchain,bm25,dense,ally"


def eval_command(
    dataset: Annotated[
        Path | None,
        typer.Option(
            "--dataset", help="Question set (JSONL, see evals/datasets/README.md). Default: the built-in set."
        ),
    ] = None,
    against: Annotated[
        str | None,
        typer.Option("--against", help="Evaluate a running server (POST URL/v1/ask) instead of in-process ALLy."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as one JSON object.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write report.md, report.html, results.json and charts here.")
    ] = None,
    systems: Annotated[
        str | None,
        typer.Option(
            "--systems",
            help=f"Comma-separated systems to run (default: {DEFAULT_SYSTEMS}; with --against: ally).",
        ),
    ] = None,
    store: Annotated[
        Path | None, typer.Option("--store", help="Store folder (default: $ALLY_STORE or ./.store).")
    ] = None,
    corpus: Annotated[Path, typer.Option("--corpus", help="Raw corpus folder for the LangChain baseline.")] = Path(
        "corpus"
    ),
    pathway_cases: Annotated[
        Path | None,
        typer.Option("--pathway-cases", help="Pathway cases (JSONL). Default: the built-in cases."),
    ] = None,
    no_pathway: Annotated[bool, typer.Option("--no-pathway", help="Skip the pathway cases.")] = False,
    thresholds: Annotated[
        Path | None,
        typer.Option("--thresholds", help="Gate thresholds (YAML). Default: evals/thresholds.yaml."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Only the first N questions (whole conversations kept)."),
    ] = None,
) -> None:
    """Run the evaluation: ALLy and its baselines on the same questions, metrics, report and CI gate."""
    from ally.errors import AllyError
    from ally.runtime import enforce_offline

    enforce_offline()
    try:
        code = _run(
            dataset,
            against,
            as_json,
            out,
            systems,
            store,
            corpus,
            pathway_cases,
            no_pathway,
            thresholds,
            limit,
        )
    except AllyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    raise typer.Exit(code)


def _run(
    dataset: Path | None,
    against: str | None,
    as_json: bool,
    out: Path | None,
    systems: str | None,
    store: Path | None,
    corpus: Path,
    pathway_cases: Path | None,
    no_pathway: bool,
    thresholds: Path | None,
    limit: int | None,
) -> int:
    from ally.settings import load_settings
    from evals.dataset import default_pathway_path, default_questions_path
    from evals.gate import check_gate, default_thresholds_path, load_thresholds
    from evals.report import summary_table, write_reports
    from evals.runner import run_eval

    names = [s.strip() for s in (systems or ("ally" if against else DEFAULT_SYSTEMS)).split(",") if s.strip()]
    gate_config = load_thresholds(thresholds or default_thresholds_path())
    needs_store = any(n in ("bm25", "dense") or (n == "ally" and not against) for n in names)
    settings = load_settings(store=store) if (needs_store or against) else None
    run = run_eval(
        dataset=dataset or default_questions_path(),
        systems=names,
        settings=settings,
        corpus=corpus,
        pathway_cases=None if no_pathway else (pathway_cases or default_pathway_path()),
        against=against,
        limit=limit,
        progress=lambda msg: typer.echo(msg, err=True),
    )
    gated = run.system(gate_config.system)
    gate = check_gate(gated.metrics, gate_config) if gated is not None else None
    if out is not None:
        paths = write_reports(run, gate, out)
        typer.echo(f"report: {paths['html']} and {paths['markdown']}", err=True)
    if as_json:
        payload = {
            "run_id": run.run_id,
            "dataset": run.dataset,
            "systems": {
                s.name: {"metrics": s.metrics, "categories": s.categories, "info": s.info} for s in run.systems
            },
            "gate": gate.model_dump() if gate else None,
            "failed": {s.name: [r.item_id for r in s.failed_items()] for s in run.systems},
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    else:
        typer.echo(summary_table(run))
        if gate is not None:
            status = "passed" if gate.passed else "FAILED"
            typer.echo(f"\ngate on {gate.system}: {status}")
            for v in gate.violations:
                typer.echo(f"  {v}")
    if gate is None:
        typer.echo(f"note: no gate applied (system {gate_config.system!r} was not run)", err=True)
        return 0
    return 0 if gate.passed else 1
