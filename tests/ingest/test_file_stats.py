"""Skipping unchanged files by their stat (`ingest.store.stats`): an unchanged file is not read or
hashed; every way a file can change without its size and mtime changing is still caught."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import ingest.pipeline as pipeline
import ingest.store.stats as stats_module
from ally.settings import Settings
from ingest.pipeline import ingest_paths
from ingest.store.stats import STATS_FILE

from .test_pipeline import CORPUS, HashEncoder

SOURCES = """\
- file: note-a.txt
  title: Note A
  year: 2020
- file: note-b.txt
  title: Note B
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    (folder / "note-a.txt").write_text("Note A\n\nBlinatumomab is a bispecific T-cell engager.\n")
    (folder / "note-b.txt").write_text("Note B\n\nNelarabine is used in T-cell ALL.\n")
    (folder / "sources.yaml").write_text(SOURCES)
    return folder


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the pipeline reads and hashes; files count as settled at once (no 2 s wait)."""
    monkeypatch.setattr(stats_module, "SETTLE_NS", -(10**12))  # any stat is old enough
    seen: list[Path] = []
    real = pipeline._file_hash

    def counting(path: Path, entry: object) -> str | None:
        seen.append(path)
        return real(path, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_file_hash", counting)
    return seen


def run(tmp_path: Path, corpus: Path, **kw: bool) -> tuple[int, int, int]:
    report = ingest_paths([corpus], Settings(store=tmp_path / "store"), encoder=HashEncoder(), **kw)
    return report.added, report.updated, report.skipped


def test_unchanged_files_are_not_read(tmp_path: Path, corpus: Path, reads: list[Path]) -> None:
    assert run(tmp_path, corpus) == (7, 0, 0)
    reads.clear()
    assert run(tmp_path, corpus) == (0, 0, 7)
    assert reads == []  # skipped by their stat
    assert (tmp_path / "store" / STATS_FILE).is_file()


def test_a_change_that_keeps_size_and_mtime_is_read(tmp_path: Path, corpus: Path, reads: list[Path]) -> None:
    run(tmp_path, corpus)
    note = corpus / "note-b.txt"
    before = note.stat()
    note.write_text(note.read_text().replace("Nelarabine", "Clofarabine"[:10]))  # same length
    os.utime(note, ns=(before.st_atime_ns, before.st_mtime_ns))  # timestamps put back, as cp -p does
    assert note.stat().st_size == before.st_size and note.stat().st_mtime_ns == before.st_mtime_ns
    reads.clear()
    assert run(tmp_path, corpus) == (0, 1, 6)  # its change time gave it away
    assert reads == [note.resolve()]


def test_a_file_written_just_now_is_hashed_again(tmp_path: Path, corpus: Path, reads: list[Path]) -> None:
    stats_module.SETTLE_NS = 10**12  # nothing has been still long enough: nothing recorded
    run(tmp_path, corpus)
    reads.clear()
    assert run(tmp_path, corpus) == (0, 0, 7)
    assert len(reads) == 7  # hashed, found unchanged


def test_a_changed_sources_entry_reads_its_file(tmp_path: Path, corpus: Path, reads: list[Path]) -> None:
    run(tmp_path, corpus)
    (corpus / "sources.yaml").write_text(SOURCES.replace("year: 2020", "year: 2021"))
    reads.clear()
    assert run(tmp_path, corpus) == (0, 1, 6)
    assert len(reads) == 7  # the folder's sources.yaml changed: every file beside it is hashed


@pytest.mark.parametrize("damage", ["{not json", '{"format": 99, "files": {}}', ""])
def test_a_damaged_cache_is_an_empty_one(tmp_path: Path, corpus: Path, reads: list[Path], damage: str) -> None:
    run(tmp_path, corpus)
    (tmp_path / "store" / STATS_FILE).write_text(damage)
    reads.clear()
    assert run(tmp_path, corpus) == (0, 0, 7)
    assert len(reads) == 7


def test_rehash_trusts_no_stat(tmp_path: Path, corpus: Path, reads: list[Path]) -> None:
    run(tmp_path, corpus)
    reads.clear()
    assert run(tmp_path, corpus, rehash=True) == (0, 0, 7)
    assert len(reads) == 7


def test_a_new_derivation_reads_every_file(
    tmp_path: Path, corpus: Path, reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(tmp_path, corpus)
    monkeypatch.setattr(pipeline, "DERIVED_VERSION", pipeline.DERIVED_VERSION + "-next")
    reads.clear()
    assert run(tmp_path, corpus) == (0, 7, 0)  # re-derived (subjects, flags): same chunks, nothing embedded
    assert len(reads) == 7
