"""Search over the library: hybrid (dense + BM25, fused by the store), dense or keyword."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Literal

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

from desktop.core.library.catalog import Library
from desktop.core.library.citation import Citation
from desktop.core.store import FolioStore, missing_chunks_error

SearchMode = Literal["hybrid", "dense", "keyword"]
_MODES = {
    "hybrid": VectorStoreQueryMode.HYBRID,
    "dense": VectorStoreQueryMode.DEFAULT,
    "keyword": VectorStoreQueryMode.SPARSE,
}


def chunks_missing(store: FolioStore, library: Library) -> tuple[int, int] | None:
    """``(held, listed)`` when ``store`` holds fewer chunks than ``library`` lists for its
    indexed files; None when it holds them all.

    Both are counted with the store's writes held back where it can (Edge's
    ``hold_writes``): an ingest marks a file indexed only once its chunks are in the store,
    and takes it out of the library's count before deleting them, so with no store write
    between the two counts a store in step with the library never reads as short.
    """
    hold = getattr(store, "hold_writes", None)
    with hold() if hold is not None else nullcontext():
        held = store.count()
        listed = library.indexed_chunks()
    return (held, listed) if held < listed else None


class Retriever:
    """Finds the passages that answer a question."""

    def __init__(
        self,
        library: Library,
        store: FolioStore,
        embed_model: BaseEmbedding,
        embed_model_name: str,
        top_k: int,
        where: str = "",
        embed_query: Callable[[str], list[float]] | None = None,
    ) -> None:
        """``where`` names the store in messages (e.g. its collection and URL);
        ``embed_query`` gives a query's vector (``embed_model.get_query_embedding`` unless
        given, e.g. through ``desktop.core.models.embedding_cache``)."""
        self.embed_query = embed_query or embed_model.get_query_embedding
        self.where = where
        self.library = library
        self.store = store
        self.embed_model = embed_model
        self.embed_model_name = embed_model_name
        self.top_k = top_k

    def missing(self) -> tuple[int, int] | None:
        """``chunks_missing`` for this library and its store: ``(held, listed)`` when the
        store lacks chunks, so that results may leave some of the library out."""
        return chunks_missing(self.store, self.library)

    def search(
        self, query: str, k: int | None = None, mode: SearchMode = "hybrid"
    ) -> list[Citation]:
        """The ``k`` best passages for ``query``, best first."""
        self.library.require_embedding_model(self.embed_model_name)
        if not query.strip():
            return []
        embedding = None if mode == "keyword" else self.embed_query(query)
        result = self.store.query(
            VectorStoreQuery(
                query_embedding=embedding,
                query_str=query,
                similarity_top_k=k or self.top_k,
                mode=_MODES[mode],
            )
        )
        if not result.nodes:
            # No hit at all: an empty or partial store must say so, not pass for no match.
            missing = self.missing()
            if missing is not None:
                raise missing_chunks_error(*missing, self.where)
        citations = []
        for node, score in zip(result.nodes or [], result.similarities or [], strict=False):
            meta = node.metadata
            citations.append(
                Citation(
                    path=meta.get("file_path", ""),
                    page=meta.get("page"),
                    score=float(score),
                    text=node.get_content(),
                    file_name=meta.get("file_name", ""),
                    title=meta.get("title"),
                )
            )
        return citations
