"""The `ally` command line (typer): a thin transport over the ingest pipeline and the assistant core.

This package owns the typer app and `main` (the console-script entry point) and registers every
command; each command family lives in its own module (`corpus`, `ask`, `pathway`, `serve`, `slack`,
`evaluation`) and shares the options, settings, error -> exit code mapping and JSON output of
`assistant.cli.common`. Commands keep their heavy imports (models, Chroma, FastAPI) inside the
function bodies so that `ally --help` and BM25-only paths start fast.
"""

from __future__ import annotations

import typer

from ally.runtime import enforce_offline
from assistant.cli.ask import ask
from assistant.cli.corpus import chunks, docs, ingest, show
from assistant.cli.evaluation import eval_command
from assistant.cli.pathway import pathway
from assistant.cli.serve import serve
from assistant.cli.slack import slack

app = typer.Typer(
    name="ally",
    help="ALLy: cited answers about acute lymphoblastic leukemia from your own corpus, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for command in (ingest, docs, chunks, show, ask, serve):
    app.command()(command)
app.command("eval")(eval_command)
app.command("pathway")(pathway)
app.command("slack")(slack)


def main() -> None:
    """Console-script entry point."""
    enforce_offline()
    app()


__all__ = ["app", "main"]
