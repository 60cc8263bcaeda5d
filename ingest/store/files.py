"""Durable file writes for the store: fsync'd files and folders, and atomic replacement.

A store survives a writer killed at any point because every file a reader trusts is written in
full and fsync'd before the one rename that makes it visible (`atomic_write_text`), and the folder
holding it is fsync'd after.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make renames and new entries in folder `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_lines_synced(path: Path, lines: Iterable[str]) -> None:
    """Write `lines` (each ending in a newline) to `path` and fsync it."""
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` by `text` atomically: readers see the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
