"""End to end: the library on the web page. `ally serve` (a real uvicorn on 127.0.0.1) over a store built
from corpus/, driven by headless Debian Chromium: open the Sources view (the documents held, their chunk
counts and the corpus version), ask, check the answer names its corpus version, and copy the answer with
its references as plain text, through the clipboard API and through the execCommand fallback. At 1280
and 390 px wide; screenshots go to /tmp/shots/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ally.settings import Settings

from .browser import REPO, chromium_page, http_json, require_chromium, serving_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "What is the dose of nelarabine?"
SHOTS = Path("/tmp/shots")
CORPUS_TITLES = {entry["title"] for entry in yaml.safe_load((REPO / "corpus" / "sources.yaml").read_text())}

# Runs before the page's own scripts: no asynchronous clipboard, so the page must fall back to a hidden
# textarea and execCommand("copy"); the copy event records what was selected.
NO_CLIPBOARD = """
Object.defineProperty(Navigator.prototype, "clipboard", { get: () => undefined, configurable: true });
window.__copied = [];
document.addEventListener("copy", (event) => {
  const t = event.target;
  const text = t && typeof t.value === "string" ? t.value.slice(t.selectionStart, t.selectionEnd)
                                                : String(document.getSelection());
  window.__copied.push(text);
}, true);
"""


@pytest.fixture(scope="module")
def served(ingested_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    log = tmp_path_factory.mktemp("served-sources") / "uvicorn.log"
    with serving_store(ingested_settings, log) as base:
        yield base


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def no_overflow(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"horizontal overflow: scrollWidth {scroll} > {width}"


def done_answer(stream: str) -> dict[str, Any]:
    """The answer object of the `done` event of a /v1/chat event stream."""
    for block in stream.replace("\r\n", "\n").split("\n\n"):
        lines = block.split("\n")
        if "event: done" in lines:
            data = "\n".join(line[len("data: ") :] for line in lines if line.startswith("data: "))
            return dict(json.loads(data)["answer"])
    raise AssertionError("no done event in the stream:\n" + stream[-2000:])


def plain_text(answer: dict[str, Any]) -> str:
    """The plain text the copy button must give, put together here from the answer's parts: its
    text, what else the sources say (`more`), then "[n] Title, year · section · subsection" lines."""
    refs = []
    for c in answer["citations"]:
        head = c["title"] or c["doc_id"]
        if c.get("year") is not None:
            head += f", {c['year']}"
        refs.append(f"[{c['n']}] " + " · ".join([head, *(p.strip() for p in c.get("section", "").split(" > ") if p)]))
    parts = [str(answer["answer"]).strip()]
    if answer.get("more"):
        parts.append("More from the sources:\n" + "\n".join(answer["more"]))
    if refs:
        parts.append("\n".join(refs))
    return "\n\n".join(parts)


def check_sources_view(page: Any, served: str, width: int) -> None:
    documents: list[dict[str, Any]] = http_json("GET", served + "/v1/documents")
    ready: dict[str, Any] = http_json("GET", served + "/readyz")
    assert len(documents) == 5 and {d["title"] for d in documents} == CORPUS_TITLES
    assert ready["corpus_version"]

    button = page.locator("#sources-button")
    assert button.get_attribute("aria-expanded") == "false"
    assert page.locator("#library").is_hidden()
    with page.expect_response("**/v1/documents") as listed:
        button.click()
    assert listed.value.status == 200
    page.wait_for_selector("#library.loaded")
    assert button.get_attribute("aria-expanded") == "true"
    assert page.inner_text("#corpus-version") == ready["corpus_version"]
    assert page.get_attribute("#library", "data-corpus-version") == ready["corpus_version"]
    total = sum(d["chunks"] for d in documents)
    assert page.inner_text("#library-count") == f"5 ({total} chunks)"

    items = page.locator("#library-list li.doc")
    assert items.count() == 5
    for doc in documents:
        item = page.locator(f'#library-list li.doc[data-doc-id="{doc["doc_id"]}"]')
        assert item.count() == 1, doc["doc_id"]
        assert item.locator(".doc-title").inner_text() == doc["title"]
        assert doc["chunks"] > 0
        assert item.get_attribute("data-chunks") == str(doc["chunks"])
        assert item.locator(".doc-chunks").inner_text() == str(doc["chunks"])
        if doc.get("kind"):
            assert item.locator(".doc-kind").inner_text() == doc["kind"]
        source = ", ".join(str(x) for x in (doc.get("publisher"), doc.get("year")) if x not in (None, ""))
        if source:
            assert item.locator(".doc-source").inner_text() == source
        flagged = bool(doc.get("untrusted"))
        assert item.locator(".doc-flag").count() == (1 if flagged else 0)
        if flagged:
            assert item.locator(".doc-flag").inner_text().startswith("Kept out of answers")
    no_overflow(page, width)
    shot(page, f"sources-{width}.png")

    page.click("#library-close")
    assert page.locator("#library").is_hidden()
    assert button.get_attribute("aria-expanded") == "false"


def ask(page: Any, served: str) -> tuple[Any, dict[str, Any]]:
    page.fill("#question", QUESTION)
    with page.expect_response("**/v1/chat") as chat:
        page.click("#ask-button")
    page.wait_for_selector("article.turn.assistant.done")
    answer = done_answer(chat.value.text())
    turn = page.locator("article.turn.assistant.done").last
    assert not answer["abstained"], answer["answer"]
    assert answer["citations"] and "[1]" in answer["answer"]
    ready: dict[str, Any] = http_json("GET", served + "/readyz")
    assert answer["corpus_version"] == ready["corpus_version"]
    assert turn.get_attribute("data-corpus-version") == answer["corpus_version"]
    assert turn.locator(".answer-meta .corpus-version").inner_text() == answer["corpus_version"]
    return turn, answer


def check_copied(copied: str, answer: dict[str, Any]) -> None:
    assert copied == plain_text(answer) == answer["plain_text"]
    text, _, rest = copied.partition("\n\n")
    refs = rest.rsplit("\n\n", 1)[-1]
    assert text == answer["answer"].strip() and "[1]" in text
    first = answer["citations"][0]
    assert refs.splitlines()[0].startswith(f"[1] {first['title']}")
    assert len(refs.splitlines()) == len(answer["citations"])


def test_sources_view_corpus_version_and_copy(served: str) -> None:
    with chromium_page() as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served)
        page.goto(served + "/")
        check_sources_view(page, served, 1280)

        turn, answer = ask(page, served)
        copy = turn.get_by_role("button", name="Copy the answer with its references as plain text")
        assert copy.get_attribute("data-copy-text") == plain_text(answer)
        assert page.evaluate("(a) => window.ALLy.answerPlainText(a)", answer) == plain_text(answer)
        copy.click()
        turn.locator(".feedback-status").filter(has_text="Copied").wait_for()
        check_copied(page.evaluate("navigator.clipboard.readText()"), answer)
        no_overflow(page, 1280)
        shot(page, "answer-1280.png")

    # 390 px, and no asynchronous clipboard: the textarea + execCommand fallback copies the same text.
    with chromium_page(width=390, height=844) as narrow:
        narrow.add_init_script(NO_CLIPBOARD)
        narrow.goto(served + "/")
        assert narrow.evaluate("navigator.clipboard") is None
        no_overflow(narrow, 390)
        check_sources_view(narrow, served, 390)

        turn, answer = ask(narrow, served)
        turn.get_by_role("button", name="Copy the answer with its references as plain text").click()
        turn.locator(".feedback-status").filter(has_text="Copied").wait_for()
        copied = narrow.evaluate("window.__copied")
        assert len(copied) == 1
        check_copied(copied[0], answer)
        assert narrow.locator("textarea.copy-buffer").count() == 0
        no_overflow(narrow, 390)
        shot(narrow, "answer-390.png")
