"""The web page's pathway panel shows the what-if branches (headless Chromium; the pathway
response is the real evaluator's result, served through a routed request)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.pathway import evaluate
from assistant.resources import load_pathway_book

from .browser import chromium_page, screenshot, serving_fake

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KEY = "page-branches-key-8c1d2e"
T_CR = {"age": 30, "lineage": "T", "phase": "post_induction", "response": "CR", "mrd": "negative"}


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving_fake(KEY, tmp_path_factory.mktemp("fake-server") / "server.log") as base:
        yield base


def _result() -> dict[str, Any]:
    data = evaluate(T_CR, load_pathway_book()).model_dump(mode="json")
    assert len(data["branches"]) == 2
    first = data["branches"][0]
    first["node"] = "<b>high-risk</b> node"  # server text is shown as text, never as HTML
    first["options"][0]["citations"][0]["chunk_id"] = "doc-0001"
    first["missing"] = ["kmt2a"]
    return data


def test_pathway_panel_lists_one_line_per_branch(fake_server: str) -> None:
    data = _result()
    with chromium_page() as page:
        page.route(
            "**/v1/pathway",
            lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(data)),
        )
        page.goto(fake_server + "/")
        page.click("#key-settings summary")
        page.fill("#api-key", KEY)
        page.dispatch_event("#api-key", "change")
        page.select_option("#p-lineage", "T")
        page.click("#pathway-button")
        page.locator(".pathway-card").wait_for()
        lines = page.locator(".pathway-card .branches .branch").all_inner_texts()
        assert len(lines) == len(data["branches"])
        for line, branch in zip(lines, data["branches"], strict=True):
            assert line.startswith(f"If {branch['label']}: {branch['node']} — "), line
            assert all(o["therapy"] in line for o in branch["options"])
            assert "[SchistoSite pathway" in line
        assert lines[0].endswith("(still needs: kmt2a)")
        assert page.locator(".pathway-card .branches b").count() == 0
        screenshot(page, "page-pathway-branches.png")
        button = page.locator(".pathway-card .branches .branch").first.locator("button.source-link")
        assert button.get_attribute("data-chunk-id") == "doc-0001"
