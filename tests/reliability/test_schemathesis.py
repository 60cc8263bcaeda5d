"""schemathesis against the OpenAPI schema of a real `ally serve` (uvicorn on 127.0.0.1).

Every operation gets generated valid and invalid requests (bounded examples). No response may be a
5xx; every 4xx carries a JSON body whose `detail` says what is wrong. Kept short for CI through
`RELIABILITY_ST_EXAMPLES` (default 25 per operation)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from .record import record
from .server import ally_server

pytestmark = [pytest.mark.slow, pytest.mark.allow_hosts(["127.0.0.1"])]
EXAMPLES = int(os.environ.get("RELIABILITY_ST_EXAMPLES", "25"))
SEEN: dict[str, Any] = {"cases": 0, "statuses": {}, "operations": set()}


@pytest.fixture(scope="module")
def served(ingested_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("st") / "server.log"
    with ally_server(ingested_store, log) as base:
        yield base
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]


def test_api_schema(served: str) -> None:
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable

    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    from schemathesis import GenerationMode

    for operation, mode in [(op, m) for op in operations for m in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(timeout=60)
            SEEN["cases"] += 1
            SEEN["operations"].add(f"{case.method} {case.path}")
            SEEN["statuses"][response.status_code] = SEEN["statuses"].get(response.status_code, 0) + 1
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])
            if response.status_code >= 400:
                body = response.json()
                assert isinstance(body.get("detail"), str) and len(body["detail"]) > 10, body
                assert body.get("error"), body

        try:
            check()
        except Unsatisfiable:  # no invalid request exists for an operation without inputs
            assert mode == GenerationMode.NEGATIVE, operation


def test_zz_record_schemathesis() -> None:
    if SEEN["cases"]:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(SEEN["statuses"].items()))
        record("inputs", f"schemathesis on the live OpenAPI schema ({len(SEEN['operations'])} operations, "
               f"valid and invalid requests, {EXAMPLES} examples each)", SEEN["cases"], f"no 5xx; every 4xx has a detail ({statuses})",
               "test_schemathesis")  # fmt: skip
