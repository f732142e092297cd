"""Every SQLite database knows its schema version and migrates, step by step, what older
versions of Folio wrote; one written by a newer Folio is refused, not damaged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.core.chat.history import ChatStore
from desktop.core.errors import StoreError
from desktop.core.library.catalog import _SCHEMA as LIBRARY_V0
from desktop.core.library.catalog import FolderState, Library

# chats.db as the first release wrote it (before ratings and usage), and as releases that
# added those columns when they found them missing left it: both with no version.
CHATS_V0 = """
CREATE TABLE chats (id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL);
CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id TEXT NOT NULL
    REFERENCES chats(id) ON DELETE CASCADE, role TEXT NOT NULL, content TEXT NOT NULL,
    model TEXT, persona TEXT, retrieval INTEGER NOT NULL DEFAULT 0,
    citations TEXT NOT NULL DEFAULT '[]', interrupted INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL);
INSERT INTO chats VALUES ('c1', 'Leave', 1, 1);
INSERT INTO messages (chat_id, role, content, created_at)
    VALUES ('c1', 'user', 'How many days?', 1);
"""


def _columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_a_library_written_before_versions_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("A note.")
    path = tmp_path / "library.db"
    with sqlite3.connect(path) as db:
        db.executescript(LIBRARY_V0)
        db.execute("INSERT INTO folders VALUES (?, 1.0)", (str(docs),))
        db.execute(
            "INSERT INTO files VALUES (?, ?, 7, 1, 'h', 'indexed', NULL, '[\"id-1\"]', 1.0)",
            (str(docs / "a.txt"), str(docs)),
        )
    assert _version(path) == 0
    library = Library(path)
    try:
        assert _version(path) == 3
        assert {"device", "raw"} <= _columns(path, "folders")
        assert library.stats().failures == []  # the name_clashes table is there
        assert library.folders() == [str(docs)]
        record = library.get(str(docs / "a.txt"))
        assert record is not None and record.chunk_ids == ["id-1"]
        assert library.folder_states() == {str(docs): FolderState.AVAILABLE}
    finally:
        library.close()
    Library(path).close()  # opening a migrated file again changes nothing
    assert _version(path) == 3


@pytest.mark.parametrize("sniffed", [False, True], ids=["first release", "columns added"])
def test_chats_written_before_versions_are_migrated(tmp_path: Path, sniffed: bool) -> None:
    path = tmp_path / "chats.db"
    with sqlite3.connect(path) as db:
        db.executescript(CHATS_V0)
        if sniffed:
            db.execute("ALTER TABLE messages ADD COLUMN usage TEXT")
            db.execute("ALTER TABLE messages ADD COLUMN rating INTEGER")
    store = ChatStore(path)
    try:
        assert _version(path) == 5
        assert "examples" in _columns(path, "personas")  # made with the table, no step needed
        expected = {"usage", "rating", "support", "searched", "cut_off", "notice"}
        assert expected <= _columns(path, "messages")
        assert "comparison" in _columns(path, "chats")
        assert [m.content for m in store.messages("c1")] == ["How many days?"]
        assert store.messages("c1")[0].support is None  # old answers carry none
        assert not store.messages("c1")[0].cut_off
        assert store.messages("c1")[0].notice is None
        assert [c.id for c in store.all()] == ["c1"]  # an old chat is no comparison's cell
    finally:
        store.close()


def test_a_database_from_a_newer_folio_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    with sqlite3.connect(path) as db:
        db.executescript(LIBRARY_V0)
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(StoreError, match=r"newer version of Folio .*Update Folio"):
        Library(path)
    assert _version(path) == 7
    assert "device" not in _columns(path, "folders")


@pytest.mark.parametrize("content", [b"garbage\n", b"SQLite format 3\0" + b"\xff" * 200])
def test_a_file_that_is_no_database_is_named_and_left_as_it_is(
    tmp_path: Path, content: bytes
) -> None:
    for path, opener in ((tmp_path / "chats.db", ChatStore), (tmp_path / "library.db", Library)):
        path.write_bytes(content)
        with pytest.raises(StoreError, match=r"is not a database Folio can read.*backup"):
            opener(path)
        assert path.read_bytes() == content


@pytest.mark.parametrize(
    "kind",
    ["another program's tables", "a folder", "a link to nothing", "a link into a folder"],
)
def test_what_stands_where_a_database_should_be_is_named_and_left_as_it_is(
    tmp_path: Path, kind: str
) -> None:
    for path, opener in ((tmp_path / "chats.db", ChatStore), (tmp_path / "library.db", Library)):
        before = b""
        if kind == "a folder":
            path.mkdir()
            said, advice = f"{path} is a folder, where Folio keeps a database", "move it out"
        elif kind.startswith("a link"):
            # Into a folder that is gone too, or into one that is there (a disk mounted
            # again without the file): SQLite would make an empty database there.
            target = tmp_path / ("gone" if kind == "a link to nothing" else "") / "x.db"
            path.symlink_to(target)
            said, advice = f"{path} is a link to {target}, which does not exist", "put back"
        else:
            with sqlite3.connect(path) as other:  # tables of the same names, other columns
                other.executescript(
                    "CREATE TABLE files (a INT); CREATE TABLE chats (a INT);"
                    "INSERT INTO files VALUES (7); INSERT INTO chats VALUES (7);"
                )
            other.close()
            before = path.read_bytes()
            said, advice = f"{path} is not a database Folio can read (", "move it out"
        with pytest.raises(StoreError) as refused:
            opener(path)
        assert str(refused.value).startswith(said), str(refused.value)
        assert advice in str(refused.value).lower()
        assert "of the data folder (folio then starts an empty" in str(refused.value).lower()
        if path.is_file():  # the other program's file has the very bytes it had
            assert path.read_bytes() == before
            assert not Path(f"{path}-wal").exists() and not Path(f"{path}-journal").exists()
        assert path.is_dir() == (kind == "a folder")
        assert path.is_symlink() == kind.startswith("a link")
        assert not (tmp_path / "x.db").exists() and not (tmp_path / "gone").exists()
