"""Reports of an evaluation run: the summary table (terminal), a Markdown report and a self-contained
HTML report with one bar chart per metric family (matplotlib PNG, systems side by side, embedded as
base64), every failed item with its answer and retrieved passages, and the run record.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from evals.gate import GateResult
from evals.runner import EvalRun, ItemRecord, SystemRun

# (header, family, metric, kind) kind: "r" ratio, "ms" milliseconds
SUMMARY_COLUMNS: list[tuple[str, str, str, str]] = [
    ("Correct", "answers", "full_correctness", "r"),
    ("KF recall", "answers", "key_fact_recall", "r"),
    ("hit@5", "retrieval", "hit@5", "r"),
    ("MRR", "retrieval", "mrr", "r"),
    ("nDCG@10", "retrieval", "ndcg@10", "r"),
    ("Cite cov", "citations", "coverage", "r"),
    ("Support", "citations", "support", "r"),
    ("Gold cited", "citations", "gold_cited", "r"),
    ("Doc prec", "citations", "doc_precision", "r"),
    ("Bad mark", "citations", "invalid_marker_rate", "r"),
    ("Crumbs", "answers", "breadcrumb_rate", "r"),
    ("Frags", "answers", "fragment_rate", "r"),
    ("Repeats", "answers", "repeat_rate", "r"),
    ("KF lead", "answers", "key_fact_recall_lead", "r"),
    ("KF 1st", "answers", "key_facts_first_line", "r"),
    ("Y/N lead", "answers", "yesno_lead_rate", "r"),
    ("Y/N prec", "answers", "yesno_lead_precision", "r"),
    ("Abst P", "abstention", "precision", "r"),
    ("Abst R", "abstention", "recall", "r"),
    ("Names miss", "abstention", "names_missing", "r"),
    ("False abst", "abstention", "false_abstention_rate", "r"),
    ("Path exact", "pathway", "exact_option_match", "r"),
    ("Forbidden", "pathway", "forbidden_option_rate", "r"),
    ("Verdict", "pathway", "verdict_accuracy", "r"),
    ("p50 ms", "latency", "p50_ms", "ms"),
    ("p95 ms", "latency", "p95_ms", "ms"),
]
FAMILIES: tuple[str, ...] = ("retrieval", "answers", "citations", "abstention", "pathway", "latency")
# Answer length in characters by question kind (answers.chars_median_<kind>, answers.chars_p95_<kind>;
# the same in words: length_median_<kind>):
# a table of its own, not a bar on the 0-1 charts.
LENGTH_KINDS: tuple[str, ...] = ("short", "long", "yesno", "factoid", "dose", "list", "summary")
_COLORS = ("#8c8c8c", "#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756")


def fmt(value: float | None, kind: str = "r") -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}" if kind == "ms" else f"{value:.3f}"


def _value(system: SystemRun, family: str, metric: str) -> float | None:
    return system.metrics.get(family, {}).get(metric)


def summary_rows(run: EvalRun) -> list[list[str]]:
    rows = [["System", *(c[0] for c in SUMMARY_COLUMNS)]]
    for s in run.systems:
        rows.append([s.name, *(fmt(_value(s, fam, met), kind) for _h, fam, met, kind in SUMMARY_COLUMNS)])
    return rows


def summary_table(run: EvalRun) -> str:
    """The one-row-per-system table printed by `ally eval`."""
    rows = summary_rows(run)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def length_rows(run: EvalRun) -> list[list[str]]:
    """Answer length in characters (median / p95) per system and question kind, kinds measured only."""
    kinds = [k for k in LENGTH_KINDS if any(_value(s, "answers", f"chars_median_{k}") is not None for s in run.systems)]
    rows = [["System", *kinds]]
    for s in run.systems:
        cells = []
        for k in kinds:
            med, p95 = _value(s, "answers", f"chars_median_{k}"), _value(s, "answers", f"chars_p95_{k}")
            cells.append("n/a" if med is None else f"{med:.0f} / {fmt(p95, 'ms')}")
        rows.append([s.name, *cells])
    return rows


def markdown_table(run: EvalRun) -> str:
    rows = summary_rows(run)
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
    out.extend("| " + " | ".join(r) + " |" for r in rows[1:])
    return "\n".join(out)


# --- charts ---------------------------------------------------------------------------------------


def chart_png(run: EvalRun, family: str) -> bytes | None:
    """A grouped bar chart of one metric family, one bar per system; None when nothing was measured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = sorted({m for s in run.systems for m in s.metrics.get(family, {})}, key=_metric_order(family))
    metrics = [
        m
        for m in metrics
        if any(_value(s, family, m) is not None for s in run.systems)
        and m != "errors"
        and not m.startswith(("length_", "chars_"))
    ]
    if not metrics:
        return None
    fig, ax = plt.subplots(figsize=(min(12.0, max(6.0, 0.9 * len(metrics) + 2)), 3.8), dpi=100)
    width = 0.8 / max(1, len(run.systems))
    for i, s in enumerate(run.systems):
        values = [_value(s, family, m) or 0.0 for m in metrics]
        xs = [j + (i - (len(run.systems) - 1) / 2) * width for j in range(len(metrics))]
        ax.bar(xs, values, width=width, label=s.name, color=_COLORS[i % len(_COLORS)])
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels(metrics, rotation=20, ha="right", fontsize=8)
    ax.set_title(family)
    if family != "latency":
        ax.set_ylim(0, 1.05)
    else:
        ax.set_ylabel("ms")
    ax.legend(fontsize=8, ncol=len(run.systems))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _metric_order(family: str) -> Any:
    order = {
        "retrieval": [
            "hit@1",
            "hit@3",
            "hit@5",
            "hit@10",
            "recall@1",
            "recall@3",
            "recall@5",
            "recall@10",
            "mrr",
        ],
    }.get(family, [])

    def key(name: str) -> tuple[int, str]:
        return (order.index(name) if name in order else len(order), name)

    return key


# --- failed items ---------------------------------------------------------------------------------


def _answer_text(record: ItemRecord) -> str:
    if record.answer is None:
        return f"(no answer: {record.error})"
    flag = "[abstained] " if record.answer.abstained else ""
    return flag + record.answer.answer


def _record_data(run: EvalRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "dataset": run.dataset,
        "pathway_cases": run.pathway_cases,
        "environment": run.environment,
        "against": run.against,
        "systems": {s.name: {"description": s.description, **s.info} for s in run.systems},
    }


def markdown_report(run: EvalRun, gate: GateResult | None, charts: dict[str, str]) -> str:
    out = [f"# ALLy evaluation report ({run.run_id})", ""]
    out.append(f"Dataset `{run.dataset['path']}` ({run.dataset['items']} items, sha256 {run.dataset['sha256'][:12]}).")
    corpus = {s.name: s.info.get("corpus_version") for s in run.systems if s.info.get("corpus_version")}
    if corpus:
        out.append("Corpus/index version: " + ", ".join(f"{k}: `{v}`" for k, v in corpus.items()) + ".")
    out += ["", "## Summary", "", markdown_table(run), ""]
    lengths = length_rows(run)
    if len(lengths[0]) > 1:
        out += [
            "Answer length in characters (markers left out), median / p95, by question kind (short: factoid, dose, yes/no; long: list, summary):",
            "",
        ]
        out += ["| " + " | ".join(lengths[0]) + " |", "|" + "|".join("---" for _ in lengths[0]) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in lengths[1:]]
        out.append("")
    if gate is not None:
        status = "PASSED" if gate.passed else "FAILED"
        out.append(f"**Gate on `{gate.system}`: {status}** ({len(gate.checked)} thresholds checked).")
        out += [f"- violation: {v}" for v in gate.violations]
        out += [f"- skipped: {v}" for v in gate.skipped]
        out.append("")
    out += ["## Charts", ""]
    for family, filename in charts.items():
        out.append(f"![{family}]({filename})")
    out += ["", "## Accuracy per category", ""]
    cats = sorted({c for s in run.systems for c in s.categories})
    out.append("| Category | n | " + " | ".join(s.name for s in run.systems) + " |")
    out.append("|---|---|" + "|".join("---" for _ in run.systems) + "|")
    for cat in cats:
        n = next((s.categories[cat]["n"] for s in run.systems if cat in s.categories), 0)
        vals = [fmt(float(s.categories[cat]["accuracy"])) if cat in s.categories else "n/a" for s in run.systems]
        out.append(f"| {cat} | {n} | " + " | ".join(vals) + " |")
    out += [
        "",
        "## All metrics",
        "",
        "```json",
        json.dumps({s.name: s.metrics for s in run.systems}, indent=2),
        "```",
    ]
    for s in run.systems:
        failed = s.failed_items()
        out += ["", f"## Failed items: {s.name} ({len(failed)} of {len(s.items)})", ""]
        for r in failed:
            out.append(f"### {r.item_id} ({r.category})")
            out.append(f"**Q:** {r.question}  ")
            out.append("**Why:** " + "; ".join(r.score.reasons or ["incorrect"]))
            out += ["", "**Answer:**", "", "```text", _answer_text(r), "```"]
            if r.answer is not None and r.answer.retrieved:
                out.append("**Retrieved passages:**")
                out.append("")
                for i, p in enumerate(r.answer.retrieved, start=1):
                    one_line = " ".join(p.text.split())
                    out.append(f"{i}. `{p.chunk_id}` ({p.doc_id}, score {p.score:.3f}): {one_line}")
            out.append("")
        bad_paths = [p for p in s.pathway if p.score.reasons]
        if bad_paths:
            out += [f"### Pathway cases failed: {s.name}", ""]
            out += [f"- {p.case_id}: " + "; ".join(p.score.reasons) for p in bad_paths]
    out += [
        "",
        "## Run record",
        "",
        "```json",
        json.dumps(_record_data(run), indent=2, default=str),
        "```",
        "",
    ]
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d1d1f;
margin:2rem auto;max-width:1200px;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{background:#f2f2f2}
img{max-width:100%;margin:.5rem 0;border:1px solid #eee}
.fail{border-left:4px solid #e45756;padding:.25rem .75rem;margin:1rem 0;background:#fcfcfc}
.why{color:#a33}
.answer{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}
.passage{font-size:.85rem;margin:.25rem 0 .5rem 0}
.pass{color:#2a7a2a}
.failg{color:#b00}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:.8rem}
"""


def html_report(run: EvalRun, gate: GateResult | None, charts_png: dict[str, bytes]) -> str:
    e = html.escape
    rows = summary_rows(run)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>ALLy evaluation {e(run.run_id)}</title><style>{_CSS}</style></head><body>",
        f"<h1>ALLy evaluation report <small>{e(run.run_id)}</small></h1>",
        f"<p>Dataset <code>{e(run.dataset['path'])}</code>: {run.dataset['items']} items "
        f"(sha256 {e(run.dataset['sha256'][:12])}); started {e(run.started_at)}.</p>",
        "<h2>Summary</h2><table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in rows[0]) + "</tr></thead><tbody>",
    ]
    for row in rows[1:]:
        parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    lengths = length_rows(run)
    if len(lengths[0]) > 1:
        parts.append("<p>Answer length in characters, median / p95, by question kind:</p><table><thead><tr>")
        parts += [f"<th>{e(h)}</th>" for h in lengths[0]]
        parts.append("</tr></thead><tbody>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in lengths[1:]]
        parts.append("</tbody></table>")
    if gate is not None:
        cls, status = ("pass", "PASSED") if gate.passed else ("failg", "FAILED")
        parts.append(f"<p class='{cls}'><strong>Gate on {e(gate.system)}: {status}</strong></p><ul>")
        parts += [f"<li>violation: {e(v)}</li>" for v in gate.violations]
        parts += [f"<li>skipped: {e(v)}</li>" for v in gate.skipped]
        parts.append("</ul>")
    parts.append("<h2>Charts</h2>")
    for family, png in charts_png.items():
        b64 = base64.b64encode(png).decode("ascii")
        parts.append(f"<img alt='{e(family)} metrics, systems side by side' src='data:image/png;base64,{b64}'>")
    parts.append("<h2>Accuracy per category</h2><table><thead><tr><th>Category</th><th>n</th>")
    parts += [f"<th>{e(s.name)}</th>" for s in run.systems]
    parts.append("</tr></thead><tbody>")
    for cat in sorted({c for s in run.systems for c in s.categories}):
        n = next((s.categories[cat]["n"] for s in run.systems if cat in s.categories), 0)
        vals = [fmt(float(s.categories[cat]["accuracy"])) if cat in s.categories else "n/a" for s in run.systems]
        parts.append(f"<tr><td>{e(cat)}</td><td>{n}</td>" + "".join(f"<td>{v}</td>" for v in vals) + "</tr>")
    parts.append("</tbody></table>")
    parts.append(
        "<h2>All metrics</h2><pre>" + e(json.dumps({s.name: s.metrics for s in run.systems}, indent=2)) + "</pre>"
    )
    for s in run.systems:
        failed = s.failed_items()
        parts.append(f"<h2 id='failed-{e(s.name)}'>Failed items: {e(s.name)} ({len(failed)} of {len(s.items)})</h2>")
        for r in failed:
            parts.append(f"<div class='fail'><h3>{e(r.item_id)} <small>({e(r.category)})</small></h3>")
            parts.append(f"<p><strong>Q:</strong> {e(r.question)}</p>")
            parts.append(f"<p class='why'>{e('; '.join(r.score.reasons or ['incorrect']))}</p>")
            parts.append(f"<div class='answer'>{e(_answer_text(r))}</div>")
            if r.answer is not None and r.answer.retrieved:
                parts.append(f"<details><summary>{len(r.answer.retrieved)} retrieved passages</summary><ol>")
                for p in r.answer.retrieved:
                    parts.append(
                        f"<li class='passage'><code>{e(p.chunk_id)}</code> "
                        f"({e(p.doc_id)}, score {p.score:.3f})"
                        f"<div class='answer'>{e(p.text)}</div></li>"
                    )
                parts.append("</ol></details>")
            parts.append("</div>")
        bad_paths = [p for p in s.pathway if p.score.reasons]
        if bad_paths:
            parts.append(f"<h3>Pathway cases failed: {e(s.name)}</h3><ul>")
            parts += [f"<li>{e(p.case_id)}: {e('; '.join(p.score.reasons))}</li>" for p in bad_paths]
            parts.append("</ul>")
    parts.append(
        "<h2>Run record</h2><pre>" + e(json.dumps(_record_data(run), indent=2, default=str)) + "</pre></body></html>"
    )
    return "\n".join(parts)


def write_reports(run: EvalRun, gate: GateResult | None, out_dir: Path) -> dict[str, Path]:
    """Write report.md (+ charts/*.png), report.html (self-contained) and results.json into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chart_dir = out_dir / "charts"
    chart_dir.mkdir(exist_ok=True)
    pngs: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for family in FAMILIES:
        png = chart_png(run, family)
        if png is None:
            continue
        pngs[family] = png
        (chart_dir / f"{family}.png").write_bytes(png)
        names[family] = f"charts/{family}.png"
    paths = {
        "markdown": out_dir / "report.md",
        "html": out_dir / "report.html",
        "json": out_dir / "results.json",
    }
    paths["markdown"].write_text(markdown_report(run, gate, names), encoding="utf-8")
    paths["html"].write_text(html_report(run, gate, pngs), encoding="utf-8")
    payload = {"run": run.model_dump(mode="json"), "gate": gate.model_dump() if gate else None}
    paths["json"].write_text(json.dumps(payload, ensure_ascii=False, default=str), encoding="utf-8")
    return paths
