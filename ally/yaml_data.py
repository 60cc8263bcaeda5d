"""Reading YAML data files (vocabulary, subjects, pathway book, sources.yaml, eval thresholds).

One loader for all of them: PyYAML's safe loader on libyaml (the C parser its wheels ship) when it
is there, the pure-Python safe loader otherwise. Same safe subset, same `yaml.YAMLError`s; the C
parser reads a 6,000-entry `sources.yaml` in a fraction of the pure-Python parser's 5 s.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str | bytes) -> Any:
    """The YAML document in `text` (plain data only: no tags that build Python objects)."""
    return yaml.load(text, Loader=_LOADER)
