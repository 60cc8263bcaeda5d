"""The file-stat cache: which source files a store has read, as they were, so that an unchanged
file is skipped by its stat (size, modification time, inode, change time) before it is read and
hashed, the way git's index and rsync skip files.

It only ever maps a stat to the file hash that was computed for it, never to "unchanged": a run
still compares that hash with the committed documents' (`DocMeta.file_hash`), so a cache left out
of step with the manifest (a run killed between the two writes) costs a re-read, never a wrong
skip. A stat is recorded only once the file has been still for `SETTLE_NS` (a file changed again
within the same clock tick keeps its old mtime: git's "racy" entries), and every entry also keys
on the stat of the folder's `sources.yaml` and on what the pipeline derives from a file
(`derived`), so a changed sources entry or a new ALLy release reads the files again. A missing or
damaged cache is an empty one. `ally ingest --rehash` ignores it for one run.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.store.files import atomic_write_text

STATS_FILE = "file-stats.json"
STATS_FORMAT = 1
SETTLE_NS = 2_000_000_000  # 2 s: coarser than any file system's timestamp granularity (FAT: 2 s)

Key = tuple[int, int, int, int]  # size, mtime_ns, inode, ctime_ns


def stat_key(path: Path) -> Key | None:
    """The stat of `path` that changes whenever its content can have changed; None if it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def _settled(key: Key) -> bool:
    """Whether the file was last written (or its stat changed) at least `SETTLE_NS` ago."""
    return max(key[1], key[3]) < time.time_ns() - SETTLE_NS


@dataclass
class FileStats:
    """Recorded stats of the files a store read: path -> (its stat, its sources.yaml's stat, hash)."""

    path: Path
    derived: str
    entries: dict[str, tuple[Key, Key | None, str]] = field(default_factory=dict)
    # folder -> (its sources.yaml's stat, the entries as parsed): a large sources.yaml is parsed
    # again only when it changed, not whenever one file beside it did
    sources: dict[str, tuple[Key, dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def open(cls, store: Path, derived: str, *, ignore: bool = False) -> FileStats:
        stats = cls(store / STATS_FILE, derived)
        if ignore:
            return stats
        try:
            raw = json.loads(stats.path.read_text(encoding="utf-8"))
            if raw.get("format") != STATS_FORMAT or raw.get("derived") != derived:
                return stats
            for name, (key, sources, digest) in raw["files"].items():
                stats.entries[name] = (tuple(key), tuple(sources) if sources else None, str(digest))
            for folder, (key, parsed) in raw.get("sources", {}).items():
                stats.sources[folder] = (tuple(key), dict(parsed))
        except (OSError, ValueError, TypeError, KeyError):
            stats.entries.clear()  # damaged or absent: every file is read and hashed
            stats.sources.clear()
        return stats

    def known_hash(self, path: Path, key: Key | None, sources: Key | None) -> str | None:
        """The hash recorded for `path` when its stat and its sources.yaml's are what they were."""
        entry = self.entries.get(str(path))
        if key is None or entry is None or entry[0] != key or entry[1] != sources:
            return None
        return entry[2]

    def record(self, path: Path, key: Key | None, sources: Key | None, digest: str | None) -> None:
        """Remember the hash of `path` at `key`, once the file has been still long enough."""
        name = str(path)
        if digest and key is not None and _settled(key) and (sources is None or _settled(sources)):
            self.entries[name] = (key, sources, digest)
        else:
            self.entries.pop(name, None)

    def known_sources(self, sources_file: Path, key: Key | None) -> dict[str, Any] | None:
        """The entries parsed from `sources_file` when its stat is what it was (as plain data)."""
        found = self.sources.get(str(sources_file.parent))
        return found[1] if key is not None and found is not None and found[0] == key else None

    def record_sources(self, sources_file: Path, key: Key | None, parsed: dict[str, Any]) -> None:
        """Remember the entries parsed from `sources_file` at `key`, once it has been still long enough."""
        if key is not None and _settled(key):
            self.sources[str(sources_file.parent)] = (key, parsed)
        else:
            self.sources.pop(str(sources_file.parent), None)

    def save(self, keep: set[str]) -> None:
        """Write the cache, holding the files of `keep` (the paths the store's documents come from)
        and the sources.yaml entries of their folders."""
        files = {name: entry for name, entry in sorted(self.entries.items()) if name in keep}
        folders = {str(Path(name).parent) for name in keep}
        sources = {f: entry for f, entry in sorted(self.sources.items()) if f in folders}
        body = {"format": STATS_FORMAT, "derived": self.derived, "files": files, "sources": sources}
        with contextlib.suppress(OSError):  # a cache: the next run reads and hashes the files instead
            atomic_write_text(self.path, json.dumps(body, separators=(",", ":")))
