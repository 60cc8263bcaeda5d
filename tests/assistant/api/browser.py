"""Helpers of the browser tests: free ports, a real uvicorn subprocess, headless Debian Chromium."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@contextmanager
def running_server(
    command: list[str], port: int, env: dict[str, str], log: Path, ready_timeout: float = 180
) -> Iterator[str]:
    """Start a server that listens on 127.0.0.1:`port`, wait for /readyz, and stop it afterwards."""
    base = f"http://127.0.0.1:{port}"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ALLY_")} | env
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + ready_timeout
            while True:
                if proc.poll() is not None:
                    raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"server not ready after {ready_timeout} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.25)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@contextmanager
def serving_store(settings: Any, log: Path) -> Iterator[str]:
    """A real `ally serve` on loopback over `settings.store` (its other non-default settings as
    ALLY_* variables); yields the base URL, the access log in `log`."""
    port = free_port()
    env = {
        f"ALLY_{name.upper()}": str(value)
        for name, value in settings.model_dump(exclude_defaults=True).items()
        if name != "store" and value is not None
    }
    command = [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with running_server([*command, "--store", str(settings.store)], port, env, log) as base:
        yield base


@contextmanager
def serving_fake(api_key: str, log: Path) -> Iterator[str]:
    """The fake API of fake_server.py on loopback, requiring `api_key`; yields the base URL."""
    port = free_port()
    command = [sys.executable, str(Path(__file__).with_name("fake_server.py")), str(port)]
    with running_server(command, port, {"ALLY_API_KEYS": api_key}, log, ready_timeout=60) as base:
        yield base


def require_chromium() -> None:
    """Skip (fail in CI) when Debian Chromium is not installed: call it before starting what a
    browser test needs, so a fixture does not check for requests a skipped test never sent."""
    if not CHROMIUM.exists():
        message = "Debian chromium is not installed: apt-get install -y chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def chromium_page(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A headless Debian Chromium page (never a downloaded browser)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page
            context.close()
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
