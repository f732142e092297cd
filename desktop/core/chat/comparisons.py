"""Saved comparisons in ``chats.db``: one question put to several configurations at once.

Each cell's question and answer are a chat of their own (marked with the comparison's id and
left out of the chat list), so a cell's answer carries citations, usage and a rating like any
answer, and liked ones feed fine-tuning datasets the same way. This store keeps what a chat
does not: which cells a comparison has, in which order, with which configuration (a spec
string, ``desktop.core.evaluate.cells.CellConfig``), and each cell's timings, cost or error.
Named sets of configurations, to reuse a grid, live here too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass

from desktop.core.db import transaction
from desktop.core.errors import ChatError
from desktop.core.names import name_key, name_problem


@dataclass(frozen=True)
class CellRecord:
    """One cell of a saved comparison: its configuration, its chat, and how it went."""

    position: int
    config: str  # a CellConfig spec: MODEL[,persona=NAME][,retrieval=on|off]
    chat_id: str | None  # None once the person deleted that chat
    ttft_ms: float | None = None  # time to first token, after the shared retrieval
    seconds: float | None = None  # the whole answer
    cost_usd: float | None = None  # None: no known price
    error: str | None = None  # why the cell has no answer


@dataclass(frozen=True)
class ComparisonRecord:
    """A saved comparison: the question and its cells in grid order."""

    id: str
    question: str
    created_at: float
    cells: list[CellRecord]


class ComparisonStore:
    """Comparisons and named configuration sets, on the chat store's connection and lock."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self.lock = lock

    def create(self, question: str, configs: list[str]) -> ComparisonRecord:
        """A new comparison with an empty chat per cell, in ``configs`` order."""
        now = time.time()
        comparison = uuid.uuid4().hex
        cells = []
        with transaction(self._db, self.lock) as db:
            db.execute("INSERT INTO comparisons VALUES (?, ?, ?)", (comparison, question, now))
            for position, config in enumerate(configs):
                chat = uuid.uuid4().hex
                db.execute(
                    "INSERT INTO chats (id, title, created_at, updated_at, comparison) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (chat, f"{question.strip()[:60]} · {config}", now, now, comparison),
                )
                db.execute(
                    "INSERT INTO comparison_cells (comparison_id, position, config, chat_id) "
                    "VALUES (?, ?, ?, ?)",
                    (comparison, position, config, chat),
                )
                cells.append(CellRecord(position, config, chat))
        return ComparisonRecord(comparison, question, now, cells)

    def record(
        self,
        comparison_id: str,
        position: int,
        *,
        ttft_ms: float | None,
        seconds: float | None,
        cost_usd: float | None,
        error: str | None,
    ) -> None:
        """Keep how a cell went (its answer is in its chat)."""
        with self.lock:
            self._db.execute(
                "UPDATE comparison_cells SET ttft_ms = ?, seconds = ?, cost_usd = ?, error = ? "
                "WHERE comparison_id = ? AND position = ?",
                (ttft_ms, seconds, cost_usd, error, comparison_id, position),
            )

    def get(self, comparison_id: str) -> ComparisonRecord:
        """The comparison with ``comparison_id``; ChatError if there is none."""
        with self.lock:
            row = self._db.execute(
                "SELECT * FROM comparisons WHERE id = ?", (comparison_id,)
            ).fetchone()
            cells = self._db.execute(
                "SELECT * FROM comparison_cells WHERE comparison_id = ? ORDER BY position",
                (comparison_id,),
            ).fetchall()
        if row is None:
            raise ChatError(f"No comparison with id {comparison_id!r}.")
        return ComparisonRecord(
            row["id"], row["question"], row["created_at"], [_cell(c) for c in cells]
        )

    def all(self) -> list[ComparisonRecord]:
        """Every saved comparison, newest first."""
        with self.lock:
            ids = [
                r["id"]
                for r in self._db.execute("SELECT id FROM comparisons ORDER BY created_at DESC")
            ]
        return [self.get(i) for i in ids]

    def delete(self, comparison_id: str) -> None:
        """Delete a comparison with its cells' chats (their answers and ratings go too)."""
        self.get(comparison_id)
        with transaction(self._db, self.lock) as db:
            db.execute("DELETE FROM chats WHERE comparison = ?", (comparison_id,))
            db.execute("DELETE FROM comparisons WHERE id = ?", (comparison_id,))

    # Named sets of configurations ---------------------------------------------------------

    def save_set(self, name: str, configs: list[str]) -> str | None:
        """Keep a grid of configurations under ``name``, replacing the set whose name reads
        the same (``name_key``: case and Unicode normalisation aside); the name it replaced,
        or None for a new set. ChatError for an empty or unusable name (``name_problem``)."""
        name = name.strip()
        if not name:
            raise ChatError("A comparison set needs a name.")
        problem = name_problem(name)
        if problem is not None:
            raise ChatError(problem)
        with transaction(self._db, self.lock) as db:
            stored = [row[0] for row in db.execute("SELECT name FROM comparison_sets")]
            replaced = next((s for s in stored if name_key(s) == name_key(name)), None)
            db.execute("DELETE FROM comparison_sets WHERE name = ?", (replaced,))
            db.execute(
                "INSERT INTO comparison_sets VALUES (?, ?, ?)",
                (name, json.dumps(configs), time.time()),
            )
        return replaced

    def sets(self) -> dict[str, list[str]]:
        """The saved sets by name, most recently saved first."""
        with self.lock:
            rows = self._db.execute(
                "SELECT * FROM comparison_sets ORDER BY updated_at DESC"
            ).fetchall()
        return {r["name"]: list(json.loads(r["configs"])) for r in rows}

    def delete_set(self, name: str) -> None:
        """Forget the set called ``name`` (nothing happens if there is none)."""
        with self.lock:
            self._db.execute("DELETE FROM comparison_sets WHERE name = ?", (name,))


def _cell(row: sqlite3.Row) -> CellRecord:
    return CellRecord(
        row["position"],
        row["config"],
        row["chat_id"],
        row["ttft_ms"],
        row["seconds"],
        row["cost_usd"],
        row["error"],
    )
