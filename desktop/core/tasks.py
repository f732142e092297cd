"""Progress and cancellation for long work, as plain Python the UI can wrap in signals."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.errors import Cancelled


class CancelToken:
    """Set by the UI (or Ctrl+C); long work checks it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop at its next safe point."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise ``Cancelled`` if cancellation was asked for."""
        if self._event.is_set():
            raise Cancelled()


@dataclass(frozen=True)
class Progress:
    """Where an ingest run stands; ``chunks_total`` and the ETA are estimates.

    ``detail`` says what is happening inside the current file, e.g. "recognising page 3 of
    12" while OCR reads a scan; None when there is nothing to add.
    """

    files_done: int
    files_total: int
    chunks_done: int
    chunks_total: int
    current: str | None
    eta_seconds: float | None
    detail: str | None = None


ProgressCallback = Callable[[Progress], None]


def eta_phrase(seconds: float | None) -> str:
    """``", about 40 s left"`` / ``", about 3 min left"``; empty while there is no estimate.

    The one wording of a time estimate, for the window and ``folio-cli`` alike.
    """
    if seconds is None:
        return ""
    return f", about {duration_phrase(seconds)} left"


def eta_seconds(elapsed: float, done_here: int, remaining: int) -> float | None:
    """Seconds left at this run's pace: ``elapsed`` seconds for ``done_here`` units of work
    done in this run (not counting what an earlier run left), ``remaining`` units to go.
    None until a unit is done, when there is no pace to go on."""
    if done_here <= 0:
        return None
    return elapsed / done_here * max(remaining, 0)


def duration_phrase(seconds: float) -> str:
    """``"40 s"``, ``"3 min"``, ``"2 h 5 min"``: a duration as the window and CLI word it."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def clock_time(seconds: float) -> str:
    """A moment (seconds since the epoch) in local time as Folio shows one everywhere:
    ``2026-12-01 14:03``."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))
