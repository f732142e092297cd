"""Switching a library's embedding model: re-embed into a new collection, then swap.

Each embedding model's vectors live in their own Qdrant Edge shard under ``store/``: ``edge``
for a library's first model, ``edge-<model>-<random>`` for each one switched to later. The
library's meta names the active model and directory, and, while a switch is in progress, its
target model and directory (with its progress, for ``status`` in another process).

A switch runs in two parts:

1. Bulk: every chunk of the active collection is embedded again with the target model,
   from the text stored with it (files are not read again), in batches, each committed to
   the target under the same id and payload. Chunks already in the target are skipped, so a
   run that was stopped or killed resumes where it stopped. Search and ingestion keep using
   the active collection and model; this part may run alongside them.
2. Swap: catch-up passes make the target equal to the active collection (chunks added
   meanwhile are embedded, removed ones deleted); the last pass holds back writes to the
   active store, and one library transaction then makes the target active. The old
   directory is deleted afterwards.

The swap must not run while an ingest does, which would go on writing to the old store: the
caller serialises them (in the window, library jobs run one at a time). Another process
cannot interfere, as Qdrant Edge lets one process open a shard and a switch keeps the active
one open from start to end.

A crash at any moment leaves a consistent, searchable library: a switch only reads the
active collection; the pending switch is recorded before its directory is created; the
target is committed before the transaction that makes it active; and any directory that is
neither active nor pending (an abandoned target, an old collection not yet deleted) is
removed the next time the store is opened (``remove_stale_collections``).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import MetadataMode

from desktop.core.errors import Cancelled, StoreError
from desktop.core.library.catalog import (
    EMBEDDING_MODEL_KEY,
    EMBEDDING_STORE_KEY,
    EMBEDDING_SWITCH_KEY,
    Library,
)
from desktop.core.models.embeddings import LOCAL_EMBEDDING_ID, embedding_dim
from desktop.core.store.edge import EdgeVectorStore, stored_dim
from desktop.core.tasks import CancelToken, Progress, ProgressCallback, eta_seconds

log = logging.getLogger(__name__)

DEFAULT_COLLECTION = "edge"
# Chunks embedded and committed together: a kill loses at most one batch, and a commit (a
# flush, tens of milliseconds) stays small next to embedding 64 chunks.
REEMBED_BATCH_SIZE = 64
# Unlocked catch-up passes before the last, locked one; each leaves less for the next.
_CATCH_UP_PASSES = 3
_COLLECTION_NAME = re.compile(rf"^{DEFAULT_COLLECTION}(-[a-z0-9-]+)?$")


@dataclass(frozen=True)
class Collection:
    """One embedding model's vectors: the model id and its directory under ``store/``."""

    model: str
    directory: str


@dataclass(frozen=True)
class EmbeddingSwitch:
    """A switch in progress; ``done`` of ``total`` chunks as of its last committed batch."""

    model: str
    directory: str
    done: int = 0
    total: int = 0


@dataclass
class ReembedReport:
    """What one ``Reembedder.run`` did; ``to_json`` is the CLI's shape."""

    model: str
    chunks: int = 0
    embedded: int = 0
    resumed: bool = False
    swapped: bool = False
    cancelled: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """``folio-cli reembed``'s JSON: model, chunks, embedded, resumed, swapped, cancelled,
        seconds."""
        return {
            "model": self.model,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "resumed": self.resumed,
            "swapped": self.swapped,
            "cancelled": self.cancelled,
            "seconds": round(self.seconds, 3),
        }


def active_collection(library: Library) -> Collection:
    """The model and directory search and ingestion use (a new library's: the default)."""
    return Collection(
        library.get_meta(EMBEDDING_MODEL_KEY) or LOCAL_EMBEDDING_ID,
        library.get_meta(EMBEDDING_STORE_KEY) or DEFAULT_COLLECTION,
    )


def pending_switch(library: Library) -> EmbeddingSwitch | None:
    """The switch in progress, if any."""
    raw = library.get_meta(EMBEDDING_SWITCH_KEY)
    return EmbeddingSwitch(**json.loads(raw)) if raw else None


def _record_switch(library: Library, switch: EmbeddingSwitch) -> None:
    library.set_meta(EMBEDDING_SWITCH_KEY, json.dumps(asdict(switch)))


def abandon_switch(library: Library, store_root: Path) -> bool:
    """Forget the switch in progress and delete what it embedded; False if there was none."""
    switch = pending_switch(library)
    if switch is None:
        return False
    library.update_meta({EMBEDDING_SWITCH_KEY: None})
    shutil.rmtree(store_root / switch.directory, ignore_errors=True)
    return True


def remove_stale_collections(library: Library, store_root: Path) -> list[Path]:
    """Delete collection directories that are neither active nor a pending switch's target.

    Call it only while holding the active collection open: Edge's lock then shows that no
    other process is using the library, so nothing deleted here is in use.
    """
    keep = {active_collection(library).directory}
    switch = pending_switch(library)
    if switch is not None:
        keep.add(switch.directory)
    removed = []
    if store_root.is_dir():
        for child in sorted(store_root.iterdir()):
            if child.is_dir() and _COLLECTION_NAME.match(child.name) and child.name not in keep:
                log.info("Deleting %s, left over from an embedding model switch", child)
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
    return removed


def _new_directory(model_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")[:48].strip("-")
    return f"{DEFAULT_COLLECTION}-{slug}-{uuid.uuid4().hex[:8]}"


class Reembedder:
    """Moves a library to another embedding model (see the module docstring).

    ``source`` is the active collection's store, as the caller opened it. After a swap the
    Reembedder closes it (whoever still holds it must move to the new one) and deletes its
    directory; ``store`` is then the new active store, the caller's to use and close.
    """

    def __init__(
        self,
        library: Library,
        store_root: Path,
        source: EdgeVectorStore,
        model: BaseEmbedding,
        model_id: str,
        batch_size: int = REEMBED_BATCH_SIZE,
    ) -> None:
        self.library = library
        self.store_root = store_root
        self.source = source
        self.model = model
        self.model_id = model_id
        self.batch_size = max(1, batch_size)
        self.store: EdgeVectorStore | None = None

    def run(
        self,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        *,
        swap: bool = True,
    ) -> ReembedReport:
        """Re-embed what the target lacks, then (with ``swap``) catch up and swap.

        Cancelling stops after the current batch; running again resumes. Asking for the
        active model abandons a switch in progress. Without ``swap`` only the bulk part runs,
        which may overlap ingestion; a later run with ``swap`` finishes the switch.
        """
        started = time.monotonic()
        report = ReembedReport(self.model_id)
        active = active_collection(self.library)
        if self.model_id == active.model:
            abandon_switch(self.library, self.store_root)
            report.chunks = self.source.count()
            return report
        dim = embedding_dim(self.model)  # fails early, before any state, if it is unusable
        directory, report.resumed = self._prepare(dim)
        target = EdgeVectorStore(self.store_root / directory, dim)
        progress = _Progress(on_progress)
        try:
            self._fill(target, directory, report, progress, cancel)
            target.optimize()  # index now, so search is fast from the moment of the swap
            if swap:
                self._swap(target, active, directory, report, progress, cancel)
        except Cancelled:
            report.cancelled = True
        finally:
            if not report.swapped:
                target.close()
        report.seconds = time.monotonic() - started
        return report

    def _prepare(self, dim: int) -> tuple[str, bool]:
        """The target directory: a pending switch's to this model, else a new one."""
        switch = pending_switch(self.library)
        if (
            switch is not None
            and switch.model == self.model_id
            and stored_dim(self.store_root / switch.directory) in (None, dim)
        ):
            return switch.directory, True
        abandon_switch(self.library, self.store_root)
        directory = _new_directory(self.model_id)
        # Recorded before the directory exists, so no directory is ever unaccounted for.
        _record_switch(self.library, EmbeddingSwitch(self.model_id, directory))
        return directory, False

    def _fill(
        self,
        target: EdgeVectorStore,
        directory: str,
        report: ReembedReport,
        progress: _Progress,
        cancel: CancelToken | None,
    ) -> None:
        """The bulk part: embed, batch by batch, the chunks the target does not have yet."""
        wanted = self.source.ids()
        todo = sorted(wanted - target.ids())
        total, done = len(wanted), len(wanted) - len(todo)
        _record_switch(self.library, EmbeddingSwitch(self.model_id, directory, done, total))
        progress.start(done, total)
        for start in range(0, len(todo), self.batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            count = self._copy(todo[start : start + self.batch_size], target)
            report.embedded += count
            done += count
            _record_switch(self.library, EmbeddingSwitch(self.model_id, directory, done, total))
            progress.emit(done, total)

    def _catch_up(self, target: EdgeVectorStore, report: ReembedReport) -> int:
        """Make the target hold exactly the source's chunks; returns how many changed."""
        wanted, present = self.source.ids(), target.ids()
        gone, missing = present - wanted, sorted(wanted - present)
        if gone:
            target.delete_nodes(node_ids=sorted(gone))
        for start in range(0, len(missing), self.batch_size):
            report.embedded += self._copy(missing[start : start + self.batch_size], target)
        target.commit()
        return len(gone) + len(missing)

    def _swap(
        self,
        target: EdgeVectorStore,
        active: Collection,
        directory: str,
        report: ReembedReport,
        progress: _Progress,
        cancel: CancelToken | None,
    ) -> None:
        for _ in range(_CATCH_UP_PASSES):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if not self._catch_up(target, report):
                break
        with self.source.hold_writes():
            self._catch_up(target, report)
            switch = pending_switch(self.library)
            if active_collection(self.library) != active or (
                switch is None or switch.directory != directory
            ):
                raise StoreError(
                    "The library's embedding model was changed or its switch cancelled while "
                    f"switching to {self.model_id}. Run the switch again."
                )
            self.library.update_meta(
                {
                    EMBEDDING_MODEL_KEY: self.model_id,
                    EMBEDDING_STORE_KEY: directory,
                    EMBEDDING_SWITCH_KEY: None,
                }
            )
        report.swapped = True
        self.store = target
        report.chunks = target.count()
        progress.emit(report.chunks, report.chunks)
        self.source.close()
        shutil.rmtree(self.store_root / active.directory, ignore_errors=True)
        log.info("Switched the library to %s (%d chunks)", self.model_id, report.chunks)

    def _copy(self, ids: list[str], target: EdgeVectorStore) -> int:
        """Embed the source's chunks ``ids`` with the target model and commit them there."""
        nodes = self.source.get_nodes(node_ids=ids)  # chunks removed meanwhile are missing
        if not nodes:
            return 0
        # The text ingestion embedded: content plus the metadata it chose to embed.
        texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
        vectors = self.model.get_text_embedding_batch(texts)
        for node, vector in zip(nodes, vectors, strict=True):
            node.embedding = vector
        target.add(nodes)
        target.commit()
        return len(nodes)


class _Progress:
    """Chunks done of total, with an ETA from this run's pace."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.started = time.monotonic()
        self.first = 0
        self.last: tuple[int, int] | None = None

    def start(self, done: int, total: int) -> None:
        self.started, self.first = time.monotonic(), done
        self.emit(done, total)

    def emit(self, done: int, total: int) -> None:
        if self.callback is None or self.last == (done, total):
            return
        self.last = (done, total)
        eta = eta_seconds(time.monotonic() - self.started, done - self.first, total - done)
        self.callback(Progress(0, 0, done, total, None, eta))
