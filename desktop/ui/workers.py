"""Long work off the UI thread: core callbacks and results become Qt signals, here only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from desktop.core.errors import Cancelled, FolioError
from desktop.core.tasks import CancelToken
from desktop.ui.messages import error_text, failure_text
from desktop.ui.qt import QObject, QThreadPool, Signal

log = logging.getLogger(__name__)


class Job(QObject):
    """One piece of background work; its signals arrive on the UI thread.

    ``work`` receives the job and may call ``job.report(progress)`` and ``job.stream(text)``
    from the worker thread, and should check ``job.cancel`` between steps. Work that stops
    because it was cancelled emits ``cancelled``, never ``failed``.
    """

    progress = Signal(object)
    token = Signal(str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    # Keeps jobs alive until their signals have been delivered.
    _running: ClassVar[set[Job]] = set()
    # The window's data folder, to name its file in a failure to use one (``failure_text``);
    # set by the main window, as every job works in that one folder.
    data_folder: ClassVar[Path | None] = None

    def __init__(self, work: Callable[[Job], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self.cancel = CancelToken()
        self.result: Any = None
        self.finished.connect(lambda: Job._running.discard(self))

    def start(self) -> Job:
        """Run on Qt's global thread pool."""
        Job._running.add(self)
        QThreadPool.globalInstance().start(self._run)
        return self

    def report(self, progress: object) -> None:
        self.progress.emit(progress)

    def stream(self, text: str) -> None:
        self.token.emit(text)

    def _run(self) -> None:
        try:
            result = self._work(self)
        except Cancelled:
            self.cancelled.emit()
        except FolioError as exc:
            log.warning("%s", exc)
            self.failed.emit(error_text(exc))
        except Exception as exc:
            log.exception("Unexpected error in background work")
            self.failed.emit(failure_text(exc, Job.data_folder))
        else:
            self.result = result
            self.succeeded.emit(result)
        finally:
            self.finished.emit()


def wait_for_jobs(timeout_ms: int = 30_000) -> bool:
    """Wait for background work to end (at shutdown); True when it did."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
