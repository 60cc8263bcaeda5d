"""`--against URL`: questions go to POST /v1/ask with the contract's body; turns share a conversation id."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ally.settings import Settings
from evals.runner import run_eval

LINES = [
    {
        "id": "a",
        "question": "Iclusig dose?",
        "category": "dosing",
        "key_facts": [["45\\s*mg"]],
        "gold_quotes": ["45 mg orally once daily"],
    },
    {
        "id": "c1",
        "question": "Rylaze?",
        "category": "multi-turn",
        "key_facts": [["jazz"]],
        "gold_quotes": ["Jazz"],
        "conversation_id": "k",
        "turn": 1,
    },
    {
        "id": "c2",
        "question": "Who makes it?",
        "category": "multi-turn",
        "key_facts": [["jazz"]],
        "gold_quotes": ["Jazz"],
        "conversation_id": "k",
        "turn": 2,
    },
]


@pytest.fixture()
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
            if self.path != "/v1/ask":
                self.send_response(404)
                self.end_headers()
                return
            passage = (
                "Dosing Schedule: 45 mg orally once daily"
                if body["id"] == "a"
                else "Manufacturer: Jazz Pharmaceuticals"
            )
            answer = {
                "id": body["id"],
                "answer": f"{passage} [1]",
                "abstained": False,
                "corpus_version": "v1",
                "citations": [{"n": 1, "doc_id": "d", "title": "t", "chunk_id": "c", "text": passage}],
                "retrieved": [{"doc_id": "d", "chunk_id": "c", "text": passage, "score": 1.0}],
            }
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_against_url_posts_contract_bodies_and_threads_conversations(
    server: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, seen = server
    dataset = tmp_path / "q.jsonl"
    dataset.write_text("\n".join(json.dumps(x) for x in LINES) + "\n", encoding="utf-8")
    cases = tmp_path / "p.jsonl"
    cases.write_text(json.dumps({"id": "p", "patient": {"lineage": "B"}, "expected_missing": ["ph"]}) + "\n")
    run = run_eval(
        dataset=dataset,
        systems=["ally"],
        settings=Settings(store=tmp_path / "none", api_keys="k1,k2"),
        corpus=tmp_path,
        pathway_cases=cases,
        against=url,
    )
    asks = [s for s in seen if s["path"] == "/v1/ask"]
    assert [s["body"]["question"] for s in asks] == ["Iclusig dose?", "Rylaze?", "Who makes it?"]
    assert "conversation_id" not in asks[0]["body"]
    assert asks[1]["body"]["conversation_id"] == asks[2]["body"]["conversation_id"]
    assert run.run_id in asks[1]["body"]["conversation_id"]
    assert all(s["auth"] == "Bearer k1" for s in seen)
    system = run.systems[0]
    assert system.info["corpus_version"] == "v1"
    assert system.metrics["answers"]["full_correctness"] == 1.0
    assert system.metrics["citations"]["coverage"] == 1.0
    assert system.pathway[0].error is not None and "404" in system.pathway[0].error
    assert system.metrics["pathway"]["missing_recall"] == 0.0
