"""`ally pathway`: the pathway checker on the command line (a thin transport).

    ally pathway --patient JSON [--propose THERAPY] [--json]
    ally pathway --batch FILE --json          # lines {"id", "patient", "propose"?} -> JSONL with id
    ally pathway --export fhir [--out FILE]   # FHIR R4 PlanDefinition bundle

Single and batch results come from `Assistant.open(settings).pathway(...)`, which resolves each
citation to its stored passage. Without a store the pure evaluator answers and stderr says that
the citations carry no chunk ids. A bad patient (invalid JSON, unknown field, out-of-range value)
exits with code 2 and a message naming the field. Heavy imports stay inside the function.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ally.schema import PathwayResult, Patient
    from ally.settings import Settings

_BATCH_KEYS = {"id", "patient", "propose"}


def _parse_json_patient(raw: str) -> Patient:
    from ally.errors import InputError
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

        self.assistant: Any = None
        try:
            self.assistant = Assistant.open(settings)
        except StoreNotFoundError as exc:
            typer.echo(
                f"note: {exc} — answering from the pathway data alone; citations carry no chunk ids "
                "(run `ally ingest corpus/` to resolve them)",
                err=True,
            )

    def run(self, patient: Patient, propose: str | None, id: Any = None) -> PathwayResult:
        if self.assistant is not None:
            return self.assistant.pathway(patient, propose, id)
        from ally.errors import InputError
        from assistant.pathway.evaluator import check, evaluate

        if propose is not None and not propose.strip():
            raise InputError("propose: the proposed therapy is empty", field="propose")
        return check(patient, propose, id=id) if propose else evaluate(patient, id=id)

    def close(self) -> None:
        if self.assistant is not None:
            self.assistant.close()


def render_text(result: PathwayResult) -> str:
    """A readable pathway result: node, options with quotes, conditional options, missing, notes, check."""
    lines: list[str] = []
    if result.id is not None:
        lines.append(f"id: {result.id}")
    known = ", ".join(f"{k} {v}" for k, v in result.patient.items()) or "(nothing known)"
    lines.append(f"Patient: {known}")
    lines.append(f"Pathway node: {result.node}")
    if result.needs_info:
        lines.append(f"  The branch below this node needs: {', '.join(result.missing)}")
    lines.append("Options:" if result.options else "Options: none listed by the sources at this node.")
    for i, option in enumerate(result.options, 1):
        level = f", {option.level}" if option.level else ""
        lines.append(f"  {i}. {option.therapy}  [{option.source}{level}]")
        if option.detail:
            lines.append(f"     {option.detail}")
        for c in option.citations:
            where = f"{c.doc_id}" + (f" · {c.chunk_id}" if c.chunk_id else "")
            lines.append(f'     "{c.text}" ({where})')
    if result.conditional:
        lines.append("Options that depend on missing information:")
        for option in result.conditional:
            lines.append(f"  - {option.therapy}  [{option.source}] if {'; '.join(option.conditions)}")
    if result.missing:
        lines.append(f"Missing: {', '.join(result.missing)}")
    if result.notes:
        lines.append("Notes:")
        lines.extend(f"  - {n}" for n in result.notes)
    if result.check is not None:
        ck = result.check
        lines.append(f"Proposed {ck.therapy}: {ck.verdict.upper()}")
        lines.append(f"  {ck.reason}")
        for c in ck.citations:
            where = f"{c.doc_id}" + (f" · {c.chunk_id}" if c.chunk_id else "")
            lines.append(f'  "{c.text}" ({where})')
        if ck.alternatives:
            lines.append(f"  On-pathway alternatives: {'; '.join(ck.alternatives)}")
    return "\n".join(lines)


def _emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def _batch(runner: _Runner, path: Path, as_json: bool) -> int:
    from ally.errors import AllyError, InputError
    from ally.schema import parse_patient

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
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"line {number}: not valid JSON ({exc.msg})", field="line") from None
            if not isinstance(item, dict):
                raise InputError(f'line {number}: expected an object {{"id", "patient", "propose"?}}', field="line")
            item_id = item.get("id")
            unknown = sorted(set(item) - _BATCH_KEYS)
            if unknown:
                raise InputError(
                    f"line {number}: unknown field '{unknown[0]}' (use id, patient, propose)", field=unknown[0]
                )
            propose = item.get("propose")
            if propose is not None and not isinstance(propose, str):
                raise InputError(f"line {number}: propose must be a string", field="propose")
            result = runner.run(parse_patient(item.get("patient")), propose, item_id)
        except AllyError as exc:
            failures += 1
            field = getattr(exc, "field", None)
            if as_json:
                _emit({"id": item_id, "error": str(exc), "field": field})
            else:
                typer.echo(f"error (line {number}, id {item_id}): {exc}", err=True)
            continue
        if as_json:
            _emit(result.model_dump(mode="json"))
        else:
            typer.echo(render_text(result) + "\n")
    return failures


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
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Store folder (default: $ALLY_STORE or ./.store).", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one object per line).")] = False,
) -> None:
    """The guideline pathway for a patient, with cited options and a verdict on a proposed therapy."""
    from assistant.cli import run_guarded, settings_for

    modes = [
        name for name, value in (("--patient", patient), ("--batch", batch), ("--export", export)) if value is not None
    ]
    if len(modes) != 1:
        typer.echo("error: give exactly one of --patient JSON, --batch FILE or --export fhir", err=True)
        raise typer.Exit(2)

    if export is not None:
        if export.lower() != "fhir":
            typer.echo(f"error: --export: unknown format {export!r}; the only format is 'fhir'", err=True)
            raise typer.Exit(2)

        def do_export() -> None:
            from assistant.pathway.fhir import export_fhir

            text = json.dumps(export_fhir(), ensure_ascii=False, indent=2)
            if out is None:
                sys.stdout.write(text + "\n")
            else:
                out.write_text(text + "\n", encoding="utf-8")
                typer.echo(f"wrote FHIR PlanDefinition bundle to {out}", err=True)

        run_guarded(do_export)
        return

    if batch is not None:

        def do_batch() -> int:
            settings = settings_for(store)
            runner = _Runner(settings)
            try:
                return _batch(runner, batch, as_json)
            finally:
                runner.close()

        if run_guarded(do_batch):
            raise typer.Exit(2)
        return

    assert patient is not None

    def do_single() -> None:
        record = _parse_json_patient(patient)
        runner = _Runner(settings_for(store))
        try:
            result = runner.run(record, propose)
        finally:
            runner.close()
        if as_json:
            _emit(result.model_dump(mode="json"))
        else:
            typer.echo(render_text(result))

    run_guarded(do_single)
