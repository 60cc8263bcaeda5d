"""`ally ingest`, `ally docs`, `ally chunks`, `ally show`: the store on the command line.

Thin transport over the ingest pipeline and the store's read model; the store and pipeline are
imported inside each command so `ally --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import JsonOption, StoreOption, emit_json, run_guarded, settings_for


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.", show_default=False)],
    store: StoreOption = None,
    prune: Annotated[bool, typer.Option("--prune", help="Drop documents whose files are gone.")] = False,
    rehash: Annotated[
        bool,
        typer.Option(
            "--rehash",
            help="Read and hash every file, trusting no recorded file stat (for files changed with their "
            "timestamps restored, e.g. by a copy that keeps them).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Load files or folders into the store. Safe to re-run: unchanged files cost nothing."""
    from ingest.pipeline import ingest_paths
    from ingest.progress import make_progress

    def body() -> None:
        settings = settings_for(store)
        report = ingest_paths(paths, settings, prune=prune, rehash=rehash, progress=make_progress(enabled=not as_json))
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


def docs(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the documents in the store with their metadata and chunk counts."""
    from ingest.store.reader import open_reader

    def body() -> None:
        with open_reader(settings_for(store)) as st:
            documents = st.documents()
        if as_json:
            for d in documents:
                emit_json(d.model_dump())
            return
        for d in documents:
            meta = ", ".join(x for x in [d.publisher, d.kind, str(d.year) if d.year else None, d.doi] if x)
            about = f"\n  about: {', '.join(d.subjects)}" if d.subjects else ""
            flag = f"\n  UNTRUSTED, kept out of answers: {'; '.join(d.untrusted)}" if d.untrusted else ""
            typer.echo(f"{d.doc_id}  ({d.chunks} chunks)\n  {d.title}" + (f"\n  {meta}" if meta else "") + about + flag)

    run_guarded(body)


def chunks(
    store: StoreOption = None,
    doc: Annotated[str | None, typer.Option("--doc", help="Only this document's chunks.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every stored chunk, one JSON object per line: chunk_id, doc_id, section, text."""
    from ingest.store.reader import open_reader

    def body() -> None:
        with open_reader(settings_for(store)) as st:
            records = st.chunks(doc_id=doc)
        for r in records:
            if as_json:
                emit_json(r.model_dump())
            else:
                typer.echo(f"{r.chunk_id}  [{r.doc_id}] {r.section}\n{r.text}\n")

    run_guarded(body)


def show(
    chunk_id: Annotated[str, typer.Argument(help="The chunk id (from `ally chunks` or a citation).")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one passage, cleaned, with its section path and source."""
    from ingest.store.reader import open_reader

    def body() -> None:
        with open_reader(settings_for(store)) as st:
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
