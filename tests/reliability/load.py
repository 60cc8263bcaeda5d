"""Bounded load test of a real `ally serve` (uvicorn) on 127.0.0.1: mixed ask / pathway / chat.

    python -m tests.reliability.load --store .store --duration 120 --concurrency 32   # full mode
    python -m tests.reliability.load --store .store --duration 15 --concurrency 8     # CI mode

Each client loops: POST /v1/ask (a follow-up conversation of up to 5 turns), POST /v1/pathway
(with a proposed therapy half of the time) or POST /v1/chat (SSE, read to `done`). Reports the
request count, errors (any non-200, timeout or stream without `done`), p50/p95/p99 latency per
kind, and the server's RSS averaged over the first and the last window (30 s, or a quarter of a
shorter run). Exits 1 on any error or when RSS grows by more than --max-rss-growth (default 10 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from .server import ally_server

QUESTIONS = [
    "What is blinatumomab approved for?",
    "Which therapies are approved for relapsed or refractory B-ALL?",
    "What is the role of MRD in ALL?",
    "What is the dose of inotuzumab ozogamicin?",
    "How is Ph-positive ALL treated?",
    "What are the side effects of CAR-T therapy?",
    "zebrafish migration patterns",
]
FOLLOWUPS = ["and if MRD-negative?", "what about older patients?", "and for T-ALL?", "what dose?"]
PATIENTS = [
    {"age": 70, "lineage": "B", "ph": "negative", "phase": "diagnosis", "fit": False},
    {"age": 45, "lineage": "B", "ph": "positive", "phase": "post_induction", "response": "CR", "mrd": "positive"},
    {"age": 30, "lineage": "T", "phase": "relapsed_refractory"},
    {"age": 60, "lineage": "B", "ph": "negative", "phase": "relapsed_refractory", "cd20_percent": 40},
]
PROPOSALS = [None, "inotuzumab", "ponatinib", "blinatumomab", "nelarabine"]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


class Sampler(threading.Thread):
    """Samples the server process's RSS (MiB) once a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                rss = self.proc.memory_info().rss + sum(c.memory_info().rss for c in self.proc.children(recursive=True))
            except psutil.Error:
                break
            self.samples.append((time.monotonic(), rss / 2**20))
            self.stop.wait(1.0)


def server_pid(port: int) -> int:
    for proc in psutil.Process().children(recursive=True):
        try:
            cmd = proc.cmdline()
        except psutil.Error:
            continue
        if "serve" in cmd and str(port) in cmd:
            return proc.pid
    raise RuntimeError(f"no server process listening on port {port}")


async def client(n: int, base: str, deadline: float, results: dict[str, list[float]], errors: list[str]) -> None:
    rng = random.Random(n)
    conv, turns = f"load-{n}-0", 0
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        while time.monotonic() < deadline:
            kind = rng.choices(["ask", "pathway", "chat"], weights=[4, 3, 3])[0]
            started = time.perf_counter()
            try:
                if kind == "ask":
                    if turns >= 5:
                        conv, turns = f"load-{n}-{rng.randrange(10**9)}", 0
                    question = rng.choice(QUESTIONS if turns == 0 else FOLLOWUPS)
                    r = await http.post("/v1/ask", json={"question": question, "conversation_id": conv})
                    turns += 1
                    ok = r.status_code == 200 and "answer" in r.json()
                elif kind == "pathway":
                    body = {"patient": rng.choice(PATIENTS), "propose": rng.choice(PROPOSALS)}
                    r = await http.post("/v1/pathway", json=body)
                    ok = r.status_code == 200 and "options" in r.json()
                else:
                    body = {"question": rng.choice(QUESTIONS), "patient": rng.choice([None, *PATIENTS])}
                    async with http.stream("POST", "/v1/chat", json=body) as r:
                        text = "".join([chunk async for chunk in r.aiter_text()])
                    ok = r.status_code == 200 and "event: done" in text and "event: error" not in text
                if not ok:
                    errors.append(f"{kind}: HTTP {r.status_code}")
            except Exception as exc:
                errors.append(f"{kind}: {exc.__class__.__name__}: {exc}")
                continue
            results[kind].append(time.perf_counter() - started)


async def drive(base: str, duration: float, concurrency: int) -> tuple[dict[str, list[float]], list[str]]:
    results: dict[str, list[float]] = {"ask": [], "pathway": [], "chat": []}
    errors: list[str] = []
    deadline = time.monotonic() + duration
    await asyncio.gather(*(client(i, base, deadline, results, errors) for i in range(concurrency)))
    return results, errors


def run(store: Path, duration: float, concurrency: int, max_rss_growth: float, log: Path) -> dict[str, Any]:
    with ally_server(store, log, log_level="warning") as base:
        port = int(base.rsplit(":", 1)[1])
        asyncio.run(drive(base, 3, 2))  # warm-up: the first answers load caches
        sampler = Sampler(server_pid(port))
        sampler.start()
        started = time.monotonic()
        results, errors = asyncio.run(drive(base, duration, concurrency))
        elapsed = time.monotonic() - started
        sampler.stop.set()
        sampler.join()
    window = min(30.0, duration / 4)
    t0, t1 = sampler.samples[0][0], sampler.samples[-1][0]
    first = [m for t, m in sampler.samples if t - t0 <= window]
    last = [m for t, m in sampler.samples if t1 - t <= window]
    all_latencies = [x for v in results.values() for x in v]
    report: dict[str, Any] = {
        "duration_s": round(elapsed, 1),
        "concurrency": concurrency,
        "requests": len(all_latencies) + len(errors),
        "errors": len(errors),
        "error_samples": errors[:5],
        "throughput_rps": round(len(all_latencies) / elapsed, 2),
        "latency_ms": {
            kind: {
                "n": len(v),
                "p50": round(1000 * percentile(v, 50), 1),
                "p95": round(1000 * percentile(v, 95), 1),
                "p99": round(1000 * percentile(v, 99), 1),
            }
            for kind, v in {**results, "all": all_latencies}.items()
        },
        "rss_mib": {
            "window_s": window,
            "first": round(statistics.mean(first), 1),
            "last": round(statistics.mean(last), 1),
            "max": round(max(m for _, m in sampler.samples), 1),
        },
    }
    growth = report["rss_mib"]["last"] / report["rss_mib"]["first"] - 1
    report["rss_mib"]["growth"] = round(growth, 4)
    report["passed"] = not errors and growth <= max_rss_growth
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=Path(".store"), help="an ingested store (ally ingest corpus)")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load (default 120)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--max-rss-growth", type=float, default=0.10, help="allowed RSS growth, first to last window")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here too")
    parser.add_argument("--log", type=Path, default=Path("artifacts/reliability/load-server.log"))
    args = parser.parse_args(argv)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    report = run(args.store, args.duration, args.concurrency, args.max_rss_growth, args.log)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
