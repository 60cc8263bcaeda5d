"""Test encoders: deterministic vectors without the model, optionally slow (so a SIGKILL lands
mid-embedding)."""

from __future__ import annotations

import hashlib
import time

import numpy as np


class HashEncoder:
    """L2-normalised pseudo-random vectors seeded by each text's SHA-256 (same text, same vector)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, dim: int = 384, delay_per_text_s: float = 0.0) -> None:
        self.dim = dim
        self.delay = delay_per_text_s
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
            if self.delay:
                time.sleep(self.delay)
        return out
