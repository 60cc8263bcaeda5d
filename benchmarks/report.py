"""Render benchmark results (artifacts/bench/*.json) into the table of benchmarks/README.md and the
latency-vs-corpus-size plot benchmarks/latency.png.

    .venv/bin/python -m benchmarks.report            # full results
    .venv/bin/python -m benchmarks.report --quick    # the --quick results (CI smoke)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.common import WORK

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def load(name: str) -> dict[str, Any] | None:
    path = WORK / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def fmt(v: float, unit: str = "") -> str:
    return f"{v:,.3g}{unit}" if abs(v) < 100 else f"{v:,.0f}{unit}"


def _ingest_rows(ing: dict[str, Any]) -> list[str]:
    rows = []
    lc = ing["systems"]["langchain"]
    for name, s in ing["systems"].items():
        if name == "langchain":
            continue
        r = s["chunks_per_s_vs_langchain"]
        rows.append(
            f"| Ingest throughput, {name} ({ing['corpus_chunks']}-chunk corpus) | ≥ 2.5× LangChain chunks/s | "
            f"{s['chunks_per_s']} chunks/s | {s.get('langchain_chunks_per_s', lc['chunks_per_s'])} chunks/s | {r}× (corpus time {s['corpus_speed_vs_langchain']}×) | "
            f"{'yes' if r >= 2.5 else 'no'} |"
        )
    a = ing["systems"][next(k for k in ing["systems"] if k != "langchain")]
    rows.append(
        f"| Re-ingest unchanged corpus | 0 embedded, ≤ 2% of first | {a['reingest_embedded']} embedded, "
        f"{a['reingest_ratio'] * 100:.2f}% ({a['reingest_s']} s) | {lc['reingest_embedded']} embedded, "
        f"{lc['reingest_ratio'] * 100:.0f}% | {round(lc['reingest_s'] / max(a['reingest_s'], 1e-9))}× faster | "
        f"{'yes' if a['reingest_embedded'] == 0 and a['reingest_ratio'] <= 0.02 else 'no'} |"
    )
    return rows


def _latency_rows(lat: dict[str, Any]) -> list[str]:
    rows = []
    for row in lat["sizes"]:
        rows.append(
            f"| Warm answer latency p50 / p95 at {row.get('store_chunks', row['chunks']):,} chunks | p95 ≤ 50 ms (at 100k) | "
            f"{row['ally_p50_ms']} / {row['ally_p95_ms']} ms | {row['langchain_p50_ms']} / {row['langchain_p95_ms']} ms | "
            f"{row['p95_ratio_ally_over_langchain']}× (p95) | {'yes' if row['ally_p95_ms'] <= 50 else 'no'} at this size |"
        )
    for row in lat["sizes"]:
        rows.append(
            f"| Peak RSS serving {row.get('store_chunks', row['chunks']):,} chunks | ≤ 1.5 GB (at 100k) | {row['ally_rss_mb']} MB | "
            f"{row['langchain_rss_mb']} MB | {round(row['ally_rss_mb'] / row['langchain_rss_mb'], 2)}× | "
            f"{'yes' if row['ally_rss_mb'] <= 1536 else 'no'} at this size |"
        )
    return rows


def _cold_rows(cold: dict[str, Any]) -> list[str]:
    rows = []
    s = cold["systems"]
    for name in ("ally-onnx", "ally-torch"):
        cpu = s[name].get("median_cpu_s")
        lc_cpu = s["langchain"].get("median_cpu_s")
        met = f"{'yes' if s[name]['median_s'] <= 3 else 'no'} (wall)"
        if cpu is not None:
            met += f", {'yes' if cpu <= 3 else 'no'} (CPU)"
        rows.append(
            f"| Cold `ally ask`, {name} ({cold['chunks']:,} chunks) | ≤ 3 s | {s[name]['median_s']} s wall, {cpu} s CPU | "
            f"{s['langchain']['median_s']} s wall, {lc_cpu} s CPU | {s[name]['ratio_vs_langchain']}× | {met} |"
        )
    return rows


def _http_rows(http: dict[str, Any]) -> list[str]:
    return [
        f"| `/v1/ask`, {http['clients']} concurrent clients ({http.get('driver', 'python-httpx').split(' ')[0]}, "
        f"{http['chunks']:,}-chunk store) | ≥ 100 answers/s, p99 ≤ 300 ms | "
        f"{http['answers_per_s']} answers/s, p50 {http['p50_ms']} ms, p99 {http['p99_ms']} ms, "
        f"{http['errors']} errors | – | – | "
        f"{'yes' if http['answers_per_s'] >= 100 and http['p99_ms'] <= 300 else 'no'} |"
    ]


def table(suffix: str) -> list[str]:
    ing, lat, cold = load("ingest" + suffix), load("latency" + suffix), load("cold" + suffix)
    http = load("http" + suffix)
    rows = ["| Target | Goal | ALLy | LangChain | Ratio | Met? |", "|---|---|---|---|---|---|"]
    for result, make in ((ing, _ingest_rows), (lat, _latency_rows), (cold, _cold_rows), (http, _http_rows)):
        if result:
            rows.extend(make(result))
    rows.append("")
    rows.append("Commands that produced these figures:")
    rows.append("")
    for r in (ing, lat, cold, http):
        if r:
            rows.append(f"- `{r['command']}` (finished {r['finished']})")
    return rows


def plot(suffix: str, out: Path) -> bool:
    lat = load("latency" + suffix)
    if not lat:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r.get("store_chunks", r["chunks"]) for r in lat["sizes"]]
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=90)
    for key, label, style in (
        ("ally_p95_ms", "ALLy p95", "o-"),
        ("ally_p50_ms", "ALLy p50", "o--"),
        ("langchain_p95_ms", "LangChain p95", "s-"),
        ("langchain_p50_ms", "LangChain p50", "s--"),
    ):
        ax.plot(sizes, [r[key] for r in lat["sizes"]], style, label=label)
    ax.axhline(50, color="grey", lw=0.8, ls=":", label="target p95 50 ms")
    ax.set_xscale("log")
    ax.set_xlabel("corpus size (chunks)")
    ax.set_ylabel("warm answer latency (ms)")
    ax.set_title("Warm in-process answer latency (2-core CPU)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    suffix = "-quick" if args.quick else ""
    lines = table(suffix)
    if args.quick:
        print("\n".join(lines))
        return
    plot(suffix, HERE / "latency.png")
    readme = HERE / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail, encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
