"""The library: which folders and files Folio knows, and what became of each file.

SQLite is the source of truth for incremental sync. A file row moves through these states:

- ``indexing`` / ``removing``: its chunks in the store are being replaced or deleted. A row
  left in one of these states by a crash is rolled back on the next open (see ``Ingestor``).
- ``indexed``: its chunks are committed to the store; ``chunk_ids`` lists them.
- ``failed`` / ``skipped``: nothing stored; ``reason`` says why, in words a person understands.
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import threading
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from desktop.core.db import Migration
from desktop.core.db import connect as connect_db
from desktop.core.db import transaction as write_transaction
from desktop.core.errors import EmbeddingMismatchError, NothingIndexed
from desktop.core.library.filenames import one_line, os_path, stored_name
from desktop.core.library.walk import folder_available


class FileStatus(StrEnum):
    """Where a file stands in the library (the module docstring says how it moves)."""

    INDEXED = "indexed"
    FAILED = "failed"
    SKIPPED = "skipped"
    INDEXING = "indexing"
    REMOVING = "removing"


EMBEDDING_MODEL_KEY = "embedding_model"
# The store directory (under ``store/``) holding the active model's vectors; absent: "edge".
EMBEDDING_STORE_KEY = "embedding_store"
# A switch to another embedding model in progress, as JSON (see ``desktop.core.library.reembed``).
EMBEDDING_SWITCH_KEY = "embedding_switch"
# Why a library folder is shown as unavailable, and what to do.
UNAVAILABLE_REASON = (
    "cannot be reached, or was emptied all at once (unplugged, unmounted or renamed?); its "
    "files are kept and synced again when it is back. If you emptied it on purpose, or to "
    "drop its files, remove the folder from the library"
)
FINAL_STATES = (FileStatus.INDEXED, FileStatus.FAILED, FileStatus.SKIPPED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (path TEXT PRIMARY KEY, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    chunk_ids TEXT NOT NULL DEFAULT '[]',
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_root ON files(root);
CREATE INDEX IF NOT EXISTS files_hash ON files(hash);
"""
# Schema versions after the first (``desktop.core.db.migrate``).
_MIGRATIONS: tuple[Migration, ...] = (
    # 1: a folder's file system (``device``: an unmounted share leaves an empty folder on
    # another one) and, for a name that is not UTF-8, its bytes (``raw``).
    (
        "ALTER TABLE folders ADD COLUMN device INTEGER",
        "ALTER TABLE folders ADD COLUMN raw BLOB",
    ),
    # 2: whether the last ingest or sync of a library folder stopped before its end
    # (cancelled, or the process killed), so that status can say a sync indexes the rest.
    ("ALTER TABLE folders ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0",),
    # 3: files a library folder's last scan could not index because another file's name
    # reads the same (one of them not UTF-8): they have no row in ``files``, whose key is
    # that name, yet status and the window list them among the failures.
    (
        "CREATE TABLE IF NOT EXISTS name_clashes (path TEXT NOT NULL, root TEXT NOT NULL, "
        "reason TEXT NOT NULL, PRIMARY KEY (path, root))",
    ),
)
# What a folder whose indexing stopped before the end is missing, and what to do.
INTERRUPTED_REASON = (
    "indexing stopped before the end, so some of its files may not be in the library yet; "
    "a sync indexes the rest"
)


class FolderState(StrEnum):
    """Whether a library folder (or a file added on its own) can be synced now."""

    AVAILABLE = "available"
    # Cannot be reached: unplugged, unmounted, renamed, unreadable, or emptied in a way
    # that looks like one of these. Its files are kept and not synced.
    UNAVAILABLE = "unavailable"
    # A file added on its own that was deleted from a folder that is still there.
    DELETED_FILE = "deleted file"


def _device(path: str) -> int | None:
    try:
        return os.stat(path).st_dev
    except OSError:
        return None


def _os_name(folder: str, raw: bytes | None) -> str:
    """A folder's name to open: its stored bytes, else what its stored name gives back."""
    return os.fsdecode(bytes(raw)) if raw is not None else os_path(folder)


def _is_empty(path: str) -> bool:
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def is_under(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` itself or lies inside it (stored names, no disk access)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class FileRecord:
    """One file as the library last saw it."""

    path: str
    root: str
    size: int
    mtime_ns: int
    hash: str | None
    status: FileStatus
    reason: str | None
    chunk_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LibraryStats:
    """Counts for ``folio-cli status`` and the library pane."""

    by_status: dict[str, int]
    chunks: int
    failures: list[FileRecord]


class Library:
    """The SQLite library database (``library.db`` in the data folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect_db(path, _SCHEMA, _MIGRATIONS)
        self._lock = threading.RLock()
        self._indexing: set[str] = set()  # library folders this process is indexing now

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction: all of it is committed, or none of it."""
        return write_transaction(self._db, self._lock)

    # -- meta -------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A library-wide value, such as the embedding model that filled the store."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a library-wide value."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def update_meta(self, values: Mapping[str, str | None]) -> None:
        """Set (or, for None, delete) several library-wide values in one transaction."""
        with self.transaction() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM meta WHERE key = ?", (key,))
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value)
                    )

    def require_embedding_model(self, name: str) -> None:
        """Refuse to mix vectors of two embedding models; an empty library takes ``name``."""
        stored = self.get_meta(EMBEDDING_MODEL_KEY)
        if stored is None:
            self.set_meta(EMBEDDING_MODEL_KEY, name)
        elif stored != name:
            way_out = (
                f"This library was indexed with {stored}, not {name}. Switch back to "
                f"{stored}, or re-index the library with {name}"
            )
            raise EmbeddingMismatchError(
                f"{way_out}.", cli=f"{way_out} (`folio-cli reembed {name}`)."
            )

    # -- folders ----------------------------------------------------------------------------

    def add_folder(self, path: str, os_path: str | None = None) -> None:
        """Remember a folder (or single file) so ``sync`` re-scans it.

        ``path`` is its stored name; ``os_path`` the name to open, when it differs (a name
        that is not UTF-8, see ``desktop.core.library.filenames``).
        """
        real = os_path or path
        raw = os.fsencode(real) if real != path else None
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO folders (path, added_at, device, raw) VALUES (?, ?, ?, ?)",
                (path, time.time(), _device(real), raw),
            )

    def folders(self) -> list[str]:
        """Every folder or file added to the library, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT path FROM folders ORDER BY added_at, path").fetchall()
        return [row["path"] for row in rows]

    def folder_os_path(self, folder: str) -> str:
        """The name to open a library folder by: its own bytes when they are not UTF-8."""
        with self._lock:
            row = self._db.execute("SELECT raw FROM folders WHERE path = ?", (folder,)).fetchone()
        return _os_name(folder, row["raw"] if row else None)

    def record_device(self, folder: str) -> None:
        """Remember which file system the folder is on now (after a sync that reached it);
        written only when it changed, so a sync of an unchanged library writes nothing."""
        with self._lock:
            row = self._db.execute(
                "SELECT raw, device FROM folders WHERE path = ?", (folder,)
            ).fetchone()
        if row is None:
            return
        device = _device(_os_name(folder, row["raw"]))
        if device is not None and device != row["device"]:
            with self.transaction() as db:
                db.execute("UPDATE folders SET device = ? WHERE path = ?", (device, folder))

    def folder_states(self) -> dict[str, FolderState]:
        """Every library folder's state now, oldest folder first; see ``FolderState``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, device, raw FROM folders ORDER BY added_at, path"
            ).fetchall()
        return {
            row["path"]: self._state(row["path"], _os_name(row["path"], row["raw"]), row["device"])
            for row in rows
        }

    def _state(self, folder: str, real: str, device: int | None) -> FolderState:
        if os.path.isfile(real):
            return FolderState.AVAILABLE
        if not folder_available(real):
            if self.get(folder) and os.path.isdir(os.path.dirname(real)):
                return FolderState.DELETED_FILE
            return FolderState.UNAVAILABLE
        now = _device(real)
        if device is not None and now != device and now == _device(os.path.dirname(real)):
            # It was a file system of its own and is now a plain folder of its parent's: a
            # share or drive unmounted from it. (A drive that comes back under another
            # device number is still a file system of its own, so it counts as back.)
            return FolderState.UNAVAILABLE
        if _is_empty(real) and self.has_files_under(folder):
            # Emptied at once: an unmounted mount point looks like this. Syncthing stops a
            # folder whose marker vanished for the same reason: a mass delete is more likely
            # a missing disk than a person's wish.
            return FolderState.UNAVAILABLE
        return FolderState.AVAILABLE

    def unavailable_folders(self) -> list[str]:
        """Library folders that cannot be synced now (see ``FolderState.UNAVAILABLE``)."""
        return [f for f, state in self.folder_states().items() if state == FolderState.UNAVAILABLE]

    def start_indexing(self, folders: list[str]) -> None:
        """Mark library ``folders`` as being indexed, before a run indexes anything: a run
        stopped at any moment, killed included, leaves the mark (``interrupted_folders``).
        Names that are no library folder are ignored."""
        self._mark_interrupted(folders, True)
        self._indexing.update(folders)

    def end_indexing(self, folders: list[str], complete: bool) -> None:
        """The run ``start_indexing`` began on ``folders`` has ended: the mark is cleared
        when it indexed every file it found (``complete``), else kept."""
        if complete:
            self._mark_interrupted(folders, False)
        self._indexing.difference_update(folders)

    def _mark_interrupted(self, folders: list[str], interrupted: bool) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE folders SET interrupted = ? WHERE path = ?",
                [(int(interrupted), folder) for folder in folders],
            )

    def interrupted_folders(self) -> list[str]:
        """Library folders whose last ingest or sync stopped before the end, oldest first;
        not those this process is indexing now (the window answering ``status`` mid-run)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path FROM folders WHERE interrupted ORDER BY added_at, path"
            ).fetchall()
            return [row["path"] for row in rows if row["path"] not in self._indexing]

    def remove_folder(self, path: str) -> None:
        """Forget a folder; its files must already have been removed."""
        with self.transaction() as db:
            db.execute("DELETE FROM folders WHERE path = ?", (path,))
            db.execute("DELETE FROM name_clashes WHERE root = ?", (path,))

    def set_name_clashes(self, found: dict[str, list[tuple[str, str]]]) -> None:
        """What the scan of each library folder in ``found`` (folder -> [(path, reason)])
        could not index because another file's name reads the same, in place of what its
        last scan found. A folder not scanned keeps what it had."""
        with self.transaction() as db:
            for root, clashes in found.items():
                db.execute("DELETE FROM name_clashes WHERE root = ?", (root,))
                db.executemany(
                    "INSERT OR REPLACE INTO name_clashes (path, root, reason) VALUES (?, ?, ?)",
                    [(path, root, reason) for path, reason in clashes],
                )

    def entries_removed(self, target: str) -> list[str]:
        """The entries removing ``target`` drops: ``target`` itself if it is an entry, else
        every entry inside it (a bulk remove of a folder that holds several)."""
        folders = self.folders()
        if target in folders:
            return [target]
        return [folder for folder in folders if is_under(folder, target)]

    def files_leaving(self, target: str) -> list[FileRecord]:
        """The files removing ``target`` takes out: those no remaining library folder covers."""
        dropped = self.entries_removed(target)
        remaining = [folder for folder in self.folders() if folder not in dropped]
        return [
            record
            for record in self.files_under(target).values()
            if not any(is_under(record.path, folder) for folder in remaining)
        ]

    # -- files ------------------------------------------------------------------------------

    @staticmethod
    def _record(row: sqlite3.Row) -> FileRecord:
        return FileRecord(
            path=row["path"],
            root=row["root"],
            size=row["size"],
            mtime_ns=row["mtime_ns"],
            hash=row["hash"],
            status=FileStatus(row["status"]),
            reason=row["reason"],
            chunk_ids=json.loads(row["chunk_ids"]),
        )

    def get(self, path: str) -> FileRecord | None:
        """The record of one file, if the library knows it."""
        with self._lock:
            row = self._db.execute("SELECT * FROM files WHERE path = ?", (path,)).fetchone()
        return self._record(row) if row else None

    def files_under(self, folder: str) -> dict[str, FileRecord]:
        """Every file at or inside ``folder`` (whichever library folder brought it in), by path."""
        prefix = folder.rstrip(os.sep) + os.sep
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM files WHERE path = ? OR substr(path, 1, ?) = ?",
                (folder, len(prefix), prefix),
            ).fetchall()
        return {row["path"]: self._record(row) for row in rows}

    def has_files_under(self, folder: str) -> bool:
        """Whether the library holds any file at or inside ``folder``."""
        prefix = folder.rstrip(os.sep) + os.sep
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM files WHERE path = ? OR substr(path, 1, ?) = ? LIMIT 1",
                (folder, len(prefix), prefix),
            ).fetchone()
        return row is not None

    def all_files(self) -> list[FileRecord]:
        """Every file record, by path."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM files ORDER BY path").fetchall()
        return [self._record(row) for row in rows]

    def indexed_under(self, folder: str | os.PathLike[str]) -> list[FileRecord]:
        """The indexed files with chunks at or under ``folder`` (an absolute path is made of
        it), by path: what a dataset or an evaluation set is written from."""
        root = os.path.abspath(folder)
        prefix = root.rstrip(os.sep) + os.sep
        return [
            record
            for record in self.all_files()
            if record.status == FileStatus.INDEXED
            and record.chunk_ids
            and (record.path == root or record.path.startswith(prefix))
        ]

    def require_indexed(self, folder: str | os.PathLike[str]) -> list[FileRecord]:
        """``indexed_under(folder)`` for work written from the folder's chunks (a dataset,
        an evaluation set); raises NothingIndexed, naming the folder and how to index it,
        when there is nothing."""
        files = self.indexed_under(folder)
        if not files:
            shown = one_line(os.path.abspath(folder))
            raise NothingIndexed(
                f"No indexed files under {shown}: add the folder to the library and wait "
                "until it is indexed.",
                cli=f"No indexed files under {shown}: add the folder to the library "
                f"(`folio-cli ingest {shlex.quote(shown)}`) and wait until it is indexed.",
            )
        return files

    def unfinished(self) -> list[FileRecord]:
        """Files a crash left half indexed or half removed."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM files WHERE status IN (?, ?)",
                (FileStatus.INDEXING, FileStatus.REMOVING),
            ).fetchall()
        return [self._record(row) for row in rows]

    def indexed_with_hash(self, content_hash: str) -> FileRecord | None:
        """An indexed file with this content, whose chunks can be reused."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM files WHERE hash = ? AND status = ? LIMIT 1",
                (content_hash, FileStatus.INDEXED),
            ).fetchone()
        return self._record(row) if row else None

    def put(self, record: FileRecord) -> None:
        """Insert or replace one file's record."""
        self.put_many([record])

    def put_many(self, records: list[FileRecord]) -> None:
        """Insert or replace file records, all in one transaction."""
        now = time.time()
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO files"
                " (path, root, size, mtime_ns, hash, status, reason, chunk_ids, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.path,
                        r.root,
                        r.size,
                        r.mtime_ns,
                        r.hash,
                        r.status,
                        # A reader's message may quote a file name that is not UTF-8.
                        stored_name(r.reason) if r.reason else r.reason,
                        json.dumps(r.chunk_ids),
                        now,
                    )
                    for r in records
                ],
            )

    def set_status_many(self, paths: list[str], status: FileStatus) -> None:
        """Move files to another state, keeping the rest of their records."""
        now = time.time()
        with self.transaction() as db:
            db.executemany(
                "UPDATE files SET status = ?, updated_at = ? WHERE path = ?",
                [(status, now, path) for path in paths],
            )

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content did not change."""
        with self.transaction() as db:
            db.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, path)
            )

    def delete_many(self, paths: list[str]) -> None:
        """Forget files."""
        with self.transaction() as db:
            db.executemany("DELETE FROM files WHERE path = ?", [(path,) for path in paths])

    def indexed_chunks(self) -> int:
        """How many chunks the indexed files have: what the store must hold."""
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT COALESCE(SUM(json_array_length(chunk_ids)), 0) AS n FROM files"
                    " WHERE status = ?",
                    (FileStatus.INDEXED,),
                ).fetchone()["n"]
            )

    def chunk_ids(self) -> set[str]:
        """The id of every chunk a file of the library lists, whatever its status."""
        with self._lock:
            rows = self._db.execute("SELECT chunk_ids FROM files WHERE chunk_ids != '[]'")
            return {chunk for row in rows for chunk in json.loads(row["chunk_ids"])}

    def missing_from(self, present: set[str]) -> set[str]:
        """The indexed files with a chunk whose id is not in ``present`` (the ids a store
        holds), by path."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, chunk_ids FROM files WHERE status = ? AND chunk_ids != '[]'",
                (FileStatus.INDEXED,),
            ).fetchall()
        return {row["path"] for row in rows if not present.issuperset(json.loads(row["chunk_ids"]))}

    def stats(self) -> LibraryStats:
        """Counts by status, total chunks and the files that failed or were skipped."""
        with self._lock:
            chunks = self.indexed_chunks()
            counts = {
                row["status"]: row["n"]
                for row in self._db.execute(
                    "SELECT status, COUNT(*) AS n FROM files GROUP BY status"
                )
            }
            failures = [
                self._record(row)
                for row in self._db.execute(
                    "SELECT * FROM files WHERE status IN (?, ?) ORDER BY path",
                    (FileStatus.FAILED, FileStatus.SKIPPED),
                )
            ]
            clashes = [
                FileRecord(row["path"], row["root"], 0, 0, None, FileStatus.FAILED, row["reason"])
                for row in self._db.execute(
                    "SELECT path, root, reason FROM name_clashes GROUP BY path"
                )
            ]
        if clashes:
            counts[FileStatus.FAILED] = counts.get(FileStatus.FAILED, 0) + len(clashes)
            failures = sorted([*failures, *clashes], key=lambda record: record.path)
        return LibraryStats(counts, chunks, failures)
