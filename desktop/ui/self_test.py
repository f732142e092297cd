"""``folio --self-test PNG``: proof that an installed copy starts, for installer checks.

The window opens on the user's library as usual; once the start-up sync has finished, a
screenshot of the window is saved and Folio quits. The exit status is 0 only if no error
was shown, so a packaging test can tell a working install from one that merely launched.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from desktop.ui.main_window import MainWindow
from desktop.ui.qt import QApplication, QTimer

POLL_MS = 100
TIMEOUT_S = 120.0


def run_self_test(window: MainWindow, screenshot: Path) -> None:
    """Poll until the window is shown and idle, then save ``screenshot`` and quit."""
    deadline = time.monotonic() + TIMEOUT_S

    def check() -> None:
        if time.monotonic() > deadline:
            print("folio: self-test timed out waiting for start-up work", file=sys.stderr)
            QApplication.exit(3)
            return
        if not window.isVisible() or window.library.busy:
            QTimer.singleShot(POLL_MS, check)
            return
        if not window.grab().save(str(screenshot)):
            print(f"folio: self-test could not write {screenshot}", file=sys.stderr)
            QApplication.exit(2)
            return
        if window.last_error is not None:
            print(f"folio: self-test saw an error: {window.last_error.text()}", file=sys.stderr)
            QApplication.exit(1)
            return
        window.close()

    # The first check runs after the start-up sync was scheduled, so "idle" means done.
    QTimer.singleShot(POLL_MS, check)
