"""Reading the assistant's packaged data files: the one place where the pathway's YAML is read.

The pathway package is pure (`assistant/pathway/`: no file reading, no YAML parsing); this core
module reads `assistant/pathway/data/*.yaml` (or a folder given to validate a copy), parses it and
hands the mappings and the vocabulary to `assistant.pathway.loader.build_book`. The packaged book
with the default vocabulary is built once per process; callers load it once and pass it to
`evaluate`, `check` and `export_fhir`.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ally import yaml_data
from ally.vocab import Vocabulary, default_vocabulary
from assistant.pathway.loader import DATA_FILES, PathwayDataError, build_book
from assistant.pathway.models import PathwayBook

PATHWAY_PACKAGE = "assistant.pathway"


def _read_text(folder: Path | None, name: str) -> str:
    if folder is None:
        return resources.files(PATHWAY_PACKAGE).joinpath(f"data/{name}").read_text(encoding="utf-8")
    return (folder / name).read_text(encoding="utf-8")


def _parse(name: str, text: str) -> Any:
    try:
        return yaml_data.safe_load(text)
    except yaml.YAMLError as exc:
        raise PathwayDataError(f"pathway data {name}: not valid YAML: {exc}") from exc


def read_pathway_data(folder: Path | None = None) -> dict[str, Any]:
    """Every pathway data file, parsed: file name -> YAML content (default: the packaged data)."""
    return {name: _parse(name, _read_text(folder, name)) for name in DATA_FILES}


@lru_cache(maxsize=1)
def _packaged_book() -> PathwayBook:
    return build_book(read_pathway_data(), default_vocabulary())


def load_pathway_book(folder: Path | None = None, vocab: Vocabulary | None = None) -> PathwayBook:
    """The pathway book from `folder` (default: the packaged data, built once per process), with
    `vocab` (default: the shared vocabulary). Raises PathwayDataError naming what to fix."""
    if folder is None and vocab is None:
        return _packaged_book()
    return build_book(read_pathway_data(folder), vocab or default_vocabulary())
