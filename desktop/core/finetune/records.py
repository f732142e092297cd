"""Fine-tuning jobs as Folio records them: jobs, their events, loss metrics and lineage, in
``finetune.db``.

A record outlives the provider's own: the picker shows the lineage (base model, dataset,
persona, date) of every ``ft:`` model Folio made, and ``FineTuning`` (``jobs.py``) keeps the
records in step with the provider.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from desktop.core.db import connect as connect_db
from desktop.core.db import transaction as write_transaction
from desktop.core.errors import FinetuneError
from desktop.core.models.ids import LOCAL
from desktop.core.models.local_files import Lineage


class JobState(StrEnum):
    """A fine-tuning job's status, as OpenAI's fine-tuning API names them
    (https://platform.openai.com/docs/api-reference/fine-tuning/object)."""

    VALIDATING_FILES = "validating_files"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


def how_it_ended(status: str) -> str:
    """A finished job's status as the words after "has already": "succeeded", "failed",
    "been cancelled"."""
    return "been cancelled" if status == JobState.CANCELLED else str(status)


@dataclass(frozen=True)
class JobEvent:
    """One event of a job as the provider reported it (message, level, type, data, time in epoch
    seconds)."""

    id: str
    created_at: float
    level: str  # "info", "warn" or "error"
    message: str
    type: str = "message"  # or "metrics", whose ``data`` holds a training step's numbers
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Metric:
    """One training step's numbers, from the job's ``metrics`` events."""

    step: int
    train_loss: float | None
    valid_loss: float | None
    total_steps: int | None = None


@dataclass
class Job:
    """A job as Folio last saw it."""

    id: str  # the provider's job id, "ftjob-..."
    provider: str  # "openai" or a server's name
    base: str  # the base model the job was created with
    status: str  # OpenAI's: validating_files, queued, running, succeeded, failed, cancelled
    created_at: float
    suffix: str | None = None
    dataset: str | None = None  # the dataset's name (or the file's path, from the CLI)
    persona: str | None = None
    fine_tuned_model: str | None = None  # "ft:..." once succeeded
    error: str | None = None  # the server's reason, for failed jobs
    finished_at: float | None = None
    training_file: str | None = None  # the uploaded files' ids
    validation_file: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    trained_tokens: int | None = None

    @property
    def finished(self) -> bool:
        """Whether the job has ended (succeeded, failed or cancelled)."""
        return self.status in TERMINAL

    @property
    def model_id(self) -> str | None:
        """The picker's id for the resulting model, e.g. ``openai:ft:gpt-4o-mini:...``."""
        return f"{self.provider}:{self.fine_tuned_model}" if self.fine_tuned_model else None

    def to_json(self) -> dict[str, Any]:
        """The CLI contract's job shape (job_id, status, base, fine_tuned_model, error) + more.

        ``fine_tuned_model`` is what the provider calls the model (OpenAI's ``ft:…``); for a
        job trained on this computer, the contract gives the picker's id, ``local:ft:<name>``.
        """
        return {
            "job_id": self.id,
            "status": self.status,
            "base": self.base,
            "fine_tuned_model": self.model_id if self.provider == LOCAL else self.fine_tuned_model,
            "error": self.error,
            "model_id": self.model_id,
            "provider": self.provider,
            "dataset": self.dataset,
            "persona": self.persona,
            "suffix": self.suffix,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "hyperparameters": self.hyperparameters,
            "trained_tokens": self.trained_tokens,
        }


@dataclass(frozen=True)
class PendingStart:
    """Files uploaded for a job the provider may or may not have created yet.

    Saved before the job is created and dropped when it is saved: one left behind means
    Folio stopped in between, and ``FineTuning.recover`` finds out which way it went.
    """

    training_file: str
    validation_file: str | None
    provider: str
    base: str
    created_at: float
    suffix: str | None = None
    dataset: str | None = None
    persona: str | None = None


def ft_lineage(model: str, job: Job | None, created: float | None = None) -> Lineage:
    """Where an ``ft:`` model came from, as ``models list`` and the picker show it.

    From Folio's job when it ran one; otherwise only what the id says (``ft:<base>:...``)
    and ``created``, when the provider listed the model.
    """
    parts = model.removeprefix("openai:").split(":")
    when = job.finished_at or job.created_at if job else created
    return Lineage(
        base=job.base if job else (parts[1] if len(parts) > 1 and parts[1] else None),
        dataset=job.dataset if job else None,
        persona=job.persona if job else None,
        date=time.strftime("%Y-%m-%d", time.localtime(when)) if when else None,
        timestamp=when,
        job_id=job.id if job else None,
        trained_here=job is not None,
    )


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    base TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    suffix TEXT,
    dataset TEXT,
    persona TEXT,
    fine_tuned_model TEXT,
    error TEXT,
    finished_at REAL,
    training_file TEXT,
    validation_file TEXT,
    hyperparameters TEXT NOT NULL DEFAULT '{}',
    trained_tokens INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_model ON jobs(fine_tuned_model);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'message',
    data TEXT
);
CREATE INDEX IF NOT EXISTS events_job ON events(job_id, created_at);
CREATE TABLE IF NOT EXISTS pending_starts (
    training_file TEXT PRIMARY KEY,
    validation_file TEXT,
    provider TEXT NOT NULL,
    base TEXT NOT NULL,
    created_at REAL NOT NULL,
    suffix TEXT,
    dataset TEXT,
    persona TEXT
);
"""
_JOB_COLUMNS = (
    "id, provider, base, status, created_at, suffix, dataset, persona, fine_tuned_model, "
    "error, finished_at, training_file, validation_file, hyperparameters, trained_tokens"
)
_UPSERT_JOB = (
    f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({', '.join('?' * 15)}) ON CONFLICT(id) DO UPDATE "
    "SET " + ", ".join(f"{c} = excluded.{c}" for c in _JOB_COLUMNS.split(", ")[1:])
)


class JobStore:
    """Jobs, events and metrics in SQLite (``finetune.db``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect_db(path, _SCHEMA)
        self._lock = threading.RLock()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._db, self._lock)

    def save(self, job: Job) -> None:
        """Insert or replace a job's record."""
        self.update(job, [])

    def update(self, job: Job, events: Collection[JobEvent]) -> None:
        """Save a job and its new events together; events already stored are skipped."""
        values = (
            job.id,
            job.provider,
            job.base,
            job.status,
            job.created_at,
            job.suffix,
            job.dataset,
            job.persona,
            job.fine_tuned_model,
            job.error,
            job.finished_at,
            job.training_file,
            job.validation_file,
            json.dumps(job.hyperparameters),
            job.trained_tokens,
        )
        with self._transaction() as db:
            # An upsert, not INSERT OR REPLACE: replacing the row would cascade to its events.
            db.execute(_UPSERT_JOB, values)
            # The job is known now: the start that uploaded its files is over.
            db.execute("DELETE FROM pending_starts WHERE training_file = ?", (job.training_file,))
            db.executemany(
                "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (e.id, job.id, e.created_at, e.level, e.message, e.type, _dumps(e.data))
                    for e in events
                ],
            )

    def delete(self, job_id: str) -> None:
        """Forget a job and its events (nothing happens if there is no such job)."""
        with self._transaction() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def get(self, job_id: str) -> Job:
        """FinetuneError naming the id if Folio knows no such job."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise FinetuneError(
                f"Folio knows no fine-tuning job {job_id!r}.",
                cli=f"Folio knows no fine-tuning job {job_id!r}: `folio-cli finetune status` "
                "lists the jobs it started.",
            )
        return _job(row)

    def all(self) -> list[Job]:
        """Every job, newest first."""
        return self._jobs("")

    def unfinished(self) -> list[Job]:
        """Jobs that have not ended, oldest first: the ones to keep following."""
        return self._jobs("WHERE status NOT IN (?, ?, ?)", TERMINAL)

    def _jobs(self, where: str, params: tuple[str, ...] = ()) -> list[Job]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs {where} ORDER BY created_at DESC, rowid DESC",
                params,
            ).fetchall()
        return [_job(row) for row in rows]

    def events(self, job_id: str) -> list[JobEvent]:
        """Oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM events WHERE job_id = ? ORDER BY created_at, rowid", (job_id,)
            ).fetchall()
        return [
            JobEvent(
                r["id"],
                r["created_at"],
                r["level"],
                r["message"],
                r["type"],
                json.loads(r["data"]) if r["data"] else None,
            )
            for r in rows
        ]

    def event_ids(self, job_id: str) -> set[str]:
        """Ids of the events already stored for a job, to fetch only new ones."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM events WHERE job_id = ?", (job_id,))
            return {row[0] for row in rows}

    def metrics(self, job_id: str) -> list[Metric]:
        """By step."""
        by_step: dict[int, Metric] = {}
        for event in self.events(job_id):
            data = event.data or {}
            if event.type != "metrics" or not isinstance(data.get("step"), int | float):
                continue
            step = int(data["step"])
            by_step[step] = Metric(
                step,
                _number(data.get("train_loss")),
                _number(data.get("valid_loss")),
                int(data["total_steps"]) if isinstance(data.get("total_steps"), int) else None,
            )
        return [by_step[step] for step in sorted(by_step)]

    def lineage(self, fine_tuned_model: str) -> Job | None:
        """The job that made an ``ft:`` model (id with or without ``openai:``), if Folio ran it."""
        model = fine_tuned_model
        if not model.startswith("ft:"):
            model = model.partition(":")[2]  # "<provider>:ft:..."
        with self._lock:
            row = self._db.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE fine_tuned_model = ? "
                "ORDER BY created_at DESC LIMIT 1",
                (model,),
            ).fetchone()
        return _job(row) if row else None

    def add_pending(self, start: PendingStart) -> None:
        """Record uploaded files before their job exists, so a start cut short can be settled."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO pending_starts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    start.training_file,
                    start.validation_file,
                    start.provider,
                    start.base,
                    start.created_at,
                    start.suffix,
                    start.dataset,
                    start.persona,
                ),
            )

    def drop_pending(self, training_file: str) -> None:
        """Forget the pending start of ``training_file`` (its job was saved or it was settled)."""
        with self._transaction() as db:
            db.execute("DELETE FROM pending_starts WHERE training_file = ?", (training_file,))

    def pending(self) -> list[PendingStart]:
        """Starts that uploaded files but never saved a job, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM pending_starts ORDER BY created_at").fetchall()
        return [PendingStart(**dict(row)) for row in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def _dumps(data: dict[str, Any] | None) -> str | None:
    return json.dumps(data) if data else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _job(row: sqlite3.Row) -> Job:
    values = dict(row)
    values["hyperparameters"] = json.loads(values["hyperparameters"] or "{}")
    return Job(**values)
