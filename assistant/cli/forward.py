"""Forwarding `ally ask` to a running `ally serve` of the same store.

A cold `ally ask` opens the store, loads the model and the vector index, and answers once: about
2.5 s at 100k chunks, most of it loading what a running server already holds. So `ally serve`
announces itself in the store folder (`serving.json`: its URL, its process id, the answer
settings and database it uses), and `ally ask QUESTION` sends the question to it over loopback
when the announcement is live (the process runs, the answer settings and the database are the
client's own) and the server answers within `FORWARD_TIMEOUT_S`; the answer is the one a local
run would give. Anything else (no server, a stale file, other settings, a refusal, an error)
answers locally, so errors still carry their exit codes. `--local` never forwards.

Light on purpose: a forwarded `ally ask` imports this module, the settings and the schema, and
nothing that loads a model or a store (standard-library HTTP, no client library).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ally.schema import Answer
from ally.settings import Settings

SERVING_FILE = "serving.json"
FORWARD_TIMEOUT_S = 30.0
_ANY_ADDRESS = {"", "0.0.0.0", "::"}


def fingerprint(settings: Settings) -> str:
    """What must be equal for a server's answer to be the one this process would give: the answer
    settings and the database its conversations live in."""
    body = f"{settings.answer_settings()}|{settings.resolved_database_url()}"
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _url(host: str, port: int) -> str:
    host = "127.0.0.1" if host in _ANY_ADDRESS else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.contextmanager
def announced(settings: Settings, host: str, port: int) -> Iterator[None]:
    """`serving.json` in the store while the server runs (removed when it stops, if still ours)."""
    from ingest.store.files import atomic_write_text

    path = settings.store / SERVING_FILE
    body = {"url": _url(host, port), "pid": os.getpid(), "fingerprint": fingerprint(settings)}
    try:
        atomic_write_text(path, json.dumps(body))
    except OSError:  # a read-only store: the server runs, `ally ask` answers locally
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def live_server(settings: Settings) -> str | None:
    """The URL of a running `ally serve` of this store whose answers are this process's, or None."""
    try:
        raw = json.loads((Path(settings.store) / SERVING_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("fingerprint") != fingerprint(settings) or not _alive(raw.get("pid")):
        return None
    url = raw.get("url")
    return url if isinstance(url, str) and url.startswith("http://") else None


def forwarded(
    settings: Settings,
    question: str,
    patient: dict[str, Any] | None,
    conversation_id: str | None,
    timeout_s: float = FORWARD_TIMEOUT_S,
) -> Answer | None:
    """The running server's answer to the question, or None (answer locally)."""
    url = live_server(settings)
    if url is None:
        return None
    body: dict[str, Any] = {"question": question}
    if patient is not None:
        body["patient"] = patient
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    headers = {"Content-Type": "application/json"}
    if settings.api_key_list:
        headers["Authorization"] = f"Bearer {settings.api_key_list[0]}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        # the process named in serving.json may be gone and its port reused: the server must say
        # it serves this store, and be ready, before the question goes to it
        with opener.open(urllib.request.Request(f"{url}/readyz", headers=headers), timeout=2.0) as response:
            ready = json.loads(response.read())
        if ready.get("status") != "ready" or ready.get("store_id") != settings.store_id():
            return None
        request = urllib.request.Request(
            f"{url}/v1/ask", data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        with opener.open(request, timeout=timeout_s) as response:
            return Answer.model_validate(json.loads(response.read()))
    except (urllib.error.URLError, OSError, ValueError, AttributeError):
        return None  # refused, failed or not an answer: the local run gives the answer or the error
