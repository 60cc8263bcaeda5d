"""Evidence for docs/RELIABILITY.md: each reliability test appends what it tried and how many cases.

Rows go to `artifacts/reliability/cases.jsonl` (one JSON object per line); `python -m
tests.reliability.report` turns the rows of the latest run into the table of docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("RELIABILITY_OUT", REPO / "artifacts" / "reliability"))
CASES = OUT / "cases.jsonl"


def record(area: str, what: str, cases: int, result: str, test: str = "") -> None:
    """Append one row: the area (inputs, faults, attacks, privacy, load), what was tried, the number of
    cases, and the observed result."""
    OUT.mkdir(parents=True, exist_ok=True)
    row = {"area": area, "what": what, "cases": cases, "result": result, "test": test, "at": time.time()}
    with CASES.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
