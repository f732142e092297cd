"""A Qdrant server or cluster through ``qdrant-client``, for libraries that outgrow one machine.

LlamaIndex's ``QdrantVectorStore`` does the work, fusing hybrid results by normalised
scores (its relative score fusion, close to the embedded store's DBSF). BM25 sparse vectors
come from Qdrant Edge's tokenizer (``keywords.py``), so the keyword side needs no model
download and matches the embedded store.
"""

from __future__ import annotations

import os
import socket
import threading
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
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
from desktop.core.library.filenames import one_line
from desktop.core.paths import DATA_FOLDER_MARKS
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

    def __init__(
        self, client: QdrantClient, collection: str, *, local: bool = False, **kwargs: Any
    ) -> None:
        """``local``: ``client`` runs qdrant-client's local mode (a folder or ``:memory:``)."""
        # Local mode has no payload indexes: asking for one (LlamaIndex asks for doc_id's
        # too) only prints a warning, so indexes are asked of real servers only.
        indexes = [
            # LlamaIndex's annotation says dict[str, PayloadSchemaType]; it reads both keys.
            {"field_name": "file_path", "field_schema": rest.PayloadSchemaType.KEYWORD}
        ]
        super().__init__(
            collection_name=collection,
            client=client,
            enable_hybrid=True,
            sparse_doc_fn=_sparse_docs,
            sparse_query_fn=_sparse_queries,
            sparse_config=rest.SparseVectorParams(modifier=rest.Modifier.IDF),
            dense_vector_name=DENSE,
            sparse_vector_name=SPARSE,
            payload_indexes=None if local else indexes,  # type: ignore[arg-type]
            index_doc_id=not local,
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
        """Close the client connection (a local folder's once no other store uses it)."""
        _release(self._client)


# Qdrant's own rule for a new collection's name (the server's, and qdrant-client's local
# mode, which keeps each collection in a folder named after it): 1 to 255 characters,
# none of these, and not "." or "..".
COLLECTION_NAME_LIMIT = 255
_NOT_IN_COLLECTION_NAMES = frozenset('<>:"/\\|?*\0\x1f')
# Characters that do not show (controls, line breaks, right-to-left overrides): Qdrant takes
# most of them, but a folder named with one cannot be typed, nor a message naming it read.
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")
# What Folio keeps in its data folder besides the marks of one: Qdrant's files must not go
# into any of them, nor into the data folder itself.
_FOLIO_ENTRIES = (*DATA_FOLDER_MARKS, "models")
# The port qdrant-client talks to when a URL names none.
QDRANT_PORT = 6333


def _hidden(text: str) -> bool:
    return any(unicodedata.category(c) in _HIDDEN_CATEGORIES for c in text)


def _qdrant_refuses(name: str) -> bool:
    """Whether Qdrant refuses ``name`` for a new collection (qdrant-client raises then)."""
    return (
        name in ("", ".", "..")
        or len(name) > COLLECTION_NAME_LIMIT
        or not _NOT_IN_COLLECTION_NAMES.isdisjoint(name)
    )


def collection_problem(name: str) -> str | None:
    """Why ``name`` cannot be a Qdrant collection's name, or None: words that follow the
    quoted name. Qdrant's rule, plus no character that does not show and no space at
    either end (two names would look the same)."""
    if _qdrant_refuses(name) or _hidden(name) or name.strip() != name:
        return (
            f"is not a name Qdrant takes for a collection: use 1 to {COLLECTION_NAME_LIMIT} "
            'characters, none of < > : " / \\ | ? * or control characters, no space at '
            "either end, and not . or .. (e.g. folio)"
        )
    return None


def url_problem(url: str) -> str | None:
    """Why ``connect`` cannot take ``url``, or None: a server's ``http://``/``https://``
    address, ``file:///FOLDER`` (an absolute path, not a file) or ``:memory:``. Without a
    scheme qdrant-client would report a name lookup failure, not the mistake."""
    if url == ":memory:":
        return None
    if url.startswith("file://"):
        return _folder_problem(url.removeprefix("file://"))
    if url.lower().startswith(("http://", "https://")):
        # qdrant-client's HTTP transport is httpx, as the OpenAI SDK's is: the same check.
        return server_url_problem(url)
    return (
        "must start with http:// or https:// (a Qdrant server, e.g. http://localhost:6333), "
        "or be file://FOLDER (Qdrant's local mode on disk)"
    )


def _folder_problem(path: str) -> str | None:
    """Why ``path``, the part of a ``file://`` URL after the scheme, cannot hold Qdrant's
    local mode, or None."""
    if not path.strip():
        return "must name a folder after file://"
    if _hidden(path):
        return "must not hold control characters or line breaks: type the folder's path"
    if not os.path.isabs(path):
        # "file://relative/dir" would be saved as typed and found again from whatever the
        # current folder is then (RFC 8089 reads "relative" as a host name besides).
        return (
            "must name the folder by its absolute path, with three slashes "
            "(e.g. file:///home/me/qdrant)"
        )
    if os.path.exists(path) and not os.path.isdir(path):
        return (
            "names a file, not a folder: give a folder for Qdrant's files (it is made if missing)"
        )
    return None


def local_folder(url: str) -> Path | None:
    """The folder a ``file://`` URL names, absolute with symlinks resolved; None for others."""
    if not url.startswith("file://"):
        return None
    return Path(os.path.realpath(url.removeprefix("file://")))


def in_data_folder(url: str, home: Path) -> str | None:
    """Why the ``file://`` URL ``url`` cannot hold Qdrant's files, being the data folder
    ``home`` or a folder Folio keeps in it (Qdrant's files would be mixed with Folio's);
    None when it can, or is no folder. Words that follow the URL."""
    folder = local_folder(url)
    if folder is None:
        return None
    home = Path(os.path.realpath(home))
    if folder == home or any(folder.is_relative_to(home / name) for name in _FOLIO_ENTRIES):
        return (
            f"is Folio's data folder {home} or a folder Folio keeps in it: give a folder "
            f"outside it for Qdrant's files (e.g. file://{home.parent / 'qdrant'})"
        )
    return None


def location(url: str) -> str:
    """``url`` spelled one way for each Qdrant it leads to, to tell whether two URLs name
    the same: a folder's path resolved (a trailing slash, ``..`` or a symlink aside), a
    server's host in lower case with its port (6333 when none is given) and no trailing
    slash."""
    folder = local_folder(url)
    if folder is not None:
        return f"file://{folder}"
    try:
        parts = urlsplit(url)
        port = parts.port or QDRANT_PORT
    except ValueError:  # not an address: only the same text is the same place
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme.lower()}://{host}:{port}{parts.path.rstrip('/')}"


# qdrant-client's local mode locks its folder for one client at a time (a second one raises
# "already accessed by another instance"), so the stores of two collections in one folder,
# the library's and the one it moves to, share one client: counted, closed with the last.
_folders_lock = threading.Lock()
_open_folders: dict[str, tuple[QdrantClient, int]] = {}


def _open_folder(folder: str) -> QdrantClient:
    with _folders_lock:
        client, users = _open_folders.get(folder, (None, 0))
        if client is None:
            client = _local_client(folder)
        _open_folders[folder] = (client, users + 1)
        return client


def _local_client(folder: str) -> QdrantClient:
    try:
        return QdrantClient(path=folder)
    except RuntimeError as exc:
        if "already accessed" not in str(exc):
            raise
        raise StoreError(
            f"The Qdrant folder {folder} is open in another program (another Folio's library, "
            "or a script using qdrant-client): close it there, or give another folder."
        ) from exc
    except OSError as exc:
        raise StoreError(
            f"The folder {folder} cannot hold Qdrant's files: {exc.strerror or exc}. Give a "
            "folder your user can write to."
        ) from exc


def _release(client: QdrantClient) -> None:
    """Close ``client``, or, when it is a local folder's still used by another store, count
    one user less."""
    with _folders_lock:
        for folder, (shared, users) in _open_folders.items():
            if shared is client:
                if users > 1:
                    _open_folders[folder] = (client, users - 1)
                    return
                del _open_folders[folder]
                break
    client.close()


def connect(url: str, api_key: str | None, collection: str) -> ServerVectorStore:
    """A store on the Qdrant server at ``url``.

    ``:memory:`` runs qdrant-client in-process, and ``file:///FOLDER`` its local mode on disk
    (a real implementation of the server's API, kept across runs); stores of one folder
    share its client.

    Raises StoreError naming ``url`` when the server cannot be reached or refuses the
    request (down, a wrong address, a wrong API key, not a Qdrant server): it is asked at
    once whether the collection exists. Raises StoreError too for a collection name Qdrant
    does not take, and a folder that is in use or cannot be written.
    """
    # Only what Qdrant itself refuses: a collection made elsewhere keeps its name.
    if _qdrant_refuses(collection):
        problem = collection_problem(collection)
        raise StoreError(f"The Qdrant collection name {collection!r} {problem}.")
    folder = local_folder(url)
    if url == ":memory:":
        client = QdrantClient(location=":memory:")
    elif folder is not None:
        client = _open_folder(str(folder))
    else:
        # No version check: qdrant-client's runs in a thread of its own and can only print a
        # warning, a second one beside Folio's message when the server does not answer.
        # The first request below tells whether a Qdrant server answers.
        client = QdrantClient(url=url, api_key=api_key, check_compatibility=False)
    local = url == ":memory:" or folder is not None
    try:
        return ServerVectorStore(client, collection, local=local)
    except (ResponseHandlingException, UnexpectedResponse) as exc:
        _release(client)
        raise unreachable(url, exc) from exc
    except ValueError as exc:
        _release(client)
        if local:
            raise
        # From a server, an answer that is not JSON, or not Qdrant's.
        raise unreachable(url, exc) from exc
    except BaseException:
        _release(client)
        raise


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: its causes, and the exception an httpx or qdrant-client
    error carries as its argument."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is seen for seen in found):
            continue
        found.append(e)
        wrapped = [a for a in e.args if isinstance(a, BaseException)]
        todo += [e.__cause__, e.__context__, *wrapped]
    return found


def unreachable(url: str, exc: Exception) -> StoreError:
    """The error for a Qdrant server at ``url`` that did not answer as one (``exc``), saying
    which way: nothing answers there, its host is unknown, it did not answer in time, it
    refused the API key, it failed, or something other than Qdrant answered."""
    if isinstance(exc, UnexpectedResponse) and exc.status_code is not None:
        status = f"HTTP {exc.status_code}"
        if exc.status_code in (401, 403):
            refused = f"The Qdrant server at {url} refused the request ({status}): check "
            return StoreError(
                f"{refused}the API key, held by the variable named in the Storage settings.",
                cli=f"{refused}the API key, held by the variable --api-key-env names.",
            )
        if exc.status_code >= 500:
            return StoreError(
                f"The server at {url} answered with an error ({status}): check that the "
                "Qdrant server is running and its log, then try again."
            )
        return StoreError(
            f"The server at {url} answered, but not as a Qdrant server does ({status}): "
            "check the address and port."
        )
    causes = _causes(exc)
    if any(isinstance(e, ConnectionRefusedError) for e in causes):
        return StoreError(
            f"Cannot reach the Qdrant server at {url}: nothing answers there. Is the Qdrant "
            "server running, on that port?"
        )
    if any(isinstance(e, socket.gaierror) for e in causes):
        return StoreError(
            f"Cannot reach the Qdrant server at {url}: its host name is not known. Check "
            "the address."
        )
    if any(isinstance(e, httpx.TimeoutException) for e in causes):
        return StoreError(
            f"Cannot reach the Qdrant server at {url}: it did not answer in time. Check the "
            "address, and that the server is running and not overloaded."
        )
    unread = isinstance(exc, ResponseHandlingException) and not isinstance(
        exc.source, httpx.TransportError
    )
    if unread or isinstance(exc, ValueError):
        # An answer came, but not one qdrant-client could read (a web page, other JSON).
        return StoreError(
            f"The server at {url} answered, but not as a Qdrant server does: check the "
            "address and port."
        )
    reason = one_line(" ".join(str(exc).split())) or type(exc).__name__
    return StoreError(
        f"Cannot reach the Qdrant server at {url}: {reason}. Check the URL and that the "
        "server is running."
    )
