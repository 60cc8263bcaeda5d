"""`ally pathway`: the pathway checker on the command line (a thin transport).

    ally pathway --patient JSON [--propose THERAPY] [--json]
    ally pathway --batch FILE --json          # lines {"id", "patient", "propose"?} -> JSONL with id
    ally pathway --export fhir [--out FILE]   # FHIR R4 PlanDefinition bundle

Single and batch results come from `Assistant.open(settings).pathway(...)`, which resolves each
citation to its stored passage. Without a store the pure evaluator answers over the packaged book
(`assistant.resources.load_pathway_book`) and stderr says that the citations carry no chunk ids. A
bad patient (invalid JSON, unknown field, out-of-range value) exits with code 2 and a message naming
the field. Heavy imports stay inside the function.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ally.errors import AllyError, InputError
from assistant.cli.common import JsonOption, StoreOption, emit_json, run_guarded, settings_for

if TYPE_CHECKING:
    from ally.schema import PathwayBranch, PathwayResult, Patient, TherapyCheck
    from ally.settings import Settings
    from assistant.core import AssistantCore
    from assistant.pathway.models import PathwayBook

_BATCH_KEYS = {"id", "patient", "propose"}


def _parse_json_patient(raw: str) -> Patient:
    from ally.schema import parse_patient

    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"patient: --patient is not valid JSON ({exc.msg} at character {exc.pos}); "
            'give an object such as \'{"age": 70, "lineage": "B", "ph": "negative"}\'',
            field="patient",
        ) from None
    return parse_patient(data)


class _Runner:
    """Answers pathway requests through the Assistant, or the pure evaluator when no store exists."""

    def __init__(self, settings: Settings) -> None:
        from ally.errors import StoreNotFoundError
        from assistant.service import Assistant

        self.assistant: AssistantCore | None = None
        self.book: PathwayBook | None = None
        try:
            self.assistant = Assistant.open(settings)
        except StoreNotFoundError as exc:
            from assistant.resources import load_pathway_book

            typer.echo(
                f"note: {exc} — answering from the pathway data alone; citations carry no chunk ids "
                "(run `ally ingest corpus/` to resolve them)",
                err=True,
            )
            self.book = load_pathway_book()

    def run(self, patient: Patient, propose: str | None, id: Any = None) -> PathwayResult:
        if self.assistant is not None:
            return self.assistant.pathway(patient, propose, id)
        from assistant.pathway.evaluator import check, evaluate

        assert self.book is not None
        if propose is not None and not propose.strip():
            raise InputError("propose: the proposed therapy is empty", field="propose")
        return check(patient, propose, self.book, id=id) if propose else evaluate(patient, self.book, id=id)

    def close(self) -> None:
        if self.assistant is not None:
            self.assistant.close()


def _quote_line(text: str, doc_id: str, chunk_id: str | None, indent: str) -> str:
    where = f"{doc_id}" + (f" · {chunk_id}" if chunk_id else "")
    return f'{indent}"{text}" ({where})'


def _option_lines(result: PathwayResult) -> list[str]:
    lines = ["Options:" if result.options else "Options: none listed by the sources at this node."]
    for i, option in enumerate(result.options, 1):
        level = f", {option.level}" if option.level else ""
        lines.append(f"  {i}. {option.therapy}  [{option.source}{level}]")
        if option.detail:
            lines.append(f"     {option.detail}")
        lines.extend(_quote_line(c.text, c.doc_id, c.chunk_id, "     ") for c in option.citations)
    if result.conditional:
        lines.append("Options that depend on missing information:")
        for option in result.conditional:
            lines.append(f"  - {option.therapy}  [{option.source}] if {'; '.join(option.conditions)}")
    return lines


def branch_line(branch: PathwayBranch) -> str:
    """One what-if branch in a line: 'If high_risk is yes: <node> — <options> [citations]'."""
    when = branch.label or f"{branch.field} is {branch.value}"
    options = "; ".join(o.therapy for o in branch.options) or "no options listed"
    cites = dict.fromkeys(
        c.doc_id + (f" · {c.chunk_id}" if c.chunk_id else "") for o in branch.options for c in o.citations
    )
    line = f"If {when}: {branch.node} — {options}"
    if cites:
        line += f" [{', '.join(cites)}]"
    if branch.missing:
        line += f" (still needs: {', '.join(branch.missing)})"
    return line


def _branch_lines(result: PathwayResult) -> list[str]:
    if not result.branches:
        return []
    return ["What each answer would lead to:", *(f"  {branch_line(b)}" for b in result.branches)]


def _check_lines(check: TherapyCheck) -> list[str]:
    lines = [f"Proposed {check.therapy}: {check.verdict.upper()}", f"  {check.reason}"]
    lines.extend(_quote_line(c.text, c.doc_id, c.chunk_id, "  ") for c in check.citations)
    if check.alternatives:
        lines.append(f"  On-pathway alternatives: {'; '.join(check.alternatives)}")
    return lines


def render_text(result: PathwayResult) -> str:
    """A readable pathway result: node, options with quotes, conditional options, missing, what each
    answer to a missing field would lead to, notes, check."""
    lines: list[str] = []
    if result.id is not None:
        lines.append(f"id: {result.id}")
    known = ", ".join(f"{k} {v}" for k, v in result.patient.items()) or "(nothing known)"
    lines.append(f"Patient: {known}")
    lines.append(f"Pathway node: {result.node}")
    if result.needs_info:
        lines.append(f"  The branch below this node needs: {', '.join(result.missing)}")
    lines.extend(_option_lines(result))
    if result.missing:
        lines.append(f"Missing: {', '.join(result.missing)}")
    lines.extend(_branch_lines(result))
    if result.notes:
        lines.append("Notes:")
        lines.extend(f"  - {n}" for n in result.notes)
    if result.check is not None:
        lines.extend(_check_lines(result.check))
    return "\n".join(lines)


def _parse_line(number: int, line: str) -> dict[str, Any]:
    """One batch line as an object; InputError naming the line."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {number}: not valid JSON ({exc.msg})", field="line") from None
    if not isinstance(item, dict):
        raise InputError(f'line {number}: expected an object {{"id", "patient", "propose"?}}', field="line")
    return item


def _run_line(runner: _Runner, number: int, item: dict[str, Any]) -> PathwayResult:
    """The result for one parsed batch line; InputError naming the line and field."""
    from ally.schema import parse_patient

    unknown = sorted(set(item) - _BATCH_KEYS)
    if unknown:
        raise InputError(f"line {number}: unknown field '{unknown[0]}' (use id, patient, propose)", field=unknown[0])
    propose = item.get("propose")
    if propose is not None and not isinstance(propose, str):
        raise InputError(f"line {number}: propose must be a string", field="propose")
    return runner.run(parse_patient(item.get("patient")), propose, item.get("id"))


def _report_failure(number: int, item_id: Any, exc: AllyError, as_json: bool) -> None:
    if as_json:
        emit_json({"id": item_id, "error": str(exc), "field": getattr(exc, "field", None)})
    else:
        typer.echo(f"error (line {number}, id {item_id}): {exc}", err=True)


def _batch(runner: _Runner, path: Path, as_json: bool) -> int:
    """Answer every line of a batch file; the number of lines that failed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--batch: cannot read {path}: {exc.strerror}", field="batch") from None
    failures = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        item_id: Any = None
        try:
            item = _parse_line(number, line)
            item_id = item.get("id")
            result = _run_line(runner, number, item)
        except AllyError as exc:
            failures += 1
            _report_failure(number, item_id, exc, as_json)
            continue
        if as_json:
            emit_json(result.model_dump(mode="json"))
        else:
            typer.echo(render_text(result) + "\n")
    return failures


def _export(export: str, out: Path | None) -> None:
    if export.lower() != "fhir":
        raise InputError(f"--export: unknown format {export!r}; the only format is 'fhir'", field="export")
    from assistant.pathway.fhir import export_fhir
    from assistant.resources import load_pathway_book

    text = json.dumps(export_fhir(load_pathway_book()), ensure_ascii=False, indent=2)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote FHIR PlanDefinition bundle to {out}", err=True)


def _run_batch(batch: Path, store: Path | None, as_json: bool) -> int:
    runner = _Runner(settings_for(store))
    try:
        return _batch(runner, batch, as_json)
    finally:
        runner.close()


def _run_single(patient: str, propose: str | None, store: Path | None, as_json: bool) -> None:
    record = _parse_json_patient(patient)
    runner = _Runner(settings_for(store))
    try:
        result = runner.run(record, propose)
    finally:
        runner.close()
    if as_json:
        emit_json(result.model_dump(mode="json"))
    else:
        typer.echo(render_text(result))


def pathway(
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient", help='Patient record as JSON, e.g. \'{"age": 70, "lineage": "B", "ph": "negative"}\'.'
        ),
    ] = None,
    propose: Annotated[
        str | None, typer.Option("--propose", help="A therapy to check against the pathway (generic or brand name).")
    ] = None,
    batch: Annotated[
        Path | None, typer.Option("--batch", help='JSONL file of {"id", "patient", "propose"?} lines.')
    ] = None,
    export: Annotated[str | None, typer.Option("--export", help="Export the pathway: 'fhir'.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the export to this file (default: stdout).")] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """The guideline pathway for a patient, with cited options and a verdict on a proposed therapy."""

    def body() -> int:
        given = (patient, batch, export)
        if sum(value is not None for value in given) != 1:
            raise InputError("give exactly one of --patient JSON, --batch FILE or --export fhir", field="mode")
        if export is not None:
            _export(export, out)
            return 0
        if batch is not None:
            return _run_batch(batch, store, as_json)
        assert patient is not None
        _run_single(patient, propose, store, as_json)
        return 0

    if run_guarded(body):
        raise typer.Exit(2)
