"""Privacy: planted patient identifiers (a name, an MRN, a date of birth) sent through the CLI and a
real `ally serve` at DEBUG log level never appear in any log line, error message or trace; API keys
never appear in logs. The Slack transport has the same tests in tests/assistant/slack (see docs/RELIABILITY.md)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app as cli_app

from .record import record
from .server import ally_server

pytestmark = [pytest.mark.slow, pytest.mark.allow_hosts(["127.0.0.1"])]
NAME, MRN, DOB = "Philomena Zuckerbrot", "MRN-88412377", "1949-07-23"
SECRETS = [NAME, "Zuckerbrot", MRN, "88412377", DOB]
KEY = "reliability-key-6d1f0c9b2a7e"
WRONG = "wrong-key-3b9e77aa01"
QUESTION = f"{NAME} ({MRN}, born {DOB}): 70-year-old with Ph-negative B-ALL, what are the options?"
REPO = Path(__file__).resolve().parents[2]


def call(base: str, method: str, path: str, body: Any = None, key: str | None = KEY) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def test_api_logs_and_errors_hold_no_identifiers(ingested_store: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    sent = 0
    errors: list[str] = []
    with ally_server(ingested_store, log, log_level="debug", env={"ALLY_API_KEYS": KEY}) as base:
        requests = [
            ("POST", "/v1/ask", {"question": QUESTION, "conversation_id": "priv-1"}, 200),
            ("POST", "/v1/ask", {"question": f"and for {NAME} if MRD-positive?", "conversation_id": "priv-1"}, 200),
            ("POST", "/v1/chat", {"question": QUESTION}, 200),
            ("POST", "/v1/ask", {"question": QUESTION, "patient": {"name": NAME, "mrn": MRN, "dob": DOB}}, 422),
            ("POST", "/v1/ask", {"question": QUESTION, "patient": {"age": DOB, "lineage": NAME}}, 422),
            ("POST", "/v1/pathway", {"patient": {"age": 70, "mrn": MRN}}, 422),
            ("POST", "/v1/pathway", {"patient": {"age": 70}, "propose": f"{NAME} {MRN}"}, 422),
            ("POST", "/v1/ask", {"question": QUESTION * 40}, 422),
            ("POST", "/v1/ask", {"question": QUESTION, "name": NAME}, 422),
            ("GET", f"/v1/passages/{MRN}", None, 404),
            ("GET", f"/v1/documents/{NAME.replace(' ', '%20')}", None, 404),
            ("POST", "/v1/feedback", {"answer_id": MRN, "helpful": True, "comment": f"{NAME} {DOB}"}, 404),
        ]
        for method, path, body, expected in requests:
            status, text = call(base, method, path, body)
            sent += 1
            assert status == expected, (path, status, text[:300])
            if status >= 400 and body is not None:  # 404s for ids in the path echo the id: ids are not PHI
                errors.append(text)
        assert call(base, "POST", "/v1/ask", {"question": QUESTION}, key=WRONG)[0] == 401
        assert call(base, "POST", "/v1/ask", {"question": QUESTION}, key=None)[0] == 401
        sent += 2
    logged = log.read_text(errors="replace")
    assert "GET /readyz" in logged or "POST /v1/ask" in logged, "the access log is on"
    for secret in [*SECRETS, KEY, WRONG]:
        assert secret not in logged, f"{secret!r} reached the server log"
    for body in errors:
        for secret in [NAME, "Zuckerbrot", DOB]:
            assert secret not in body, f"{secret!r} echoed in an error: {body}"
    record("privacy", "API (real uvicorn, --log-level debug, keys on): name/MRN/DOB in questions, follow-ups, "
           "SSE chat, unknown patient fields, bad values, over-long question, ids in paths, feedback; wrong and "
           "missing key", sent, "no identifier or key in the server log; no name/DOB echoed in any error body",
           "test_privacy")  # fmt: skip


def test_cli_logs_and_errors_hold_no_identifiers(ingested_store: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    cases = [
        (["ask", QUESTION, "--store", str(ingested_store), "--json"], 0),
        (["ask", QUESTION, "--patient", json.dumps({"name": NAME, "mrn": MRN}), "--store", str(ingested_store)], 2),
        (["ask", QUESTION, "--patient", json.dumps({"age": DOB}), "--store", str(ingested_store)], 2),
        (["ask", QUESTION, "--patient", "{" + NAME, "--store", str(ingested_store)], 2),
        (["pathway", "--patient", json.dumps({"age": 70, "mrn": MRN}), "--store", str(ingested_store)], 2),
        (["ask", QUESTION * 40, "--store", str(ingested_store)], 2),
    ]
    for args, code in cases:
        result = runner.invoke(cli_app, args)
        assert result.exit_code == code, (args[:2], result.output[-500:])
        if code:
            for secret in [NAME, "Zuckerbrot", DOB]:
                assert secret not in result.output, f"{secret!r} echoed: {result.output}"
    logged = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    for secret in SECRETS:
        assert secret not in logged
    # and a subprocess with warnings on: nothing on stderr but the error line
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONWARNINGS": "always"}
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", QUESTION, "--patient", json.dumps({"mrn": MRN}),
                           "--store", str(ingested_store)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "unknown field 'mrn'" in proc.stderr
    assert all(s not in proc.stderr for s in SECRETS)
    record(
        "privacy",
        "CLI (`ally ask`, `ally pathway`, DEBUG logging captured): identifiers in questions, "
        "unknown patient fields, bad values, broken JSON, over-long question",
        len(cases) + 1,
        "no identifier in logs; errors name the field, never echo the value",
        "test_privacy",
    )
