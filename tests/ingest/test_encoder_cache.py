"""The exported-encoder cache: graphs named by the weights' content, shared by every installed copy
of the same weights, and stale graphs removed (`ingest.onnx_encoder`). Fake model folders: the
fingerprint reads files, it never loads a model."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from ingest.onnx_encoder import DIGESTS, STALE_AFTER_S, fingerprint, onnx_path, prune_stale


def _model(folder: Path, weights: bytes = b"\x01" * 4096) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"hidden_size": 384}', encoding="utf-8")
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    return folder


class TestFingerprint:
    def test_two_installed_copies_of_the_same_weights_share_one_graph(self, tmp_path: Path) -> None:
        """A fresh virtual environment (or clone) installs the same files at another path with other
        mtimes: it must find the graph already exported, not export 90 MB more."""
        cache = tmp_path / "cache"
        first = _model(tmp_path / "venv-a" / "model")
        second = tmp_path / "venv-b" / "model"
        shutil.copytree(first, second)  # new path, new mtimes, same content
        os.utime(second / "model.safetensors", ns=(1, 1))
        assert onnx_path(first, cache, "onnx") == onnx_path(second, cache, "onnx")
        assert onnx_path(first, cache, "onnx-int8").name.endswith("-int8.onnx")

    def test_other_weights_get_another_graph(self, tmp_path: Path) -> None:
        cache = tmp_path / "cache"
        base = _model(tmp_path / "base")
        tuned = _model(tmp_path / "tuned", weights=b"\x01" * 4095 + b"\x02")  # same size, one byte differs
        assert fingerprint(base, cache) != fingerprint(tuned, cache)

    def test_a_known_file_is_not_read_again(self, tmp_path: Path) -> None:
        """The digest is remembered for the file's path, size and mtime: rewriting its bytes in place
        behind the same size and mtime goes unnoticed, which shows the content was not read again
        (a cold start does not hash 90 MB of weights)."""
        cache = tmp_path / "cache"
        model = _model(tmp_path / "model")
        before = fingerprint(model, cache)
        assert (cache / DIGESTS).is_file()
        weights = model / "model.safetensors"
        st = weights.stat()
        weights.write_bytes(b"\x03" * st.st_size)
        os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert fingerprint(model, cache) == before
        os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # a real update changes the mtime
        assert fingerprint(model, cache) != before

    @pytest.mark.parametrize("damage", ["{not json", "[1, 2]", ""])
    def test_a_damaged_digest_file_is_recomputed(self, tmp_path: Path, damage: str) -> None:
        cache = tmp_path / "cache"
        model = _model(tmp_path / "model")
        expected = fingerprint(model, tmp_path / "other-cache")
        cache.mkdir()
        (cache / DIGESTS).write_text(damage, encoding="utf-8")
        assert fingerprint(model, cache) == expected
        assert fingerprint(model, cache) == expected  # and rewritten whole

    def test_a_read_only_cache_still_gives_the_fingerprint(self, tmp_path: Path) -> None:
        model = _model(tmp_path / "model")
        expected = fingerprint(model, tmp_path / "cache")
        blocked = tmp_path / "file-not-folder"
        blocked.write_text("x", encoding="utf-8")  # the cache "folder" cannot be created
        assert fingerprint(model, blocked / "cache") == expected


class TestPrune:
    def test_graphs_nobody_loaded_for_a_week_are_removed(self, tmp_path: Path) -> None:
        now = time.time()
        old = now - STALE_AFTER_S - 60

        def put(name: str, mtime: float) -> Path:
            f = tmp_path / name
            f.write_bytes(b"graph")
            os.utime(f, (mtime, mtime))
            return f

        stale = put("minilm-0123456789ab.onnx", old)
        stale_int8 = put("minilm-0123456789ab-int8.onnx", old)
        leftover = put(".minilm-0123456789ab.onnx.4242.plain.onnx", old)  # a killed export's temporary
        in_use = put("minilm-ba9876543210.onnx", now - 3600)  # loaded an hour ago by another install
        keep = put("minilm-ffffffffffff.onnx", old)  # the graph just exported or being loaded
        foreign = put("notes.onnx", old)  # not an export's name: never touched
        readme = put("README.json", old)
        removed = prune_stale(tmp_path, keep=keep, now=now)
        assert sorted(removed) == sorted([stale, stale_int8, leftover])
        assert all(not f.exists() for f in removed)
        assert all(f.exists() for f in (in_use, keep, foreign, readme))

    def test_a_missing_cache_folder_prunes_nothing(self, tmp_path: Path) -> None:
        assert prune_stale(tmp_path / "absent", keep=tmp_path / "absent" / "x.onnx") == []
