"""Real servers for the scale tests, started on 127.0.0.1 with temporary data and stopped after.

- `postgres_url`: a throw-away PostgreSQL cluster (Debian's `postgresql` package: initdb + pg_ctl,
  run as the `postgres` user when the tests run as root). Skipped with the reason when the binaries
  are missing locally; under CI (`CI` set) a missing PostgreSQL is a failure, not a skip.
- `chroma_url`: a `chroma run` server (the CLI shipped with chromadb) with telemetry off.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.2)


def _pg_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bindir = _pg_bindir()
    if bindir is None or not (bindir / "initdb").is_file():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI: scripts/system-deps.sh installs the `postgresql` package")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found; install the Debian package `postgresql`")
    base = Path(tempfile.mkdtemp(prefix="ally-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres system user
        shutil.chown(base, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "ally", "-E", "UTF8", "--no-sync"],
        **run,
    )  # type: ignore[call-overload]
    opts = f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off"
    subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(base / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        **run,
    )  # type: ignore[call-overload]
    try:
        yield f"postgresql+psycopg://ally@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = Path(sys.executable).with_name("chroma")
    if not exe.is_file():
        pytest.fail(f"the `chroma` CLI is missing next to {sys.executable}; reinstall chromadb")
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "CHROMA_TELEMETRY": "False"}
    log = tmp_path_factory.mktemp("chroma") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [str(exe), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(log.parent / "data")],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
