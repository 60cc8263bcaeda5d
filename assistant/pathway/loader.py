"""Builds and validates the pathway book from the already-parsed data files (pure: no I/O).

The data files are `assistant/pathway/data/*.yaml`; reading and parsing them is the caller's job
(`assistant.resources.load_pathway_book`), and `build_book` takes the parsed mappings by file name.
`sources.yaml` holds the sources and the source gaps; `schistosite.yaml` the decision tree with
the SchistoSite options; `csco-2024.yaml` and `fda-labels.yaml` options attached to tree nodes
(and, for the labels, constraints that apply to every option naming a therapy). The loader gives
every node its full path id (`b_phneg/cr/mrd_neg`), attaches the other sources' options, adds
label constraints, expands class concepts (a TKI option also covers imatinib, ...), and checks
every reference, so a typo in the data fails loudly with the file and the id to fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ally.errors import AllyError
from assistant.pathway.models import Attachment, Constraint, Gap, Node, PathwayBook, Source

if TYPE_CHECKING:
    from ally.vocab import Vocabulary

TREE_FILE = "schistosite.yaml"
SOURCES_FILE = "sources.yaml"
ATTACHMENT_FILES = ("csco-2024.yaml", "fda-labels.yaml")
DATA_FILES = (SOURCES_FILE, TREE_FILE, *ATTACHMENT_FILES)


class PathwayDataError(AllyError):
    """The pathway data files are inconsistent (a developer error: fix the YAML)."""

    exit_code = 1


def _unshare(data: Any) -> Any:
    """A copy in which YAML aliases no longer share objects (so each copy gets its own ids)."""
    return json.loads(json.dumps(data))


def _assign_ids(node: dict[str, Any], prefix: str | None) -> None:
    """Full path ids; the root keeps its own id and its children start a fresh path."""
    if prefix is not None:
        node["id"] = f"{prefix}/{node['id']}" if prefix else node["id"]
    for child in node.get("children", []):
        _assign_ids(child, "" if prefix is None else node["id"])


def _index(node: dict[str, Any], out: dict[str, dict[str, Any]]) -> None:
    if node["id"] in out:
        raise PathwayDataError(f"pathway data {TREE_FILE}: node id {node['id']!r} appears twice")
    out[node["id"]] = node
    for child in node.get("children", []):
        _index(child, out)


def _narrower(vocab: Vocabulary) -> dict[str, set[str]]:
    """Concept id -> every concept that has it as a broader concept (transitively)."""
    out: dict[str, set[str]] = {cid: set() for cid in vocab.concepts}
    for cid in vocab.concepts:
        for broader in vocab.with_broader({cid}) - {cid}:
            out[broader].add(cid)
    return out


def _sources_and_gaps(raw_sources: Mapping[str, Any]) -> tuple[dict[str, Source], dict[str, Gap]]:
    try:
        sources = {s["id"]: Source.model_validate(s) for s in raw_sources.get("sources", [])}
        gaps = {g["id"]: Gap.model_validate(g) for g in raw_sources.get("gaps", [])}
    except ValidationError as exc:
        raise PathwayDataError(f"pathway data {SOURCES_FILE}: {exc}") from exc
    return sources, gaps


def _attach(name: str, data: Mapping[str, Any], nodes: dict[str, dict[str, Any]]) -> list[Constraint]:
    """Attach one file's options to their nodes; the file's label constraints."""
    for raw in data.get("attachments", []):
        try:
            att = Attachment.model_validate(raw)
        except ValidationError as exc:
            raise PathwayDataError(f"pathway data {name}: attachment {raw.get('id')!r}: {exc}") from exc
        for node_id in att.at:
            if node_id not in nodes:
                raise PathwayDataError(f"pathway data {name}: {att.id!r} names unknown node {node_id!r}")
            option = {k: v for k, v in raw.items() if k != "at"}
            nodes[node_id].setdefault("options", []).append(_unshare(option))
    constraints: list[Constraint] = []
    for raw in data.get("constraints", []):
        try:
            constraints.append(Constraint.model_validate(raw))
        except ValidationError as exc:
            raise PathwayDataError(f"pathway data {name}: constraint {raw.get('concept')!r}: {exc}") from exc
    return constraints


def _complete_option(
    node_id: str,
    option: dict[str, Any],
    constraints: list[Constraint],
    governed: list[str],
    narrower: dict[str, set[str]],
    vocab: Vocabulary,
) -> None:
    """Check an option's concepts, add the label constraints on them, expand class concepts, and
    give it its full id (`node#option`)."""
    oid = option.get("id")
    explicit = list(option.get("concepts", []))
    for cid in explicit:
        if cid not in vocab.concepts:
            raise PathwayDataError(f"pathway data: option {node_id}#{oid} names unknown concept {cid!r}")
    for constraint in constraints:
        if constraint.concept in explicit:
            option.setdefault("requires", [])
            option["requires"] = [
                *option["requires"],
                *(r.model_dump(by_alias=True, exclude_none=True) for r in constraint.requires),
            ]
    expanded = list(explicit)
    for cid in explicit:
        for member in sorted(narrower[cid]):
            if member not in expanded and member not in governed and vocab.concepts[member].therapy:
                expanded.append(member)
    option["concepts"] = expanded
    option["id"] = f"{node_id}#{oid}"


def build_book(data: Mapping[str, Any], vocabulary: Vocabulary) -> PathwayBook:
    """Build and validate the pathway book from the parsed data files (file name -> YAML content)."""
    raw_sources = data.get(SOURCES_FILE) or {}
    tree = _unshare((data.get(TREE_FILE) or {}).get("root"))
    if not isinstance(tree, dict):
        raise PathwayDataError(f"pathway data {TREE_FILE}: needs a 'root' node")
    sources, gaps = _sources_and_gaps(raw_sources)

    # Full path ids; deep copies break YAML aliases so a shared subtree gets its own ids.
    _assign_ids(tree, None)
    nodes: dict[str, dict[str, Any]] = {}
    _index(tree, nodes)

    constraints: list[Constraint] = []
    for name in ATTACHMENT_FILES:
        constraints.extend(_attach(name, _unshare(data.get(name) or {}), nodes))

    governed = sorted({c.concept for c in constraints})
    narrower = _narrower(vocabulary)
    for node_id, node in nodes.items():
        seen: set[str] = set()
        for option in node.get("options", []):
            oid = option.get("id")
            if oid in seen:
                raise PathwayDataError(f"pathway data: option id {oid!r} appears twice at node {node_id!r}")
            seen.add(oid)
            _complete_option(node_id, option, constraints, governed, narrower, vocabulary)

    try:
        root = Node.model_validate(tree)
    except ValidationError as exc:
        raise PathwayDataError(f"pathway data {TREE_FILE}: {exc}") from exc
    book = PathwayBook(
        sources=sources, gaps=gaps, root=root, constraints=constraints, governed=governed, vocabulary=vocabulary
    )
    _check_references(book)
    return book


def _check_node(book: PathwayBook, node: Node) -> None:
    if (node.when is None) != (node is book.root):
        raise PathwayDataError(f"pathway data: node {node.id!r}: every node but the root needs 'when'")
    for note in node.notes:
        if note.gap not in book.gaps:
            raise PathwayDataError(f"pathway data: node {node.id!r} names unknown gap {note.gap!r}")
    quotes = list(node.quotes)
    for option in node.options:
        if option.source not in book.sources:
            raise PathwayDataError(f"pathway data: option {option.id!r} names unknown source {option.source!r}")
        quotes.extend(option.quotes)
        for req in option.requires:
            quotes.append(req.quote)
            if req.source not in book.sources:
                raise PathwayDataError(f"pathway data: option {option.id!r}: unknown source {req.source!r}")
    for quote in quotes:
        if quote.source not in book.sources:
            raise PathwayDataError(f"pathway data: node {node.id!r}: quote names unknown source {quote.source!r}")


def _check_references(book: PathwayBook) -> None:
    for node in book.nodes():
        _check_node(book, node)
