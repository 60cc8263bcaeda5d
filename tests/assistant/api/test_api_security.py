"""API keys, rate limits, body limits, remote clients, CORS, the access log and `ally serve`'s guard."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.api.security import KeyRing, is_loopback_host
from assistant.cli import app as cli_app
from assistant.guards import RateLimiter
from tests.fakes import FrozenTime

from .conftest import ClientFactory

ASK = {"question": "Which therapies are approved for relapsed or refractory B-ALL?"}
KEYS = "alpha-key-0123456789,beta-key-9876543210"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_keys_are_required_when_configured(make_client: ClientFactory) -> None:
    tc = make_client(api_keys=KEYS)
    missing = tc.post("/v1/ask", json=ASK)
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in missing.json()["detail"] and "ALLY_API_KEYS" in missing.json()["detail"]
    wrong = tc.post("/v1/ask", json=ASK, headers=bearer("alpha-key-012345678X"))
    assert wrong.status_code == 401 and "not valid" in wrong.json()["detail"]
    assert tc.post("/v1/ask", json=ASK, headers={"Authorization": "Basic YWxwaGE="}).status_code == 401
    for key in KEYS.split(","):
        assert tc.post("/v1/ask", json=ASK, headers=bearer(key)).status_code == 200
        assert tc.get("/v1/documents", headers=bearer(key)).status_code == 200


def test_open_routes_need_no_key(make_client: ClientFactory) -> None:
    tc = make_client(api_keys=KEYS)
    for path in ("/healthz", "/", "/static/app.js", "/openapi.json", "/docs"):
        assert tc.get(path).status_code == 200, path
    assert tc.get("/readyz").status_code in (200, 503)


def test_keyring_keeps_only_digests() -> None:
    ring = KeyRing(["s3cret-key-value"])
    assert "s3cret-key-value" not in repr(vars(ring))
    key_id = ring.identify("s3cret-key-value")
    assert key_id is not None and len(key_id) == 8 and key_id not in "s3cret-key-value"
    assert ring.identify("s3cret-key-valuf") is None
    assert not KeyRing([]).enabled


def test_rate_limit_per_key(make_client: ClientFactory) -> None:
    alpha, beta = KEYS.split(",")
    tc = make_client(api_keys=KEYS, rate_limit_per_minute=3)
    for _ in range(3):
        assert tc.get("/v1/documents", headers=bearer(alpha)).status_code == 200
    limited = tc.get("/v1/documents", headers=bearer(alpha))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1 and "ALLY_RATE_LIMIT_PER_MINUTE" in limited.json()["detail"]
    assert tc.get("/v1/documents", headers=bearer(beta)).status_code == 200
    assert tc.get("/healthz").status_code == 200


def test_rate_limit_per_client_without_keys(make_client: ClientFactory) -> None:
    tc = make_client(rate_limit_per_minute=2)
    assert [tc.get("/v1/documents").status_code for _ in range(3)] == [200, 200, 429]


def test_rate_limiter_window_slides(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FrozenTime.install(monkeypatch)
    limiter = RateLimiter(2)
    assert limiter.hit("k") is None and limiter.hit("k") is None
    wait = limiter.hit("k")
    assert wait is not None and 59.9 <= wait <= 60
    clock.advance(30)
    assert limiter.hit("k") is not None
    clock.advance(30.5)
    assert limiter.hit("k") is None
    assert limiter.hit("other") is None


def test_body_size_limit(make_client: ClientFactory) -> None:
    tc = make_client(max_body_bytes=300)
    big = {"question": "x" * 400}
    response = tc.post("/v1/ask", json=big)
    assert response.status_code == 413 and "ALLY_MAX_BODY_BYTES" in response.json()["detail"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        yield b'{"question": "'
        yield b"y" * 400
        yield b'"}'

    chunked = tc.post("/v1/ask", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert tc.post("/v1/ask", json={"question": "x" * 100}).status_code == 200


def test_remote_clients_are_refused_without_keys(make_client: ClientFactory) -> None:
    remote = make_client(client=("203.0.113.9", 40000))
    refused = remote.post("/v1/ask", json=ASK)
    assert refused.status_code == 403 and "ALLY_API_KEYS" in refused.json()["detail"]
    assert remote.get("/healthz").status_code == 200
    keyed = make_client(client=("203.0.113.9", 40000), api_keys=KEYS)
    assert keyed.post("/v1/ask", json=ASK, headers=bearer(KEYS.split(",")[0])).status_code == 200
    assert make_client(client=("::1", 40000)).post("/v1/ask", json=ASK).status_code == 200


def test_cors_only_for_configured_origins(make_client: ClientFactory) -> None:
    preflight = {"Origin": "https://ward.example.org", "Access-Control-Request-Method": "POST"}
    tc = make_client(cors_origins="https://ward.example.org, https://other.example.org", api_keys=KEYS)
    allowed = tc.options("/v1/ask", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://ward.example.org"
    denied = tc.options("/v1/ask", headers={**preflight, "Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in denied.headers
    plain = make_client()
    response = plain.post("/v1/ask", json=ASK, headers={"Origin": "https://ward.example.org"})
    assert "access-control-allow-origin" not in response.headers


def test_access_log_has_route_status_latency_and_key_id_only(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    alpha = KEYS.split(",")[0]
    tc = make_client(api_keys=KEYS)
    secret_question = "Does patient Jane Roe (MRN 4711) qualify for ponatinib?"
    with caplog.at_level(logging.INFO, logger="ally.access"):
        tc.post(
            "/v1/ask", json={"question": secret_question, "patient": {"age": 77, "lineage": "T"}}, headers=bearer(alpha)
        )
        tc.post("/v1/pathway", json={"patient": {"age": 77}}, headers=bearer(alpha))
        tc.get("/v1/passages/nonprofit-0001", headers=bearer(alpha))
        tc.post("/v1/ask", json=ASK, headers=bearer("wrong-key-value"))
    lines = [r.getMessage() for r in caplog.records if r.name == "ally.access"]
    assert len(lines) == 4
    key_id = KeyRing([alpha]).identify(alpha)
    assert lines[0].startswith("POST /v1/ask 200 ") and lines[0].endswith(f"ms key={key_id}")
    assert lines[1].startswith("POST /v1/pathway 200 ")
    assert lines[2].startswith("GET /v1/passages/{chunk_id} 200 ")
    assert lines[3].startswith("POST ") and " 401 " in lines[3] and lines[3].endswith("key=-")
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for leaked in ("Jane", "4711", "ponatinib", "77", "alpha-key", "wrong-key", "nonprofit-0001"):
        assert leaked not in everything, leaked


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.org", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_serve_refuses_a_public_address_without_keys(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without API keys" in result.output
    assert "ALLY_API_KEYS" in result.output
