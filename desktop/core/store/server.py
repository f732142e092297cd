"""A Qdrant server or cluster through ``qdrant-client``, for libraries that outgrow one machine.

LlamaIndex's ``QdrantVectorStore`` does the work, fusing hybrid results by normalised
scores (its relative score fusion, close to the embedded store's DBSF). BM25 sparse vectors
come from Qdrant Edge's tokenizer (``keywords.py``), so the keyword side needs no model
download and matches the embedded store.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryResult,
)
from llama_index.vector_stores.qdrant import QdrantVectorStore
from qdrant_client import QdrantClient
from qdrant_client.http import models as rest
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from desktop.core.errors import StoreError
from desktop.core.settings import server_url_problem
from desktop.core.store import DENSE, SPARSE
from desktop.core.store.keywords import Keywords

_keywords = Keywords()


def _sparse(texts: list[str], *, query: bool) -> tuple[list[list[int]], list[list[float]]]:
    embed = _keywords.query if query else _keywords.document
    vectors = [embed(text) for text in texts]
    return [list(v.indices) for v in vectors], [list(v.values) for v in vectors]


def _sparse_docs(texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
    return _sparse(texts, query=False)


def _sparse_queries(texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
    return _sparse(texts, query=True)


class ServerVectorStore(QdrantVectorStore):
    """LlamaIndex's Qdrant store with hybrid search, plus Folio's count/commit/close."""

    def __init__(self, client: QdrantClient, collection: str, **kwargs: Any) -> None:
        super().__init__(
            collection_name=collection,
            client=client,
            enable_hybrid=True,
            sparse_doc_fn=_sparse_docs,
            sparse_query_fn=_sparse_queries,
            sparse_config=rest.SparseVectorParams(modifier=rest.Modifier.IDF),
            dense_vector_name=DENSE,
            sparse_vector_name=SPARSE,
            payload_indexes=[
                # LlamaIndex's annotation says dict[str, PayloadSchemaType]; it reads both keys.
                {"field_name": "file_path", "field_schema": rest.PayloadSchemaType.KEYWORD}  # type: ignore[dict-item]
            ],
            **kwargs,
        )

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's name for this store class."""
        return "FolioServerVectorStore"

    # The collection is created on the first write; before it, reads find nothing.

    def count(self) -> int:
        """Number of chunks in the collection."""
        if not self._collection_initialized:
            return 0
        return self._client.count(self.collection_name, exact=True).count

    def ids(self) -> set[str]:
        """The id of every chunk in the collection; neither payloads nor vectors are read."""
        found: set[str] = set()
        if not self.count():
            return found
        offset = None
        while True:
            records, offset = self._client.scroll(
                self.collection_name,
                limit=4096,
                offset=offset,
                with_payload=False,
                with_vectors=False,
            )
            found.update(str(r.id) for r in records)
            if offset is None:
                return found

    def delete_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
        shard_identifier: Any | None = None,
        **delete_kwargs: Any,
    ) -> None:
        """Delete chunks by id and/or metadata filter."""
        if self._collection_initialized:
            super().delete_nodes(node_ids, filters, shard_identifier, **delete_kwargs)

    def get_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
        limit: int | None = None,
        shard_identifier: Any | None = None,
    ) -> list[BaseNode]:
        """Chunks by id and/or metadata filter, with their vectors."""
        if not self._collection_initialized:
            return []
        return super().get_nodes(node_ids, filters, limit, shard_identifier)

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Dense, keyword or hybrid search; for hybrid, LlamaIndex fuses the server's two lists."""
        if not self._collection_initialized:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        return super().query(query, **kwargs)

    def commit(self) -> None:
        """Nothing to do: the server acknowledges writes once they are in its WAL."""

    def optimize(self) -> None:
        """Nothing to do: the server builds its indexes in the background."""

    def close(self) -> None:
        """Close the client connection."""
        self._client.close()


def url_problem(url: str) -> str | None:
    """Why ``connect`` cannot take ``url``, or None: a server's ``http://``/``https://``
    address, ``file://FOLDER`` or ``:memory:``. Without a scheme qdrant-client would report
    a name lookup failure, not the mistake."""
    if url == ":memory:":
        return None
    if url.startswith("file://"):
        return None if url.removeprefix("file://").strip() else "must name a folder after file://"
    if url.lower().startswith(("http://", "https://")):
        # qdrant-client's HTTP transport is httpx, as the OpenAI SDK's is: the same check.
        return server_url_problem(url)
    return (
        "must start with http:// or https:// (a Qdrant server, e.g. http://localhost:6333), "
        "or be file://FOLDER (Qdrant's local mode on disk)"
    )


def connect(url: str, api_key: str | None, collection: str) -> ServerVectorStore:
    """A store on the Qdrant server at ``url``.

    ``:memory:`` runs qdrant-client in-process, and ``file://FOLDER`` its local mode on disk
    (a real implementation of the server's API, kept across runs).

    Raises StoreError naming ``url`` when the server cannot be reached or refuses the
    request (down, a wrong address, a wrong API key): it is asked at once whether the
    collection exists.
    """
    if url == ":memory:":
        client = QdrantClient(location=":memory:")
    elif url.startswith("file://"):
        client = QdrantClient(path=url.removeprefix("file://"))
    else:
        client = QdrantClient(url=url, api_key=api_key)
    try:
        return ServerVectorStore(client, collection)
    except (ResponseHandlingException, UnexpectedResponse) as exc:
        client.close()
        raise unreachable(url, exc) from exc


def unreachable(url: str, exc: Exception) -> StoreError:
    """The error for a Qdrant server at ``url`` that did not answer as one (``exc``)."""
    reason = str(exc).strip() or type(exc).__name__
    return StoreError(
        f"Cannot reach the Qdrant server at {url}: {reason}. Check the URL and that the "
        "server is running."
    )
