"""The `ally` command line (typer): a thin transport over the ingest pipeline and the assistant core.

Commands keep their heavy imports (models, Chroma, FastAPI) inside the function bodies so that
`ally --help` and BM25-only paths start fast. Errors from the core are mapped to exit codes in one
place (`_run`): 2 for bad input or settings, 3 for store problems, 4 for unknown ids.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ally.errors import AllyError, InputError
from ally.runtime import enforce_offline
from ally.schema import Answer
from ally.settings import Settings, load_settings

app = typer.Typer(
    name="ally",
    help="ALLy: cited answers about acute lymphoblastic leukemia from your own corpus, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Store folder (default: $ALLY_STORE or ./.store).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (one object per line).")]


def settings_for(store: Path | None = None, **overrides: Any) -> Settings:
    """The settings for one command: environment plus the command's own options."""
    return load_settings(store=store, **overrides)


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def run_guarded(fn: Callable[[], T]) -> T:
    """Run a command body, turning ALLy errors into a clear message and the error's exit code."""
    try:
        return fn()
    except AllyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.", show_default=False)],
    store: StoreOption = None,
    prune: Annotated[bool, typer.Option("--prune", help="Drop documents whose files are gone.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Load files or folders into the store. Safe to re-run: unchanged files cost nothing."""
    from ingest.pipeline import ingest_paths
    from ingest.progress import make_progress

    def body() -> None:
        settings = settings_for(store)
        report = ingest_paths(paths, settings, prune=prune, progress=make_progress(enabled=not as_json))
        if as_json:
            emit_json(report.model_dump())
        else:
            typer.echo(
                f"added {report.added}, updated {report.updated}, skipped {report.skipped}, "
                f"removed {report.removed}, failed {report.failed}; embedded {report.embedded} chunks; "
                f"{report.chunks} chunks in store; {report.seconds:.1f} s"
            )
            for failure in report.failures:
                typer.echo(f"  failed: {failure.path}: {failure.reason}", err=True)
            for warning in report.warnings:
                typer.echo(f"  note: {warning}", err=True)
        nothing_ingested = report.failed > 0 and report.added + report.updated + report.skipped == 0
        if nothing_ingested:
            raise typer.Exit(1)

    run_guarded(body)


@app.command()
def docs(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the documents in the store with their metadata and chunk counts."""
    from ingest.store import Store

    def body() -> None:
        with Store.open_reader(settings_for(store)) as st:
            documents = st.documents()
        if as_json:
            for d in documents:
                emit_json(d.model_dump())
            return
        for d in documents:
            meta = ", ".join(x for x in [d.publisher, d.kind, str(d.year) if d.year else None, d.doi] if x)
            typer.echo(f"{d.doc_id}  ({d.chunks} chunks)\n  {d.title}" + (f"\n  {meta}" if meta else ""))

    run_guarded(body)


@app.command()
def chunks(
    store: StoreOption = None,
    doc: Annotated[str | None, typer.Option("--doc", help="Only this document's chunks.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every stored chunk, one JSON object per line: chunk_id, doc_id, section, text."""
    from ingest.store import Store

    def body() -> None:
        with Store.open_reader(settings_for(store)) as st:
            records = st.chunks(doc_id=doc)
        for r in records:
            if as_json:
                emit_json(r.model_dump())
            else:
                typer.echo(f"{r.chunk_id}  [{r.doc_id}] {r.section}\n{r.text}\n")

    run_guarded(body)


@app.command()
def show(
    chunk_id: Annotated[str, typer.Argument(help="The chunk id (from `ally chunks` or a citation).")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one passage, cleaned, with its section path and source."""
    from ingest.store import Store

    def body() -> None:
        with Store.open_reader(settings_for(store)) as st:
            passage = st.passage(chunk_id)
        if as_json:
            emit_json(passage.model_dump())
            return
        d = passage.document
        typer.echo(f"{d.title}" + (f" ({d.publisher})" if d.publisher else "") + (f", {d.year}" if d.year else ""))
        typer.echo(f"section: {passage.section or '(top)'}")
        typer.echo(f"chunk:   {passage.chunk_id}   document: {passage.doc_id}\n")
        typer.echo(passage.text)

    run_guarded(body)


def _load_json_option(raw: str | None, option: str) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{option}: not valid JSON ({exc.msg} at character {exc.pos})", field=option) from exc


def read_batch(path: Path, max_lines: int, max_question_chars: int | None = None) -> list[dict[str, Any]]:
    """Read and validate every line of a JSONL batch before anything runs; errors name the line."""
    from pydantic import ValidationError

    from ally.schema import AskRequest, parse_patient

    if not path.is_file():
        raise InputError(f"--batch: no such file {path}", field="batch")
    items: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            if len(items) >= max_lines:
                raise InputError(f"--batch: more than {max_lines} lines (setting ALLY_MAX_BATCH_LINES)", field="batch")
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"--batch {path}: line {lineno}: not valid JSON ({exc.msg})", field="batch") from exc
            try:
                items.append(AskRequest.model_validate(raw).model_dump())
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise InputError(f"--batch {path}: line {lineno}: field '{where}': {err['msg']}", field=where) from exc
            if max_question_chars is not None and len(items[-1]["question"]) > max_question_chars:
                raise InputError(
                    f"--batch {path}: line {lineno}: question longer than {max_question_chars} characters "
                    "(setting ALLY_MAX_QUESTION_CHARS); shorten it",
                    field="question",
                )
            try:
                parse_patient(items[-1].get("patient"))
            except InputError as exc:
                raise InputError(f"--batch {path}: line {lineno}: {exc}", field=exc.field) from exc
    return items


def print_answer(answer: Answer) -> None:
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("\nSources:")
        for c in answer.citations:
            year = f", {c.year}" if c.year else ""
            typer.echo(f"  [{c.n}] {c.title}{year}\n      {c.section or '(top)'}  ({c.chunk_id})")
            if c.population_note:
                typer.echo(f"      note: {c.population_note}")
    if answer.abstained and answer.related:
        typer.echo("\nClosest passages (not an answer):")
        for r in answer.related:
            typer.echo(f"  - {r.title}: {r.section or '(top)'}  ({r.chunk_id})")
    if answer.pathway is not None and answer.pathway.missing:
        typer.echo(f"\nPathway needs: {', '.join(answer.pathway.missing)}")


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question.", show_default=False)] = None,
    patient: Annotated[
        str | None, typer.Option("--patient", help='Patient record as JSON, e.g. \'{"age": 70, "lineage": "B"}\'.')
    ] = None,
    conversation: Annotated[
        str | None, typer.Option("--conversation", help="Conversation id: follow-ups keep earlier turns.")
    ] = None,
    batch: Annotated[
        Path | None, typer.Option("--batch", help="JSONL file of {id, question, patient?, conversation_id?}.")
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question from the sources, with numbered citations (or say plainly what is missing)."""

    def body() -> None:
        if (question is None) == (batch is None):
            raise InputError("give either a QUESTION or --batch FILE", field="question")
        settings = settings_for(store)
        from ally.schema import parse_patient
        from assistant.service import Assistant

        if batch is not None:
            items = read_batch(batch, settings.max_batch_lines, settings.max_question_chars)
            with Assistant.open(settings) as assistant:
                for item in items:
                    answer = assistant.ask(
                        item["question"],
                        patient=item.get("patient"),
                        conversation_id=item.get("conversation_id"),
                        id=item.get("id"),
                    )
                    if as_json:
                        emit_json(answer.model_dump())
                    else:
                        typer.echo(f"--- {item.get('id')}")
                        print_answer(answer)
            return
        assert question is not None
        record = parse_patient(_load_json_option(patient, "--patient")) if patient else None
        with Assistant.open(settings) as assistant:
            answer = assistant.ask(question, patient=record, conversation_id=conversation)
        if as_json:
            emit_json(answer.model_dump())
        else:
            print_answer(answer)

    run_guarded(body)


app.command("serve")(__import__("assistant.api.cli", fromlist=["serve"]).serve)


app.command("eval")(__import__("evals.cli", fromlist=["eval_command"]).eval_command)

app.command("pathway")(__import__("assistant.pathway.cli", fromlist=["pathway"]).pathway)
app.command("slack")(__import__("assistant.slack.cli", fromlist=["slack"]).slack)


def main() -> None:
    """Console-script entry point."""
    enforce_offline()
    app()


if __name__ == "__main__":
    main()
