"""The CI gate: thresholds from `evals/thresholds.yaml` checked against one system's metrics.

A threshold names a metric as `family.metric` (e.g. `answers.full_correctness`) under `min` (the value
must be at least this) or `max` (at most this). A metric that was not measured in the run (for example
pathway metrics when no pathway cases ran) is reported as skipped, never as passed silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ally import yaml_data
from ally.errors import InputError


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str = Field(default="ally", description="The system the gate applies to.")
    min: dict[str, float] = Field(default_factory=dict)
    max: dict[str, float] = Field(default_factory=dict)


class GateResult(BaseModel):
    system: str
    passed: bool
    checked: list[str] = Field(default_factory=list)
    violations: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


def default_thresholds_path() -> Path:
    return Path(__file__).resolve().parent / "thresholds.yaml"


def load_thresholds(path: Path) -> Thresholds:
    if not path.is_file():
        raise InputError(f"thresholds file {path} not found", field="thresholds")
    try:
        raw = yaml_data.safe_load(path.read_text(encoding="utf-8")) or {}
        thresholds = Thresholds.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        raise InputError(f"thresholds file {path}: {exc}", field="thresholds") from exc
    for name in [*thresholds.min, *thresholds.max]:
        if name.count(".") != 1:
            raise InputError(f"thresholds file {path}: '{name}' must be written family.metric", field="thresholds")
    return thresholds


def check_gate(metrics: dict[str, dict[str, Any]], thresholds: Thresholds) -> GateResult:
    result = GateResult(system=thresholds.system, passed=True)
    for bound, table in (("min", thresholds.min), ("max", thresholds.max)):
        for name, limit in table.items():
            family, metric = name.split(".", 1)
            value = metrics.get(family, {}).get(metric)
            if value is None:
                result.skipped.append(f"{name} (not measured)")
                continue
            result.checked.append(name)
            if (bound == "min" and value < limit) or (bound == "max" and value > limit):
                sign = ">=" if bound == "min" else "<="
                result.violations.append(f"{name} = {value:.3f}, must be {sign} {limit}")
    result.passed = not result.violations
    return result
