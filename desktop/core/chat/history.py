"""Chats and their messages in SQLite (``chats.db``), with the persona library beside them.

Kept apart from ``chat`` (which asks models): reading and rating chats needs no model code.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from desktop.core.chat.comparisons import ComparisonStore
from desktop.core.chat.personas import PersonaLibrary, add_examples_column
from desktop.core.chat.support import Support
from desktop.core.db import Migration, add_columns
from desktop.core.db import connect as connect_db
from desktop.core.errors import ChatError
from desktop.core.library.citation import Citation
from desktop.core.names import is_blank, shown_name

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    model TEXT,
    persona TEXT,
    retrieval INTEGER NOT NULL DEFAULT 0,
    citations TEXT NOT NULL DEFAULT '[]',
    interrupted INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_chat ON messages(chat_id, id);
CREATE TABLE IF NOT EXISTS comparisons (
    id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS comparison_cells (
    comparison_id TEXT NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    config TEXT NOT NULL,
    chat_id TEXT REFERENCES chats(id) ON DELETE SET NULL,
    ttft_ms REAL,
    seconds REAL,
    cost_usd REAL,
    error TEXT,
    PRIMARY KEY (comparison_id, position)
);
CREATE TABLE IF NOT EXISTS comparison_sets (
    name TEXT PRIMARY KEY,
    configs TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""
# Schema versions after the first (``desktop.core.db.migrate``). Files from before versions
# were kept may have gained these columns already, so the first step adds only what is missing.
_MIGRATIONS: tuple[Migration, ...] = (
    add_columns("messages", {"usage": "TEXT", "rating": "INTEGER"}),
    # A comparison's cells are chats of their own (so their answers are rated like any),
    # kept out of the chat list.
    add_columns("chats", {"comparison": "TEXT"}),
    # The sentence that best supports an answer (JSON: ``Support.to_json``), the question
    # actually searched (a follow-up is searched with its history), and whether the answer
    # was cut at the token limit.
    add_columns(
        "messages",
        {"support": "TEXT", "searched": "TEXT", "cut_off": "INTEGER NOT NULL DEFAULT 0"},
    ),
    # What a person should read about an answer (no sources found, sources left out, a
    # dropped connection), shown again when the chat is reopened.
    add_columns("messages", {"notice": "TEXT"}),
    # A persona's example exchanges in its voice (JSON list of [question, answer]).
    add_examples_column,
)
# A person's verdict on an answer: liked answers become training examples (``finetune``).
LIKED, DISLIKED = 1, -1
TITLE_LIMIT = 80  # characters of a chat's title: a question's first line, as the list shows it


class ChatGone(ChatError):
    """The chat a message was to go into does not exist: deleted while it was answering."""


@dataclass(frozen=True)
class Message:
    """One turn of a chat, with the choices it was made with."""

    id: int
    chat_id: str
    role: str
    content: str
    model: str | None
    persona: str | None
    retrieval: bool
    citations: list[Citation]
    interrupted: bool
    created_at: float
    usage: dict[str, int] | None = None  # tokens, as the provider counted them
    rating: int | None = None  # LIKED, DISLIKED or None (not rated); answers only
    support: Support | None = None  # the sources' sentence that best answers the question
    searched: str | None = None  # the question searched, when not the one asked
    cut_off: bool = False  # the answer stopped at the token limit
    notice: str | None = None  # what a person should know about the answer


@dataclass(frozen=True)
class Chat:
    """A conversation."""

    id: str
    title: str
    created_at: float
    updated_at: float


class ChatStore:
    """Chats and messages in SQLite (``chats.db``); personas live in the same file."""

    def __init__(self, path: Path) -> None:
        # (WAL with NORMAL sync: an fsync per message was most of the time Folio added
        # before a remote model's first token.)
        self._db = connect_db(path, _SCHEMA, _MIGRATIONS)
        self.lock = threading.RLock()
        self.personas = PersonaLibrary(self._db, self.lock)
        self.comparisons = ComparisonStore(self._db, self.lock)

    def close(self) -> None:
        """Close the database."""
        with self.lock:
            self._db.close()

    def create(self, title: str, comparison: str | None = None) -> Chat:
        """A new, empty chat; one of ``comparison``'s cells when given (not in ``all``)."""
        now = time.time()
        chat = Chat(uuid.uuid4().hex, title.strip()[:TITLE_LIMIT] or "New chat", now, now)
        with self.lock:
            self._db.execute(
                "INSERT INTO chats (id, title, created_at, updated_at, comparison) "
                "VALUES (?, ?, ?, ?, ?)",
                (chat.id, chat.title, chat.created_at, chat.updated_at, comparison),
            )
        return chat

    def get(self, chat_id: str) -> Chat:
        """The chat with ``chat_id``; ChatError if there is none."""
        with self.lock:
            row = self._db.execute("SELECT * FROM chats WHERE id = ?", (chat_id,)).fetchone()
        if row is None:
            raise ChatError(f"No chat with id {shown_name(chat_id)!r}.")
        return Chat(row["id"], row["title"], row["created_at"], row["updated_at"])

    def all(self, search: str | None = None) -> list[Chat]:
        """Chats, most recently used first; ``search`` filters titles."""
        query = "SELECT * FROM chats WHERE comparison IS NULL"
        params: tuple[str, ...] = ()
        if search:
            # The words as typed: '%' and '_' are LIKE's wildcards, so they are escaped.
            pattern = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query, params = query + " AND title LIKE ? ESCAPE '\\'", (f"%{pattern}%",)
        with self.lock:
            rows = self._db.execute(query + " ORDER BY updated_at DESC", params).fetchall()
        return [Chat(r["id"], r["title"], r["created_at"], r["updated_at"]) for r in rows]

    def rename(self, chat_id: str, title: str) -> None:
        """Give a chat a new title: one line (whitespace runs made one space), cut at
        ``TITLE_LIMIT`` characters, as a question makes one; ChatError when nothing of it
        shows."""
        self.get(chat_id)
        shown = " ".join(title.split())[:TITLE_LIMIT]
        if is_blank(shown):
            raise ChatError("A chat's title cannot be empty: type a few words.")
        with self.lock:
            self._db.execute("UPDATE chats SET title = ? WHERE id = ?", (shown, chat_id))

    def delete(self, chat_id: str) -> None:
        """Delete a chat with its messages (ratings and citations go with them)."""
        self.get(chat_id)
        with self.lock:
            self._db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    def add_message(
        self,
        chat_id: str,
        role: str,
        content: str,
        *,
        model: str | None = None,
        persona: str | None = None,
        retrieval: bool = False,
        citations: list[Citation] | None = None,
        interrupted: bool = False,
        usage: Mapping[str, object] | None = None,
        support: Support | None = None,
        searched: str | None = None,
        cut_off: bool = False,
        notice: str | None = None,
    ) -> int:
        """Store one message of a chat; returns its id (the rating key). ``usage``: token counts as
        ``Usage``; ``support``, ``searched``, ``cut_off`` and ``notice`` as ``Message`` holds
        them.

        Raises:
            ChatGone: there is no chat ``chat_id`` (it was deleted meanwhile); nothing is stored.
        """
        now = time.time()
        cites = json.dumps([c.to_json() for c in citations or []])
        used = json.dumps(usage) if usage else None
        backing = json.dumps(support.to_json()) if support else None
        with self.lock:
            try:
                cursor = self._db.execute(
                    "INSERT INTO messages (chat_id, role, content, model, persona, retrieval,"
                    " citations, interrupted, created_at, usage, support, searched, cut_off,"
                    " notice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        chat_id, role, content, model, persona, retrieval, cites, interrupted,
                        now, used, backing, searched, cut_off, notice,
                    ),
                )  # fmt: skip
            except sqlite3.IntegrityError as exc:
                # The chat is checked in the same statement (its foreign key), so a chat
                # deleted by another thread just before is caught here, never half-stored.
                if self._exists(chat_id):
                    raise
                raise ChatGone(f"No chat with id {shown_name(chat_id)!r}: it was deleted.") from exc
            self._db.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
        return int(cursor.lastrowid or 0)

    def _exists(self, chat_id: str) -> bool:
        with self.lock:
            row = self._db.execute("SELECT 1 FROM chats WHERE id = ?", (chat_id,)).fetchone()
        return row is not None

    def messages(self, chat_id: str) -> list[Message]:
        """A chat's messages, oldest first."""
        with self.lock:
            rows = self._db.execute(
                "SELECT * FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,)
            ).fetchall()
        return [_message(r) for r in rows]

    def rate(self, message_id: int, rating: int | None) -> None:
        """Like (1) or dislike (-1) an answer, or take the rating back (None)."""
        if rating not in (LIKED, DISLIKED, None):
            raise ChatError(f"A rating is 1 (liked), -1 (disliked) or none, not {rating!r}.")
        with self.lock:
            row = self._db.execute(
                "SELECT role FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise ChatError(f"No message with id {message_id}.")
            if row["role"] != "assistant":
                raise ChatError(
                    f"Message {message_id} is a {row['role']} message; only answers are rated."
                )
            self._db.execute("UPDATE messages SET rating = ? WHERE id = ?", (rating, message_id))

    def liked(self) -> list[tuple[Message, Message]]:
        """Every liked answer with the message just before it (its question), oldest first.

        Answers with no user message right before them are left out.
        """
        pairs: list[tuple[Message, Message]] = []
        with self.lock:
            answers = self._db.execute(
                "SELECT * FROM messages WHERE role = 'assistant' AND rating = ? ORDER BY id",
                (LIKED,),
            ).fetchall()
            for answer in answers:
                before = self._db.execute(
                    "SELECT * FROM messages WHERE chat_id = ? AND id < ? ORDER BY id DESC LIMIT 1",
                    (answer["chat_id"], answer["id"]),
                ).fetchone()
                if before is not None and before["role"] == "user":
                    pairs.append((_message(before), _message(answer)))
        return pairs


def _message(r: sqlite3.Row) -> Message:
    citations = [Citation.from_json(c) for c in json.loads(r["citations"])]
    return Message(
        r["id"],
        r["chat_id"],
        r["role"],
        r["content"],
        r["model"],
        r["persona"],
        bool(r["retrieval"]),
        citations,
        bool(r["interrupted"]),
        r["created_at"],
        json.loads(r["usage"]) if r["usage"] else None,
        r["rating"],
        Support.from_json(json.loads(r["support"]), citations) if r["support"] else None,
        r["searched"],
        bool(r["cut_off"]),
        r["notice"],
    )
