"""`ally eval`: the evaluation harness's options on the command line (a thin transport).

The run itself (systems, preconditions, gate, reports, output) is `evals.cli.run_command`; `evals/`
is a client of the assistant's public API. Errors map to exit codes through `run_guarded`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import StoreOption, run_guarded
from evals.cli import DEFAULT_SYSTEMS


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
    store: StoreOption = None,
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
    off_field: Annotated[
        str | None,
        typer.Option(
            "--off-field",
            help="Comma-separated topics of a document-gold set (its 'topic' field): ask only those questions, "
            "each expected to be refused (a store built from another field's documents does not answer them).",
        ),
    ] = None,
) -> None:
    """Run the evaluation: ALLy and its baselines on the same questions, metrics, report and CI gate."""
    from ally.runtime import enforce_offline
    from evals.cli import EvalOptions, run_command

    enforce_offline()
    options = EvalOptions(
        dataset=dataset,
        against=against,
        as_json=as_json,
        out=out,
        systems=systems,
        store=store,
        corpus=corpus,
        pathway_cases=pathway_cases,
        no_pathway=no_pathway,
        thresholds=thresholds,
        limit=limit,
        off_field=tuple(t.strip() for t in (off_field or "").split(",") if t.strip()),
    )
    raise typer.Exit(run_guarded(lambda: run_command(options)))
