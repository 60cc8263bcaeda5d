"""The store's vector collection in Chroma: embedded in the store folder, or a `chroma run`
server (ALLY_CHROMA_URL). Telemetry is off, and Chroma's default embedding function is never
used: ALLy computes every vector itself."""

from __future__ import annotations

import os
from typing import Any

from ally.errors import StoreError
from ally.settings import Settings


def chroma_client(settings: Settings) -> Any:
    """Embedded Chroma in the store folder, or a `chroma run` server; telemetry off either way."""
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    return chromadb.PersistentClient(path=str(settings.store / "chroma"), settings=chroma_settings)


def open_collection(settings: Settings, name: str) -> Any:
    """The existing collection `name`; StoreError (naming the fix) when it is missing or damaged."""
    try:
        return chroma_client(settings).get_collection(name, embedding_function=None)
    except Exception as exc:  # chromadb raises several types for a missing collection
        raise StoreError(
            f"the vector collection of the store at {settings.store} is missing or damaged ({exc}); move "
            f"{settings.store} aside and rebuild with: ally ingest corpus --store {settings.store}"
        ) from exc


def open_or_create_collection(settings: Settings, name: str) -> Any:
    """The collection `name`, created (cosine space, labelled with the index settings) if missing."""
    return chroma_client(settings).get_or_create_collection(
        name,
        embedding_function=None,
        metadata={
            "hnsw:space": "cosine",
            "embedding_model": settings.embedding_model,
            "embedding_dim": settings.embedding_dim,
            "index_hash": settings.index_hash,
        },
    )
