"""The training process: ``python -m desktop.core.finetune.local.worker RUN_FOLDER``.

It runs apart from the window (so the window stays responsive), at low priority. Before it
imports PyTorch (seconds), it takes the run's lock, so a second process started for the
same run leaves at once; then ``trainer.Run`` trains. SIGTERM stops it after the current
step: for good when the run's ``cancel`` file exists, else paused at a checkpoint, to be
started again. Whatever else stops it becomes the job's error.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from desktop.core.errors import FinetuneError
from desktop.core.finetune.local.run_files import RunFiles, Stopped
from desktop.core.finetune.records import JobState, JobStore

NICENESS = 10  # below the window and the user's other programs
# A status check holds the lock for an instant to see whether a trainer runs: wait that out.
LOCK_WAIT_S = 2.0
EXIT_HELD = 3  # another process already trains this run

log = logging.getLogger("folio.trainer")


def estimate(folder: Path) -> int:
    """Print (JSON) what training the run in ``folder`` would take here, measured on its
    largest batches (``trainer.Run.estimate``); 0, or 2 with ``{"error": ...}`` for bad data
    or an unusable base."""
    # Imported here: it loads PyTorch and transformers (seconds).
    from desktop.core.finetune.local.trainer import Run

    try:
        result = Run(RunFiles(folder), None, lambda: False).estimate()
    except FinetuneError as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    print(json.dumps(result))
    return 0


def main(argv: list[str]) -> int:
    """Train the run in ``argv[1]``; 0 once it ended (any way) or paused, ``EXIT_HELD`` if
    another process holds it. ``--estimate FOLDER`` measures instead (``estimate``)."""
    if argv[1] == "--estimate":
        return estimate(Path(argv[2]))
    files = RunFiles(Path(argv[1]))
    stop = {"requested": False}

    def on_term(signum: int, frame: Any) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGTERM, on_term)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    lock = FileLock(files.lock)
    try:
        lock.acquire(timeout=LOCK_WAIT_S)
    except Timeout:
        log.info("Another trainer is running %s.", files.folder)
        return EXIT_HELD
    files.pid.write_text(str(os.getpid()), encoding="ascii")
    jobs = JobStore(files.folder.parent.parent.parent / "finetune.db")  # <home>/finetune.db
    job_id = files.folder.name

    def end(status: JobState, error: str | None = None) -> None:
        job = jobs.get(job_id)
        job.status, job.error, job.finished_at = status, error, time.time()
        jobs.save(job)

    try:
        if files.cancel.exists() or stop["requested"]:
            raise Stopped
        # Imported here, under the lock: it loads PyTorch and transformers (seconds).
        from desktop.core.finetune.local.trainer import Run

        run = Run(files, jobs, lambda: stop["requested"] or files.cancel.exists())
        run.train()
    except Stopped:
        if files.cancel.exists():
            end(JobState.CANCELLED)
        else:
            log.info("Paused; the run goes on from its newest checkpoint when started again.")
    except FinetuneError as exc:  # bad data, an unusable base, a conversion that fails its check
        end(JobState.FAILED, str(exc))
    except Exception as exc:
        log.error("%s", traceback.format_exc())
        end(
            JobState.FAILED,
            f"Training stopped: {type(exc).__name__}: {str(exc).rstrip('. ')}. See {files.log}.",
        )
    finally:
        jobs.close()
        files.pid.unlink(missing_ok=True)
        lock.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
