"""The synthetic benchmark corpus is deterministic and has the real pages' structure."""

from __future__ import annotations

from pathlib import Path

from benchmarks.synth import document, generate, questions


def test_documents_deterministic_and_structured() -> None:
    assert document(8, 3) == document(8, 3)
    assert document(8, 3) != document(8, 4) and document(9, 3) != document(8, 3)
    texts = "".join(document(8, i)[1] for i in range(20))
    assert "\n•  " in texts and "\n    •  " in texts  # bullets, two-space indentation per level
    assert "FDA Approved" in texts and "\nDosing Schedule\n" in texts  # drug cards
    assert questions(1, 5) == questions(1, 5)


def test_generate_reaches_the_chunk_count(tmp_path: Path) -> None:
    n = generate(tmp_path / "a", 60)
    assert n >= 60 and (tmp_path / "a" / "sources.yaml").is_file()
    assert generate(tmp_path / "b", 60) == n
    a = sorted((tmp_path / "a").glob("*.txt"))
    assert [p.read_bytes() for p in a] == [(tmp_path / "b" / p.name).read_bytes() for p in a]
