"""Reads and validates the pathway data files (`assistant/pathway/data/*.yaml`): the only I/O of
the pathway checker.

`sources.yaml` holds the sources and the source gaps; `schistosite.yaml` the decision tree with
the SchistoSite options; `csco-2024.yaml` and `fda-labels.yaml` options attached to tree nodes
(and, for the labels, constraints that apply to every option naming a therapy). The loader gives
every node its full path id (`b_phneg/cr/mrd_neg`), attaches the other sources' options, adds
label constraints, expands class concepts (a TKI option also covers imatinib, ...), and checks
every reference, so a typo in the data fails loudly with the file and the id to fix.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ally.errors import AllyError
from ally.vocab import Vocabulary, default_vocabulary
from assistant.pathway.models import Attachment, Constraint, Gap, Node, PathwayBook, Source

TREE_FILE = "schistosite.yaml"
SOURCES_FILE = "sources.yaml"
ATTACHMENT_FILES = ("csco-2024.yaml", "fda-labels.yaml")


class PathwayDataError(AllyError):
    """The pathway data files are inconsistent (a developer error: fix the YAML)."""

    exit_code = 1


def _read(folder: Path | None, name: str) -> Any:
    if folder is None:
        text = resources.files("assistant.pathway").joinpath(f"data/{name}").read_text(encoding="utf-8")
    else:
        text = (folder / name).read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PathwayDataError(f"pathway data {name}: not valid YAML: {exc}") from exc


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


def load_book(folder: Path | None = None, vocabulary: Vocabulary | None = None) -> PathwayBook:
    """Load and validate the pathway book from `folder` (default: the packaged data)."""
    vocab = vocabulary or default_vocabulary()
    raw_sources = _read(folder, SOURCES_FILE) or {}
    tree = _unshare((_read(folder, TREE_FILE) or {}).get("root"))
    if not isinstance(tree, dict):
        raise PathwayDataError(f"pathway data {TREE_FILE}: needs a 'root' node")
    try:
        sources = {s["id"]: Source.model_validate(s) for s in raw_sources.get("sources", [])}
        gaps = {g["id"]: Gap.model_validate(g) for g in raw_sources.get("gaps", [])}
    except ValidationError as exc:
        raise PathwayDataError(f"pathway data {SOURCES_FILE}: {exc}") from exc

    # Full path ids; deep copies break YAML aliases so a shared subtree gets its own ids.
    _assign_ids(tree, None)
    nodes: dict[str, dict[str, Any]] = {}
    _index(tree, nodes)

    constraints: list[Constraint] = []
    for name in ATTACHMENT_FILES:
        data = _unshare(_read(folder, name) or {})
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
        for raw in data.get("constraints", []):
            try:
                constraints.append(Constraint.model_validate(raw))
            except ValidationError as exc:
                raise PathwayDataError(f"pathway data {name}: constraint {raw.get('concept')!r}: {exc}") from exc

    governed = sorted({c.concept for c in constraints})
    narrower = _narrower(vocab)
    for node_id, node in nodes.items():
        seen: set[str] = set()
        for option in node.get("options", []):
            oid = option.get("id")
            if oid in seen:
                raise PathwayDataError(f"pathway data: option id {oid!r} appears twice at node {node_id!r}")
            seen.add(oid)
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

    try:
        root = Node.model_validate(tree)
    except ValidationError as exc:
        raise PathwayDataError(f"pathway data {TREE_FILE}: {exc}") from exc
    book = PathwayBook(sources=sources, gaps=gaps, root=root, constraints=constraints, governed=governed)
    _check_references(book)
    return book


def _check_references(book: PathwayBook) -> None:
    for node in book.nodes():
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


@lru_cache(maxsize=1)
def default_book() -> PathwayBook:
    """The packaged pathway book, loaded once per process."""
    return load_book()
