"""Typed records of ALLy's outside interfaces (see shared/spec/contract.md).

The patient record, the answer object, the pathway result and the ingest report are defined here
once and used by every transport. Field names, types and meanings follow the contract exactly;
extra fields are additions, never renames.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from ally.errors import InputError

# Between the parts of a section path ("Treatment > Ph+ B-ALL > MRD+"); `ally.chunks` uses the same.
PATH_SEP = " > "


class Patient(BaseModel):
    """The contract's patient record. Every field is optional; unknown is never read as false."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age: float | None = Field(default=None, ge=0, le=120, description="Age in years.")
    lineage: Literal["B", "T"] | None = Field(default=None, description='"B" or "T".')
    ph: Literal["positive", "negative", "like"] | None = Field(
        default=None, description='Philadelphia chromosome: "positive", "negative" or "like" (B-ALL only).'
    )
    phase: Literal["diagnosis", "post_induction", "relapsed_refractory"] | None = Field(
        default=None, description="Phase of disease."
    )
    response: Literal["CR", "no_CR"] | None = Field(default=None, description="Response after induction.")
    mrd: Literal["positive", "negative"] | None = Field(default=None, description="Measurable residual disease.")
    fit: bool | None = Field(default=None, description="True = no significant comorbidities and not frail.")
    kmt2a: bool | None = Field(default=None, description="KMT2A (MLL) rearranged.")
    cd20_percent: float | None = Field(default=None, ge=0, le=100, description="CD20 expression on blasts, 0-100.")
    t315i: bool | None = Field(default=None, description="ABL1 T315I mutation.")
    high_risk: bool | None = Field(default=None, description="High-risk features present.")
    prior_regimens: int | None = Field(default=None, ge=0, description="Number of earlier treatment regimens.")
    asparaginase_hypersensitivity: bool | None = Field(
        default=None, description="Hypersensitivity to E. coli-derived asparaginase."
    )

    def known(self) -> dict[str, Any]:
        """The fields that are set, for display and normalised output."""
        return self.model_dump(exclude_none=True)


def _describe_validation(exc: ValidationError, what: str) -> InputError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or what
    kind = first["type"]
    if kind == "extra_forbidden":
        message = f"{what}: unknown field '{field}'"
    else:
        message = f"{what}: field '{field}': {first['msg']}"
    if len(exc.errors()) > 1:
        others = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[1:])
        message += f" (also: {others})"
    return InputError(message, field=field)


def parse_patient(data: Any) -> Patient:
    """Validate a patient record from JSON-like data, raising InputError that names the field."""
    if data is None:
        return Patient()
    if not isinstance(data, dict):
        raise InputError('patient: expected a JSON object such as {"age": 70, "lineage": "B"}', field="patient")
    try:
        return Patient.model_validate(data)
    except ValidationError as exc:
        raise _describe_validation(exc, "patient") from exc


# --- pathway -------------------------------------------------------------------------------------


class PathwayCitation(BaseModel):
    doc_id: str
    chunk_id: str | None = Field(default=None, description="Stored passage holding the quote, when resolved.")
    text: str = Field(description="Verbatim quote from the source that names the therapy or rule.")
    source: str | None = Field(default=None, description="Which guideline or label the quote belongs to.")


class PathwayOption(BaseModel):
    id: str | None = Field(default=None, description="Stable option id in the pathway data (node#option).")
    therapy: str
    detail: str = ""
    level: str | None = Field(default=None, description="Recommendation level where the source gives one.")
    source: str | None = Field(default=None, description="The source this option comes from.")
    conditions: list[str] = Field(default_factory=list, description="Conditions attached to the option.")
    concepts: list[str] = Field(
        default_factory=list, description="Vocabulary concept ids the option covers (for matching therapies)."
    )
    citations: list[PathwayCitation] = Field(default_factory=list)


class TherapyCheck(BaseModel):
    therapy: str
    verdict: Literal["on", "off", "conditional", "needs_info"]
    reason: str
    citations: list[PathwayCitation] = Field(default_factory=list)
    alternatives: list[str] = Field(default_factory=list, description="On-pathway options for this patient.")
    missing: list[str] = Field(default_factory=list)


class PathwayBranch(BaseModel):
    """What one answer to a missing field leads to: the result `evaluate` gives with that field set."""

    field: str = Field(description="The missing patient field this branch sets, e.g. 'high_risk'.")
    value: bool | int | float | str = Field(
        description="The value the field is set to (for a numeric field, one value of the range in `label`)."
    )
    label: str = Field(
        default="",
        description="The answer in words, e.g. 'high_risk is yes' or 'cd20_percent ≥ 20' (the range of values "
        "that lead to this result).",
    )
    node: str | None = Field(default=None, description="Readable path of the node reached with the field set.")
    node_id: str | None = Field(default=None, description="Id of the pathway node reached with the field set.")
    needs_info: bool = Field(
        default=False, description="True when, with the field set, the branch below `node` still depends on `missing`."
    )
    options: list[PathwayOption] = Field(
        default_factory=list, description="On-pathway options with their citations, as `evaluate` gives them."
    )
    conditional: list[PathwayOption] = Field(
        default_factory=list, description="Options that still depend on missing fields with this field set."
    )
    missing: list[str] = Field(default_factory=list, description="Fields still missing with this field set.")


class PathwayResult(BaseModel):
    id: Any = None
    patient: dict[str, Any] = Field(default_factory=dict)
    node: str | None = Field(default=None, description="Readable path of the node reached.")
    node_id: str | None = Field(default=None, description="Id of the pathway node reached.")
    needs_info: bool = Field(
        default=False, description="True when the branch below `node` depends on fields listed in `missing`."
    )
    options: list[PathwayOption] = Field(default_factory=list)
    conditional: list[PathwayOption] = Field(
        default_factory=list, description="Options at this node that depend on missing fields."
    )
    missing: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Source gaps resolved on the way, said plainly.")
    check: TherapyCheck | None = None
    branches: list[PathwayBranch] = Field(
        default_factory=list,
        description="Where `missing` is not empty: one entry per value of a missing field that changes the "
        "result (node or options), each as `evaluate` gives it with that field set.",
    )


# --- answers -------------------------------------------------------------------------------------


class Citation(BaseModel):
    n: int
    doc_id: str
    title: str
    chunk_id: str
    text: str
    score: float = 0.0
    section: str = ""
    year: int | None = None
    population_note: str | None = Field(
        default=None, description="Set when the passage concerns another population than the question."
    )

    @computed_field(  # type: ignore[prop-decorator]
        description="How every transport names the source: 'Title, year · section · subsection' (the section "
        "path goes with the citation, never into the answer's sentences)."
    )
    @property
    def label(self) -> str:
        head = self.title or self.doc_id
        if self.year:
            head += f", {self.year}"
        return " · ".join([head, *(p.strip() for p in self.section.split(PATH_SEP) if p.strip())])


class RetrievedPassage(BaseModel):
    doc_id: str
    chunk_id: str
    text: str
    score: float = 0.0
    section: str = ""
    title: str = ""


class Answer(BaseModel):
    id: Any = None
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[RetrievedPassage] = Field(default_factory=list)
    pathway: PathwayResult | None = None
    answer_id: str = Field(default="", description="Unique id of this answer (for feedback).")
    conversation_id: str | None = None
    corpus_version: str = Field(default="", description="Hash of the ingested documents and settings.")
    related: list[RetrievedPassage] = Field(default_factory=list, description="Closest passages when ALLy abstained.")
    missing: list[str] = Field(default_factory=list, description="What the sources did not cover.")
    more: list[str] = Field(
        default_factory=list,
        description="Further cited sentences beyond the answer's length budget (each with its markers, numbered "
        "with the answer's citations): what else the sources say, shown behind the answer.",
    )

    @computed_field(  # type: ignore[prop-decorator]
        description="The answer as plain text with its numbered references: what every transport copies or "
        "falls back to."
    )
    @property
    def plain_text(self) -> str:
        parts = [self.answer.strip()]
        if self.more:
            parts.append("More from the sources:\n" + "\n".join(self.more))
        if self.citations and not self.abstained:
            parts.append("\n".join(f"[{c.n}] {c.label}" for c in self.citations))
        return "\n\n".join(p for p in parts if p)


class AskRequest(BaseModel):
    """One question, as a batch line or an HTTP body."""

    model_config = ConfigDict(extra="forbid")

    id: Any = None
    question: str = Field(min_length=1)
    patient: dict[str, Any] | None = None
    conversation_id: str | None = Field(default=None, max_length=200)


# --- ingest --------------------------------------------------------------------------------------


class Failure(BaseModel):
    path: str
    reason: str


class IngestReport(BaseModel):
    added: int = 0
    updated: int = 0
    skipped: int = 0
    removed: int = 0
    failed: int = 0
    embedded: int = 0
    chunks: int = 0
    seconds: float = 0.0
    failures: list[Failure] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class DocumentFacts(NamedTuple):
    """What a document is about and who issued it, read straight from the store's manifest: the
    answer path builds one per document whenever a generation opens (`assistant.answer.scope`), where
    a full `DocumentInfo` per document cost ~20 us each (0.35 s of a cold start at 19,686 articles)."""

    doc_id: str
    path: str
    authors: list[str]
    publisher: str | None
    year: int | None
    published: str | None
    subjects: list[str] | None
    untrusted: list[str]


class DocumentInfo(BaseModel):
    doc_id: str
    title: str
    path: str = ""
    publisher: str | None = None
    kind: str | None = None
    year: int | None = None
    doi: str | None = None
    published: str | None = None
    authors: list[str] = Field(default_factory=list)
    chunks: int = 0
    content_hash: str = ""
    subjects: list[str] | None = Field(
        default=None,
        description="Diseases the document is about (ids of ally/data/subjects.yaml), derived from its text at "
        "ingest; null for a document ingested before subjects were derived (the next `ally ingest` adds them).",
    )
    untrusted: list[str] = Field(
        default_factory=list,
        description="Why the document is kept out of answers: text in it addresses the reader or the assistant "
        "(an instruction-injection attempt). Empty for a trusted document.",
    )
    added_at: str | None = Field(
        default=None, description="When the document first entered the store (UTC, ISO 8601); null if not recorded."
    )
    updated_at: str | None = Field(
        default=None, description="When the document's content last changed in the store (UTC, ISO 8601)."
    )


class ChunkRecord(BaseModel):
    chunk_id: str
    doc_id: str
    section: str
    text: str


class Passage(BaseModel):
    """One stored passage with its section path and its source document."""

    chunk_id: str
    doc_id: str
    section: str
    text: str
    title: str
    position: int = 0
    flags: list[str] = Field(default_factory=list)
    document: DocumentInfo
