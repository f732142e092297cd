"""SQLite as Folio's databases use it: one shared connection, WAL, all-or-nothing writes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(path: Path, schema: str) -> sqlite3.Connection:
    """Open (or create) the database at ``path`` and apply ``schema`` (idempotent DDL).

    The connection is shared by the window and its worker threads, which serialise on their
    owner's lock; another process (``folio-cli``) may open the same file meanwhile, which
    WAL and the busy timeout allow. WAL with ``synchronous=NORMAL`` loses no committed
    transaction when the process is killed and skips an fsync per write.
    """
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(schema)
    return db


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Connection]:
    """A write transaction under ``lock``: all of it is committed, or none of it."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
