"""SQLite as Folio's databases use it: one shared connection, WAL, all-or-nothing writes, and
a schema version (``PRAGMA user_version``) that migrations move forward one step at a time.

Each database declares its first schema (version 0, idempotent ``CREATE ... IF NOT EXISTS``)
and a list of migrations; migration *n* takes version *n-1* to *n*. This is qutebrowser's
``UserVersion`` habit: a file knows which schema wrote it, so nothing has to guess from the
columns it finds.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from desktop.core.errors import StoreError

# One step of a schema: SQL statements, or a function for a step SQL alone cannot say.
Migration = tuple[str, ...] | Callable[[sqlite3.Connection], None]


def connect(path: Path, schema: str, migrations: Sequence[Migration] = ()) -> sqlite3.Connection:
    """Open (or create) the database at ``path``, at the newest schema version.

    The connection is shared by the window and its worker threads, which serialise on their
    owner's lock; another process (``folio-cli``) may open the same file meanwhile, which
    WAL and the busy timeout allow. WAL with ``synchronous=NORMAL`` loses no committed
    transaction when the process is killed and skips an fsync per write.

    Raises:
        StoreError: the file was written by a newer Folio (a schema version this one does
            not know), is no SQLite database (another program's file, or damaged), holds
            another program's tables under Folio's names, or ``path`` is a folder or a link
            to nothing; what stands there is left exactly as it was.
    """
    if path.is_symlink() and not path.exists():
        # SQLite would make a new, empty database where the link points: the library it
        # held (on a disk not mounted now, say) would silently be an empty one.
        raise StoreError(
            f"{path} is a link to {os.readlink(path)}, which does not exist: put back what it "
            "points to, or move the link out of the data folder (Folio then starts an empty "
            "database in its place)."
        )
    db: sqlite3.Connection | None = None
    try:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")  # (a no-op inside a transaction)
        # The schema, the migrations and the check of the columns are one transaction, taken
        # before the file is switched to WAL: a file Folio refuses is rolled back to the
        # bytes it had, and two processes opening an old file at once migrate it once.
        with _write_transaction(db, schema):
            migrate(db, migrations, path.name)
            _require_columns(db, _expected_columns(schema, tuple(migrations)))
        db.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as exc:
        if db is not None:
            db.close()
        if path.is_dir() and "unable to open database file" in str(exc):
            raise StoreError(
                f"{path} is a folder, where Folio keeps a database: move it out of the data "
                "folder (Folio then starts an empty one in its place)."
            ) from exc
        # Its other subclasses (a locked file, a full disk) are not damage: raised as they
        # are. Tables without the columns Folio's have are another program's database.
        if type(exc) is not sqlite3.DatabaseError and not _FOREIGN_SCHEMA.search(str(exc)):
            raise
        raise StoreError(
            f"{path} is not a database Folio can read ({exc}): another program's file by "
            "that name, or a damaged one. Move it out of the data folder (Folio then starts "
            "an empty one in its place), or put back a copy from a backup."
        ) from exc
    except BaseException:
        if db is not None:
            db.close()
        raise
    return db


@contextmanager
def _write_transaction(db: sqlite3.Connection, script: str = "") -> Iterator[None]:
    """BEGIN IMMEDIATE (SQLite's write lock, waiting up to the busy timeout) and ``script``,
    the body, then COMMIT; ROLLBACK when either raises. (``executescript`` commits an open
    transaction before it runs, so a script inside one is given with its BEGIN.)"""
    try:
        if script:
            db.executescript(f"BEGIN IMMEDIATE;\n{script}")
        else:
            db.execute("BEGIN IMMEDIATE")
        yield
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


# SQLite's words for a table that lacks what Folio's schema declares (sqlite3.c, "no such
# column", "has no column named"): a database another program made, under Folio's name.
_FOREIGN_SCHEMA = re.compile(r"^no such (?:column|table): |has no column named ")


@cache
def _expected_columns(schema: str, migrations: tuple[Migration, ...]) -> dict[str, set[str]]:
    """Each table's columns at the newest version, as a new file gets them (built in
    memory, once per schema)."""
    memory = sqlite3.connect(":memory:", isolation_level=None)
    try:
        with _write_transaction(memory, schema):
            migrate(memory, migrations, "memory")
        return {table: _columns(memory, table) for table in _tables(memory)}
    finally:
        memory.close()


def _tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return [row[0] for row in rows if not row[0].startswith("sqlite_")]


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}


def _require_columns(db: sqlite3.Connection, expected: dict[str, set[str]]) -> None:
    """sqlite3.DatabaseError naming what is missing when a table lacks a column Folio's
    schema gives it: tables of the same names made by another program (``CREATE TABLE IF
    NOT EXISTS`` left them as they were)."""
    for table, columns in expected.items():
        missing = sorted(columns - _columns(db, table))
        if missing:
            raise sqlite3.DatabaseError(f"table {table} has no column {', '.join(missing)}")


def schema_version(db: sqlite3.Connection) -> int:
    """The schema version the database was last migrated to."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration], name: str) -> None:
    """Apply the migrations ``db`` has not had yet, inside the caller's write transaction
    (``connect``'s): the version read here cannot change before the steps are applied, and
    a step that fails leaves the file at the version it had.

    Raises:
        StoreError: ``db`` (a file called ``name``) has a version newer than ``migrations``
            reach.
    """
    version = schema_version(db)
    if version > len(migrations):
        raise StoreError(
            f"{name} was written by a newer version of Folio (schema {version}; this "
            f"one knows up to {len(migrations)}). Update Folio to open it."
        )
    for step in migrations[version:]:
        if callable(step):
            step(db)
        else:
            for statement in step:
                db.execute(statement)
    db.execute(f"PRAGMA user_version = {len(migrations)}")


def add_columns(table: str, columns: dict[str, str]) -> Migration:
    """A step adding ``columns`` (name -> declaration) to ``table``, unless already there.

    Only for files from before versions were kept, whose columns were added as found missing.
    """

    def step(db: sqlite3.Connection) -> None:
        present = _columns(db, table)
        for column, declaration in columns.items():
            if column not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    return step


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Connection]:
    """A write transaction under ``lock``: all of it is committed, or none of it."""
    with lock, _write_transaction(db):
        yield db
