"""`ally ask`: one answer, a conversation turn, or a JSONL batch, with numbered citations.

A batch file is read and validated whole (JSON, fields, question length, patient record) before any
line is answered; every error names the line. The assistant core is imported inside the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ally.errors import InputError
from assistant.cli.common import JsonOption, StoreOption, emit_json, load_json_option, run_guarded, settings_for
from assistant.inputs import validate_question

if TYPE_CHECKING:
    from ally.schema import Answer
    from assistant.core import AssistantCore


def _read_line(path: Path, lineno: int, line: str) -> dict[str, Any]:
    """One validated batch line as a plain dict; InputError naming the line."""
    from pydantic import ValidationError

    from ally.schema import AskRequest

    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"--batch {path}: line {lineno}: not valid JSON ({exc.msg})", field="batch") from exc
    try:
        return AskRequest.model_validate(raw).model_dump()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(f"--batch {path}: line {lineno}: field '{where}': {err['msg']}", field=where) from exc


def read_batch(path: Path, max_lines: int, max_question_chars: int) -> list[dict[str, Any]]:
    """Read and validate every line of a JSONL batch before anything runs; errors name the line."""
    from ally.schema import parse_patient

    if not path.is_file():
        raise InputError(f"--batch: no such file {path}", field="batch")
    items: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            if len(items) >= max_lines:
                raise InputError(f"--batch: more than {max_lines} lines (setting ALLY_MAX_BATCH_LINES)", field="batch")
            item = _read_line(path, lineno, line)
            validate_question(item["question"], max_question_chars, where=f"--batch {path}: line {lineno}: ")
            try:
                parse_patient(item.get("patient"))
            except InputError as exc:
                raise InputError(f"--batch {path}: line {lineno}: {exc}", field=exc.field) from exc
            items.append(item)
    return items


def print_answer(answer: Answer) -> None:
    """A readable answer: prose, what else the sources say (`more`), numbered sources by their label
    (the one every transport shows), closest passages when abstaining, missing fields."""
    typer.echo(answer.answer)
    if answer.more:
        typer.echo("\nMore from the sources:")
        for line in answer.more:
            typer.echo(f"  {line}")
    if answer.citations:
        typer.echo("\nSources:")
        for c in answer.citations:
            typer.echo(f"  [{c.n}] {c.label}  ({c.chunk_id})")
            if c.population_note:
                typer.echo(f"      note: {c.population_note}")
    if answer.abstained and answer.related:
        typer.echo("\nClosest passages (not an answer):")
        for r in answer.related:
            typer.echo(f"  - {r.title}: {r.section or '(top)'}  ({r.chunk_id})")
    if answer.pathway is not None and answer.pathway.missing:
        typer.echo(f"\nPathway needs: {', '.join(answer.pathway.missing)}")


def _answer_batch(assistant: AssistantCore, items: list[dict[str, Any]], as_json: bool) -> None:
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
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="Answer in this process even when an `ally serve` of the same store is running "
            "(by default a single question goes to it: the same answer, without loading the store).",
        ),
    ] = False,
) -> None:
    """Answer a question from the sources, with numbered citations (or say plainly what is missing)."""

    def body() -> None:
        if (question is None) == (batch is None):
            raise InputError("give either a QUESTION or --batch FILE", field="question")
        settings = settings_for(store)
        from ally.schema import parse_patient

        if batch is not None:
            from assistant.service import Assistant

            items = read_batch(batch, settings.max_batch_lines, settings.max_question_chars)
            with Assistant.open(settings) as assistant:
                _answer_batch(assistant, items, as_json)
            return
        assert question is not None
        record = parse_patient(load_json_option(patient, "--patient")) if patient else None
        answer = None
        if not local:
            from assistant.cli.forward import forwarded

            sent = record.model_dump(exclude_none=True) if record is not None else None
            answer = forwarded(settings, question, sent, conversation)
        if answer is None:
            from assistant.service import Assistant

            with Assistant.open(settings) as assistant:
                answer = assistant.ask(question, patient=record, conversation_id=conversation)
        if as_json:
            emit_json(answer.model_dump())
        else:
            print_answer(answer)

    run_guarded(body)
