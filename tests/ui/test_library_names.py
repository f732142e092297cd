"""The Library pane names files and folders as they are written: its status line and its
rows' tooltips apply no markup a name holds, keep it on one line, and let no override turn
it around; a folder or file gone before it could be added is named, not passed over."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import Qt as GuiQt  # Qt's own test of whether a text is taken for HTML

from desktop.services import Services
from desktop.ui.library_view import LibraryPane
from desktop.ui.qt import QLabel, Qt
from tests.ui.test_window import plain, reads_as_written

pytestmark = pytest.mark.slow

NAMES = ("<b>bold.txt", "<img src=x>.txt", "two\nlines.txt", "\u202egnp.exe.txt")
# As the status line should show each: markup as typed, controls written as escapes.
SHOWN = ("<b>bold.txt", "<img src=x>.txt", "two\\nlines.txt", "\\u202egnp.exe.txt")


def seen(text: str, text_format: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """``text`` as Qt shows it in a label of ``text_format`` or a tooltip (AutoText): as
    rich text, its markup applied, when Qt takes it for HTML, else as it is."""
    rich = text_format == Qt.TextFormat.RichText or (
        text_format == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text)
    )
    return plain(text) if rich else text


def status_seen(pane: LibraryPane) -> str:
    """What the pane's status line shows now."""
    label: QLabel = pane.status
    return seen(label.text(), label.textFormat())


def _pane(qtbot, services: Services) -> LibraryPane:  # type: ignore[no-untyped-def]
    pane = LibraryPane(services)
    qtbot.addWidget(pane)
    return pane


def test_names_in_the_status_line_and_tooltips_read_as_written(  # type: ignore[no-untyped-def]
    qtbot, services: Services, tmp_path: Path
) -> None:
    folder = tmp_path / "<u>docs"
    folder.mkdir()
    for number, name in enumerate(NAMES):
        (folder / name).write_text(f"Note {number} on the harbour tides.", encoding="utf-8")
    pane = _pane(qtbot, services)
    said: list[str] = []
    with qtbot.waitSignal(pane.ingest_finished, timeout=120_000):
        pane.add_paths([folder])
        assert pane._job is not None
        # After the pane's own handler: what the status line shows for each step.
        pane._job.progress.connect(lambda _p: said.append(status_seen(pane)))
    qtbot.waitUntil(lambda: not pane.busy)

    # Each file named as written, with the time left after it once there is an estimate.
    indexing = {line.split(", about ")[0] for line in said if line.startswith("Indexing ")}
    assert {f"Indexing {name}" for name in SHOWN} <= indexing, said
    for line in indexing:
        assert "\n" not in line and reads_as_written(line, pane.status.font()), repr(line)
    # The folder's row: its whole path in the tooltip, its tag shown, not applied.
    row = pane.folders.item(0)
    assert seen(row.toolTip()) == str(folder)

    with qtbot.waitSignal(pane.ingest_finished, timeout=120_000):
        pane.add_paths([folder])
    qtbot.waitUntil(lambda: not pane.busy)
    assert status_seen(pane).endswith('; already in the library: "<u>docs"')


def test_adding_what_no_longer_exists_says_so_naming_it(  # type: ignore[no-untyped-def]
    qtbot, services: Services, tmp_path: Path
) -> None:
    pane = _pane(qtbot, services)
    pane.status.setText("1 added, 0 updated, 0 removed, 0 failed, 0 skipped")  # an earlier run
    gone = tmp_path / "<i>gone, since"
    pane.add_paths([gone])
    assert not pane.busy
    assert status_seen(pane) == f'"{gone}" does not exist, so it was not added.'

    # Dropped with a folder that is there: the folder is added, and the run's result says
    # which was not.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.md").write_text("High tide is at noon.", encoding="utf-8")
    with qtbot.waitSignal(pane.ingest_finished, timeout=120_000) as done:
        pane.add_paths([gone, docs])
    qtbot.waitUntil(lambda: not pane.busy)
    assert done.args[0].added == 1
    shown = status_seen(pane)
    assert shown.startswith("1 added") and shown.endswith(
        f'; "{gone}" does not exist, so it was not added.'
    )
