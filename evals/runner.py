"""Runs every system on the same items in one run and scores them.

Owns: the run configuration, the order of work (one system at a time: start, every question in file
order with conversations threaded through a per-run conversation id, the pathway cases, close),
timing, error capture per item, and the run record (dataset hash, git commit, corpus/index version,
settings and model per system) that makes a result reproducible.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ally.errors import AllyError
from ally.schema import Answer, PathwayResult
from ally.settings import Settings
from evals.baselines import EvalSystem, build_systems
from evals.dataset import (
    DocumentItem,
    EvalItem,
    PathwayCase,
    load_pathway_cases,
    load_questions,
    off_field_items,
)
from evals.metrics import (
    ItemScore,
    PathwayScore,
    aggregate,
    aggregate_pathway,
    per_category,
    score_document_item,
    score_item,
    score_pathway_case,
)

Progress = Callable[[str], None]


class ItemRecord(BaseModel):
    item_id: str
    question: str
    category: str
    conversation_id: str | None = None
    answer: Answer | None = None
    error: str | None = None
    latency_s: float | None = None
    score: ItemScore


class PathwayRecord(BaseModel):
    case_id: str
    result: PathwayResult | None = None
    error: str | None = None
    score: PathwayScore


class SystemRun(BaseModel):
    name: str
    description: str
    info: dict[str, Any] = Field(default_factory=dict)
    start_s: float = 0.0
    items: list[ItemRecord] = Field(default_factory=list)
    pathway: list[PathwayRecord] = Field(default_factory=list)
    metrics: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    categories: dict[str, dict[str, float | int]] = Field(default_factory=dict)

    def failed_items(self) -> list[ItemRecord]:
        return [r for r in self.items if not r.score.correct]


class EvalRun(BaseModel):
    run_id: str
    started_at: str
    finished_at: str = ""
    dataset: dict[str, Any]
    pathway_cases: dict[str, Any] | None = None
    environment: dict[str, Any] = Field(default_factory=dict)
    against: str | None = None
    systems: list[SystemRun] = Field(default_factory=list)

    def system(self, name: str) -> SystemRun | None:
        return next((s for s in self.systems if s.name == name), None)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def git_commit(cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=cwd, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def limit_items(items: list[EvalItem], limit: int | None) -> list[EvalItem]:
    """The first `limit` items, never cutting a conversation in two (its later turns come along)."""
    if limit is None or limit >= len(items):
        return items
    keep = items[:limit]
    conversations = {i.conversation_id for i in keep if i.conversation_id}
    keep_ids = {i.id for i in keep}
    return [i for i in items if i.id in keep_ids or (i.conversation_id in conversations)]


def _score(item: EvalItem, answer: Answer | None, latency_s: float | None, error: str | None) -> ItemScore:
    if isinstance(item, DocumentItem):
        return score_document_item(
            item_id=item.id,
            category=item.category,
            gold_docs=item.gold_docs,
            key_facts=item.key_facts,
            answer=answer,
            latency_s=latency_s,
            error=error,
            question=item.question,
            expected_yesno=item.expected_yesno,
        )
    return score_item(
        item_id=item.id,
        category=item.category,
        expect_abstain=item.expect_abstain,
        key_facts=item.key_facts,
        gold_quotes=item.gold_quotes,
        answer=answer,
        latency_s=latency_s,
        error=error,
        question=item.question,
        notes=item.notes,
    )


def _run_questions(system: EvalSystem, items: list[EvalItem], run_id: str, progress: Progress) -> list[ItemRecord]:
    records: list[ItemRecord] = []
    for n, item in enumerate(items, start=1):
        conversation = f"eval-{run_id}-{system.name}-{item.conversation_id}" if item.conversation_id else None
        answer: Answer | None = None
        error: str | None = None
        t0 = time.perf_counter()
        try:
            answer = system.ask(item.question, conversation_id=conversation, patient=item.patient, id=item.id)
        except Exception as exc:  # one failing item must not end the run: it is recorded and counted wrong
            error = f"{type(exc).__name__}: {exc}"
        latency = time.perf_counter() - t0
        score = _score(item, answer, latency if error is None else None, error)
        records.append(
            ItemRecord(
                item_id=item.id,
                question=item.question,
                category=item.category,
                conversation_id=item.conversation_id,
                answer=answer,
                error=error,
                latency_s=latency,
                score=score,
            )
        )
        if n % 25 == 0 or n == len(items):
            progress(f"  {system.name}: {n}/{len(items)} questions")
    return records


def _run_pathway(system: EvalSystem, cases: list[PathwayCase]) -> list[PathwayRecord]:
    records: list[PathwayRecord] = []
    for case in cases:
        result: PathwayResult | None = None
        error: str | None = None
        try:
            result = system.pathway(case.patient, case.propose, case.id)
        except Exception as exc:  # recorded per case, counted wrong
            error = f"{type(exc).__name__}: {exc}"
        records.append(
            PathwayRecord(case_id=case.id, result=result, error=error, score=score_pathway_case(case, result, error))
        )
    return records


def run_eval(
    *,
    dataset: Path,
    systems: list[str],
    settings: Settings | None,
    corpus: Path,
    pathway_cases: Path | None = None,
    against: str | None = None,
    limit: int | None = None,
    off_field: tuple[str, ...] = (),
    progress: Progress | None = None,
) -> EvalRun:
    """Run the named systems on the data set (and the pathway cases) and score everything.

    Raises InputError for a bad data set or system name, StoreError when a local store is needed and
    missing; errors on single items are recorded in the run, never raised.
    """
    say: Progress = progress or (lambda _msg: None)
    items = load_questions(dataset)
    if off_field:  # another field's questions, asked of this store: every one must be refused
        items = off_field_items(dataset, items, off_field)
    items = limit_items(items, limit)
    cases = load_pathway_cases(pathway_cases) if pathway_cases is not None else []
    built = build_systems(systems, settings=settings, corpus=corpus, against=against)
    run = EvalRun(
        run_id=uuid.uuid4().hex[:10],
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dataset={
            "path": str(dataset),
            "sha256": file_sha256(dataset),
            "items": len(items),
            **({"off_field": list(off_field)} if off_field else {}),
        },
        pathway_cases=(
            {"path": str(pathway_cases), "sha256": file_sha256(pathway_cases), "cases": len(cases)}
            if pathway_cases is not None
            else None
        ),
        environment={
            "git_commit": git_commit(Path(__file__).resolve().parent),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        against=against,
    )
    for system in built:
        say(f"{system.name}: starting ({system.description})")
        t0 = time.perf_counter()
        try:
            system.start()
        except AllyError:
            system.close()
            raise
        sys_run = SystemRun(name=system.name, description=system.description, start_s=time.perf_counter() - t0)
        try:
            sys_run.items = _run_questions(system, items, run.run_id, say)
            if cases and system.supports_pathway:
                sys_run.pathway = _run_pathway(system, cases)
            sys_run.info = system.info()
        finally:
            system.close()
        scores = [r.score for r in sys_run.items]
        sys_run.metrics = aggregate(scores)
        if sys_run.pathway:
            sys_run.metrics["pathway"] = aggregate_pathway([p.score for p in sys_run.pathway])
        sys_run.categories = per_category(scores)
        run.systems.append(sys_run)
    run.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    return run
