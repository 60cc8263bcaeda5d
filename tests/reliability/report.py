"""`python -m tests.reliability.report [--write docs/RELIABILITY.md]`: the table of what the
reliability tests tried, from `artifacts/reliability/cases.jsonl` (latest row per item) and the full
load run's `artifacts/reliability/load-full.json` when present."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .record import CASES, OUT

START, END = "<!-- table:start -->", "<!-- table:end -->"
ORDER = ["inputs", "limits", "faults", "attacks", "privacy", "load"]


def table() -> str:
    if not CASES.is_file():
        raise SystemExit(f"{CASES} is missing: run `pytest tests/reliability` first")
    latest: dict[tuple[str, str], dict[str, object]] = {}
    for line in CASES.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        latest[(row["area"], row["what"])] = row
    rows = sorted(latest.values(), key=lambda r: ORDER.index(str(r["area"])) if r["area"] in ORDER else 99)
    full = OUT / "load-full.json"
    if full.is_file():
        rep = json.loads(full.read_text())
        lat = rep["latency_ms"]["all"]
        rows.append({
            "area": "load",
            "what": f"load test, full mode: {rep['duration_s']:.0f} s, {rep['concurrency']} clients, mixed "
            "ask/pathway/chat on loopback (`python -m tests.reliability.load`)",
            "cases": rep["requests"],
            "result": f"{rep['errors']} errors; p50/p95/p99 {lat['p50']}/{lat['p95']}/{lat['p99']} ms; "
            f"{rep['throughput_rps']} req/s; RSS first/last {rep['rss_mib']['window_s']:.0f} s "
            f"{rep['rss_mib']['first']} -> {rep['rss_mib']['last']} MiB ({100 * rep['rss_mib']['growth']:+.1f} %)",
            "test": "load.py",
        })  # fmt: skip
    lines = ["| area | what was tried | cases | result | test |", "|---|---|---:|---|---|"]
    for r in rows:
        what = str(r["what"]).replace("|", "\\|")
        result = str(r["result"]).replace("|", "\\|")
        lines.append(f"| {r['area']} | {what} | {r['cases']} | {result} | {r['test']} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", type=Path, default=None, help="replace the table between the markers of this file")
    args = parser.parse_args()
    text = table()
    if args.write:
        doc = args.write.read_text(encoding="utf-8")
        head, _, rest = doc.partition(START)
        _, _, tail = rest.partition(END)
        args.write.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
