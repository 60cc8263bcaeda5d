"""How often each cleaning rule fires on real literature, with samples of what it removed.

The chrome and lost-list rules of `ingest.clean` / `ingest.structure` were written for five scraped
pages (`corpus/`). This runs the text path of the loaders (repair, chrome removal, title-line drop,
structure, lost-list headers) over real documents and counts each rule's firings:

- `pubmed-real`: the 19,686 PubMed articles written out as plain-text documents (the title line, then
  one paragraph per abstract text, "LABEL: text" when labelled: how `external-dev/docs/` holds them);
- `external-dev`: the 1,296 plain-text documents of `shared/external-dev/docs/` with their sources.yaml;
- `corpus`: our five pages (every firing expected).

Also counted: documents the cleaning would empty ("no text left after cleaning"). Prints a table
and writes `artifacts/bench/cleaning-audit.json`.

    .venv/bin/python -m benchmarks.cleaning_audit [--samples 5]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, save_result
from benchmarks.pubmed import PUBMED_REAL, article_texts, pubmed_files

EXTERNAL_DOCS = REPO.parent / "shared" / "external-dev" / "docs"


class Tally:
    def __init__(self, samples: int) -> None:
        self.samples = samples
        self.documents = 0
        self.emptied: list[str] = []
        self.fired: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = defaultdict(list)

    def add(self, rule: str, where: str, text: str) -> None:
        self.fired[rule] += 1
        if len(self.examples[rule]) < self.samples:
            self.examples[rule].append(f"{where}: {text[:160]}")

    def as_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "emptied": self.emptied,
            "fired": dict(self.fired),
            "examples": dict(self.examples),
        }


def audit_file(path: Path, entry: Any, tally: Tally) -> None:
    """One text document through the loader's text path, firings counted (as `load_file` does it)."""
    from ally.errors import IngestError
    from ingest.clean import drop_title_lines, strip_chrome
    from ingest.loaders import load_file
    from ingest.repair import repair_text
    from ingest.structure import flag_lost_lists, parse_plain

    tally.documents += 1
    title = entry.title if entry is not None else None
    repaired, _ = repair_text(path.read_text(encoding="utf-8"))
    lines, harvest = strip_chrome(repaired.split("\n"))
    for rule, text in harvest.fired:
        tally.add(rule, path.name, text)
    dropped = drop_title_lines(lines, title)
    if dropped != lines:
        tally.add("title-line", path.name, str(title))
    _, lost = flag_lost_lists(parse_plain(dropped))
    for header in lost:
        rule = f"lost-{header.what.replace(' ', '-')}" + ("" if header.removed else " (kept: only text)")
        tally.add(rule, path.name, header.header)
    try:
        load_file(path, entry, max_bytes=100_000_000)
    except IngestError as exc:
        tally.emptied.append(f"{path.name}: {exc}")


def audit_pubmed(tally: Tally) -> None:
    with tempfile.TemporaryDirectory(prefix="ally-audit-") as tmp:
        for pmid, text in article_texts(pubmed_files()):
            path = Path(tmp) / f"pmid-{pmid}.txt"
            path.write_text(text + "\n", encoding="utf-8")
            audit_file(path, None, tally)
            path.unlink()


def audit_folder(folder: Path, tally: Tally) -> None:
    from ingest.loaders import load_sources

    sources = load_sources(folder)
    for path in sorted(folder.glob("*.txt")):
        audit_file(path, sources.get(path.name), tally)


def main() -> None:
    parser = argparse.ArgumentParser(description="cleaning-rule firings on real literature")
    parser.add_argument("--samples", type=int, default=5, help="examples kept per rule")
    args = parser.parse_args()
    tallies: dict[str, Tally] = {}
    if PUBMED_REAL.is_dir():
        tallies["pubmed-real"] = Tally(args.samples)
        audit_pubmed(tallies["pubmed-real"])
    if EXTERNAL_DOCS.is_dir():
        tallies["external-dev"] = Tally(args.samples)
        audit_folder(EXTERNAL_DOCS, tallies["external-dev"])
    tallies["corpus"] = Tally(args.samples)
    audit_folder(REPO / "corpus", tallies["corpus"])
    rules = sorted({r for t in tallies.values() for r in t.fired})
    print("| rule | " + " | ".join(f"{name} ({t.documents} docs)" for name, t in tallies.items()) + " |")
    print("|---|" + "---|" * len(tallies))
    for rule in rules:
        print(f"| {rule} | " + " | ".join(str(t.fired.get(rule, 0)) for t in tallies.values()) + " |")
    print("| documents emptied | " + " | ".join(str(len(t.emptied)) for t in tallies.values()) + " |")
    for name, t in tallies.items():
        for rule, examples in sorted(t.examples.items()):
            print(f"\n{name} / {rule}:")
            for e in examples:
                print("  ", e)
    path = save_result("cleaning-audit", {name: t.as_json() for name, t in tallies.items()})
    print("\nwrote", path)


if __name__ == "__main__":
    main()
