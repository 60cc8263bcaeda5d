"""End to end: `ally serve` (a real uvicorn on 127.0.0.1) over a store built from corpus/, driven by
headless Debian Chromium: ask, watch the answer stream in, open a citation and check it is the cited
passage, fill the patient panel and check the options. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ally.settings import Settings

from .browser import chromium_page, http_json, require_chromium, screenshot, serving_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "Which therapies are approved for relapsed or refractory B-ALL?"


@pytest.fixture(scope="module")
def served(ingested_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()  # before serving: a skipped test sends nothing the teardown could look for
    log = tmp_path_factory.mktemp("served") / "uvicorn.log"
    with serving_store(ingested_settings, log) as base:
        yield base
    access = log.read_text()
    assert "POST /v1/chat 200" in access and QUESTION not in access


def test_ask_stream_cite_and_patient_panel(served: str) -> None:
    with chromium_page() as page:
        page.goto(served + "/")
        assert page.title().startswith("ALLy")

        # Ask with the keyboard; the answer arrives as a server-sent event stream.
        page.focus("#question")
        page.keyboard.type(QUESTION)
        with page.expect_response("**/v1/chat") as chat:
            page.keyboard.press("Enter")
        assert chat.value.headers["content-type"].startswith("text/event-stream")
        turn = page.locator("article.turn.assistant").last
        page.wait_for_selector("article.turn.assistant.done")
        assert "abstained" not in (turn.get_attribute("class") or "")
        answer_id = turn.get_attribute("data-answer-id")
        assert answer_id
        text = turn.locator(".answer p").first.inner_text()
        assert "[1]" in text
        screenshot(page, "e2e-answer.png")

        # Open the first citation: the dialog must show exactly the cited passage.
        cite = turn.locator(".answer p button.cite").first
        chunk_id = cite.get_attribute("data-chunk-id")
        assert chunk_id
        cite.click()
        dialog = page.locator("#passage-dialog")
        dialog.wait_for(state="visible")
        passage: dict[str, Any] = http_json("GET", f"{served}/v1/passages/{chunk_id}")
        assert dialog.get_attribute("data-chunk-id") == chunk_id
        assert page.inner_text("#passage-chunk-id") == chunk_id
        assert page.inner_text("#passage-text") == passage["text"]
        assert page.inner_text("#passage-title") == passage["title"]
        assert page.inner_text("#passage-section") == (passage["section"] or "(top of the document)")
        cited_title = turn.locator(f'.sources button.source-link[data-chunk-id="{chunk_id}"]').first.inner_text()
        assert passage["title"] in cited_title
        screenshot(page, "e2e-passage.png")
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")

        # Feedback reaches the store.
        with page.expect_response("**/v1/feedback") as fb:
            turn.get_by_role("button", name="Not helpful").click()
        assert fb.value.status == 201

        # The patient panel: the options shown are the pathway's, with citations, and the check.
        patient = {"age": 45, "lineage": "B", "ph": "negative", "phase": "relapsed_refractory", "fit": True}
        page.fill("#p-age", "45")
        page.select_option("#p-lineage", "B")
        page.select_option("#p-ph", "negative")
        page.select_option("#p-phase", "relapsed_refractory")
        page.select_option("#p-fit", "true")
        page.fill("#p-propose", "inotuzumab ozogamicin")
        page.click("#pathway-button")
        card = page.locator("#pathway-result .pathway-card")
        card.wait_for()
        expected = http_json("POST", f"{served}/v1/pathway", {"patient": patient, "propose": "inotuzumab ozogamicin"})
        assert expected["options"], expected
        assert card.locator(".node").inner_text() == expected["node"]
        shown = card.locator(".option .therapy").all_inner_texts()
        assert shown == [o["therapy"] for o in expected["options"]]
        assert card.locator(".option .pathway-cites li").count() >= len(expected["options"])
        verdict = card.locator(".check .verdict").inner_text()
        labels = {
            "on": "on pathway",
            "off": "off pathway",
            "conditional": "conditional",
            "needs_info": "needs more information",
        }
        assert verdict == "Verdict: " + labels[expected["check"]["verdict"]]
        option_cite = card.locator(".option button.source-link").first
        if option_cite.count():
            option_chunk = option_cite.get_attribute("data-chunk-id")
            option_cite.click()
            dialog.wait_for(state="visible")
            assert dialog.get_attribute("data-chunk-id") == option_chunk
            page.keyboard.press("Escape")
        screenshot(page, "e2e-patient-panel.png")

    with chromium_page(width=390, height=844) as narrow:
        narrow.goto(served + "/")
        narrow.fill("#question", QUESTION)
        narrow.click("#ask-button")
        narrow.wait_for_selector("article.turn.assistant.done")
        assert narrow.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(narrow, "e2e-narrow.png")
