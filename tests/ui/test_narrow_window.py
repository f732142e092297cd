"""The window at its narrowest: answers wrap inside the chat, and what is cut short says so
and shows the whole on hover."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.library.catalog import FileStatus
from desktop.core.library.citation import Citation
from desktop.core.settings import Settings
from desktop.ui.library_view import LibraryPane
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import QApplication, QEvent, QHelpEvent, QToolTip

pytestmark = pytest.mark.slow

ANSWER = (
    "The policy is at https://intranet.example.com/policies/leave/carry-over/2027/"
    "annual-leave-carry-over-rules-and-exceptions.html and says that unused leave can be "
    "carried over to the next year, up to 5 days.\n\n"
    "```\nfolio-cli ingest ~/Documents/handbooks --exclude '*.tmp' --recursive --verbose "
    "--json --batch-size 64\n```\n"
)


def test_an_answer_wraps_inside_the_chat_at_the_narrowest_window(  # type: ignore[no-untyped-def]
    qtbot, services, tmp_path: Path
) -> None:
    chat = services.chats.create("Leave")
    services.chats.add_message(chat.id, "user", "How much leave carries over?")
    source = tmp_path / "leave.md"
    source.write_text("Unused leave can be carried over, up to 5 days.")
    cited = Citation(str(source), None, 0.8, source.read_text(), "leave.md")
    services.chats.add_message(
        chat.id, "assistant", ANSWER, model="local:default", persona="Sarcastic techie",
        retrieval=True, citations=[cited],
    )  # fmt: skip
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    window.chat.show_chat(chat.id)
    view = window.chat.message_views()[-1]
    qtbot.waitUntil(view.isVisible)
    window.resize(1, window.height())  # as narrow as the window goes
    qtbot.waitUntil(lambda: window.width() == window.minimumWidth())
    viewport = window.chat.scroll_area.viewport()
    qtbot.waitUntil(lambda: view.width() <= viewport.width())

    assert view.body.width() <= viewport.width()
    assert window.chat.scroll_area.horizontalScrollBar().maximum() == 0
    # The text wraps (more lines than one) and every action stays within the view.
    assert view.body.height() > 3 * view.body.fontMetrics().lineSpacing()
    for button in (view.copy_button, view.regenerate_button, view.dislike_button):
        assert view.rect().contains(button.geometry())


def test_a_reason_cut_short_ends_in_an_ellipsis_and_shows_whole_on_hover(  # type: ignore[no-untyped-def]
    qtbot, make_services, tmp_path: Path
) -> None:
    services = make_services(Settings(max_file_mb=0.01))  # 10 kB: the file below is skipped
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "minutes.md").write_text("Minutes of the meeting. " * 1000)
    services.ingestor.ingest([folder])
    [record] = services.library.stats().failures
    assert record.status == FileStatus.SKIPPED and record.reason
    pane = LibraryPane(services)
    qtbot.addWidget(pane)
    pane.resize(320, 500)
    pane.show()
    qtbot.waitExposed(pane)

    failures = pane.failures
    row = failures.topLevelItem(0)
    assert row.text(1) == record.reason  # the whole reason, on one line
    shown = failures.visualItemRect(row)
    width = failures.header().sectionSize(1)
    assert failures.fontMetrics().horizontalAdvance(record.reason) > width  # so it is cut
    cut = failures.fontMetrics().elidedText(record.reason, failures.textElideMode(), width)
    assert cut.endswith("…")

    # Hovering over the reason shows all of it.
    spot = shown.topLeft()
    spot.setX(failures.header().sectionPosition(1) + 10)
    spot.setY(shown.center().y())
    event = QHelpEvent(QEvent.Type.ToolTip, spot, failures.viewport().mapToGlobal(spot))
    QApplication.sendEvent(failures.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible)
    assert record.reason in QToolTip.text() and record.path in QToolTip.text()
    QToolTip.hideText()
