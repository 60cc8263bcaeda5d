"""Block Kit rendering of ALLy's answers and pathway results for Slack (pure: no I/O, no Slack SDK).

Everything that comes from a source, a question or the core is escaped (`&`, `<`, `>`), and every
mrkdwn text object is `verbatim`, so a passage that contains `<!channel>` or a link can never ping,
mention or unfurl anything. Slack's limits are respected here, in one place: at most 3,000
characters per section text, 10 elements per context block, 50 blocks per message, and a bounded
plain-text fallback (`text`) for notifications and clients that cannot show blocks.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field

from ally.schema import (
    Answer,
    Citation,
    PathwayBranch,
    PathwayCitation,
    PathwayOption,
    PathwayResult,
    RetrievedPassage,
    TherapyCheck,
)

MAX_SECTION_CHARS = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_BLOCKS = 50
MAX_CONTEXT_ELEMENT_CHARS = 500
MAX_FALLBACK_CHARS = 3500
MAX_BUTTON_VALUE_CHARS = 2000
QUOTE_CHARS = 160

ACTION_HELPFUL = "ally_feedback_helpful"
ACTION_NOT_HELPFUL = "ally_feedback_not_helpful"
ACTION_SHARE = "ally_share"
FEEDBACK_ACTIONS = (ACTION_HELPFUL, ACTION_NOT_HELPFUL)

DISCLAIMER = "ALLy answers only from its sources. Check the cited passages before any clinical decision."

Block = dict[str, Any]

_VERDICT_LABEL: dict[str, str] = {
    "on": ":white_check_mark: On pathway",
    "off": ":no_entry: Off pathway",
    "conditional": ":warning: Conditional",
    "needs_info": ":grey_question: Needs more information",
}


class SlackMessage(BaseModel):
    """One Slack message: Block Kit `blocks` plus the plain-text fallback `text`."""

    text: str
    blocks: list[Block] = Field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


# --- text helpers ------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control sequences (`&` first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, on a word boundary where one is near, with `…`."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    # never leave half an escape sequence such as "&am"
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def split_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Split escaped text into pieces of at most `limit` characters, at paragraph, sentence or word
    boundaries, never inside an escape sequence."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", "; ", " "):
            pos = window.rfind(sep)
            if pos > limit // 3:
                cut = pos + len(sep)
                break
        if cut == -1:
            cut = limit
        amp = window.rfind("&", 0, cut)
        if amp != -1 and ";" not in window[amp:cut]:
            cut = amp if amp > 0 else cut
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def passage_url(public_base_url: str | None, chunk_id: str | None) -> str | None:
    """Link to a passage on ALLy's web page, or None when no public base URL is configured."""
    if not public_base_url or not chunk_id:
        return None
    return f"{public_base_url.rstrip('/')}/#passage={quote(chunk_id, safe='')}"


def _link(url: str | None, label: str) -> str:
    """A mrkdwn link with an escaped label (`label` is raw text); plain escaped text without a URL."""
    safe_label = escape(label).replace("|", "¦")
    if not url:
        return safe_label
    return f"<{escape(url)}|{safe_label}>"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str) -> Block:
    """A section block; `text` must already be escaped mrkdwn of at most 3,000 characters."""
    return {"type": "section", "text": _mrkdwn(truncate(text, MAX_SECTION_CHARS))}


def sections(text: str) -> list[Block]:
    """Escaped mrkdwn split into as many section blocks as Slack's 3,000-character limit needs."""
    return [section(piece) for piece in split_text(text)]


def context_blocks(elements: list[str]) -> list[Block]:
    """Escaped mrkdwn elements grouped into context blocks of at most 10 elements each."""
    blocks: list[Block] = []
    for start in range(0, len(elements), MAX_CONTEXT_ELEMENTS):
        group = elements[start : start + MAX_CONTEXT_ELEMENTS]
        blocks.append({"type": "context", "elements": [_mrkdwn(truncate(e, MAX_CONTEXT_ELEMENT_CHARS)) for e in group]})
    return blocks


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _quote(text: str) -> str:
    return "“" + escape(truncate(_one_line(text), QUOTE_CHARS)) + "”"


# --- actions -------------------------------------------------------------------------------------


def actions_block(feedback_id: str | None, share_key: str | None = None) -> Block | None:
    """Feedback buttons (helpful / not helpful, value = the answer id) and, for a private answer,
    a "Share in channel" button. None when there is nothing to click."""
    elements: list[dict[str, Any]] = []
    if share_key:
        elements.append(
            {
                "type": "button",
                "action_id": ACTION_SHARE,
                "text": _plain("Share in channel"),
                "style": "primary",
                "value": share_key[:MAX_BUTTON_VALUE_CHARS],
            }
        )
    if feedback_id:
        value = feedback_id[:MAX_BUTTON_VALUE_CHARS]
        elements.append(
            {
                "type": "button",
                "action_id": ACTION_HELPFUL,
                "text": _plain(":thumbsup: Helpful"),
                "value": value,
            }
        )
        elements.append(
            {
                "type": "button",
                "action_id": ACTION_NOT_HELPFUL,
                "text": _plain(":thumbsdown: Not helpful"),
                "value": value,
            }
        )
    if not elements:
        return None
    return {"type": "actions", "block_id": "ally_actions", "elements": elements}


def without_share_button(blocks: list[Block]) -> list[Block]:
    """The same blocks minus the "Share in channel" button (for the copy posted to the channel)."""
    out: list[Block] = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements", []) if e.get("action_id") != ACTION_SHARE]
            if not elements:
                continue
            block = {**block, "elements": elements}
        out.append(block)
    return out


# --- assembly under the 50-block limit -------------------------------------------------------------


def _assemble(head: list[Block], body: list[Block], tail: list[Block]) -> list[Block]:
    """Head and tail are kept; body blocks are dropped from the end (with a note) to fit 50 blocks."""
    room = MAX_BLOCKS - len(head) - len(tail)
    if len(body) <= room:
        return head + body + tail
    kept = body[: max(room - 1, 0)]
    dropped = len(body) - len(kept)
    note = context_blocks([f"_{dropped} more block(s) not shown (Slack's 50-block limit)._"])
    return head + kept + note + tail


def _fallback(parts: list[str]) -> str:
    return truncate("\n".join(p for p in parts if p), MAX_FALLBACK_CHARS)


# --- answers --------------------------------------------------------------------------------------


def _citation_element(c: Citation, base: str | None) -> str:
    """`[n]` and the citation's label (the one every transport shows), its title linked to the passage."""
    head, _, path = c.label.partition(" · ")
    text = f"*[{c.n}]* {_link(passage_url(base, c.chunk_id), head)}"
    if path:
        text += f" · {escape(_one_line(path))}"
    return text


def _related_element(p: RetrievedPassage, base: str | None) -> str:
    text = _link(passage_url(base, p.chunk_id), p.title or p.doc_id)
    if p.section:
        text += f" › {escape(_one_line(p.section))}"
    return text


def render_answer(
    answer: Answer,
    *,
    public_base_url: str | None = None,
    feedback_id: str | None = None,
    share_key: str | None = None,
    heading: str | None = None,
) -> SlackMessage:
    """Render an Answer: the prose in sections, citations in context blocks (title › section path,
    linked to the passage when a public base URL is set), abstention said plainly, an embedded
    pathway result if any, and the feedback (and optional share) buttons.

    `feedback_id` defaults to the answer's `answer_id`; `heading` is raw text shown first (escaped).
    """
    head: list[Block] = []
    if heading:
        head.append({"type": "context", "elements": [_mrkdwn(escape(truncate(_one_line(heading), 300)))]})

    body: list[Block] = []
    prose = escape(answer.answer.strip()) or "_(no answer text)_"
    fallback: list[str] = []
    if answer.abstained:
        body.append(section(":warning: *Not answered: the sources do not support an answer to this question.*"))
        body.extend(sections(prose))
        fallback.append("Not answered: the sources do not support an answer. " + escape(answer.answer.strip()))
        related = [_related_element(p, public_base_url) for p in answer.related]
        if related:
            body.append(section("*Closest passages* (not an answer):"))
            body.extend(context_blocks(related))
        if answer.missing:
            body.extend(context_blocks(["_Not covered by the sources:_ " + escape(", ".join(answer.missing))]))
    else:
        body.extend(sections(prose))
        fallback.append(escape(answer.answer.strip()))

    if answer.more and not answer.abstained:  # beyond the length budget: what else the sources say
        body.append(section("*More from the sources*"))
        body.extend(context_blocks([escape(line) for line in answer.more]))
    if answer.citations and not answer.abstained:
        elements = [_citation_element(c, public_base_url) for c in answer.citations]
        body.append(section("*Sources*"))
        body.extend(context_blocks(elements))
        fallback.append("Sources: " + "; ".join(f"[{c.n}] {escape(c.label)}" for c in answer.citations))
    elif answer.citations:
        elements = [_citation_element(c, public_base_url) for c in answer.citations]
        body.extend(context_blocks(elements))

    if answer.pathway is not None:
        body.append({"type": "divider"})
        body.extend(_pathway_body(answer.pathway, public_base_url))
        if answer.pathway.node:
            fallback.append(f"Pathway: {escape(answer.pathway.node)}")

    tail: list[Block] = [{"type": "context", "elements": [_mrkdwn(escape(DISCLAIMER))]}]
    buttons = actions_block(feedback_id if feedback_id is not None else answer.answer_id or None, share_key)
    if buttons:
        tail.append(buttons)
    return SlackMessage(text=_fallback(fallback), blocks=_assemble(head, body, tail))


# --- pathway ---------------------------------------------------------------------------------------


def _pathway_citations(citations: list[PathwayCitation], base: str | None) -> list[str]:
    out = []
    for c in citations:
        where = c.source or c.doc_id
        link = _link(passage_url(base, c.chunk_id), where)
        out.append(f"{_quote(c.text)} — {link}")
    return out


def _value(value: Any) -> str:
    """A patient value as typed in `/ally pathway` (70 not 70.0, false not False)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _option_blocks(i: int, option: PathwayOption, base: str | None) -> list[Block]:
    """One pathway option: therapy, level, detail and conditions, then its quotes."""
    line = f"*{i}. {escape(option.therapy)}*"
    if option.level:
        line += f" ({escape(option.level)})"
    if option.detail:
        line += f"\n{escape(option.detail)}"
    if option.conditions:
        line += "\n_Conditions:_ " + escape("; ".join(option.conditions))
    blocks = sections(line)
    cites = _pathway_citations(option.citations, base)
    if cites:
        blocks.extend(context_blocks(cites))
    return blocks


def _check_blocks(check: TherapyCheck, base: str | None) -> list[Block]:
    """The verdict on a proposed therapy: label, reason, what is needed, the alternatives, quotes."""
    label = _VERDICT_LABEL.get(check.verdict, escape(check.verdict))
    text = f"*Proposed: {escape(check.therapy)}* — {label}\n{escape(check.reason)}"
    if check.missing:
        text += "\n_Needed:_ " + escape(", ".join(check.missing))
    if check.alternatives:
        text += "\n_On-pathway options:_ " + escape("; ".join(check.alternatives))
    blocks = sections(text)
    cites = _pathway_citations(check.citations, base)
    if cites:
        blocks.extend(context_blocks(cites))
    return blocks


def _branch_line(branch: PathwayBranch, base: str | None) -> str:
    """One what-if branch: 'If high_risk is yes: <node> — <options> [citations]' (escaped mrkdwn)."""
    when = branch.label or f"{branch.field} is {_value(branch.value)}"
    options = "; ".join(o.therapy for o in branch.options) or "no options listed"
    cites = dict.fromkeys(
        _link(passage_url(base, c.chunk_id), c.source or c.doc_id) for o in branch.options for c in o.citations
    )
    line = f"• *If {escape(when)}:* {escape(branch.node or 'no node reached')} — {escape(options)}"
    if cites:
        line += f" [{', '.join(cites)}]"
    if branch.missing:
        line += " _(still needs: " + escape(", ".join(branch.missing)) + ")_"
    return line


def _branch_blocks(result: PathwayResult, base: str | None) -> list[Block]:
    if not result.branches:
        return []
    lines = [_branch_line(b, base) for b in result.branches]
    return sections(":twisted_rightwards_arrows: *What each answer would lead to:*\n" + "\n".join(lines))


def _pathway_body(result: PathwayResult, base: str | None) -> list[Block]:
    blocks: list[Block] = []
    node = escape(result.node) if result.node else "_no pathway node reached_"
    blocks.append(section(f"*Pathway:* {node}"))
    if result.patient:
        shown = ", ".join(f"{k}={_value(v)}" for k, v in result.patient.items())
        blocks.extend(context_blocks(["_Patient as read:_ " + escape(shown)]))
    if result.missing:
        blocks.append(
            section(
                ":grey_question: *Needed to decide, not given:* "
                + escape(", ".join(result.missing))
                + "\n_ALLy does not guess missing facts._"
            )
        )
    for i, option in enumerate(result.options, start=1):
        blocks.extend(_option_blocks(i, option, base))
    if not result.options and not result.missing:
        blocks.append(section("_The sources give no option at this node._"))
    blocks.extend(_branch_blocks(result, base))
    for note in result.notes:
        blocks.extend(context_blocks([":information_source: " + escape(note)]))
    if result.check is not None:
        blocks.extend(_check_blocks(result.check, base))
    return blocks


def _pathway_fallback(result: PathwayResult) -> list[str]:
    parts = [f"Pathway: {escape(result.node or 'no node reached')}"]
    if result.missing:
        parts.append("Needed: " + escape(", ".join(result.missing)))
    if result.options:
        parts.append("Options: " + escape("; ".join(o.therapy for o in result.options)))
    if result.check is not None:
        parts.append(f"Proposed {escape(result.check.therapy)}: {result.check.verdict}")
    return parts


def render_pathway(
    result: PathwayResult,
    *,
    public_base_url: str | None = None,
    feedback_id: str | None = None,
    share_key: str | None = None,
    heading: str | None = None,
) -> SlackMessage:
    """Render a PathwayResult: node, missing facts, options with their quotes, what each answer to a
    missing fact would lead to, notes and the verdict on a proposed therapy, each with its citations; plus feedback (and optional share) buttons."""
    head: list[Block] = []
    if heading:
        head.append({"type": "context", "elements": [_mrkdwn(escape(truncate(_one_line(heading), 300)))]})
    tail: list[Block] = [{"type": "context", "elements": [_mrkdwn(escape(DISCLAIMER))]}]
    buttons = actions_block(feedback_id, share_key)
    if buttons:
        tail.append(buttons)
    return SlackMessage(
        text=_fallback(_pathway_fallback(result)),
        blocks=_assemble(head, _pathway_body(result, public_base_url), tail),
    )


NoticeKind = Literal["info", "error", "limit"]
_NOTICE_ICON: dict[str, str] = {"info": ":information_source:", "error": ":x:", "limit": ":hourglass:"}


def render_notice(message: str, kind: NoticeKind = "info") -> SlackMessage:
    """A short message from ALLy itself (help, an input error, a rate-limit note), escaped."""
    text = escape(message)
    return SlackMessage(text=truncate(text, MAX_FALLBACK_CHARS), blocks=sections(f"{_NOTICE_ICON[kind]} {text}"))
