"""SIGKILL during ingestion, several times: after a restart the library and store agree."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.core.library.catalog import FileStatus
from tests.consistency import assert_consistent

pytestmark = pytest.mark.slow

ROUNDS = 6
# About 60 tokens: one chunk a file.
FILLER = "The committee reviewed the item and agreed on next steps for the quarter. " * 4


def _corpus(folder: Path, round_no: int, rng: random.Random) -> set[str]:
    """Create, or churn, many one-chunk files: additions, rewrites and removals each round.

    With small files, store writes and commits take a good share of the run, so random
    kills land inside them as well as inside embedding.
    """
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("*.md"))
    if existing:
        for path in rng.sample(existing, 60):
            path.write_text(f"Round {round_no} rewrote this file. {FILLER}")
        for path in rng.sample(existing, 3):
            path.unlink(missing_ok=True)
    for i in range(200 if not existing else 100):
        name = folder / f"doc-{round_no}-{i}.md"
        name.write_text(f"# Note {round_no}.{i}\n\nTopic {i} in round {round_no}. {FILLER}")
    return {str(p) for p in folder.glob("*.md")}


def _kill_after(
    child: subprocess.Popen[bytes], db: Path, pattern: str, target: int, pause: float
) -> bool:
    """SIGKILL ``child`` ``pause`` seconds after ``target`` files matching ``pattern`` are
    indexed; False when it finished first.

    The kill point follows the run's own progress, read from ``library.db`` as another
    reader would, not a clock: on a faster or slower machine it still lands mid-run.
    """
    while child.poll() is None:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                (done,) = conn.execute(
                    "SELECT COUNT(*) FROM files WHERE status = ? AND path LIKE ?",
                    (FileStatus.INDEXED.value, pattern),
                ).fetchone()
        except sqlite3.Error:  # not created yet, or mid-migration: look again
            done = 0
        if done >= target:
            time.sleep(pause)
            if child.poll() is not None:
                return False
            child.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.01)
    return False


def test_sigkill_at_random_points(make_services, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(20261126)
    docs = tmp_path / "docs"
    killed = rolled_back = 0
    for round_no in range(ROUNDS):
        expected = _corpus(docs, round_no, rng)
        child = subprocess.Popen(
            [sys.executable, "-m", "desktop.cli", "--home", str(home), "ingest", str(docs)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Each round adds at least 100 files; a target below that leaves work to cut, and the
        # pause moves the kill off the commit that was just seen, into embedding or writing.
        target, pause = rng.randint(1, 90), rng.uniform(0.0, 0.05)
        killed += _kill_after(child, home / "library.db", f"%doc-{round_no}-%", target, pause)
        child.wait(timeout=120)

        services = make_services(at=home)
        rolled_back += services.ingestor.recovered  # opening rolls back what was half done
        assert_consistent(services)
        # Marked unless the kill came after the run had ended whole (closing, say).
        done = {r.path for r in services.library.all_files() if r.status == FileStatus.INDEXED}
        marked = services.library.interrupted_folders()
        assert marked == services.library.folders() or (marked == [] and done == expected)
        report = services.ingestor.sync()
        assert not report.cancelled and report.failed == 0
        assert_consistent(services)
        assert services.library.interrupted_folders() == []
        indexed = {r.path for r in services.library.all_files() if r.status == FileStatus.INDEXED}
        assert indexed == expected
        services.close()
    assert killed == ROUNDS, "a run finished before its kill"
    print(f"{killed} kills, {rolled_back} half-done files rolled back")
