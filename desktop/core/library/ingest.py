"""Ingestion: walk folders, detect changes against the library, index, remove.

Per file the order is what keeps the library and the store in agreement after a crash:
the row is marked ``indexing``, old chunks are deleted, new ones upserted and the store
flushed, and only then is the row marked ``indexed``. On open, rows left ``indexing`` or
``removing`` are rolled back (their chunks deleted, the row dropped) and the next sync
indexes those files again. Point ids are derived from path, content and position, so
re-running any step never duplicates a chunk.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode, TextNode, TransformComponent
from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters

from desktop.core.errors import Cancelled, LibraryError
from desktop.core.library.catalog import FileRecord, FileStatus, FolderState, Library, is_under
from desktop.core.library.filenames import os_path, stored_name
from desktop.core.library.readers import Unreadable, read_documents
from desktop.core.library.readers.ocr import OCR_OFF_REASON, OcrOptions
from desktop.core.library.sentences import split_sentences_bounded
from desktop.core.library.walk import (
    IGNORE_FILE,
    FoundFile,
    data_folder_of,
    ignore_pattern,
    ignore_pattern_problem,
    shown_pattern,
    walk,
)
from desktop.core.models.embeddings import chunk_tokens
from desktop.core.settings import SETTINGS_FILE, Settings
from desktop.core.store import FolioStore
from desktop.core.tasks import CancelToken, Progress, ProgressCallback

log = logging.getLogger(__name__)

_ID_NAMESPACE = uuid.UUID("5b0c6f0e-3f7a-4c8e-9a51-6f6c696f0001")
_DELETE_BATCH = 256
# A store commit (flush) covers at most this much work; a crash loses at most this much.
COMMIT_FILES = 64
COMMIT_CHUNKS = 256
COMMIT_SECONDS = 2.0
# Chunk metadata kept for citations. Only a title from the content itself is embedded, so
# vectors depend on content alone and can be reused for a copy of the file elsewhere.
_METADATA_KEYS = (
    "file_path",
    "file_name",
    "page",
    "title",
    "modified",
    "sheet",
    "front_matter",
    "ocr",
)
# Kept as the reader gave them (a workbook's sheet name, a Markdown file's front matter,
# ``ocr: True`` where the text was recognised in a picture, not typed).
_READER_ONLY_KEYS = ("sheet", "front_matter", "ocr")
_SAME_NAME_REASON = (
    "another file in this folder has a name that reads the same (one of them is not UTF-8); "
    "rename one of them"
)


@dataclass
class IngestReport:
    """What one ingest or sync run did; ``to_json`` is the CLI contract's shape."""

    added: int = 0
    updated: int = 0
    # Files indexed again, unchanged, because the store had lost some of their chunks.
    repaired: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)
    # Library folders that could not be reached; their files were kept as they were.
    unavailable: list[str] = field(default_factory=list)
    # Paths asked for that a library folder already covers (no second entry was made).
    already_in_library: list[str] = field(default_factory=list)
    # Folders inside the library that could not be read, with why; their files were kept.
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    # What the run went on despite, as (path, why): an ignore pattern skipped, an ignore
    # file that could not be read. Nothing failed to be indexed because of them.
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``ingest``/``sync``'s JSON shape (README, "folio-cli"), plus repaired, skipped,
        chunks_reused, cancelled, unavailable, already_in_library, unreadable, failures
        (each file that failed this run, with why, as ``status`` lists them) and warnings
        (each ignore pattern skipped or ignore file not read, with why)."""
        return {
            "added": self.added,
            "updated": self.updated,
            "repaired": self.repaired,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "skipped": self.skipped,
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
            "unavailable": self.unavailable,
            "already_in_library": self.already_in_library,
            "unreadable": [{"path": p, "reason": r} for p, r in self.unreadable],
            "failures": [{"path": p, "reason": r} for p, r in self.failures],
            "warnings": [{"path": p, "reason": r} for p, r in self.warnings],
        }


def file_hash(path: str) -> str:
    """SHA-256 of a file's content. Raises OSError (``EINVAL``, "not a regular file") for
    what is no longer a regular file: a file swapped for a pipe after the scan must not
    block the run in ``open()``, so it is opened without waiting and checked first."""
    digest = hashlib.sha256()
    # A regular file reads the same with O_NONBLOCK; Windows has neither it nor such pipes.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _point_id(key: str, index: int) -> str:
    """A stable chunk id: the same file content always yields the same ids."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{key}:{index}"))


def _split_id(index: int, doc: BaseNode) -> str:
    return _point_id(doc.id_, index)


def _file_filter(paths: Iterable[str]) -> MetadataFilters:
    return MetadataFilters(
        filters=[MetadataFilter(key="file_path", value=list(paths), operator=FilterOperator.IN)]
    )


# A file of at least this many chunks shows how far its embedding has got: smaller ones
# take a second or two.
FILE_PROGRESS_CHUNKS = 100


class _CountChunks(TransformComponent):
    """A pipeline step between the splitter and the embedder that passes a file's chunks on
    unchanged and tells ``on_split`` how many there are: LlamaIndex's embedding callbacks
    report each batch, but never the total a file will need."""

    on_split: Any = None

    def __call__(self, nodes: Any, **kwargs: Any) -> Any:
        if self.on_split is not None:
            self.on_split(len(nodes))
        return nodes


def _split_failure(exc: Exception) -> str:
    """Why a file's text could not be split into chunks, in words that follow its name."""
    if isinstance(exc, TimeoutError):
        # nltk's Punkt, which the splitter uses, bounds each regular-expression pass over a
        # text (nltk.redos.DEFAULT_TIMEOUT) and names the limit in its message.
        limit = re.search(r"(\d+(?:\.\d+)?)\s*s time limit", str(exc))
        after = f" after {float(limit.group(1)):g} s" if limit else ""
        return (
            "its text could not be split into sentences in time (the sentence splitter "
            f"gives up{after} on a stretch of text this long); split it into smaller files "
            "to index it"
        )
    if isinstance(exc, MemoryError):
        return "its text could not be split into chunks: there was not enough memory"
    detail = str(exc).strip().rstrip(".") or type(exc).__name__
    return f"its text could not be split into chunks ({detail})"


class _SplitEachFile(TransformComponent):
    """The sentence splitter as a pipeline step, for the text of one file at a time: an
    error it raises on that text (nltk's ``TimeoutError`` on a very large file, any other)
    becomes ``Unreadable`` (failed, with why), so that file fails and the run goes on.
    ``Cancelled`` passes through; the splitter touches neither the store nor a database.
    """

    splitter: SentenceSplitter

    def __call__(self, nodes: Any, **kwargs: Any) -> Any:
        try:
            return self.splitter(nodes, **kwargs)
        except Cancelled:
            raise
        except Exception as exc:
            where = nodes[0].metadata.get("file_path") if nodes else None
            log.warning("Cannot split the text of %s", where, exc_info=True)
            raise Unreadable(FileStatus.FAILED, _split_failure(exc)) from exc


class _EmbeddingProgress(BaseCallbackHandler):
    """Counts embedded chunks as LlamaIndex reports each batch, and stops on cancel."""

    def __init__(self) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.on_batch: Any = None

    def on_event_start(self, event_type, payload=None, event_id="", parent_id="", **kwargs):
        return event_id

    def on_event_end(self, event_type, payload=None, event_id="", **kwargs):
        if event_type == CBEventType.EMBEDDING and payload and self.on_batch is not None:
            self.on_batch(len(payload.get(EventPayload.CHUNKS, [])))

    def start_trace(self, trace_id=None):
        pass

    def end_trace(self, trace_id=None, trace_map=None):
        pass


class _Run:
    """Bookkeeping for one run: counts, progress and ETA."""

    def __init__(self, total_files: int, total_bytes: int, on_progress: ProgressCallback | None):
        self.report = IngestReport()
        self.total_files = total_files
        self.total_bytes = max(total_bytes, 1)
        self.files_done = 0
        self.bytes_done = 0
        self.chunks_done = 0
        self.on_progress = on_progress
        self.current: str | None = None
        self.current_bytes = 0
        self.detail: str | None = None
        # The current file's chunks, once split, and how many of them are embedded.
        self.file_chunks: int | None = None
        self.file_chunks_done = 0
        # When (monotonic seconds) and at what share of the bytes the pace began to be
        # measured: from the first chunk embedded, or the first file done if none was.
        # What comes before it (loading the embedding model, a reader's first import) is
        # paid once; counted in, it made the first estimates several times too long.
        self.paced_from: tuple[float, float] | None = None

    def start_file(self, path: str, size: int) -> None:
        self.current, self.current_bytes, self.detail = path, size, None
        self.file_chunks, self.file_chunks_done = None, 0

    def embedded(self, count: int) -> None:
        """``count`` more chunks embedded; a large file says how far it has got."""
        self.chunks_done += count
        self.file_chunks_done += count
        if self.file_chunks and self.file_chunks >= FILE_PROGRESS_CHUNKS:
            share = min(self.file_chunks_done / self.file_chunks, 1.0)
            self.detail = f"{share:.0%} of its {self.file_chunks:,} chunks embedded"

    def emit(self) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        # The bytes of the files done, and the embedded share of the current one's: a large
        # file after small ones would otherwise hold the estimate at the small ones' pace.
        within = 0.0
        if self.file_chunks:
            within = min(self.file_chunks_done / self.file_chunks, 1.0) * self.current_bytes
        fraction = (self.bytes_done + within) / self.total_bytes
        chunks_total = self.chunks_done
        if fraction > 0:
            chunks_total = max(self.chunks_done, round(self.chunks_done / fraction))
        eta = None
        if self.paced_from is None:
            if self.chunks_done or self.files_done:
                self.paced_from = (now, fraction)
        elif fraction > self.paced_from[1]:
            since, start = self.paced_from
            eta = max(0.0, (now - since) / (fraction - start) * (1.0 - fraction))
        self.on_progress(
            Progress(
                self.files_done,
                self.total_files,
                self.chunks_done,
                chunks_total,
                self.current,
                eta,
                self.detail,
            )
        )


class Ingestor:
    """Keeps the store in step with the folders in the library."""

    def __init__(
        self,
        library: Library,
        store: FolioStore,
        embed_model: BaseEmbedding,
        embed_model_name: str,
        settings: Settings,
    ) -> None:
        self.library = library
        self.store = store
        self.embed_model = embed_model
        self.embed_model_name = embed_model_name
        self.settings = settings
        self._progress = _EmbeddingProgress()
        embed_model.callback_manager.add_handler(self._progress)
        # Chunks are counted in the embedder's own tokens, so none runs past what it reads.
        tokens = chunk_tokens(embed_model)
        splitter = SentenceSplitter(
            chunk_size=min(settings.chunk_size, tokens.limit),
            chunk_overlap=settings.chunk_overlap,
            tokenizer=tokens.tokenize,
            # Punkt as LlamaIndex's default, read a block at a time in a long text.
            chunking_tokenizer_fn=split_sentences_bounded,
            id_func=_split_id,
        )
        # No pipeline cache: ours is the library and the store (and identical content is
        # copied from there); LlamaIndex's in-memory cache would keep every chunk and its
        # vector alive for the life of the process.
        self._counter = _CountChunks()
        self.pipeline = IngestionPipeline(
            transformations=[_SplitEachFile(splitter=splitter), self._counter, embed_model],
            disable_cache=True,
        )
        self._batch: list[FileRecord] = []
        self._batch_chunks = 0
        self._batch_by_hash: dict[str, tuple[str, list[BaseNode]]] = {}
        self._batch_started = time.monotonic()
        self._ocr = OcrOptions(settings.ocr, settings.threads)
        self._repair: set[str] = set()  # this run's files whose chunks the store lost
        # Whether this process has compared the store's ids with the library's once.
        self._compared = False
        self.recovered = self.recover()

    def close(self) -> None:
        """Detach from the embedding model, which may outlive this ingestor."""
        self.embed_model.callback_manager.remove_handler(self._progress)

    # -- consistency ------------------------------------------------------------------------

    def recover(self) -> int:
        """Roll back files a crash left half done; returns how many."""
        unfinished = self.library.unfinished()
        if unfinished:
            log.warning("Rolling back %d file(s) left unfinished by a crash", len(unfinished))
            self._delete_chunks([record.path for record in unfinished])
            self.library.delete_many([record.path for record in unfinished])
        return len(unfinished)

    def _mend_store(self) -> set[str]:
        """Bring the store back in step with the library before a sync: delete the chunks
        no file of the library lists, and return the indexed files some of whose chunks
        the store lacks, by path, for the sync to index again as if changed.

        Such a store had its files deleted or damaged, was restored from an older copy, or
        is one the settings point at that the library was never moved to: all of which
        happen while Folio is closed. So the store's ids (0.1 s for 10,000 chunks,
        docs/PERFORMANCE.md) are compared with the library's at the first sync of a process
        (the window's at its start, every ``folio-cli sync``), and after that only when the
        store's count, which takes milliseconds, differs from the library's.
        """
        if self._compared and self.store.count() == self.library.indexed_chunks():
            return set()
        self._compared = True
        present = self.store.ids()
        stale = present - self.library.chunk_ids()
        if stale:
            log.info("Deleting %d chunk(s) from the store that no file lists", len(stale))
            self.store.delete_nodes(node_ids=sorted(stale))
            self.store.commit()
        missing = self.library.missing_from(present)
        if missing:
            log.info(
                "%d indexed file(s) lack chunks in the store; indexing them again", len(missing)
            )
        return missing

    def _delete_chunks(self, paths: list[str]) -> None:
        for start in range(0, len(paths), _DELETE_BATCH):
            self.store.delete_nodes(filters=_file_filter(paths[start : start + _DELETE_BATCH]))
        self.store.commit()

    # -- public operations ------------------------------------------------------------------

    def ingest(
        self,
        paths: list[Path],
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IngestReport:
        """Add folders or files to the library and index what is new or changed.

        A path is taken as the real file or folder it names (symlinks and ``..`` resolved),
        so one folder reached two ways is one library folder. A path already covered by a
        library folder (that folder, or a file or folder inside it, given now or before)
        gets no second entry: it is synced, and listed in ``already_in_library`` if that
        library folder was there before this call.

        Files the store has lost chunks of are indexed again if they are among those synced
        (``repaired`` counts them).

        Raises:
            FileNotFoundError: a path does not exist; nothing is added.
            LibraryError: a path is neither a file nor a folder (a FIFO, a device), lies in
                a Folio data folder, or its name reads the same as another library
                folder's; nothing is added.
        """
        known = {self._canonical(f): f for f in self.library.folders()}
        chosen: list[tuple[str, str]] = []  # (stored name, OS path)
        for path in paths:
            real = os.path.realpath(path)
            if not os.path.exists(real):
                raise FileNotFoundError(f"{stored_name(os.path.abspath(path))} does not exist")
            if not (os.path.isdir(real) or os.path.isfile(real)):
                raise LibraryError(
                    f"{stored_name(real)} is neither a file nor a folder (a pipe or a device?); "
                    "add the folder that holds your documents instead."
                )
            data = data_folder_of(real)
            if data is not None:
                # The walker never indexes one, so it would be a library folder of no files.
                where = "" if data == real else f"in the Folio data folder {stored_name(data)}, "
                raise LibraryError(
                    f"{stored_name(real)} is {where or 'a Folio data folder, '}Folio's own "
                    "library, settings and models, not documents: add the folder that holds "
                    "your documents instead."
                )
            root = stored_name(real)
            if root in known.values() and self.library.folder_os_path(root) != real:
                kind = "folder" if os.path.isdir(real) else "file"
                raise LibraryError(
                    f"{root} reads the same as the library folder of that name, but is a "
                    f"different {kind} (one of their names is not UTF-8). Rename one of them."
                )
            if (root, real) not in chosen:  # one folder given twice (``A A/``, ``A ./A``)
                chosen.append((root, real))
        before = set(known)
        roots, covered = [], []
        for root, real in chosen:
            canonical = next((c for c in known if is_under(root, c)), None)
            if canonical is None:
                self.library.add_folder(root, real)
                known[root] = root
                roots.append(root)
            else:
                # Only a folder the library had before this call makes a path "already in
                # the library"; one inside a folder given with it is simply part of it.
                if canonical in before:
                    covered.append(root)
                # Synced under the spelling its library folder has, so its files keep their
                # stored names.
                roots.append(known[canonical] + root[len(canonical) :])
        stale = self._links_into([r for r in roots if r not in covered])
        report = self._sync_roots(list(dict.fromkeys(roots)), on_progress, cancel, stale)
        report.already_in_library = covered
        return report

    def _canonical(self, folder: str) -> str:
        """A library folder's stored name with symlinks resolved (entries made by older
        versions were kept as given)."""
        return stored_name(os.path.realpath(self.library.folder_os_path(folder)))

    def sync(
        self, on_progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> IngestReport:
        """Re-scan every folder in the library; index changes, drop deleted files, and index
        again files the store has lost chunks of (``repaired``).

        A folder that cannot be reached (``FolderState.UNAVAILABLE``) is left as it is and
        listed in ``unavailable``: an unplugged drive empties nothing.
        """
        return self._sync_roots(self.library.folders(), on_progress, cancel)

    def remove(self, path: Path | str) -> int:
        """Take a library folder or file out of the library, with its files and chunks.

        A file stays while another library folder (one inside ``path`` included) covers it.
        A path that is no library entry but holds some removes them all. Returns how many
        files left the library and the store.

        Raises:
            LibraryError: ``path`` lies inside a library folder without being one (it would
                come back with the next sync), or the library holds nothing there.
        """
        folders = self.library.folders()
        target = self._removal_target(path, folders)
        outer = [f for f in folders if f != target and is_under(target, f)]
        if target not in folders and outer and not self.library.has_files_under(target):
            # Nothing of it is indexed (a name mistyped, a file ignored): nothing to remove.
            raise LibraryError(
                f"{target} is not in the library: {outer[0]} holds no file by that name.",
                cli=f"{target} is not in the library: {outer[0]} holds no file by that name "
                "(`folio-cli status` lists the library's folders).",
            )
        if target not in folders and outer:
            line = ignore_pattern(os_path(target), self.library.folder_os_path(outer[0]))
            raise LibraryError(
                f"{target} is inside the library folder {outer[0]}, so it cannot be removed on "
                f"its own. Remove {outer[0]}, or leave {target} out with the line "
                f"`{line}` in a {IGNORE_FILE} file in {outer[0]}."
            )
        dropped = self.library.entries_removed(target)
        if not dropped and not self.library.has_files_under(target):
            raise LibraryError(
                f"{target} is not in the library.",
                cli=f"{target} is not in the library; `folio-cli status` lists its folders.",
            )
        leaving = self.library.files_leaving(target)
        self._remove_files([record.path for record in leaving])
        for folder in dropped:
            self.library.remove_folder(folder)
        # Files another folder still covers now belong to it.
        remaining = self.library.folders()
        moved = [
            replace(record, root=next(f for f in remaining if is_under(record.path, f)))
            for record in self.library.files_under(target).values()
            if record.root in dropped
        ]
        self.library.put_many(moved)
        return len(leaving)

    def entries_inside(self, path: Path | str) -> list[str]:
        """The library folders and files ``remove(path)`` takes out with it when ``path`` is
        no library entry itself but holds some; empty otherwise (``path`` is an entry, lies
        inside one, or holds none)."""
        folders = self.library.folders()
        target = self._removal_target(path, folders)
        if any(is_under(target, folder) for folder in folders):  # an entry, or inside one
            return []
        return self.library.entries_removed(target)

    @staticmethod
    def _removal_target(path: Path | str, folders: list[str]) -> str:
        """``path`` as the library names it: the spelling it was added under (older
        versions kept paths as given), else its real path."""
        given = stored_name(os.path.abspath(path))
        return given if given in folders else stored_name(os.path.realpath(path))

    # -- the run ----------------------------------------------------------------------------

    def _links_into(self, new_roots: list[str]) -> list[str]:
        """Files indexed through a symlink whose real file a new library folder covers.

        One real file is one file in the library: ``A/link-to-B/x.txt`` gives way to
        ``B/x.txt`` once ``B`` is added. They are removed after the run, so ``B/x.txt``
        reuses their chunks instead of being embedded again.
        """
        if not new_roots:
            return []
        stale = []
        for record in self.library.all_files():
            real = stored_name(os.path.realpath(os_path(record.path)))
            if real != record.path and any(is_under(real, root) for root in new_roots):
                stale.append(record.path)
        return stale

    def _scan(
        self, roots: list[str], run: IngestReport, cancel: CancelToken | None = None
    ) -> tuple[
        list[tuple[str, FoundFile, FileRecord | None]],
        list[str],
        list[str],
        dict[str, list[tuple[str, str]]],
    ]:
        """Files to look at (new, or with a new size/mtime), files gone, entries to drop,
        and for each folder walked the files whose names clash with another's (path, why).

        Each real file is looked at once, however many library folders or symlinks reach
        it; files of a folder that cannot be reached or read, or of a folder not scanned in
        this run, are never taken for gone. Raises ``Cancelled`` once ``cancel`` is, at the
        next folder or file found; it changes nothing, so nothing is left half done.
        """
        known = {record.path: record for record in self.library.all_files()}
        states = self.library.folder_states()
        folders = list(states)
        work: list[tuple[str, FoundFile, FileRecord | None]] = []
        seen: dict[str, str] = {}  # stored name -> OS path
        real_seen: set[str] = set()
        duplicates: set[str] = set()  # known paths that are links to another library path
        unreadable: list[str] = []
        scanned: list[str] = []
        deleted_entries: list[str] = []
        clashes: dict[str, list[tuple[str, str]]] = {}

        def on_unreadable(folder: str, reason: str) -> None:
            unreadable.append(folder)
            run.unreadable.append((folder, reason))

        # An ignore pattern gitignore matching cannot use is skipped, and listed among the
        # warnings (once, however many library folders reach its .folioignore): no file
        # failed, so it is not counted as one.
        bad_patterns: set[tuple[str, str]] = set()

        def on_bad_pattern(where: str, reason: str) -> None:
            if (where, reason) not in bad_patterns:
                bad_patterns.add((where, reason))
                run.warnings.append((where, reason))

        for pattern in self.settings.ignore_patterns:
            problem = ignore_pattern_problem(pattern)
            if problem is not None:
                on_bad_pattern(
                    self._settings_file(),
                    f"the ignore pattern {shown_pattern(pattern)} (Settings, Ignore patterns) "
                    f"{problem}; it is skipped until you correct or delete it",
                )

        for root in roots:
            state = states.get(root, FolderState.AVAILABLE)
            if state == FolderState.UNAVAILABLE:
                run.unavailable.append(root)
                continue
            scanned.append(root)
            if state == FolderState.DELETED_FILE:
                deleted_entries.append(root)
                continue
            clashes[root] = []
            walked = walk(
                Path(self.library.folder_os_path(root)),
                self.settings.ignore_patterns,
                on_unreadable,
                on_bad_pattern,
                cancel,
            )
            for found in walked:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                if found.path in seen:
                    if seen[found.path] != found.os_path:
                        run.failed += 1
                        run.failures.append((found.path, _SAME_NAME_REASON))
                        clashes[root].append((found.path, _SAME_NAME_REASON))
                    continue
                if found.via_link:
                    real = stored_name(os.path.realpath(found.os_path))
                    # The real file is another library path's: indexed there, not here.
                    if real != found.path and any(is_under(real, f) for f in folders):
                        duplicates.add(found.path)
                        continue
                    if real in real_seen:
                        duplicates.add(found.path)
                        continue
                    real_seen.add(real)
                seen[found.path] = found.os_path
                record = known.get(found.path)
                # A scan skipped while OCR was off is read again once it is on.
                retry = self.settings.ocr and record and OCR_OFF_REASON in (record.reason or "")
                same = (
                    record
                    and (record.size, record.mtime_ns) == (found.size, found.mtime_ns)
                    # Left half done by a run that failed in this process (a full disk):
                    # only a new process's ``recover`` would otherwise redo it.
                    and record.status not in (FileStatus.INDEXING, FileStatus.REMOVING)
                )
                if same and not retry and found.path not in self._repair:
                    run.unchanged += 1
                else:
                    work.append((root, found, record))
            self.library.record_device(root)
        elsewhere = [f for f in folders if f not in scanned]

        def kept(path: str) -> bool:
            if any(is_under(path, folder) for folder in unreadable):
                return True  # in a folder that could not be read: unknown, not gone
            # A folder not scanned in this run still holds the file, unless a scanned folder
            # inside it reaches the file too (that walk sees all the outer one would).
            return any(
                is_under(path, folder)
                and not any(is_under(path, r) and is_under(r, folder) for r in scanned)
                for folder in elsewhere
            )

        vanished = [
            path
            for path in known
            if path not in seen
            and any(is_under(path, root) for root in scanned)
            and (path in duplicates or not kept(path))
        ]
        return work, vanished, deleted_entries, clashes

    def _settings_file(self) -> str:
        """The settings file's stored name: it lies in the data folder, by library.db."""
        return stored_name(str(self.library.path.parent / SETTINGS_FILE))

    def _sync_roots(
        self,
        roots: list[str],
        on_progress: ProgressCallback | None,
        cancel: CancelToken | None,
        stale: list[str] | None = None,
    ) -> IngestReport:
        """Scan ``roots``, index what changed, then remove what is gone (and ``stale``)."""
        started = time.monotonic()
        self.library.require_embedding_model(self.embed_model_name)
        scan = IngestReport()
        self._repair = self._mend_store()
        try:
            work, vanished, deleted_entries, clashes = self._scan(roots, scan, cancel)
        except Cancelled:
            # Stopped while looking, before anything changed: a scan cut short must not
            # take the files it did not reach for gone, so nothing of it is used.
            self._repair = set()
            scan.cancelled = True
            scan.seconds = time.monotonic() - started
            return scan
        self.library.set_name_clashes(clashes)  # kept for status and the window's list
        vanished = list(dict.fromkeys([*vanished, *(stale or [])]))
        run = _Run(len(work), sum(found.size for _, found, _ in work), on_progress)
        run.report = scan

        def on_batch(count: int) -> None:
            run.embedded(count)
            run.emit()
            if cancel is not None:
                cancel.raise_if_cancelled()

        def on_ocr(detail: str) -> None:
            run.detail = detail
            run.emit()
            if cancel is not None:
                cancel.raise_if_cancelled()

        def on_split(count: int) -> None:
            run.file_chunks = count

        self._progress.on_batch = on_batch
        self._counter.on_split = on_split
        self._ocr = OcrOptions(self.settings.ocr, self.settings.threads, on_ocr)
        # The library folders walked whole, marked until every file found is indexed.
        entries = set(self.library.folders()) - set(scan.unavailable)
        walked = [root for root in roots if root in entries]
        self.library.start_indexing(walked)
        complete = False
        run.emit()
        try:
            for root, found, record in work:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                run.start_file(found.path, found.size)
                run.emit()
                self._index_file(root, found, record, run.report)
                run.files_done += 1
                run.bytes_done += found.size
            run.current = run.detail = None
            self._commit()
            # Removals last, so a renamed file can reuse the chunks of its old path.
            self._remove_files(vanished)
            run.report.removed = len(vanished)
            for entry in deleted_entries:
                self.library.remove_folder(entry)
            if run.report.chunks_embedded or run.report.chunks_reused:
                self.store.optimize()
            complete = True
        except Cancelled:
            run.report.cancelled = True
        finally:
            self._progress.on_batch = self._counter.on_split = None
            self._repair = set()
            # Files written before a cancel or an error are complete: keep them.
            self._commit()
            self.library.end_indexing(walked, complete)
        run.report.seconds = time.monotonic() - started
        run.emit()
        return run.report

    def _index_file(
        self, root: str, found: FoundFile, previous: FileRecord | None, report: IngestReport
    ) -> None:
        def finish(status: FileStatus, reason: str | None, content_hash: str | None) -> None:
            record = FileRecord(
                found.path, root, found.size, found.mtime_ns, content_hash, status, reason, []
            )
            self._replace(record, [], had_chunks=bool(previous and previous.chunk_ids))
            if status == FileStatus.FAILED:
                report.failed += 1
            else:
                report.skipped += 1
            report.failures.append((found.path, reason or status))

        limit = int(self.settings.max_file_mb * 1024 * 1024)
        if found.size > limit:
            size_mb = found.size / 1024 / 1024
            # Enough digits that the size never reads as the limit (1.2, 0.572, 2,048).
            size = f"{size_mb:,.0f}" if size_mb >= 100 else f"{size_mb:.3g}"
            finish(
                FileStatus.SKIPPED,
                f"too large ({size} MB; the limit is {self.settings.max_file_mb:g} MB, "
                "which you can raise in settings)",
                None,
            )
            return
        if found.size == 0:
            finish(FileStatus.SKIPPED, "empty file (0 bytes)", None)
            return
        try:
            content_hash = file_hash(found.os_path)
        except FileNotFoundError:
            finish(FileStatus.FAILED, "the file disappeared while Folio was reading it", None)
            return
        except OSError as exc:
            finish(FileStatus.FAILED, f"cannot be read: {exc.strerror}", None)
            return
        repair = found.path in self._repair
        if (
            previous
            and previous.hash == content_hash
            and previous.status == FileStatus.INDEXED
            and not repair
        ):
            self.library.touch(found.path, found.size, found.mtime_ns)
            report.unchanged += 1
            return
        try:
            nodes, reused = self._nodes_for(found, content_hash)
        except Unreadable as exc:
            finish(exc.status, exc.reason, content_hash)
            return
        record = FileRecord(
            found.path,
            root,
            found.size,
            found.mtime_ns,
            content_hash,
            FileStatus.INDEXED,
            None,
            [node.node_id for node in nodes],
        )
        self._replace(record, nodes, had_chunks=bool(previous and previous.chunk_ids))
        if reused:
            report.chunks_reused += len(nodes)
        else:
            report.chunks_embedded += len(nodes)
        if previous is None:
            report.added += 1
        elif repair and previous.hash == content_hash:
            report.repaired += 1
        else:
            report.updated += 1

    def _metadata(
        self, found: FoundFile, page: int | None, title: str | None, source: dict[str, Any]
    ) -> dict[str, Any]:
        path = Path(found.path)
        modified = datetime.fromtimestamp(found.mtime_ns / 1e9, tz=UTC)
        return {
            "file_path": found.path,
            "file_name": path.name,
            "page": page,
            "title": title or path.stem,
            "modified": modified.isoformat(timespec="seconds"),
            **{key: source[key] for key in _READER_ONLY_KEYS if source.get(key)},
        }

    def _nodes_for(self, found: FoundFile, content_hash: str) -> tuple[list[BaseNode], bool]:
        """Chunks with embeddings: copied from identical content if any, else computed."""
        if content_hash in self._batch_by_hash:
            donor_path, source = self._batch_by_hash[content_hash]
            return self._copy_chunks(source, donor_path, found, content_hash), True
        donor = self.library.indexed_with_hash(content_hash)
        if donor is not None and donor.path != found.path:
            source = self.store.get_nodes(filters=_file_filter([donor.path]))
            if len(source) == len(donor.chunk_ids) and all(n.embedding for n in source):
                order = {node_id: i for i, node_id in enumerate(donor.chunk_ids)}
                source.sort(key=lambda node: order.get(node.node_id, 0))
                return self._copy_chunks(source, donor.path, found, content_hash), True
        docs = read_documents(Path(found.os_path), self._ocr)
        keys = list(_METADATA_KEYS)
        for number, doc in enumerate(docs):
            page, title = doc.metadata.get("page"), doc.metadata.get("title")
            doc.metadata = self._metadata(found, page, title, doc.metadata)
            doc.id_ = f"{found.path}#{page or number}@{content_hash}"
            # A title the document gives itself is embedded with each chunk (it lifted dense
            # MRR on the evaluation); a file-name stand-in is not, so copies share vectors.
            doc.excluded_embed_metadata_keys = [k for k in keys if not (k == "title" and title)]
            doc.excluded_llm_metadata_keys = keys
        return list(self.pipeline.run(documents=docs)), False

    def _copy_chunks(
        self, source: list[BaseNode], donor_path: str, found: FoundFile, content_hash: str
    ) -> list[BaseNode]:
        """The chunks of identical content stored for ``donor_path``, re-labelled for ``found``."""
        keys = list(_METADATA_KEYS)
        copies: list[BaseNode] = []
        for index, node in enumerate(source):
            metadata = self._metadata(
                found, node.metadata.get("page"), node.metadata.get("title"), node.metadata
            )
            if metadata["title"] == Path(donor_path).stem:
                metadata["title"] = Path(found.path).stem
            copies.append(
                TextNode(
                    id_=_point_id(f"{found.path}@{content_hash}", index),
                    text=node.get_content(),
                    metadata=metadata,
                    embedding=node.embedding,
                    excluded_embed_metadata_keys=keys,
                    excluded_llm_metadata_keys=keys,
                )
            )
        return copies

    def _replace(self, record: FileRecord, nodes: list[BaseNode], had_chunks: bool) -> None:
        """Swap a file's chunks in the store, crash-safely (see the module docstring).

        The row stays ``indexing`` until the next ``_commit``, which flushes the store once
        for a whole batch of files: a flush costs tens of milliseconds, more than embedding
        a small file.
        """
        if not nodes and not had_chunks:
            self.library.put(record)
            return
        self.library.put(replace(record, status=FileStatus.INDEXING))
        self.store.delete_nodes(filters=_file_filter([record.path]))
        if nodes:
            self.store.add(nodes)
            if record.hash:
                self._batch_by_hash.setdefault(record.hash, (record.path, nodes))
        self._batch.append(record)
        self._batch_chunks += len(nodes)
        if (
            len(self._batch) >= COMMIT_FILES
            or self._batch_chunks >= COMMIT_CHUNKS
            or time.monotonic() - self._batch_started >= COMMIT_SECONDS
        ):
            self._commit()

    def _commit(self) -> None:
        """Make the batch durable in the store, then mark its files done in one transaction."""
        if self._batch:
            self.store.commit()
            self.library.put_many(self._batch)
        self._batch, self._batch_chunks = [], 0
        self._batch_by_hash.clear()
        self._batch_started = time.monotonic()

    def _remove_files(self, paths: list[str]) -> None:
        if not paths:
            return
        self.library.set_status_many(paths, FileStatus.REMOVING)
        self._delete_chunks(paths)
        self.library.delete_many(paths)
