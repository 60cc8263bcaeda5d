"""Property-based tests of the patient record, the ask and pathway inputs (Assistant and HTTP API).

Whatever arrives, the only failures are the documented ones (InputError in the core; 413/422 with a
message naming the field over HTTP), nothing ends in a 500, and what is answered is well formed:
every citation marker in an answer belongs to a citation, every citation is a stored passage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from ally.errors import InputError
from ally.schema import Answer, PathwayResult, Patient, parse_patient
from ally.settings import Settings
from assistant.api.app import create_app

from .record import record
from .strategies import json_values, patient_like, questions

pytestmark = pytest.mark.slow
COUNT: dict[str, int] = {}


def _count(name: str) -> None:
    COUNT[name] = COUNT.get(name, 0) + 1


@pytest.fixture(scope="module")
def fuzz_assistant(ingested_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real assistant over the session store, with its own database (fuzzed turns stay here)."""
    from assistant.service import Assistant

    db = tmp_path_factory.mktemp("fuzzdb") / "fuzz.sqlite3"
    with Assistant.open(ingested_settings.model_copy(update={"database_url": f"sqlite:///{db}"})) as assistant:
        assistant.warm()
        yield assistant


def check_answer(answer: Answer, assistant: Any) -> None:
    numbers = {c.n for c in answer.citations}
    assert numbers == set(range(1, len(numbers) + 1))
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers <= numbers, (answer.answer, numbers)
    for c in answer.citations:
        assert assistant.reader.chunks_by_id[c.chunk_id].text == c.text


@settings(settings.get_profile("reliability"))
@given(patient_like)
def test_parse_patient_accepts_or_names_the_field(data: Any) -> None:
    _count("patient")
    try:
        patient = parse_patient(data)
    except InputError as exc:
        assert exc.field and str(exc).startswith("patient")
        return
    assert isinstance(patient, Patient)
    known = patient.known()
    assert set(known) <= set(Patient.model_fields)
    if "age" in known:
        assert 0 <= known["age"] <= 120
    if "cd20_percent" in known:
        assert 0 <= known["cd20_percent"] <= 100


@settings(settings.get_profile("reliability"))
@given(
    patient=patient_like,
    propose=st.one_of(
        st.none(), st.text(max_size=40), st.sampled_from(["ponatinib", "blinatumomab", "inotuzumab", " "])
    ),
)
def test_pathway_never_crashes(fuzz_assistant: Any, patient: Any, propose: str | None) -> None:
    _count("pathway")
    try:
        result = fuzz_assistant.pathway(patient, propose)
    except InputError as exc:
        assert exc.field
        return
    assert isinstance(result, PathwayResult)
    for option in result.options:
        assert option.citations and all(c.text for c in option.citations)
    if propose:
        assert result.check is not None and result.check.verdict in {"on", "off", "conditional", "needs_info"}


@settings(settings.get_profile("reliability"), max_examples=60)
@given(
    question=questions,
    patient=st.one_of(st.none(), patient_like),
    conversation=st.one_of(st.none(), st.text(max_size=210), st.sampled_from(["c1", "c2"])),
)
def test_ask_never_crashes(fuzz_assistant: Any, question: str, patient: Any, conversation: str | None) -> None:
    _count("ask")
    try:
        answer = fuzz_assistant.ask(question, patient=patient, conversation_id=conversation)
    except InputError as exc:
        assert exc.field in {"question", "conversation_id"} or (exc.field or "").startswith("patient") or exc.field
        return
    check_answer(answer, fuzz_assistant)


@pytest.fixture(scope="module")
def api(fuzz_assistant: Any) -> Iterator[TestClient]:
    settings_ = fuzz_assistant.settings.model_copy(update={"rate_limit_per_minute": 1_000_000})
    with TestClient(create_app(settings_, fuzz_assistant), client=("127.0.0.1", 50000)) as tc:
        yield tc


bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"question": st.one_of(questions, json_values)},
        optional={"patient": patient_like, "conversation_id": json_values, "id": json_values, "extra": json_values},
    ),
    st.fixed_dictionaries({"patient": patient_like}, optional={"propose": json_values, "id": json_values}),
)


@settings(settings.get_profile("reliability"), max_examples=80)
@given(route=st.sampled_from(["/v1/ask", "/v1/pathway", "/v1/chat"]), body=bodies)
def test_api_answers_or_names_the_problem(api: TestClient, route: str, body: Any) -> None:
    _count("api")
    # json.dumps writes NaN/Infinity as bare tokens (not JSON): the server must call that a bad body
    response = api.post(route, content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code in {200, 413, 422}, (response.status_code, response.text[:500])
    if response.status_code != 200:
        error = response.json()
        assert error["detail"] and error["error"]
        if response.status_code == 422:
            assert error["field"], error
    elif route == "/v1/ask":
        Answer.model_validate(response.json())


@settings(settings.get_profile("reliability"), max_examples=40)
@given(raw=st.binary(max_size=300))
def test_api_survives_raw_bytes(api: TestClient, raw: bytes) -> None:
    _count("api-bytes")
    for route in ("/v1/ask", "/v1/pathway"):
        response = api.post(route, content=raw, headers={"content-type": "application/json"})
        assert response.status_code in {200, 400, 422}, (response.status_code, response.text[:300])
        if response.status_code != 200:
            error = response.json()
            assert error["detail"] and error["field"], error
            assert "parsing the body" not in error["detail"], "the message must say what to fix"


def test_zz_record_fuzz_counts() -> None:
    """Write the number of generated cases per property into the evidence file."""
    labels = {
        "patient": "patient record (parse_patient): random JSON values and field names",
        "pathway": "Assistant.pathway: random patient records and proposed therapies",
        "ask": "Assistant.ask: random questions, patients, conversation ids",
        "api": "HTTP /v1/ask, /v1/pathway, /v1/chat: random JSON bodies",
        "api-bytes": "HTTP /v1/ask, /v1/pathway: random raw bytes as the body",
    }
    for key, what in labels.items():
        if COUNT.get(key):
            record(
                "inputs", what, COUNT[key], "no crash; only InputError / 413 / 422 naming the field", "test_fuzz_inputs"
            )
    assert Path(__file__).is_file()
