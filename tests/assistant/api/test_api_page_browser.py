"""The web page in headless Chromium against a real uvicorn serving the fake assistant: streaming,
citations, escaping of source text, abstention, feedback, API keys, patient-field errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .browser import chromium_page, http_json, screenshot, serving_fake

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KEY = "page-test-key-5f2a9c"


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving_fake(KEY, tmp_path_factory.mktemp("fake-server") / "server.log") as base:
        yield base


def ask(page: Any, question: str) -> Any:
    page.fill("#question", question)
    page.press("#question", "Enter")
    turn = page.locator("article.turn.assistant").last
    turn.locator("xpath=self::*[contains(@class,'done') or contains(@class,'failed')]").wait_for()
    return turn


def test_page_streams_cites_escapes_and_records_feedback(fake_server: str) -> None:
    dialogs: list[str] = []
    with chromium_page() as page:

        def on_dialog(d: Any) -> None:
            dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        page.goto(fake_server + "/")

        # Without the key the server refuses and the page asks for it.
        refused = ask(page, "inotuzumab relapsed refractory")
        assert "failed" in (refused.get_attribute("class") or "")
        assert "API key" in refused.locator(".status").inner_text()
        assert page.locator("#key-settings").get_attribute("open") is not None

        page.fill("#api-key", KEY)
        page.dispatch_event("#api-key", "change")
        with page.expect_response("**/v1/chat") as chat:
            turn = ask(page, "Is inotuzumab approved for relapsed or refractory B-cell ALL?")
        assert chat.value.headers["content-type"].startswith("text/event-stream")
        assert "done" in (turn.get_attribute("class") or "")
        cite = turn.locator(".answer p button.cite").first
        chunk_id = cite.get_attribute("data-chunk-id")
        assert chunk_id
        cite.click()
        dialog = page.locator("#passage-dialog")
        dialog.wait_for(state="visible")
        assert dialog.get_attribute("data-chunk-id") == chunk_id
        expected = http_json("GET", f"{fake_server}/v1/passages/{chunk_id}", headers={"Authorization": f"Bearer {KEY}"})
        assert page.inner_text("#passage-text") == expected["text"]
        assert page.inner_text("#passage-title") == expected["title"]
        assert page.inner_text("#passage-section") == expected["section"]
        if "<script>" in expected["text"]:
            assert page.locator("#passage-text script").count() == 0
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
        assert page.evaluate("document.activeElement.dataset.chunkId") == chunk_id

        # The passage with markup in its text is shown as text, never run.
        turn.locator(".sources button.source-link", has_text="Targeted and Cellular").first.click()
        dialog.wait_for(state="visible")
        assert "<script>alert('x')</script>" in page.inner_text("#passage-text")
        assert page.locator("#passage-text script").count() == 0
        page.click("#passage-close")
        assert dialogs == []

        with page.expect_response("**/v1/feedback") as fb:
            turn.get_by_role("button", name="Helpful", exact=True).click()
        assert fb.value.status == 201
        expect(turn.locator(".feedback-status")).to_contain_text("recorded")
        expect(turn.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")

        page.click("#new-conversation")
        assert page.evaluate("document.activeElement.id") == "question"
        abstained = ask(page, "zebrafish migration patterns")
        assert "abstained" in (abstained.get_attribute("class") or "")
        assert "No supported answer" in abstained.locator(".status").inner_text()
        screenshot(page, "page-fake-conversation.png")


def test_patient_panel_shows_field_errors_and_results(fake_server: str) -> None:
    with chromium_page(width=390, height=844) as page:
        page.goto(fake_server + "/")
        page.click("#key-settings summary")
        page.fill("#api-key", KEY)
        page.dispatch_event("#api-key", "change")
        page.fill("#p-cd20_percent", "150")
        page.click("#pathway-button")
        error = page.locator("#patient-error")
        error.wait_for(state="visible")
        assert "cd20_percent" in error.inner_text()
        assert page.get_attribute("#p-cd20_percent", "aria-invalid") == "true"
        assert page.evaluate("document.activeElement.id") == "p-cd20_percent"

        page.fill("#p-cd20_percent", "")
        page.select_option("#p-lineage", "B")
        page.select_option("#p-phase", "relapsed_refractory")
        page.fill("#p-propose", "inotuzumab")
        page.click("#pathway-button")
        page.locator(".pathway-card").wait_for()
        assert page.inner_text("#patient-error") == ""
        therapies = page.locator(".pathway-card .option .therapy").all_inner_texts()
        assert therapies == ["Blinatumomab", "Inotuzumab ozogamicin"]
        assert "on pathway" in page.inner_text(".pathway-card .check .verdict")
        # The same patient can go along with a question; the answer then carries the pathway.
        page.check("#use-patient")
        turn = ask(page, "Is inotuzumab approved for relapsed B-cell ALL?")
        assert turn.locator(".pathway-card .option .therapy").all_inner_texts() == therapies
        # narrow screen: nothing wider than the viewport
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "page-fake-patient-narrow.png")


def test_docs_page_renders_offline(fake_server: str) -> None:
    from assistant.api.routes.web import swagger_assets

    if swagger_assets() is None:
        pytest.skip("swagger-ui-bundle-v2 is not installed: /docs falls back to the CDN build")
    with chromium_page() as page:
        external: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(fake_server) else external.append(r.url))
        page.goto(fake_server + "/docs")
        page.locator(".swagger-ui .opblock-summary-path", has_text="/v1/ask").first.wait_for()
        assert external == []
