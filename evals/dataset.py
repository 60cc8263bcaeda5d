"""The evaluation data sets: typed items and a loader with errors that name the line and the field.

Three JSONL formats (documented in `evals/datasets/README.md`):

- questions (`QuestionItem`): a question, its key facts (each a list of accepted regex alternatives),
  verbatim gold quotes, whether abstention is expected, a category and, for conversations, the
  conversation id and turn number;
- document-gold questions (`DocumentItem`): questions written by others over documents a user
  ingests (the BioASQ / PubMedQA external set in `shared/external-dev/`): the gold documents,
  literal key facts with their accepted variants, an expected yes/no where the source gives one;
  `load_questions` reads either question format (a line with `gold_docs` is a document-gold item);
- pathway cases (`PathwayCase`): a patient record, expected and forbidden options, an optional
  proposed therapy with its expected verdict, and the features expected in `missing`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ally.errors import InputError
from evals.metrics import normalize

Category = Literal[
    "facts",
    "dosing",
    "trials",
    "guidelines",
    "risk",
    "workup",
    "approvals",
    "disagreement",
    "unanswerable",
    "multi-turn",
]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]

Verdict = Literal["on", "off", "conditional", "needs_info"]


class QuestionItem(BaseModel):
    """One question of the question set (one JSONL line)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Unique id of the item.")
    question: str = Field(min_length=1, description="The question, phrased as a clinician would.")
    category: Category
    key_facts: list[list[str]] = Field(
        default_factory=list,
        description="Facts a correct answer states; each is a list of accepted regex alternatives "
        "(Python syntax, matched case-insensitively on the NFKC-normalised answer).",
    )
    gold_quotes: list[str] = Field(
        default_factory=list, description="Verbatim substrings of the cleaned corpus that support the answer."
    )
    expect_abstain: bool = Field(default=False, description="True when the sources do not answer the question.")
    conversation_id: str | None = Field(default=None, description="Items sharing it are turns of one conversation.")
    turn: int | None = Field(default=None, ge=1, description="1-based turn number within the conversation.")
    patient: dict[str, Any] | None = Field(default=None, description="Optional patient record sent with the question.")
    notes: str | None = None

    @field_validator("key_facts")
    @classmethod
    def _regexes_compile(cls, value: list[list[str]]) -> list[list[str]]:
        for i, alternatives in enumerate(value):
            if not alternatives:
                raise ValueError(f"key_facts[{i}] is empty: give at least one regex alternative")
            for alt in alternatives:
                try:
                    re.compile(alt)
                except re.error as exc:
                    raise ValueError(f"key_facts[{i}]: invalid regex {alt!r}: {exc}") from exc
        return value

    @field_validator("gold_quotes")
    @classmethod
    def _quotes_nonempty(cls, value: list[str]) -> list[str]:
        for i, quote in enumerate(value):
            if not quote.strip():
                raise ValueError(f"gold_quotes[{i}] is empty")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> QuestionItem:
        if not self.expect_abstain and not self.key_facts:
            raise ValueError("key_facts: an answerable item (expect_abstain false) needs at least one key fact")
        if not self.expect_abstain and not self.gold_quotes:
            raise ValueError("gold_quotes: an answerable item (expect_abstain false) needs at least one gold quote")
        if self.expect_abstain and self.key_facts:
            raise ValueError("key_facts: an item that expects abstention must not list key facts")
        if (self.conversation_id is None) != (self.turn is None):
            raise ValueError("turn: conversation_id and turn must be given together")
        return self


_HYPHEN = re.compile(r"\s*[-\u2010\u2011\u2013]\s*")


_HYPHENS = "-\u2010\u2011\u2013"


def _unhyphenated(part: str) -> str:
    """A regex for a hyphen-free stretch of a key fact that also matches it hyphenated between two
    letters ("antirheumatic" matches "anti-rheumatic")."""
    out = []
    for i, ch in enumerate(part):
        if i and ch.isalpha() and part[i - 1].isalpha():
            out.append(f"[{_HYPHENS}]?")
        out.append(re.escape(ch))
    return "".join(out)


def literal_pattern(variant: str) -> str:
    """A regex matching `variant` literally (after `normalize`) but for hyphens: a hyphen of the fact
    matches a hyphen, a space or nothing, and the text may hyphenate a word the fact writes whole.
    Authors write "pre-sacral" and "presacral", "poly- and dermatomyositis" and "poly-and
    dermatomyositis", "antirheumatic" and "anti-rheumatic" for one term."""
    return rf"[{_HYPHENS}\s]*".join(_unhyphenated(part) for part in _HYPHEN.split(normalize(variant)))


class DocumentItem(BaseModel):
    """One question whose gold is a set of documents (a line of an external question set).

    Fields the harness does not use (provenance, selection terms, ideal answers) are ignored, so a
    set built by someone else loads as it is.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, description="Unique id of the item.")
    question: str = Field(min_length=1, description="The question, as its authors wrote it.")
    gold_docs: list[str] = Field(min_length=1, description="doc_ids (file stems) that answer the question.")
    key_fact_alts: list[list[str]] = Field(
        default_factory=list,
        description="Facts a correct answer states; each a list of accepted literal variants (matched verbatim "
        "after NFKC, whitespace and case normalisation; a hyphen also matches a space or nothing).",
    )
    expected_yesno: Literal["yes", "no", "maybe"] | None = Field(default=None, description="Gold yes/no/maybe.")
    qtype: str = Field(default="question", description="Question type (factoid, list, summary, yesno, ...).")
    source: str = Field(default="external", description="Where the question comes from (bioasq, pubmedqa, ...).")
    topic: str | None = Field(default=None, description="Topic label of the set (leukemia, other-heme, general).")

    @field_validator("key_fact_alts")
    @classmethod
    def _variants_nonempty(cls, value: list[list[str]]) -> list[list[str]]:
        for i, variants in enumerate(value):
            if not [v for v in variants if v.strip()]:
                raise ValueError(f"key_fact_alts[{i}] is empty: give at least one variant")
        return value

    @property
    def category(self) -> str:
        return f"{self.source}-{self.qtype}"

    @property
    def key_facts(self) -> list[list[str]]:
        """The key facts as the harness's regex alternatives (each variant matched literally, a hyphen
        in it matching a hyphen, a space or nothing: "pre-sacral" is "presacral")."""
        return [[literal_pattern(v) for v in variants if v.strip()] for variants in self.key_fact_alts]

    # The document-gold format has no conversations, patients or expected refusals.
    expect_abstain: bool = False
    conversation_id: None = None
    patient: None = None

    def off_field(self) -> QuestionItem:
        """This question asked of a store whose corpus is about something else: it must be refused."""
        return QuestionItem(
            id=self.id,
            question=self.question,
            category="unanswerable",
            expect_abstain=True,
            notes=f"off-field: a {self.topic or 'general'} question ({self.source}) asked of another corpus",
        )


EvalItem = QuestionItem | DocumentItem


class PathwayCase(BaseModel):
    """One pathway case (one JSONL line)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    patient: dict[str, Any]
    propose: str | None = Field(default=None, description="Therapy proposed for the on/off-pathway check.")
    expected_options: list[str] | None = Field(
        default=None, description="The exact option set expected (null: not checked for this case)."
    )
    forbidden_options: list[str] = Field(default_factory=list, description="Therapies that must not be offered.")
    expected_verdict: Verdict | None = None
    expected_missing: list[str] | None = Field(
        default=None, description="Features expected in `missing` (null: not checked)."
    )
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PathwayCase:
        if self.expected_verdict is not None and not self.propose:
            raise ValueError("propose: expected_verdict needs a proposed therapy")
        if (
            self.expected_options is None
            and not self.forbidden_options
            and self.expected_verdict is None
            and self.expected_missing is None
        ):
            raise ValueError(
                "expected_options: the case checks nothing; give options, forbidden options, a verdict "
                "or expected missing features"
            )
        return self


M = TypeVar("M", bound=BaseModel)


def _describe(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(item)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    return field, msg


def _load(path: Path, model: type[M]) -> list[M]:
    if not path.is_file():
        raise InputError(f"dataset {path}: no such file", field="dataset")
    items: list[M] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}:{lineno}: invalid JSON: {exc.msg} at column {exc.colno}", field="dataset"
                ) from exc
            if not isinstance(raw, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object per line", field="dataset")
            try:
                item = model.model_validate(raw)
            except ValidationError as exc:
                field, msg = _describe(exc)
                raise InputError(f"{path}:{lineno}: field '{field}': {msg}", field=field) from exc
            item_id = str(getattr(item, "id"))  # noqa: B009
            if item_id in seen:
                raise InputError(
                    f"{path}:{lineno}: field 'id': duplicate id {item_id!r} (first on line {seen[item_id]})",
                    field="id",
                )
            seen[item_id] = lineno
            items.append(item)
    if not items:
        raise InputError(f"dataset {path}: no items", field="dataset")
    return items


def _is_document_gold(path: Path) -> bool:
    """Whether the set's first item names gold documents (the document-gold format)."""
    if not path.is_file():
        return False
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    return False  # _load reports the line
                return isinstance(first, dict) and "gold_docs" in first
    return False


def load_questions(path: Path) -> list[EvalItem]:
    """Load and validate a question set of either format; conversation turns must be numbered 1, 2,
    ... in file order."""
    if _is_document_gold(path):
        return list(_load(path, DocumentItem))
    items = _load(path, QuestionItem)
    turns: dict[str, list[int]] = defaultdict(list)
    for item in items:
        if item.conversation_id is not None and item.turn is not None:
            turns[item.conversation_id].append(item.turn)
    for cid, numbers in turns.items():
        if numbers != list(range(1, len(numbers) + 1)):
            raise InputError(
                f"{path}: field 'turn': conversation {cid!r} has turns {numbers}; "
                f"expected 1..{len(numbers)} in file order",
                field="turn",
            )
    return list(items)


def off_field_items(path: Path, items: list[EvalItem], topics: tuple[str, ...]) -> list[EvalItem]:
    """The document-gold items of `topics` (their `topic` field), each expecting a refusal: the
    questions of one field asked of a store built from another field's documents."""
    if any(not isinstance(i, DocumentItem) for i in items):
        raise InputError(
            f"{path}: --off-field needs a document-gold question set (lines with 'gold_docs' and 'topic'); "
            "this one is in the built-in format, whose items already say whether they must be refused",
            field="topic",
        )
    chosen = [i.off_field() for i in items if isinstance(i, DocumentItem) and i.topic in topics]
    if not chosen:
        found = sorted({str(i.topic) for i in items if isinstance(i, DocumentItem)})
        raise InputError(
            f"{path}: no item has topic {' or '.join(map(repr, topics))}; the set's topics are: {', '.join(found)}",
            field="topic",
        )
    return list(chosen)


def load_pathway_cases(path: Path) -> list[PathwayCase]:
    return _load(path, PathwayCase)


DATASETS_DIR = Path(__file__).resolve().parent / "datasets"


def default_questions_path() -> Path:
    return DATASETS_DIR / "questions.jsonl"


def default_pathway_path() -> Path:
    return DATASETS_DIR / "pathway_cases.jsonl"
