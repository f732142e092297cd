"""Moving a library's points between Qdrant Edge and a Qdrant server, then switching to it.

Like the embedding model switch (``desktop.core.library.reembed``), a move copies in the
background, batch by batch, each batch committed to the target under the same id and
payload, then switches at the end:

1. Copy: every chunk of the source (dense vector, payload) is written to the target; the
   target's ``add`` recomputes the BM25 sparse vector from the stored text, so nothing is
   embedded again. Chunks the target already holds are skipped, so a cancelled or killed
   move resumes where it stopped. The move in progress is recorded in the library's meta
   (``STORE_MOVE_KEY``) with its progress.
2. Verify and switch: the target's ids must equal the source's (chunks removed from the
   target meanwhile are deleted, missing ones copied); only then does the caller save the
   settings naming the target as the library's store, and the record is cleared.

A crash at any moment leaves the library on its source store, whole: the source is only
read, and the settings change only after the target was verified.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from desktop.core.errors import Cancelled, StoreError
from desktop.core.library.catalog import Library
from desktop.core.library.search import chunks_missing
from desktop.core.store import DENSE, FolioStore
from desktop.core.store.edge import EdgeVectorStore
from desktop.core.store.server import ServerVectorStore
from desktop.core.tasks import CancelToken, Progress, ProgressCallback

STORE_MOVE_KEY = "store_move"
# Points copied and committed together: a kill loses at most one batch.
MOVE_BATCH_SIZE = 256


@dataclass(frozen=True)
class StoreMove:
    """A move in progress: where to, and ``done`` of ``total`` chunks as of its last batch."""

    backend: str
    url: str | None
    collection: str | None
    done: int = 0
    total: int = 0


@dataclass
class MoveReport:
    """What one ``move_points`` run did; ``to_json`` is the CLI's shape."""

    backend: str
    moved: int = 0
    chunks: int = 0
    resumed: bool = False
    cancelled: bool = False
    verified: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """``folio-cli store move``'s JSON shape: moved, backend, seconds, plus chunks,
        resumed, cancelled and verified."""
        return {
            "moved": self.moved,
            "backend": self.backend,
            "chunks": self.chunks,
            "resumed": self.resumed,
            "cancelled": self.cancelled,
            "verified": self.verified,
            "seconds": round(self.seconds, 3),
        }


def pending_move(library: Library) -> StoreMove | None:
    """The move in progress, if any."""
    raw = library.get_meta(STORE_MOVE_KEY)
    return StoreMove(**json.loads(raw)) if raw else None


def _record(library: Library, move: StoreMove | None) -> None:
    library.update_meta({STORE_MOVE_KEY: json.dumps(asdict(move)) if move else None})


def read_nodes(store: FolioStore, ids: list[str]) -> list[BaseNode]:
    """The chunks ``ids`` of ``store`` with their dense embeddings (missing ones left out)."""
    if isinstance(store, EdgeVectorStore):
        return store.get_nodes(node_ids=ids)
    if isinstance(store, ServerVectorStore):
        records = store.client.retrieve(
            store.collection_name, ids=ids, with_payload=True, with_vectors=[DENSE]
        )
        nodes = []
        for record in records:
            node = metadata_dict_to_node(record.payload or {})
            vector = record.vector
            if isinstance(vector, dict) and DENSE in vector:
                node.embedding = list(vector[DENSE])
            nodes.append(node)
        return nodes
    raise StoreError(f"Cannot read the chunks of a {type(store).__name__}.")


def move_points(
    library: Library,
    source: FolioStore,
    target: FolioStore,
    move: StoreMove,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    batch_size: int = MOVE_BATCH_SIZE,
) -> MoveReport:
    """Copy what ``target`` lacks of ``source``, then verify both hold the same ids.

    A pending move to the same place resumes; one to elsewhere is replaced (its partial
    copy stays on its target, which is not the library's store). ``report.verified`` tells
    the caller it may switch the settings. Cancelling stops after the current batch.

    Raises StoreError, with nothing copied, when ``source`` is short (``require_whole``).
    """
    require_whole(library, source)
    started = time.monotonic()
    report = MoveReport(move.backend)
    pending = pending_move(library)
    report.resumed = pending is not None and (pending.backend, pending.url, pending.collection) == (
        move.backend,
        move.url,
        move.collection,
    )
    try:
        wanted = source.ids()
        present = target.ids()
        gone = sorted(present - wanted)
        if gone:
            target.delete_nodes(node_ids=gone)
        todo = sorted(wanted - present)
        total, done = len(wanted), len(wanted) - len(todo)
        _record(library, StoreMove(move.backend, move.url, move.collection, done, total))
        _emit(on_progress, done, total)
        for start in range(0, len(todo), max(1, batch_size)):
            if cancel is not None:
                cancel.raise_if_cancelled()
            nodes = read_nodes(source, todo[start : start + batch_size])
            if nodes:
                target.add(nodes)
                target.commit()
            report.moved += len(nodes)
            done += len(nodes)
            _record(library, StoreMove(move.backend, move.url, move.collection, done, total))
            _emit(on_progress, done, total)
        target.optimize()
        report.chunks = target.count()
        report.verified = target.ids() == wanted and report.chunks == len(wanted)
        if not report.verified:
            raise StoreError(
                f"The copy holds {report.chunks} chunks, the library {len(wanted)}: "
                "run the move again."
            )
        _record(library, None)
    except Cancelled:
        report.cancelled = True
    report.seconds = time.monotonic() - started
    return report


def require_whole(library: Library, source: FolioStore) -> None:
    """StoreError when ``source`` holds fewer chunks than ``library`` lists for its indexed
    files: the copy would be verified against what is left, and the library would move
    short. Its status says so too, and a sync indexes the missing chunks again."""
    missing = chunks_missing(source, library)
    if missing is None:
        return
    held, listed = missing
    found = (
        f"holds none of the library's {listed} chunks"
        if held == 0
        else f"holds only {held} of the library's {listed} chunks"
    )
    raise StoreError(
        f"The library was not moved: its current store {found}. Press Sync now in the "
        "Library first to index the missing chunks again, then move it.",
        cli=f"The library was not moved: its current store {found}. Run `folio-cli sync` "
        "first to index the missing chunks again, then move it.",
    )


def _emit(callback: ProgressCallback | None, done: int, total: int) -> None:
    if callback is not None:
        callback(Progress(0, 0, done, total, None, None))
