"""HTTP throughput: `POST /v1/ask` from N concurrent clients on loopback against `ally serve`
(one uvicorn worker, `answer_threads` answer threads), bounded in time; answers/s and p50/p99.

The load comes from `wrk` (Debian package `wrk`; a C load generator, so the clients do not take
the server's CPU on a 2-core machine) with a Lua script cycling through 500 distinct synthetic
questions; without wrk, Python clients (httpx, one thread each) are used and the result says so.
A warm-up phase (not measured) runs first: every question's passages are seen once, as on a
server that has been up for a while. The rate limit is raised for the run
(ALLY_RATE_LIMIT_PER_MINUTE) so the server, not the limiter, is measured.

    .venv/bin/python -m benchmarks.http_bench --quick                  # smoke: 4 s, 300-chunk store
    .venv/bin/python -m benchmarks.http_bench --chunks 5000 --seconds 30
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import command_line, percentile, save_result
from benchmarks.latency_bench import build_store
from benchmarks.synth import questions

QUIET = ["--log-level", "warning"]
WRK_SCRIPT = """
local qs = {%s}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  return wrk.format(nil, "/v1/ask", nil, qs[(i %% #qs) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRK-RESULT {"requests": %%d, "duration_us": %%d, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def run_wrk(url: str, qs: list[str], clients: int, seconds: float) -> dict[str, Any]:
    bodies = ", ".join(json.dumps(json.dumps({"question": q})) for q in qs)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT % bodies)
        script = fh.name
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", script, url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK-RESULT "))
    r = json.loads(line.split(" ", 1)[1])
    elapsed = r["duration_us"] / 1e6
    ok = r["requests"] - r["non_2xx"]
    return {
        "driver": "wrk",
        "seconds": round(elapsed, 2),
        "answers": ok,
        "errors": r["non_2xx"] + r["socket_errors"],
        "answers_per_s": round(ok / elapsed, 1),
        "p50_ms": round(r["p50_us"] / 1000, 1),
        "p99_ms": round(r["p99_us"] / 1000, 1),
        "max_ms": round(r["max_us"] / 1000, 1),
    }


def run_python_clients(url: str, qs: list[str], clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            j = i
            while time.monotonic() < stop:
                t = time.perf_counter()
                r = c.post("/v1/ask", json={"question": qs[j % len(qs)]})
                dt = (time.perf_counter() - t) * 1000
                with lock:
                    if r.status_code == 200:
                        latencies.append(dt)
                    else:
                        errors[0] += 1
                j += clients

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "driver": "python-httpx (wrk not installed; the clients share the server's CPU)",
        "seconds": round(elapsed, 2),
        "answers": len(latencies),
        "errors": errors[0],
        "answers_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="ALLy /v1/ask throughput under concurrent clients")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--chunks", type=int, default=None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--warmup", type=float, default=None, help="seconds of unmeasured load first")
    parser.add_argument("--encoder", default=None, help="ALLY_ENCODER of the store and server")
    parser.add_argument("--threads", type=int, default=None, help="ALLY_ANSWER_THREADS (default: the setting's)")
    parser.add_argument("--python-clients", action="store_true", help="use httpx threads even if wrk is there")
    args = parser.parse_args()
    from ally.settings import Settings

    encoder = args.encoder or Settings().encoder
    chunks = args.chunks or (300 if args.quick else 5000)
    seconds = args.seconds or (4.0 if args.quick else 30.0)
    warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 10.0)
    store = build_store(chunks, encoder)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLY_")}
    env["ALLY_RATE_LIMIT_PER_MINUTE"] = "100000000"
    env["ALLY_ENCODER"] = encoder
    if args.threads:
        env["ALLY_ANSWER_THREADS"] = str(args.threads)
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("ally")), "serve", "--store", str(store), "--port", str(port), *QUIET],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    use_wrk = shutil.which("wrk") is not None and not args.python_clients
    drive = run_wrk if use_wrk else run_python_clients
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("server did not become ready")
            time.sleep(0.3)
        qs = questions(3, 500)
        if warmup > 0:
            drive(url, qs, args.clients, warmup)
        measured = drive(url, qs, args.clients, seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "benchmark": "http",
        "quick": args.quick,
        "chunks": chunks,
        "encoder": encoder,
        "clients": args.clients,
        "answer_threads": args.threads or Settings().answer_threads,
        "warmup_s": warmup,
        **measured,
        "command": command_line("benchmarks.http_bench"),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print(result)
    print("wrote", save_result("http-quick" if args.quick else "http", result))


if __name__ == "__main__":
    main()
