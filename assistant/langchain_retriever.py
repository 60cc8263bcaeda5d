"""ALLy's hybrid retriever as a LangChain `BaseRetriever`, so it plugs into LangChain chains.

from assistant.service import Assistant
from assistant.langchain_retriever import AllyRetriever
retriever = AllyRetriever(assistant=Assistant.open())
docs = retriever.invoke("blinatumomab for MRD-positive B-ALL")
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class AllyRetriever(BaseRetriever):
    """Dense + BM25 fused retrieval over an opened ALLy store; documents carry chunk metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any
    k: int = 8

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.assistant.retriever.retrieve(query, k=self.k)
        return [
            Document(
                page_content=h.chunk.text,
                metadata={
                    "chunk_id": h.chunk.chunk_id,
                    "doc_id": h.chunk.doc_id,
                    "title": h.chunk.title,
                    "section": h.chunk.section,
                    "score": h.score,
                },
            )
            for h in hits
        ]
