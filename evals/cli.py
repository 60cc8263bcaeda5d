"""What `ally eval` runs: the evaluation harness driven from the command line.

The command itself (its typer options) is declared with the other commands in
`assistant/cli/evaluation.py`; this module owns the run: which systems, the preconditions, the run,
the gate, the reports and what is printed. Module-level imports stay light so `ally --help` is
fast; the harness, the models and the report load inside `run_command`. Exit codes: 0 all thresholds
met, 1 the gate failed, 2 bad input or settings, 3 store problems (raised as ALLy errors; the CLI
maps them).

Preconditions come first: when a system needs the local store (bm25, dense, in-process ally), the
store is opened and validated before any system runs, so a missing store fails in seconds with the
command that builds it instead of after the LangChain baseline has run over every question.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ally.settings import Settings
    from evals.gate import GateResult, Thresholds
    from evals.runner import EvalRun

DEFAULT_SYSTEMS = "langchain,bm25,dense,ally"
STORE_SYSTEMS = ("bm25", "dense")


@dataclass(frozen=True)
class EvalOptions:
    """The options of one `ally eval` run (see `assistant/cli/evaluation.py` for their help)."""

    dataset: Path | None = None
    against: str | None = None
    as_json: bool = False
    out: Path | None = None
    systems: str | None = None
    store: Path | None = None
    corpus: Path = Path("corpus")
    pathway_cases: Path | None = None
    no_pathway: bool = False
    thresholds: Path | None = None
    limit: int | None = None
    off_field: tuple[str, ...] = ()


def system_names(systems: str | None, against: str | None) -> list[str]:
    """The systems to run, in order (default: all four; with --against: ally)."""
    return [s.strip() for s in (systems or ("ally" if against else DEFAULT_SYSTEMS)).split(",") if s.strip()]


def checked_settings(names: list[str], store: Path | None, against: str | None) -> Settings | None:
    """The settings the systems need, with the local store opened and validated when one needs it.

    Raises StoreError (exit 3, naming the command that builds the store) before anything runs.
    """
    from ally.settings import load_settings

    needs_store = any(n in STORE_SYSTEMS or (n == "ally" and not against) for n in names)
    if not (needs_store or against):
        return None
    settings = load_settings(store=store)
    if needs_store:
        from ingest.store import open_reader

        open_reader(settings).close()
    return settings


def run_command(options: EvalOptions) -> int:
    """Run the evaluation, print the results and return the exit code (0 gate met, 1 gate failed)."""
    from evals.dataset import default_pathway_path, default_questions_path
    from evals.gate import check_gate, default_thresholds_path, load_thresholds
    from evals.runner import run_eval

    names = system_names(options.systems, options.against)
    gate_config = load_thresholds(options.thresholds or default_thresholds_path())
    settings = checked_settings(names, options.store, options.against)
    run = run_eval(
        dataset=options.dataset or default_questions_path(),
        systems=names,
        settings=settings,
        corpus=options.corpus,
        pathway_cases=None if options.no_pathway else (options.pathway_cases or default_pathway_path()),
        against=options.against,
        limit=options.limit,
        off_field=options.off_field,
        progress=lambda msg: typer.echo(msg, err=True),
    )
    gated = run.system(gate_config.system)
    gate = check_gate(gated.metrics, gate_config) if gated is not None else None
    _report(run, gate, gate_config, options)
    if gate is None:
        return 0
    return 0 if gate.passed else 1


def _report(run: EvalRun, gate: GateResult | None, gate_config: Thresholds, options: EvalOptions) -> None:
    from evals.report import summary_table, write_reports

    if options.out is not None:
        paths = write_reports(run, gate, options.out)
        typer.echo(f"report: {paths['html']} and {paths['markdown']}", err=True)
    if options.as_json:
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
