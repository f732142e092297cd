"""One process at a time on a data folder: the library's lock.

Every Folio process (the window, each ``folio-cli`` command) takes an OS file lock on
``folio.lock`` in the data folder before it opens any database, the vector store or the
settings for writing, and holds it until it closes. A second process is refused at that
point, before it has read or written anything else, so it cannot rewrite the store's index
files or a database under the first one (Qdrant Edge's own WAL lock comes only after
``EdgeShard.load`` has already touched the shard).

The lock is ``filelock.FileLock`` (``flock`` on Unix, ``LockFileEx`` on Windows): the OS
drops it when a process dies, so a crash never leaves a stale lock behind. The lock file is
kept on release (``preserve_lock_file``): deleting it would let a process that opened the
old file and one that created a new one both believe they hold the lock.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from desktop.core.errors import LibraryError, StoreLockedError

LOCK_FILE = "folio.lock"
# How long a folio-cli command waits for a lock another command holds before it is refused:
# `finetune status --wait` takes the lock for each poll (milliseconds) and lets it go
# between polls, so a command started meanwhile gets it after at most that poll.
COMMAND_WAIT_S = 2.0


def _unopenable(path: Path) -> OSError | None:
    """Why ``path`` cannot be opened for writing (created if missing), or None if it can."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as exc:
        return exc
    return None


class LibraryInUseError(StoreLockedError):
    """Another Folio process holds the data folder's lock."""


class LibraryLock:
    """The lock on one data folder, taken by ``acquire`` and held until ``release``.

    Taking it twice from one object is a no-op, from any thread. Two objects on the same
    folder exclude each other, in one process as across processes.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        # thread_local=False: the window opens services from worker threads too, and they
        # must all see the lock this process already holds.
        self._lock = FileLock(
            home / LOCK_FILE, timeout=0, thread_local=False, preserve_lock_file=True
        )

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._lock.is_locked

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock, or raise ``LibraryInUseError`` if another holder still has it
        after ``wait`` seconds (0: at once)."""
        if self._lock.is_locked:
            return
        try:
            self._lock.acquire(timeout=wait)
        except Timeout as exc:
            # filelock also times out when it cannot open the lock file at all (it takes a
            # refused open for a lock held elsewhere): tell the two apart.
            problem = _unopenable(self.home / LOCK_FILE)
            if problem is not None:
                raise self._cannot_write(problem) from exc
            raise LibraryInUseError(
                f"The library at {self.home} is open in another Folio window or command. "
                "Close it and try again, or use that window."
            ) from exc
        except OSError as exc:  # not "held elsewhere": the folder cannot be written
            raise self._cannot_write(exc) from exc

    def _cannot_write(self, exc: OSError) -> LibraryError:
        lock = self.home / LOCK_FILE
        if lock.is_dir():  # the folder may be writable: what stands in the lock's place is not
            return LibraryError(
                f"Folio cannot write its lock file {lock}: a folder stands there. Move it out "
                "of the data folder (Folio makes the file again)."
            )
        return LibraryError(
            f"Folio cannot write in its data folder {self.home}: "
            f"{exc.strerror or exc}. Choose a folder you can write to."
        )

    def release(self) -> None:
        """Let the lock go (a no-op when not held)."""
        if self._lock.is_locked:
            self._lock.release(force=True)
