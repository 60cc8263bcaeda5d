"""HTTP throughput: `POST /v1/ask` from N concurrent clients on loopback against `ally serve`
(`--workers 1,2`: one run per worker count, each worker with `answer_threads` answer threads),
bounded in time; answers/s and p50/p99.

The load comes from `wrk` (Debian package `wrk`; a C load generator, so the clients do not take
the server's CPU on a 2-core machine) with a Lua script cycling through 500 distinct synthetic
questions; without wrk, Python clients (httpx, one thread each) are used and the result says so.
A warm-up phase (not measured) runs first: every question's passages are seen once, as on a
server that has been up for a while. The rate limit is raised for the run
(ALLY_RATE_LIMIT_PER_MINUTE) so the server, not the limiter, is measured.

Several workers need a database server (`ally serve` refuses SQLite then): `--postgres` starts a
throw-away PostgreSQL cluster on 127.0.0.1 (Debian's `postgresql` binaries, default durability:
fsync on) for every run of the invocation, or `--database-url URL` names one.

    .venv/bin/python -m benchmarks.http_bench --quick                  # smoke: 4 s, 300-chunk store
    .venv/bin/python -m benchmarks.http_bench --chunks 5000 --seconds 30
    .venv/bin/python -m benchmarks.http_bench --chunks 5000 --seconds 20 --workers 1,2 --postgres
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
from collections.abc import Iterator
from contextlib import contextmanager
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (run as the `postgres` user when we are root)."""
    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    found = shutil.which("initdb")
    bindir = Path(found).parent if found else (bindirs[0].parent if bindirs else None)
    if bindir is None:
        raise SystemExit("--postgres needs PostgreSQL's initdb and pg_ctl (Debian package `postgresql`)")
    base = Path(tempfile.mkdtemp(prefix="ally-bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", free_port()
    run: dict[str, Any] = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "ally", "-E", "UTF8"], **run)
    pg_ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run([*pg_ctl, "-o", f"-h 127.0.0.1 -p {port} -k {base}", "-l", str(base / "log"), "-w", "start"], **run)
    try:
        yield f"postgresql+psycopg://ally@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of the server process and its workers so far."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("server did not become ready")
        time.sleep(0.3)


def measure(store: Path, workers: int, env: dict[str, str], args: argparse.Namespace, seconds: float) -> dict[str, Any]:
    """Start `ally serve` with `workers` workers, warm it up, drive it, stop it."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("ally")), "serve", "--store", str(store), "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers), *QUIET], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    drive = run_wrk if shutil.which("wrk") is not None and not args.python_clients else run_python_clients
    try:
        wait_ready(url, server)
        if workers > 1:  # every worker loads its model: ask until all have answered once
            for _ in range(20 * workers):
                httpx.post(f"{url}/v1/ask", json={"question": "warm-up: blinatumomab dose"}, timeout=60)
        qs = questions(3, 500)
        if args.warmup_s > 0:
            drive(url, qs, args.clients, args.warmup_s)
        cpu_before = server_cpu_s(server.pid)
        measured = drive(url, qs, args.clients, seconds)
        cpu = server_cpu_s(server.pid) - cpu_before
        # CPU the server's processes spent per answer: on a busy machine, a figure the other jobs do not move
        measured["server_cpu_s"] = round(cpu, 2)
        measured["server_cpu_ms_per_answer"] = round(1000 * cpu / max(measured["answers"], 1), 2)
        return measured
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description="ALLy /v1/ask throughput under concurrent clients")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--chunks", type=int, default=None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--warmup", type=float, default=None, help="seconds of unmeasured load first")
    parser.add_argument("--encoder", default=None, help="ALLY_ENCODER of the store and server")
    parser.add_argument("--threads", type=int, default=None, help="ALLY_ANSWER_THREADS (default: the setting's)")
    parser.add_argument("--encoder-threads", type=int, default=None, help="ALLY_ENCODER_THREADS of the server")
    parser.add_argument("--workers", default="1", help="comma-separated worker counts, one run each (e.g. 1,2)")
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL for ALLY_DATABASE_URL")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting, e.g. --set unit_similarity_weight=0 (ALLY_* of the shell are not passed on)",
    )
    parser.add_argument("--database-url", default=None, help="ALLY_DATABASE_URL of the server")
    parser.add_argument("--python-clients", action="store_true", help="use httpx threads even if wrk is there")
    args = parser.parse_args()
    from ally.settings import Settings

    encoder = args.encoder or Settings().encoder
    chunks = args.chunks or (300 if args.quick else 5000)
    seconds = args.seconds or (4.0 if args.quick else 30.0)
    args.warmup_s = args.warmup if args.warmup is not None else (2.0 if args.quick else 10.0)
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    store = build_store(chunks, encoder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLY_")}
    env["ALLY_RATE_LIMIT_PER_MINUTE"] = "100000000"
    env["ALLY_ENCODER"] = encoder
    if args.threads:
        env["ALLY_ANSWER_THREADS"] = str(args.threads)
    if args.encoder_threads is not None:
        env["ALLY_ENCODER_THREADS"] = str(args.encoder_threads)
    for item in args.set:
        name, _, value = item.partition("=")
        env[f"ALLY_{name.strip().upper()}"] = value.strip()
    with postgres_cluster() if args.postgres else _given(args.database_url) as database_url:
        if database_url:
            env["ALLY_DATABASE_URL"] = database_url
        database = "postgresql" if database_url else "sqlite (in the store)"
        for workers in counts:
            load_before = os.getloadavg()[0]  # other jobs on the machine (and the previous run's tail)
            measured = measure(store, workers, env, args, seconds)
            result = {
                "benchmark": "http",
                "quick": args.quick,
                "chunks": chunks,
                "encoder": encoder,
                "clients": args.clients,
                "workers": workers,
                "database": database,
                "answer_threads": args.threads or Settings().answer_threads,
                "encoder_threads": args.encoder_threads,
                "settings": args.set,
                "warmup_s": args.warmup_s,
                "load_1min_before": round(load_before, 2),
                "load_1min_after": round(os.getloadavg()[0], 2),
                **measured,
                "command": command_line("benchmarks.http_bench"),
                "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
            }
            name = "http" if workers == 1 and not database_url else f"http-workers{workers}-{database.split()[0]}"
            print(result)
            print("wrote", save_result(name + ("-quick" if args.quick else ""), result))


@contextmanager
def _given(url: str | None) -> Iterator[str | None]:
    yield url


if __name__ == "__main__":
    main()
