"""Window tests' shared clean-up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.services import Services
from desktop.ui.collector import UiThreadCollector
from desktop.ui.main_window import MainWindow
from desktop.ui.workers import wait_for_jobs
from tests.ui.studios import _studios


@pytest.fixture(autouse=True)
def ui_thread_collector(qapp) -> Iterator[UiThreadCollector]:  # type: ignore[no-untyped-def]
    """Cycles are collected on the UI thread, as in the window (``desktop.app.run_window``).

    Torn down after qtbot has closed the test's widgets, so their cycles go here too, never
    in the next test's background work.
    """
    collector = UiThreadCollector()
    yield collector
    collector.uninstall()


@pytest.fixture(autouse=True)
def _close_studios() -> Iterator[None]:
    """Each studio's work stops after its test; edits left unsaved are dropped, not asked.

    Closed here rather than by qtbot: a studio must stop its generation and polling first.
    """
    yield
    for studio in _studios:
        studio.editor.load(None)
        studio.shutdown()
        studio.close()
        studio.deleteLater()
    wait_for_jobs()
    _studios.clear()


@pytest.fixture
def window(qtbot, services: Services) -> MainWindow:  # type: ignore[no-untyped-def]
    """The main window on the test's services, shown; qtbot closes it afterwards."""
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    return win
