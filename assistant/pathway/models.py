"""Typed models of the pathway data: conditions over the contract's Patient record, requirements,
options with citations, nodes, sources, source gaps, and the loaded book.

A condition is three-valued (Kleene logic): it is true, false or unknown (`None`) for a patient,
and unknown whenever it depends on a field the record leaves out. Unknown is never read as false.
Conditions compile once to small closures (`Condition.compiled`), so evaluating the whole
cartesian product of patient features in the tests stays fast.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ally.schema import Patient

if TYPE_CHECKING:
    from ally.vocab import Vocabulary

PATIENT_FIELDS: tuple[str, ...] = tuple(Patient.model_fields)
NUMERIC_FIELDS = frozenset({"age", "cd20_percent", "prior_regimens"})

Tri = bool | None
Compiled = Callable[[Patient], Tri]
Scalar = str | bool | int | float


def _all_of(parts: tuple[Compiled, ...]) -> Compiled:
    def evaluate(p: Patient) -> Tri:
        result: Tri = True
        for part in parts:
            v = part(p)
            if v is False:
                return False
            if v is None:
                result = None
        return result

    return evaluate


def _any_of(parts: tuple[Compiled, ...]) -> Compiled:
    def evaluate(p: Patient) -> Tri:
        result: Tri = False
        for part in parts:
            v = part(p)
            if v is True:
                return True
            if v is None:
                result = None
        return result

    return evaluate


def _fhir_literal(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


class Condition(BaseModel):
    """One condition over the patient record.

    Forms (exactly one): a comparison `{field, eq|in|ge|gt|le|lt}`; `{all: [...]}`; `{any: [...]}`;
    `{not: {...}}`. Comparisons on a missing field are unknown.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str | None = None
    eq: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    _compiled: Compiled | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        comparisons = [k for k in ("eq", "in_", "ge", "gt", "le", "lt") if getattr(self, k) is not None]
        groups = [k for k in ("all", "any", "not_") if getattr(self, k) is not None]
        if self.field is not None:
            if self.field not in PATIENT_FIELDS:
                raise ValueError(f"condition: unknown patient field {self.field!r}; use one of {PATIENT_FIELDS}")
            if len(comparisons) != 1 or groups:
                raise ValueError(f"condition on {self.field!r}: give exactly one of eq, in, ge, gt, le, lt")
            if comparisons[0] in ("ge", "gt", "le", "lt") and self.field not in NUMERIC_FIELDS:
                raise ValueError(f"condition on {self.field!r}: ordering comparisons need a numeric field")
            values = self.in_ if self.in_ is not None else [getattr(self, comparisons[0])]
            for value in values:
                try:
                    Patient.model_validate({self.field: value})
                except ValidationError as exc:
                    raise ValueError(f"condition on {self.field!r}: value {value!r} is not valid") from exc
        else:
            if comparisons or len(groups) != 1:
                raise ValueError("condition: give a field comparison, or exactly one of all, any, not")
            if (self.all is not None and not self.all) or (self.any is not None and not self.any):
                raise ValueError("condition: all/any need at least one member")
        return self

    # --- evaluation -------------------------------------------------------------------------
    def compiled(self) -> Compiled:
        if self._compiled is None:
            self._compiled = self._compile()
        return self._compiled

    def _compile(self) -> Compiled:
        if self.all is not None:
            return _all_of(tuple(c.compiled() for c in self.all))
        if self.any is not None:
            return _any_of(tuple(c.compiled() for c in self.any))
        if self.not_ is not None:
            inner = self.not_.compiled()

            def negate(p: Patient) -> Tri:
                v = inner(p)
                return None if v is None else not v

            return negate
        name = self.field
        assert name is not None
        if self.eq is not None:
            target = self.eq
            return lambda p: None if (v := getattr(p, name)) is None else v == target
        if self.in_ is not None:
            targets = tuple(self.in_)
            return lambda p: None if (v := getattr(p, name)) is None else v in targets
        if self.ge is not None:
            b = self.ge
            return lambda p: None if (v := getattr(p, name)) is None else v >= b
        if self.gt is not None:
            b = self.gt
            return lambda p: None if (v := getattr(p, name)) is None else v > b
        if self.le is not None:
            b = self.le
            return lambda p: None if (v := getattr(p, name)) is None else v <= b
        lt = self.lt
        assert lt is not None
        return lambda p: None if (v := getattr(p, name)) is None else v < lt

    def evaluate(self, patient: Patient) -> Tri:
        return self.compiled()(patient)

    # --- introspection ----------------------------------------------------------------------
    def fields(self) -> set[str]:
        if self.field is not None:
            return {self.field}
        out: set[str] = set()
        for child in self.children():
            out |= child.fields()
        return out

    def children(self) -> list[Condition]:
        if self.all is not None:
            return list(self.all)
        if self.any is not None:
            return list(self.any)
        if self.not_ is not None:
            return [self.not_]
        return []

    def atoms(self) -> list[Condition]:
        """The field comparisons inside this condition, in order."""
        if self.field is not None:
            return [self]
        return [a for c in self.children() for a in c.atoms()]

    def replace_atom(self, atom_index: int, constant: bool) -> Condition | bool:
        """A copy with the `atom_index`-th comparison replaced by a constant (for mutation tests)."""
        counter = [atom_index]
        return _replace(self, counter, constant)

    def thresholds(self) -> list[tuple[str, float]]:
        return [
            (a.field, float(v))
            for a in self.atoms()
            if a.field is not None
            for v in (a.ge, a.gt, a.le, a.lt)
            if v is not None
        ]

    # --- rendering --------------------------------------------------------------------------
    def describe(self) -> str:
        """A readable form, e.g. 'age ≥ 65 or fit = false'."""
        if self.all is not None:
            return " and ".join(_paren(c) for c in self.all)
        if self.any is not None:
            return " or ".join(_paren(c) for c in self.any)
        if self.not_ is not None:
            return f"not ({self.not_.describe()})"
        name = self.field
        if self.eq is not None:
            return f"{name} = {_plain(self.eq)}"
        if self.in_ is not None:
            return f"{name} in ({', '.join(_plain(v) for v in self.in_)})"
        for op, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            v = getattr(self, op)
            if v is not None:
                return f"{name} {sym} {_plain(v)}"
        raise AssertionError("unreachable")

    def fhirpath(self) -> str:
        """The condition as a FHIRPath expression over the patient record (the context resource).

        FHIRPath's empty collection propagates like an unknown, and its `and`/`or`/`not()` are
        three-valued, so the expression agrees with `evaluate` on every record.
        """
        if self.all is not None:
            return " and ".join(f"({c.fhirpath()})" for c in self.all)
        if self.any is not None:
            return " or ".join(f"({c.fhirpath()})" for c in self.any)
        if self.not_ is not None:
            return f"({self.not_.fhirpath()}).not()"
        name = self.field
        if self.eq is not None:
            return f"{name} = {_fhir_literal(self.eq)}"
        if self.in_ is not None:
            return f"{name} in ({' | '.join(_fhir_literal(v) for v in self.in_)})"
        for op, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            v = getattr(self, op)
            if v is not None:
                return f"{name} {sym} {_fhir_literal(v)}"
        raise AssertionError("unreachable")


def _plain(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _paren(c: Condition) -> str:
    text = c.describe()
    return f"({text})" if c.all is not None or c.any is not None else text


def _replace(cond: Condition, counter: list[int], constant: bool) -> Condition | bool:
    if cond.field is not None:
        counter[0] -= 1
        return constant if counter[0] == -1 else cond
    kids: list[Condition | bool] = [_replace(c, counter, constant) for c in cond.children()]
    if cond.not_ is not None:
        k = kids[0]
        return (not k) if isinstance(k, bool) else Condition.model_validate({"not": k})
    if cond.all is not None:
        if any(k is False for k in kids):
            return False
        rest = [k for k in kids if not isinstance(k, bool)]
        if not rest:
            return True
        return rest[0] if len(rest) == 1 else Condition.model_validate({"all": rest})
    if any(k is True for k in kids):
        return True
    rest = [k for k in kids if not isinstance(k, bool)]
    if not rest:
        return False
    return rest[0] if len(rest) == 1 else Condition.model_validate({"any": rest})


# --- citations, requirements, options ------------------------------------------------------------


class Source(BaseModel):
    """One source document of the pathway, kept distinct from the others."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(description="Short display name, e.g. 'SchistoSite pathway'.")
    doc_id: str = Field(description="The corpus document id (file stem) the quotes come from.")
    title: str
    kind: Literal["pathway", "guideline-update", "drug-label"]
    description: str = ""


class Quote(BaseModel):
    """A verbatim quote from one source (within one bullet or one sentence of the stored text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    text: str = Field(min_length=3)


class Requirement(BaseModel):
    """A condition an option needs, with the quote it rests on and a readable statement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: Condition
    text: str = Field(description="What is required, in words, e.g. 'CD20 expression ≥ 20%'.")
    source: str
    quote: Quote


class Gap(BaseModel):
    """A gap or ambiguity in the sources and the explicit choice ALLy makes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    source_says: str
    choice: str

    def note(self) -> str:
        return f"Source gap ({self.id}): {self.source_says} ALLy's choice: {self.choice}"


class NoteRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gap: str
    when: Condition | None = None


OptionKind = Literal["therapy", "test", "criterion", "work-up", "prophylaxis"]


class Option(BaseModel):
    """One option at a node: a therapy, test or criterion, from exactly one source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    therapy: str = Field(description="Display name, e.g. 'Blinatumomab ± TKI'.")
    detail: str = ""
    kind: OptionKind = "therapy"
    source: str
    level: str | None = Field(default=None, description="Recommendation level where the source gives one.")
    concepts: list[str] = Field(
        default_factory=list,
        description="Vocabulary concept ids this option covers (the loader adds narrower members of a "
        "class, e.g. imatinib under TKI, except concepts governed by a label constraint).",
    )
    requires: list[Requirement] = Field(default_factory=list)
    quotes: list[Quote] = Field(min_length=1)


class Attachment(Option):
    """An option from a guideline update or a label, attached to nodes of the pathway tree."""

    at: list[str] = Field(min_length=1, description="Full node ids, e.g. 'b_phneg/cr/mrd_neg'.")


class Constraint(BaseModel):
    """A label constraint: requirements added to every option that names the concept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concept: str
    requires: list[Requirement] = Field(min_length=1)


class Node(BaseModel):
    """A node of the pathway tree. Children are mutually exclusive branches that cover their parent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Local id in the data; the loader rewrites it to the full path id.")
    label: str
    when: Condition | None = Field(default=None, description="Branch condition (absent only at the root).")
    quotes: list[Quote] = Field(default_factory=list, description="Where the source states the branch.")
    notes: list[NoteRef] = Field(default_factory=list)
    options: list[Option] = Field(default_factory=list)
    children: list[Node] = Field(default_factory=list)

    def walk(self) -> Iterator[tuple[Node, tuple[Node, ...]]]:
        """Every node with its path from the root (inclusive), depth first."""
        stack: list[tuple[Node, tuple[Node, ...]]] = [(self, (self,))]
        while stack:
            node, path = stack.pop()
            yield node, path
            for child in reversed(node.children):
                stack.append((child, (*path, child)))


class PathwayBook(BaseModel):
    """The loaded, validated pathway: sources, gaps, the tree, label constraints, and the vocabulary
    its concepts were expanded with (therapy names are normalised through the same vocabulary).

    Books are hashable by content (`fingerprint`), so the evaluator memoises on `(patient, book)`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, Source]
    gaps: dict[str, Gap]
    root: Node
    constraints: list[Constraint] = Field(default_factory=list)
    governed: list[str] = Field(
        default_factory=list, description="Concepts decided only by options that name them (label constraints)."
    )

    _vocabulary: Any = PrivateAttr(default=None)
    _nodes: dict[str, tuple[Node, tuple[Node, ...]]] = PrivateAttr(default_factory=dict)
    _fingerprint: str = PrivateAttr(default="")

    def __init__(self, *, vocabulary: Vocabulary, **data: Any) -> None:
        super().__init__(**data)
        self._vocabulary = vocabulary

    def model_post_init(self, context: Any, /) -> None:
        self._nodes = {node.id: (node, path) for node, path in self.root.walk()}
        self._fingerprint = hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()

    def __hash__(self) -> int:
        # Read from the private-attribute dict directly: `self._fingerprint` goes through pydantic's
        # `__getattr__` (~3 µs), and the evaluator's memo hashes the book on every call.
        private = self.__pydantic_private__
        assert private is not None
        return hash(private["_fingerprint"])

    @property
    def fingerprint(self) -> str:
        """A digest of the book's content: equal books have equal fingerprints."""
        return self._fingerprint

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary the book was built with."""
        vocabulary: Vocabulary = self._vocabulary
        return vocabulary

    def node(self, node_id: str) -> Node:
        return self._nodes[node_id][0]

    def path_to(self, node_id: str) -> tuple[Node, ...]:
        return self._nodes[node_id][1]

    def nodes(self) -> list[Node]:
        return [n for n, _ in self._nodes.values()]

    def options(self) -> list[tuple[Node, Option]]:
        return [(n, o) for n in self.nodes() for o in n.options]

    def conditions(self) -> list[Condition]:
        """Every branch and requirement condition in the book."""
        out: list[Condition] = []
        for node in self.nodes():
            if node.when is not None:
                out.append(node.when)
            for option in node.options:
                out.extend(r.when for r in option.requires)
        return out
