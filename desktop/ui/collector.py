"""Python's cyclic garbage collection, run on the UI thread only.

Python collects reference cycles in whichever thread happens to allocate past the
collector's threshold. When a cycle holds a Qt object (a closed window, a finished ``Job``
whose ``finished`` signal is connected to a lambda over itself), a collection in a worker
thread runs that object's C++ destructor there, and Qt aborts with a segmentation fault: a
widget may only be destroyed on the thread that owns it. Reference counting frees
everything else at once and is not affected.
"""

from __future__ import annotations

import gc

from desktop.ui.qt import QObject, QTimer

#: How often the UI thread looks at the collector's counts, in milliseconds (as pyqtgraph).
CHECK_INTERVAL_MS = 1000


class UiThreadCollector(QObject):
    """Turns off automatic collection and collects on a timer on the UI thread instead.

    Each tick compares ``gc.get_count()`` with the thresholds in force when it was
    installed and collects the generations that are due, youngest first, exactly as the
    automatic collector would have (CPython's ``gc`` module documentation, "get_threshold").
    The design is pyqtgraph's ``GarbageCollector`` (``pyqtgraph/util/garbage_collector.py``);
    pyqtgraph itself is a plotting library, too large a dependency for these twenty lines.

    ``uninstall`` restores automatic collection (tests; the window never uninstalls).
    Must be created on the UI thread, with a ``QCoreApplication`` running its event loop.
    """

    def __init__(self, interval_ms: int = CHECK_INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(interval_ms)

    def collect_due(self) -> int:
        """Collect the generations past their thresholds; the number of unreachable objects."""
        counts = gc.get_count()
        found = 0
        for generation, (count, threshold) in enumerate(zip(counts, self.thresholds, strict=True)):
            if threshold <= 0 or count <= threshold:
                break
            found += gc.collect(generation)
        return found

    def uninstall(self) -> None:
        """Stop the timer, collect what is left here, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
