"""Evaluation sets and their runs, in ``evaluations.db``.

An evaluation set is a named list of items: a question, the reference answer and the
passage it comes from (file and text). Sets are written from a library folder by a model
(``build``), imported from JSONL, taken from liked answers, and edited in a table. A run
answers every item with every configuration of a grid; each (item, configuration) result is
committed as it is made, so a run that is stopped, or a Folio that is killed, resumes where
it was, and finished runs stay to be compared over time (before and after fine-tuning).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from desktop.core.db import connect, transaction
from desktop.core.errors import EvaluationError
from desktop.core.library.citation import Citation
from desktop.core.names import find_name, name_key, name_problem, same_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS eval_sets (
    name TEXT PRIMARY KEY,
    source TEXT NOT NULL,          -- a SetSource
    folder TEXT,                   -- the library folder it was written from
    model TEXT,                    -- the model that wrote it
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS eval_items (
    set_name TEXT NOT NULL REFERENCES eval_sets(name) ON UPDATE CASCADE ON DELETE CASCADE,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    reference TEXT NOT NULL,
    source_path TEXT,
    source_text TEXT,
    PRIMARY KEY (set_name, id)
);
CREATE TABLE IF NOT EXISTS eval_runs (
    id TEXT PRIMARY KEY,
    set_name TEXT NOT NULL REFERENCES eval_sets(name) ON UPDATE CASCADE ON DELETE CASCADE,
    configs TEXT NOT NULL,         -- JSON list of CellConfig specs, in grid order
    top_k INTEGER,
    judge TEXT,                    -- the judge model's id, or NULL: no judge scores
    style_persona TEXT,
    style_dataset TEXT,
    started_at REAL NOT NULL,
    finished_at REAL               -- NULL while it has results still to make
);
CREATE TABLE IF NOT EXISTS eval_results (
    run_id TEXT NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    config TEXT NOT NULL,
    question TEXT NOT NULL,        -- as asked: the set may be edited after the run
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,         -- JSON list of Citation.to_json()
    error TEXT,
    rank INTEGER,                  -- 1-based rank of the source passage, NULL: not given
    ttft_ms REAL,
    seconds REAL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    cost_usd REAL,
    facts REAL,
    correctness REAL,
    faithfulness REAL,
    PRIMARY KEY (run_id, item_id, config)
);
"""
MIGRATIONS: list[tuple[str, ...]] = [
    # 1: the page of an item's source file, for questions scored by file (no passage text).
    ("ALTER TABLE eval_items ADD COLUMN source_page INTEGER",),
]


# How repeated questions are found: as names are matched (Unicode-normalised, case-folded,
# whitespace runs as one space, trimmed). Two questions with the same key are the same one.
question_key = name_key


def repeats(questions: Iterable[str]) -> list[tuple[int, int]]:
    """(position, position of its first asking) of each question asked before in
    ``questions``, both 0-based, in order: the later ones a set must not hold."""
    first: dict[str, int] = {}
    found = []
    for position, question in enumerate(questions):
        key = question_key(question)
        if key in first:
            found.append((position, first[key]))
        else:
            first[key] = position
    return found


def refuse_repeats(questions: list[str], name: str, what: str, fix: str) -> None:
    """Raise EvaluationError naming the first of ``questions`` that repeats an earlier one
    (``what`` is "Question" or "Row", counted from 1) and that one, then ``fix``."""
    twice = repeats(questions)
    if twice:
        later, first = twice[0]
        raise EvaluationError(
            f"{what} {later + 1} of {name!r} asks the same question as {what.lower()} "
            f"{first + 1} ({questions[first].strip()!r}): a question asked twice counts twice "
            f"in every score. {fix}"
        )


class RetrievalLevel(StrEnum):
    """How an item's retrieval is scored: by its source passage, or (with only a source
    file named) by that file, and its page when one is given."""

    PASSAGE = "passage"
    FILE = "file"


class SetSource(StrEnum):
    """Where a set's items came from."""

    GENERATED = "generated"
    IMPORTED = "imported"
    LIKED = "liked"
    MANUAL = "manual"


@dataclass(frozen=True)
class EvalItem:
    """One question of a set: the reference answer and the passage it comes from.

    With ``source_text``, retrieval is scored by that passage; with only ``source_path``
    (and ``source_page``, 1-based, when known), by that file; with neither (a liked answer
    without sources, an imported line without them), the question counts for facts, not
    for hit@k or MRR (``scored_by`` says which).
    """

    question: str
    reference: str
    source_path: str | None = None
    source_text: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    source_page: int | None = None

    @property
    def scored_by(self) -> RetrievalLevel | None:
        """How hit@k and MRR find this question's source; None: they do not count it."""
        if self.source_text:
            return RetrievalLevel.PASSAGE
        if self.source_path:
            return RetrievalLevel.FILE
        return None

    def to_json(self) -> dict[str, Any]:
        """One line of a set's JSONL: question, reference, source_path, source_text, id,
        source_page."""
        return {
            "question": self.question,
            "reference": self.reference,
            "source_path": self.source_path,
            "source_text": self.source_text,
            "id": self.id,
            "source_page": self.source_page,
        }


@dataclass(frozen=True)
class EvalSet:
    """A named set and its items in order."""

    name: str
    source: SetSource
    folder: str | None
    model: str | None
    created_at: float
    items: list[EvalItem]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": str(self.source),
            "folder": self.folder,
            "model": self.model,
            "questions": len(self.items),
            "with_source": sum(1 for i in self.items if i.source_text),
            "with_source_file": sum(1 for i in self.items if i.scored_by == RetrievalLevel.FILE),
        }


@dataclass(frozen=True)
class RunRecord:
    """A run of a set over configurations; ``finished_at`` None: results still to make."""

    id: str
    set_name: str
    configs: list[str]
    top_k: int | None
    judge: str | None
    style_persona: str | None
    style_dataset: str | None
    started_at: float
    finished_at: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.id,
            "set": self.set_name,
            "configs": self.configs,
            "judge": self.judge,
            "started_at": self.started_at,
            "finished": self.finished_at is not None,
        }


@dataclass
class ResultRecord:
    """One configuration's answer to one item, with what it took and its per-answer scores.

    Times in ms / s; ``rank`` is where the item's passage came among the sources given
    (None: not among them, or retrieval off); ``facts`` 0–1 (``scores.facts_overlap``);
    ``correctness`` 0–1 and ``faithfulness`` 0 or 1 from the judge, None without one.
    """

    item_id: str
    config: str
    question: str
    answer: str
    sources: list[Citation]
    error: str | None = None
    rank: int | None = None
    ttft_ms: float | None = None
    seconds: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    facts: float | None = None
    correctness: float | None = None
    faithfulness: float | None = None


def check_name(name: str) -> str:
    """``name`` trimmed; raises EvaluationError for an empty or over-long one, or one with
    characters that change how text shows (control, format such as right-to-left
    overrides, line and paragraph separators)."""
    name = name.strip()
    if not name:
        raise EvaluationError("An evaluation set needs a name.")
    problem = name_problem(name)
    if problem:
        raise EvaluationError(problem)
    return name


class EvalStore:
    """Evaluation sets, runs and results in one SQLite file; safe across threads."""

    def __init__(self, path: Path) -> None:
        self.lock = threading.RLock()
        self._db = connect(path, SCHEMA, MIGRATIONS)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    # -- sets ----------------------------------------------------------------------------

    def sets(self) -> list[EvalSet]:
        """Every set, newest first, with its items."""
        with self.lock:
            names = [r[0] for r in self._db.execute(
                "SELECT name FROM eval_sets ORDER BY created_at DESC, name"
            )]  # fmt: skip
        return [self.get(name) for name in names]

    def get(self, name: str) -> EvalSet:
        """The set called ``name``: spelled exactly so (spaces around it ignored), else the
        only set whose name reads the same (``find_name``: "GOOD" finds "good"). Raises
        EvaluationError naming up to ten of the sets there are, or the sets ``name`` could
        mean when several read the same."""
        with self.lock:
            stored = self._names()
            found = find_name(name, stored)
            if found is None:
                raise _no_set(name.strip(), stored)
            name = found
            row = self._db.execute("SELECT * FROM eval_sets WHERE name = ?", (name,)).fetchone()
            items = [
                EvalItem(
                    r["question"],
                    r["reference"],
                    r["source_path"],
                    r["source_text"],
                    r["id"],
                    r["source_page"],
                )
                for r in self._db.execute(
                    "SELECT * FROM eval_items WHERE set_name = ? ORDER BY position", (name,)
                )
            ]
        return EvalSet(
            row["name"], SetSource(row["source"]), row["folder"], row["model"],
            row["created_at"], items,
        )  # fmt: skip

    def _names(self) -> list[str]:
        """Every set's name, as stored."""
        with self.lock:
            return [row[0] for row in self._db.execute("SELECT name FROM eval_sets")]

    def _same_name(self, name: str) -> str | None:
        """The stored name of a set ``name`` would be taken for (``name_key``: case,
        Unicode normalisation and spacing aside), or None: two sets whose names read the
        same could not be told apart in a list."""
        return next(iter(same_key(name, self._names())), None)

    def _stored_name(self, name: str) -> str:
        """The stored name of the set ``get`` finds for ``name``; EvaluationError as it
        raises."""
        stored = self._names()
        found = find_name(name, stored)
        if found is None:
            raise _no_set(name.strip(), stored)
        return found

    def exists(self, name: str) -> bool:
        """Whether ``get`` finds a set for ``name``."""
        return find_name(name, self._names()) is not None

    def create(
        self,
        name: str,
        source: SetSource,
        items: Iterable[EvalItem] = (),
        *,
        folder: str | None = None,
        model: str | None = None,
    ) -> EvalSet:
        """A new set; raises EvaluationError if the name is taken or unusable, or if
        ``items`` ask a question twice (``question_key``), naming both positions."""
        name = check_name(name)
        listed = list(items)
        refuse_repeats([i.question for i in listed], name, "Question", "Leave it out.")
        with transaction(self._db, self.lock) as db:
            taken = self._same_name(name)  # under the write lock: no other can add it now
            if taken is not None:
                raise EvaluationError(
                    f"An evaluation set called {taken!r} exists already: choose another name "
                    "or remove it first."
                )
            db.execute(
                "INSERT INTO eval_sets VALUES (?, ?, ?, ?, ?)",
                (name, str(source), folder, model, time.time()),
            )
            self._insert(db, name, listed, 0)
        return self.get(name)

    def append(self, name: str, items: Iterable[EvalItem]) -> None:
        """Add ``items`` at the end of the set (a build commits each item as it is made).

        Raises EvaluationError for a question the set (or ``items``) holds already.
        """
        listed = list(items)
        with transaction(self._db, self.lock) as db:
            found = self.get(name)
            name, held = found.name, found.items
            # Only the new items are checked: a set kept from before repeats were refused
            # may hold some, and can still grow.
            questions = [i.question for i in held] + [i.question for i in listed]
            twice = [(later, first) for later, first in repeats(questions) if later >= len(held)]
            if twice:
                later, first = twice[0]
                raise EvaluationError(
                    f"{listed[later - len(held)].question!r} repeats question {first + 1} of "
                    f"{name!r}: a question asked twice counts twice in every score."
                )
            end = db.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM eval_items WHERE set_name = ?", (name,)
            ).fetchone()[0]
            self._insert(db, name, listed, int(end))

    def save_items(self, name: str, items: list[EvalItem]) -> EvalSet:
        """Replace the set's items with ``items`` (the table editor's Save), all at once.

        Raises EvaluationError naming the first row with an empty question or reference,
        or the first row that asks the question of an earlier row (``question_key``) and
        that row.
        """
        name = self._stored_name(name)
        for row, item in enumerate(items, start=1):
            if not item.question.strip():
                raise EvaluationError(
                    f"Row {row} of {name!r} has no question: write one or remove the row."
                )
            if not item.reference.strip():
                raise EvaluationError(
                    f"Row {row} of {name!r} has no reference answer: write one or remove the row."
                )
        refuse_repeats(
            [i.question for i in items], name, "Row", "Change one of them or remove a row."
        )
        with transaction(self._db, self.lock) as db:
            self.get(name)
            db.execute("DELETE FROM eval_items WHERE set_name = ?", (name,))
            self._insert(db, name, items, 0)
        return self.get(name)

    def rename(self, name: str, new_name: str) -> EvalSet:
        """Rename a set (its runs follow); raises EvaluationError if the new name is taken."""
        new_name = check_name(new_name)
        with transaction(self._db, self.lock) as db:
            name = self.get(name).name
            taken = self._same_name(new_name)
            if taken is not None and taken != name:
                raise EvaluationError(f"An evaluation set called {taken!r} exists already.")
            db.execute("UPDATE eval_sets SET name = ? WHERE name = ?", (new_name, name))
        return self.get(new_name)

    def delete(self, name: str) -> None:
        """Remove a set with its runs and results."""
        with transaction(self._db, self.lock) as db:
            name = self.get(name).name
            db.execute("DELETE FROM eval_sets WHERE name = ?", (name,))

    @staticmethod
    def _insert(db: sqlite3.Connection, name: str, items: list[EvalItem], start: int) -> None:
        db.executemany(
            "INSERT INTO eval_items (set_name, id, position, question, reference, source_path, "
            "source_text, source_page) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    name,
                    i.id,
                    start + n,
                    i.question,
                    i.reference,
                    i.source_path,
                    i.source_text,
                    i.source_page,
                )
                for n, i in enumerate(items)
            ],
        )

    # -- runs ----------------------------------------------------------------------------

    def start_run(
        self,
        set_name: str,
        configs: list[str],
        *,
        top_k: int | None = None,
        judge: str | None = None,
        style_persona: str | None = None,
        style_dataset: str | None = None,
    ) -> RunRecord:
        """A new, empty run of the set ``get`` finds for ``set_name`` over ``configs`` (specs,
        in the order given, which its report keeps)."""
        set_name = self._stored_name(set_name)
        run = RunRecord(
            uuid.uuid4().hex[:12], set_name, configs, top_k, judge, style_persona,
            style_dataset, time.time(), None,
        )  # fmt: skip
        with transaction(self._db, self.lock) as db:
            self.get(set_name)
            db.execute(
                "INSERT INTO eval_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id, set_name, json.dumps(configs), top_k, judge, style_persona,
                    style_dataset, run.started_at, None,
                ),
            )  # fmt: skip
        return run

    def runs(self, set_name: str) -> list[RunRecord]:
        """The runs of the set ``get`` finds for ``set_name``, newest first; none for a name
        no set has."""
        set_name = find_name(set_name, self._names()) or set_name.strip()
        with self.lock:
            rows = self._db.execute(
                "SELECT * FROM eval_runs WHERE set_name = ? ORDER BY started_at DESC", (set_name,)
            ).fetchall()
        return [_run(row) for row in rows]

    def run(self, run_id: str) -> RunRecord:
        """The run ``run_id``; raises EvaluationError if there is none."""
        with self.lock:
            row = self._db.execute("SELECT * FROM eval_runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise EvaluationError(
                f"No evaluation run has the id {run_id!r}.",
                cli=f"No evaluation run has the id {run_id!r}: see `folio-cli eval runs SET`.",
            )
        return _run(row)

    def unfinished(self, set_name: str, configs: list[str]) -> RunRecord | None:
        """The newest run of the set over exactly ``configs``, in any order, that still has
        results to make: the one a new run of the same grid resumes. A grid is its cells,
        not their order (each result is kept by its configuration), so the same cells given
        in another order go on with that run, in the order it was started with."""
        wanted = sorted(configs)
        for run in self.runs(set_name):
            if run.finished_at is None and sorted(run.configs) == wanted:
                return run
        return None

    def finish(self, run_id: str) -> None:
        with transaction(self._db, self.lock) as db:
            db.execute("UPDATE eval_runs SET finished_at = ? WHERE id = ?", (time.time(), run_id))

    def record(self, run_id: str, result: ResultRecord) -> None:
        """Keep one result (committed at once: a killed run loses at most the answer being made)."""
        r = result
        with transaction(self._db, self.lock) as db:
            db.execute(
                "INSERT OR REPLACE INTO eval_results VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, r.item_id, r.config, r.question, r.answer,
                    json.dumps([c.to_json() for c in r.sources]), r.error, r.rank, r.ttft_ms,
                    r.seconds, r.tokens_in, r.tokens_out, r.cost_usd, r.facts, r.correctness,
                    r.faithfulness,
                ),
            )  # fmt: skip

    def results(self, run_id: str) -> list[ResultRecord]:
        """Every result of the run, in the order they were made."""
        with self.lock:
            rows = self._db.execute(
                "SELECT * FROM eval_results WHERE run_id = ? ORDER BY rowid", (run_id,)
            ).fetchall()
        return [
            ResultRecord(
                r["item_id"],
                r["config"],
                r["question"],
                r["answer"],
                [Citation.from_json(c) for c in json.loads(r["sources"])],
                r["error"],
                r["rank"],
                r["ttft_ms"],
                r["seconds"],
                r["tokens_in"],
                r["tokens_out"],
                r["cost_usd"],
                r["facts"],
                r["correctness"],
                r["faithfulness"],
            )
            for r in rows
        ]


def _no_set(name: str, stored: list[str]) -> EvaluationError:
    """The error for a ``name`` that finds no set among the ``stored`` names: the sets it
    could mean when several read as it does, else up to ten of those there are."""
    alike = same_key(name, stored)
    if len(alike) > 1:
        missing = (
            f"No evaluation set is called {name!r} exactly, and {len(alike)} read the same "
            f"({', '.join(repr(a) for a in sorted(alike))}): give the name as it is written"
        )
        return EvaluationError(f"{missing}.")
    known = sorted(stored)
    listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
    missing = f"No evaluation set is called {name!r}" + (
        f" (there are: {listed})." if known else "."
    )
    return EvaluationError(
        f"{missing} Make one first.",
        cli=f"{missing} Make one with `folio-cli eval build` or in Evaluate.",
    )


def _run(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        row["id"], row["set_name"], json.loads(row["configs"]), row["top_k"], row["judge"],
        row["style_persona"], row["style_dataset"], row["started_at"], row["finished_at"],
    )  # fmt: skip
