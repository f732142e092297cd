"""The Library pane says what a run went on despite, apart from the files not indexed."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.slow


def test_a_skipped_ignore_line_is_shown_as_a_warning_until_it_is_mended(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("# Notes\n\nThe survey of moraines starts in June.")
    (docs / "debug.log").write_text("log noise")
    ignore_file = docs / ".folioignore"
    ignore_file.write_text("*.log\n!\n")
    pane = window.library

    with qtbot.waitSignal(pane.ingest_finished, timeout=120_000):
        pane.add_paths([docs])
    qtbot.waitUntil(lambda: not pane.busy)

    assert "0 failed" in pane.status.text() and "1 warning (below)" in pane.status.text()
    assert pane.warnings.isVisibleTo(window)
    shown = pane.warnings.text()
    assert shown.startswith(f"{ignore_file}: line 2, '!', has nothing after its '!'"), shown
    assert shown.endswith("correct or delete it."), shown
    # Not a file that failed: "Not indexed" stays empty.
    assert pane.failures.topLevelItemCount() == 0

    ignore_file.write_text("*.log\n")
    with qtbot.waitSignal(pane.ingest_finished, timeout=120_000):
        pane.sync()
    qtbot.waitUntil(lambda: not pane.busy)
    assert not pane.warnings.isVisibleTo(window) and pane.warnings.text() == ""
    assert "warning" not in pane.status.text()
