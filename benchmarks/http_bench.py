"""HTTP throughput: `POST /v1/ask` from N concurrent clients on loopback against `ally serve`
(one uvicorn worker), bounded in time; answers/s and p50/p99 latency. The rate limit is raised for
the run (ALLY_RATE_LIMIT_PER_MINUTE) so the server, not the limiter, is measured.

    .venv/bin/python -m benchmarks.http_bench --quick                  # CI: 4 s, 300-chunk store
    .venv/bin/python -m benchmarks.http_bench --chunks 5000 --seconds 30
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time

import httpx

from benchmarks.common import command_line, percentile, save_result
from benchmarks.latency_bench import build_store
from benchmarks.synth import questions


def main() -> None:
    parser = argparse.ArgumentParser(description="ALLy /v1/ask throughput under concurrent clients")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--chunks", type=int, default=None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    chunks = args.chunks or (300 if args.quick else 5000)
    seconds = args.seconds or (4.0 if args.quick else 30.0)
    store = build_store(chunks, "onnx")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLY_")}
    env["ALLY_RATE_LIMIT_PER_MINUTE"] = "100000000"
    server = subprocess.Popen(
        [
            str(__import__("pathlib").Path(sys.executable).with_name("ally")),
            "serve",
            "--store",
            str(store),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
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
                    j += args.clients

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "benchmark": "http",
        "quick": args.quick,
        "chunks": chunks,
        "clients": args.clients,
        "seconds": round(elapsed, 2),
        "answers": len(latencies),
        "errors": errors[0],
        "answers_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "command": command_line("benchmarks.http_bench"),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print(result)
    print("wrote", save_result("http-quick" if args.quick else "http", result))


if __name__ == "__main__":
    main()
