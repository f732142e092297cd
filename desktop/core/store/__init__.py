"""Vector stores: one module per backend, each a LlamaIndex ``BasePydanticVectorStore``.

Besides LlamaIndex's interface, every Folio store offers ``count()``, ``commit()`` (make what
was written durable), ``optimize()`` (index what was written) and ``close()``; ingestion
relies on ``commit()`` for crash safety.
"""

from __future__ import annotations

from typing import Any, Protocol

from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryResult,
)

from desktop.core.errors import StoreError

DENSE = "dense"
SPARSE = "bm25"


class FolioStore(Protocol):
    """The part of a LlamaIndex vector store Folio uses, plus durability and counting."""

    def add(self, nodes: list[BaseNode], **kwargs: Any) -> list[str]:
        """Upsert chunks (with their embeddings); returns their ids."""

    def delete_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
        **delete_kwargs: Any,
    ) -> None:
        """Delete chunks by id and/or metadata filter."""

    def get_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
    ) -> list[BaseNode]:
        """Chunks by id and/or metadata filter, with their vectors."""

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Dense, keyword (BM25) or hybrid search."""

    def count(self) -> int:
        """How many chunks the store holds."""

    def commit(self) -> None:
        """Make what was written durable (ingestion's crash safety rests on it)."""

    def optimize(self) -> None:
        """Index what was written (HNSW), so searches stay fast."""

    def close(self) -> None:
        """Release the store (files, locks, connections)."""


def missing_points(library_chunks: int, store_count: int, where: str) -> StoreError | None:
    """The error saying what to do when the store at ``where`` holds fewer chunks than
    library.db lists.

    None when the store has them all. Such a store (typically a server collection the
    settings were pointed at before the library was moved there) must not pass for a
    searchable library.
    """
    if store_count >= library_chunks:
        return None
    found = "is empty" if store_count == 0 else f"holds {store_count} of {library_chunks} chunks"
    return StoreError(
        f"The vector store {where} {found}: move the library there, or switch the store back.",
        cli=f"The vector store {where} {found}: move the library there with "
        "`folio-cli store move` (or the window's Storage settings), or switch the store back.",
    )
