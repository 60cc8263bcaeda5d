"""The fast encoder: all-MiniLM-L6-v2 exported to ONNX, run with onnxruntime + `tokenizers`.

The ONNX graph is exported once with `torch.onnx` from the same packaged weights sentence-transformers
loads (never downloaded) and cached in a folder (by default `~/.cache/ally/encoders/`); the file name
carries a fingerprint of the weights' content and of the export recipe, so new weights mean a new
export and every virtual environment (or fresh clone) holding the same weights shares one file. The
content digests are remembered per file path, size and mtime (`digests.json` in the cache), so only
the first load of a newly installed copy reads the weights through. Loading or exporting a graph
removes the cached graphs that no process has loaded for `STALE_AFTER_S` (another recipe's or other
weights'; a load touches its file), so the cache does not grow by 90 MB with every recipe change.
The graph holds only the transformer; mean pooling over the attention mask and L2 normalisation
(what the model's sentence-transformers modules do) run in numpy.

The export traces the model's plain ("eager") attention so that onnxruntime's transformer
optimiser can fuse each layer's attention, the embedding layer-norm, skip layer-norms and GELUs
into single CPU kernels (about 13% more chunks/s on 2 cores, float32 throughout). The fused graph
is checked against torch on sample texts before it is kept (max abs difference 1e-4; measured
2e-7); if the optimiser is missing or the check fails, the unfused graph is used. `onnx-int8` is
the float graph with weights dynamically quantised by onnxruntime's own quantiser.

Loading and encoding import neither torch nor sentence-transformers: only the export does, so a
query process whose store already holds the exported file starts in well under a second.

The export's third-party chatter (torch's tracer warnings, the transformers/onnx/onnxruntime
loggers, including the optimiser's modules that it imports under bare names such as `fusion_base`)
is not shown to the user: `quiet_export` catches it and logs it at debug level on `ally.ingest`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ally.errors import SettingsError
from ally.runtime import enforce_offline
from ally.units import Spans

log = logging.getLogger("ally.ingest")

Variant = Literal["onnx", "onnx-int8"]
EXPORT_VERSION = 2  # bumped when the export recipe changes (2: eager attention, fused by onnxruntime)
FUSED_TOLERANCE = 1e-4  # largest |difference| to torch accepted for the fused graph


MODEL_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json")
DIGESTS = "digests.json"  # in the cache folder: "path|size|mtime_ns" -> sha256 of the file's content
STALE_AFTER_S = 7 * 24 * 3600  # a cached graph nobody loaded for a week is removed by the next export
_EXPORT_NAME = re.compile(r"^\.?minilm-[0-9a-f]{12}(?:-int8)?\.onnx(?:\.[\w.]+)?$")


def _content_digest(path: Path, known: dict[str, str]) -> tuple[str, str]:
    """The sha256 of a file's content, from `known` when this path, size and mtime were hashed before;
    returns (index key, digest)."""
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    digest = known.get(key)
    if digest is None:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
    return key, digest


def _read_digests(cache_dir: Path) -> dict[str, str]:
    try:
        known = json.loads((cache_dir / DIGESTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or damaged (a crashed writer): the digests are computed again
    return {str(k): str(v) for k, v in known.items()} if isinstance(known, dict) else {}


def _write_digests(cache_dir: Path, known: dict[str, str]) -> None:
    """Atomically (a reader never sees half a file); entries of files that no longer exist are dropped."""
    kept = {k: v for k, v in known.items() if Path(k.split("|", 1)[0]).exists()}
    tmp = cache_dir / f".{DIGESTS}.{os.getpid()}.tmp"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(kept, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, cache_dir / DIGESTS)
    except OSError as exc:  # a read-only cache still works: the digests are computed on each start
        log.debug("cannot record the encoder digests in %s (%s)", cache_dir, exc)
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def fingerprint(model_dir: Path, cache_dir: Path) -> str:
    """Identity of the weights (the content of the model folder's files) and of the export recipe."""
    known = _read_digests(cache_dir)
    parts, fresh = [str(EXPORT_VERSION)], False
    for name in MODEL_FILES:
        f = model_dir / name
        if f.is_file():
            key, digest = _content_digest(f, known)
            fresh = fresh or key not in known
            known[key] = digest
            parts.append(f"{name}:{digest}")
    if fresh:
        _write_digests(cache_dir, known)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def onnx_path(model_dir: Path, cache_dir: Path, variant: Variant) -> Path:
    suffix = "-int8" if variant == "onnx-int8" else ""
    return cache_dir / f"minilm-{fingerprint(model_dir, cache_dir)}{suffix}.onnx"


def prune_stale(cache_dir: Path, keep: Path, now: float | None = None) -> list[Path]:
    """Remove the cached graphs (and leftovers of killed exports) not loaded for `STALE_AFTER_S`,
    never `keep`; returns what was removed. Loading a graph touches it (`OnnxEncoder.load`); a listing
    of a few files, so it runs at every load and export."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        names = list(cache_dir.iterdir()) if cache_dir.is_dir() else []
    except OSError:  # unreadable: nothing is pruned, the encoder still loads
        names = []
    for f in names:
        if f == keep or not _EXPORT_NAME.match(f.name):
            continue
        try:
            if now - f.stat().st_mtime > STALE_AFTER_S:
                f.unlink()
                removed.append(f)
        except OSError:  # removed meanwhile by another process, or not ours to remove
            continue
    if removed:
        log.info("removed %d encoder graph(s) unused for a week from %s", len(removed), cache_dir)
    return removed


# Libraries the export runs; their warnings and log records are logged at debug level instead.
EXPORT_LIBRARIES = ("torch", "transformers", "onnx", "onnxruntime", "onnxscript")


def _relay(record: logging.LogRecord) -> bool:
    """Re-log a third-party record at debug level on ALLy's own logger; False: drop the original."""
    log.debug("onnx export: %s: %s", record.name, record.getMessage())
    return False


class _DebugRelay(logging.Handler):
    """The handler of a library logger during the export: every record goes to `_relay`."""

    def emit(self, record: logging.LogRecord) -> None:
        _relay(record)


def _export_loggers() -> list[logging.Logger]:
    """The existing loggers of the export's libraries: their package loggers, and those named after
    modules loaded from their folders (onnxruntime's optimiser imports its modules as `fusion_base`,
    `onnx_model`, ...)."""
    folders = tuple(
        os.path.dirname(file) + os.sep
        for name in EXPORT_LIBRARIES
        if (file := getattr(sys.modules.get(name), "__file__", None))
    )
    from_folders = {
        name for name, module in list(sys.modules.items()) if str(getattr(module, "__file__", "")).startswith(folders)
    }
    return [
        logger
        for name, logger in list(logging.root.manager.loggerDict.items())
        if isinstance(logger, logging.Logger) and (name.split(".")[0] in EXPORT_LIBRARIES or name in from_folders)
    ]


def _load_export_libraries() -> None:
    """Import what the export uses up front, so that their loggers exist before they are quietened."""
    enforce_offline()
    import torch  # noqa: F401
    import transformers  # noqa: F401

    try:
        import onnxruntime.transformers.optimizer  # noqa: F401
    except Exception:  # the optimiser is optional: `_fuse` falls back to the plain graph
        log.debug("onnxruntime's transformer optimiser is not importable", exc_info=True)


@contextmanager
def _relayed_loggers() -> Iterator[None]:
    """Within: the export libraries' log records, and records logged on the root logger itself (the
    quantiser calls `logging.info(...)`), are relayed at debug level; a placeholder handler keeps
    those calls from configuring logging for the rest of the process."""
    relay = _DebugRelay()
    root = logging.getLogger()
    placeholder = None if root.handlers else logging.NullHandler()
    saved = [(logger, logger.handlers, logger.propagate) for logger in _export_loggers()]
    for logger, _, _ in saved:
        logger.handlers = [relay]
        logger.propagate = False
    root.addFilter(_relay)
    if placeholder is not None:
        root.addHandler(placeholder)
    try:
        yield
    finally:
        if placeholder is not None:
            root.removeHandler(placeholder)
        root.removeFilter(_relay)
        for logger, handlers, propagate in saved:
            logger.handlers = handlers
            logger.propagate = propagate


@contextmanager
def quiet_export() -> Iterator[None]:
    """Within: third-party warnings and log records are logged at debug level on `ally.ingest`
    instead of reaching the user's terminal (not thread-safe: `warnings` state is process-wide)."""
    _load_export_libraries()
    with _relayed_loggers(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                log.debug("onnx export: %s: %s (%s:%s)", w.category.__name__, w.message, w.filename, w.lineno)


def export_onnx(model_dir: Path, cache_dir: Path, variant: Variant = "onnx") -> Path:
    """Export (once) the graph for `variant` (fused float, or int8 from the plain float graph); returns its file."""
    target = onnx_path(model_dir, cache_dir, variant)
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with quiet_export():
        _export(model_dir, target, variant)
    (cache_dir / "README.json").write_text(
        json.dumps({"source": str(model_dir), "fingerprint": fingerprint(model_dir, cache_dir)}, indent=1),
        encoding="utf-8",
    )
    prune_stale(cache_dir, keep=target)
    return target


def _export(model_dir: Path, target: Path, variant: Variant) -> None:
    if variant == "onnx":
        _export_float(model_dir, target, fuse=True)
    else:  # the quantiser works on the plain graph (it cannot type the fused operators' inputs)
        from onnxruntime.quantization import QuantType, quantize_dynamic

        plain = target.with_name(f".{target.name}.{os.getpid()}.float.onnx")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp.onnx")
        try:
            _export_float(model_dir, plain, fuse=False)
            quantize_dynamic(str(plain), str(tmp), weight_type=QuantType.QInt8)
            os.replace(tmp, target)
        finally:
            plain.unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)


def _export_float(model_dir: Path, float_path: Path, fuse: bool) -> None:
    """torch.onnx export of the transformer, then (with `fuse`) attention/layer-norm fusion checked
    against torch."""
    enforce_offline()
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
    bert.eval()

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out[0]

    model = _Hidden().eval()
    sample = torch.ones((2, 16), dtype=torch.long)
    plain = float_path.with_name(f".{float_path.name}.{os.getpid()}.plain.onnx")
    fused = float_path.with_name(f".{float_path.name}.{os.getpid()}.fused.onnx")
    try:
        with torch.no_grad():
            torch.onnx.export(
                model,
                (sample, sample, torch.zeros_like(sample)),
                str(plain),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "seq"},
                    "attention_mask": {0: "batch", 1: "seq"},
                    "token_type_ids": {0: "batch", 1: "seq"},
                    "last_hidden_state": {0: "batch", 1: "seq"},
                },
                opset_version=17,
                dynamo=False,
            )
        chosen = _fuse(plain, fused, model_dir, model, bert.config) if fuse else plain
        os.replace(chosen, float_path)
    finally:
        for leftover in (plain, fused):
            leftover.unlink(missing_ok=True)


def _fuse(plain: Path, fused: Path, model_dir: Path, model: Any, config: Any) -> Path:
    """The fused graph when onnxruntime's optimiser makes one that agrees with torch, else `plain`."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(
            str(plain), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        )
        optimized.save_model_to_file(str(fused))
    except Exception as exc:  # optimiser missing or unable to fuse this graph: the plain graph is correct
        log.warning("ONNX attention fusion unavailable (%s); using the unfused graph", exc.__class__.__name__)
        return plain
    if _max_difference(fused, model_dir, model) > FUSED_TOLERANCE:
        log.warning("the fused ONNX graph differs from torch; using the unfused graph")
        return plain
    return fused


def _max_difference(path: Path, model_dir: Path, model: Any) -> float:
    """Largest |difference| between the ONNX graph's and torch's hidden states on padded sample texts."""
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_padding()
    texts = [
        "Blinatumomab 28 mcg/day for MRD-positive B-cell precursor ALL in first complete remission.",
        "Imatinib",
        "Ph-positive acute lymphoblastic leukemia: tyrosine kinase inhibitor plus chemotherapy or steroids.",
    ]
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    types = np.zeros_like(ids)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)).numpy()
    keep = mask[:, :, None].astype(bool)  # padded positions are masked out by pooling
    return float(np.abs(np.where(keep, got - want, 0.0)).max())


class OnnxEncoder:
    """all-MiniLM-L6-v2 through onnxruntime: tokenise, run, mean-pool, L2-normalise."""

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path,
        name: str,
        dim: int,
        variant: Variant = "onnx",
        batch_size: int = 32,
        max_tokens: int = 256,
        threads: int = 0,
        bulk: bool = False,
        spinning: bool = True,
    ) -> None:
        self.threads = threads  # intra-op threads of one call (0: onnxruntime's default, one per core)
        self.spinning = spinning  # idle intra-op threads spin for work (onnxruntime's default)
        # A query is one short text: its run is split over the cores. A bulk encoder (ingest) instead runs
        # whole batches side by side, each single-threaded, `threads` (default: one per usable core) at a
        # time: MiniLM's matrices for a batch of ~70-token chunks are too small to split well across
        # threads, and single-threaded runs never wait for each other (nor spin while idle), which keeps
        # their pace when ingest's reading and vector writing, or other programs, share the cores.
        self.bulk = bulk
        self.workers = (threads or usable_cores()) if bulk else 1
        self._pool: ThreadPoolExecutor | None = None
        self.model_dir = model_dir
        self.cache_dir = cache_dir
        self.name = name
        self.dim = dim
        self.variant = variant
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._session: Any = None
        self._tok: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            path = onnx_path(self.model_dir, self.cache_dir, self.variant)
            if path.is_file():
                with suppress(OSError):  # marks it in use, so no other process prunes it (`prune_stale`)
                    os.utime(path)
                prune_stale(self.cache_dir, keep=path)
            else:
                path = export_onnx(self.model_dir, self.cache_dir, self.variant)
            tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            tok.enable_truncation(max_length=self.max_tokens)
            tok.no_padding()
            opts = ort.SessionOptions()
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            opts.log_severity_level = 3
            if not self.spinning:
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            if self.bulk:
                opts.intra_op_num_threads = 1
            elif self.threads:
                opts.intra_op_num_threads = self.threads
            try:
                session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
            except Exception as exc:
                raise SettingsError(f"cannot load the ONNX encoder {path} ({exc}); delete it to re-export") from exc
            out_dim = session.get_outputs()[0].shape[-1]
            if isinstance(out_dim, int) and out_dim != self.dim:
                raise SettingsError(f"ONNX model {path} has dimension {out_dim}, settings say {self.dim}")
            self._tok = tok
            self._session = session

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def _hidden(self, encodings: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """The model's last hidden states for a batch (padded) and the attention mask."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        return hidden, mask

    def _run(self, encodings: list[Any]) -> np.ndarray:
        hidden, mask = self._hidden(encodings)
        return _normalised(_mean_pool(hidden, mask[:, :, None].astype(np.float32)))

    def _run_late(self, encodings: list[Any], spans: list[list[Spans]]) -> tuple[np.ndarray, list[np.ndarray]]:
        hidden, mask = self._hidden(encodings)
        texts = _normalised(_mean_pool(hidden, mask[:, :, None].astype(np.float32)))
        units: list[np.ndarray] = []
        for row, (e, text_spans) in enumerate(zip(encodings, spans, strict=True)):
            units.append(_normalised(_span_pool(hidden[row], e.offsets, e.special_tokens_mask, text_spans)))
        return texts, units

    def encode_late(self, texts: list[str], spans: list[list[Spans]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Late chunking: each text's vector (as `encode` gives it) and, from the same forward pass, a
        vector per character span of it: the mean of the token states the span covers, L2-normalised.
        A span the model never saw (past its token limit) gets a zero row."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        encodings, batches = self._tokenised(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        units: list[np.ndarray] = [np.zeros((0, self.dim), dtype=np.float32)] * len(texts)

        def run(idx: list[int]) -> None:
            vectors, pooled = self._run_late([encodings[i] for i in idx], [spans[i] for i in idx])
            out[idx] = vectors
            for i, u in zip(idx, pooled, strict=True):
                units[i] = u

        self._map(run, batches)
        return out, units

    def _tokenised(self, texts: list[str]) -> tuple[list[Any], list[list[int]]]:
        """The texts' encodings and their batches: length-sorted (less padding), as input indices."""
        self.load()
        encodings = self._tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        return encodings, [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings, batches = self._tokenised(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)

        def run(idx: list[int]) -> None:
            out[idx] = self._run([encodings[i] for i in idx])

        self._map(run, batches)
        return out

    def _map(self, run: Callable[[list[int]], None], batches: list[list[int]]) -> None:
        if self.workers > 1 and len(batches) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ally-encode")
            list(self._pool.map(run, batches))  # onnxruntime runs concurrently outside the GIL
        else:
            for idx in batches:
                run(idx)


def _mean_pool(hidden: np.ndarray, weights: np.ndarray) -> np.ndarray:
    pooled: np.ndarray = (hidden * weights).sum(axis=-2) / np.clip(weights.sum(axis=-2), 1e-9, None)
    return pooled


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    out: np.ndarray = (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)
    return out


def _span_pool(
    hidden: np.ndarray,
    offsets: list[tuple[int, int]],
    special: list[int],
    spans: list[Spans],
) -> np.ndarray:
    """One row per unit: the mean of the (non-special) token states whose characters overlap any of
    its spans (zero when the model saw none of them)."""
    n = min(len(offsets), hidden.shape[0])
    starts = np.fromiter((o[0] for o in offsets[:n]), dtype=np.int64, count=n)
    ends = np.fromiter((o[1] for o in offsets[:n]), dtype=np.int64, count=n)
    real = np.asarray(special[:n], dtype=bool) == 0
    out = np.zeros((len(spans), hidden.shape[1]), dtype=np.float32)
    for j, ranges in enumerate(spans):
        covered = np.zeros(n, dtype=bool)
        for start, end in ranges:
            covered |= (starts < end) & (ends > start)
        covered &= real
        if covered.any():
            out[j] = hidden[:n][covered].mean(axis=0)
    return out


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
