"""What every `ally` command shares: the `--store` and `--json` options, the settings for one
command, the ONE mapping from ALLy errors to exit codes (`run_guarded`) and JSON-lines output.

Exit codes come from the error hierarchy (ally/errors.py): 2 for bad input or settings, 3 for store
problems, 4 for unknown ids. Light at import (typer and settings only) so `ally --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ally.errors import AllyError, InputError
from ally.settings import Settings, load_settings

T = TypeVar("T")

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Store folder (default: $ALLY_STORE or ./.store).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (one object per line).")]


def settings_for(store: Path | None = None, **overrides: Any) -> Settings:
    """The settings for one command: environment plus the command's own options."""
    return load_settings(store=store, **overrides)


def run_guarded(fn: Callable[[], T]) -> T:
    """Run a command body, turning ALLy errors into a clear message and the error's exit code."""
    try:
        return fn()
    except AllyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def emit_json(obj: Any) -> None:
    """One JSON object on one line of stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def load_json_option(raw: str | None, option: str) -> Any:
    """The parsed value of a JSON-valued option (None when absent); InputError naming the option."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{option}: not valid JSON ({exc.msg} at character {exc.pos})", field=option) from exc
