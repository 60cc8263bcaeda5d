"""The pathway package is pure: no file reading, no YAML, no defaults loaded behind the caller's back,
no transport and no heavy dependency; and its memoised results are never shared between callers."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from assistant.pathway import check, evaluate
from assistant.pathway.models import PathwayBook

PACKAGE = Path(__file__).resolve().parents[3] / "assistant" / "pathway"
MODULES = sorted(PACKAGE.glob("*.py"))
FORBIDDEN_IMPORTS = (
    "yaml",
    "importlib.resources",
    "pathlib",
    "typer",
    "click",
    "fastapi",
    "starlette",
    "uvicorn",
    "slack_bolt",
    "slack_sdk",
    "chromadb",
    "onnxruntime",
    "ingest",
    "assistant.cli",
    "assistant.api",
    "assistant.slack",
    "assistant.web",
    "assistant.service",
    "assistant.resources",
)
# Calls that read files or load the packaged defaults.
FORBIDDEN_CALLS = {"open", "read_text", "read_bytes", "default_vocabulary", "default_book", "load_pathway_book"}
HEAVY = ("yaml", "typer", "fastapi", "slack_bolt", "chromadb", "onnxruntime", "ally.vocab")
PATIENT = {"age": 70, "lineage": "B", "ph": "negative", "fit": False, "phase": "diagnosis"}


def _imports(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def _calls(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Name):
                names.add(fn.id)
            elif isinstance(fn, ast.Attribute):
                names.add(fn.attr)
    return names


def test_the_package_has_the_modules_this_test_reads() -> None:
    assert {p.stem for p in MODULES} >= {"__init__", "evaluator", "fhir", "loader", "models", "resolve"}


def test_no_module_imports_io_transports_or_heavy_dependencies() -> None:
    for path in MODULES:
        imported = _imports(ast.parse(path.read_text(encoding="utf-8")))
        bad = sorted(m for m in imported for f in FORBIDDEN_IMPORTS if m == f or m.startswith(f + "."))
        assert not bad, f"{path.name} imports {bad}"


def test_no_module_reads_files_or_loads_defaults() -> None:
    for path in MODULES:
        bad = sorted(_calls(ast.parse(path.read_text(encoding="utf-8"))) & FORBIDDEN_CALLS)
        assert not bad, f"{path.name} calls {bad}"


def test_importing_every_module_pulls_in_nothing_heavy() -> None:
    modules = ", ".join(f"assistant.pathway.{p.stem}" for p in MODULES if p.stem != "__init__")
    code = f"import sys, json, assistant.pathway, {modules}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded = set(json.loads(out.stdout))
    assert not [m for m in HEAVY if m in loaded]


def test_memoised_results_are_fresh_copies(book: PathwayBook) -> None:
    first = evaluate(PATIENT, book, id="a")
    first.options[0].citations[0].chunk_id = "changed by the caller"
    first.missing.append("mrd")
    second = evaluate(PATIENT, book, id="b")
    assert second.id == "b" and first.id == "a"
    assert second.options[0].citations[0].chunk_id is None and "mrd" not in second.missing
    checked = check(PATIENT, "Besponsa", book, id=1)
    assert checked.id == 1 and checked.check is not None and checked.check.verdict == "on"
    assert evaluate(PATIENT, book).check is None  # a check never leaks into the memoised evaluation


def test_memoised_branches_are_fresh_copies(book: PathwayBook) -> None:
    """Branches share option objects with the memoised results of the patients they stand for: a
    caller changing one copy changes neither the other branches nor the result for that patient."""
    patient = {"age": 30, "lineage": "T", "phase": "post_induction", "response": "CR", "mrd": "negative"}
    first = evaluate(patient, book)
    assert len(first.branches) == 2
    first.branches[0].options[0].citations[0].chunk_id = "changed by the caller"
    first.branches[0].missing.append("kmt2a")
    assert first.branches[1].options[0].citations[0].chunk_id is None  # not shared within one result
    second = evaluate(patient, book)
    assert second.branches[0].options[0].citations[0].chunk_id is None and not second.branches[0].missing
    with_it = evaluate({**patient, "high_risk": first.branches[0].value}, book)
    assert with_it.options[0].citations[0].chunk_id is None and with_it.missing == []
