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

    def ids(self) -> set[str]:
        """The id of every chunk the store holds (neither text nor vectors are read)."""

    def commit(self) -> None:
        """Make what was written durable (ingestion's crash safety rests on it)."""

    def optimize(self) -> None:
        """Index what was written (HNSW), so searches stay fast."""

    def close(self) -> None:
        """Release the store (files, locks, connections)."""


def missing_chunks_error(
    held: int, listed: int, where: str, unavailable: list[str] | None = None
) -> StoreError:
    """The error saying what to do when the store at ``where`` holds ``held`` chunks of the
    ``listed`` ones library.db lists for its indexed files (``held < listed``).

    Such a store must not pass for a whole library. Its files were lost or damaged (a sync
    indexes the missing chunks again: ``Ingestor.sync``), or the settings point at a store,
    typically a server collection, the library was never moved to. Files in ``unavailable``
    library folders cannot be read now, so a sync indexes theirs only once they are back.
    """
    it = "they are" if unavailable and len(unavailable) > 1 else "it is"
    later = (
        f" Chunks of files in {', '.join(unavailable)}, which cannot be reached now, can be "
        f"indexed again only once {it} back."
        if unavailable
        else ""
    )
    found = (
        f"holds none of the library's {listed} chunks"
        if held == 0
        else f"holds only {held} of the library's {listed} chunks"
    )
    return StoreError(
        f"The vector store {where} {found}. If its files were lost or "
        "damaged, press Sync now in the Library to index the missing chunks again; if the "
        "settings point at another store, move the library there (Storage settings) or "
        f"switch the store back.{later}",
        cli=f"The vector store {where} {found}. If its files were lost or "
        "damaged, run `folio-cli sync` to index the missing chunks again; if the settings "
        "point at another store, move the library there with `folio-cli store move` (or the "
        f"window's Storage settings), or switch the store back.{later}",
    )
