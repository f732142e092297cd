"""The window from the keyboard: Tab leaves the question box and reaches every action of an
answer, each framed as it is reached; Enter opens a chat in the sidebar; the sidebar always
marks the chat on screen, whichever way it got there."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.library.citation import Citation
from desktop.services import Services
from desktop.ui.chat.message import MessageView
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import QApplication, QListWidgetItem, QPushButton, Qt, QWidget
from tests.ui.confirm import confirmed

pytestmark = pytest.mark.slow

QUESTION = "How many days of leave carry over?"


@pytest.fixture
def window(qtbot, window: MainWindow) -> MainWindow:  # type: ignore[no-untyped-def]
    """The shown window (tests/ui/conftest.py), active, so key presses reach it."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def stored_chat(services: Services, title: str, source: Path) -> str:
    """A chat with one question and its answer, citing ``source``; its id."""
    chat = services.chats.create(title)
    services.chats.add_message(chat.id, "user", QUESTION)
    passage = "Unused leave can be carried over to the next year, up to 5 days."
    source.write_text(f"# Leave\n\n{passage}\n")
    citation = Citation(str(source), None, 0.82, passage, source.name)
    services.chats.add_message(
        chat.id, "assistant", "Up to 5 days.", model="local:default", retrieval=True,
        citations=[citation],
    )  # fmt: skip
    return chat.id


def answer_actions(view: MessageView) -> list[QWidget]:
    return [
        view.sources,
        view.copy_button,
        view.passage_button,
        view.open_button,
        view.regenerate_button,
        view.like_button,
        view.dislike_button,
    ]


def highlighted(window: MainWindow) -> list[str]:
    """The chats the sidebar marks (selected rows)."""
    return [item.data(Qt.ItemDataRole.UserRole) for item in window.chats.list.selectedItems()]


def row_of(window: MainWindow, chat_id: str) -> QListWidgetItem:
    rows = window.chats.list
    return next(
        rows.item(i)
        for i in range(rows.count())
        if rows.item(i).data(Qt.ItemDataRole.UserRole) == chat_id
    )


def click(qtbot, window: MainWindow, chat_id: str) -> None:  # type: ignore[no-untyped-def]
    rows = window.chats.list
    spot = rows.visualItemRect(row_of(window, chat_id)).center()
    qtbot.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, pos=spot)


def test_tab_leaves_the_question_box_and_reaches_every_action_of_an_answer(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    chat_id = stored_chat(window.services, "Leave", tmp_path / "leave.md")
    window.chat.show_chat(chat_id)
    view = window.chat.message_views()[-1]
    qtbot.waitUntil(view.isVisible)  # a view added to the pane is shown by the event loop
    actions = answer_actions(view)

    # Every action is in the window's focus chain, taking focus from Tab, and usable.
    box = window.chat.input
    chain, widget = [], box.nextInFocusChain()
    while widget is not box and len(chain) < 2000:
        chain.append(widget)
        widget = widget.nextInFocusChain()
    for action in actions:
        assert action in chain, action.accessibleName() or action.text()
        assert action.focusPolicy() & Qt.FocusPolicy.TabFocus
        assert action.isEnabled() and action.isVisibleTo(window)

    # Pressed for real: Tab moves on from the box (typing no tab) and reaches each action in
    # turn, which is framed as it is reached.
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    reached: list[QWidget] = []
    framed: list[QWidget] = []
    for _ in range(len(chain)):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        if focused is box:
            break
        reached.append(focused)
        if focused in actions and view.focus_ring.around is focused:
            frame = view.focus_ring.frame
            assert frame.isVisible() and frame.geometry().contains(focused.geometry())
            framed.append(focused)
    assert box.toPlainText() == ""
    assert [a for a in actions if a not in reached] == []
    assert framed == [a for a in reached if a in actions] and len(framed) == len(actions)

    # The frame goes with the focus, and Shift+Tab leaves the box the other way.
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    assert view.focus_ring.around is None
    qtbot.keyClick(box, Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is not box and box.toPlainText() == ""


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter])
def test_enter_opens_the_chat_under_the_keyboard_cursor(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path, key: Qt.Key
) -> None:
    older = stored_chat(window.services, "Older", tmp_path / "older.md")
    newer = stored_chat(window.services, "Newer", tmp_path / "newer.md")
    window.chats.reload()
    rows = window.chats.list
    rows.setFocus()
    qtbot.waitUntil(rows.hasFocus)

    # The keyboard cursor is on the first (newest) chat; nothing opens until Enter.
    assert rows.currentItem().data(Qt.ItemDataRole.UserRole) == newer
    assert window.chat.chat_id is None and highlighted(window) == []
    qtbot.keyClick(rows, key)
    assert window.chat.chat_id == newer and highlighted(window) == [newer]
    assert window.chat.message_views()[0].text == QUESTION

    qtbot.keyClick(rows, Qt.Key.Key_Down)  # the highlight stays on the chat shown
    assert window.chat.chat_id == newer and highlighted(window) == [newer]
    qtbot.keyClick(rows, key)
    assert window.chat.chat_id == older and highlighted(window) == [older]


def test_the_sidebar_marks_the_chat_shown_whichever_way_it_came(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    services, chats = window.services, window.chats

    def agrees() -> bool:
        shown = window.chat.chat_id
        return highlighted(window) == ([shown] if shown else [])

    first = stored_chat(services, "First", tmp_path / "first.md")
    second = stored_chat(services, "Second", tmp_path / "second.md")
    chats.reload()
    assert agrees()

    click(qtbot, window, first)  # opened with the mouse
    assert window.chat.chat_id == first and agrees()
    new_chat = next(b for b in chats.findChildren(QPushButton) if b.text() == "New chat")
    qtbot.mouseClick(new_chat, Qt.MouseButton.LeftButton)  # the sidebar's New chat
    assert window.chat.chat_id is None and agrees()

    click(qtbot, window, second)
    chat_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Chat")
    next(a for a in chat_menu.actions() if a.text() == "New Chat").trigger()  # Ctrl+N
    assert window.chat.chat_id is None and agrees()

    click(qtbot, window, second)
    chats.search.setText("First")  # the chat shown is not listed: nothing is marked
    assert highlighted(window) == []
    chats.search.clear()
    assert agrees()
    chats.rename(first, "First, renamed")  # renaming another chat leaves the mark
    assert window.chat.chat_id == second and agrees()
    confirmed(True, lambda: chats.delete(first))  # so does deleting another
    assert window.chat.chat_id == second and agrees()
    confirmed(True, lambda: chats.delete(second))  # deleting the one shown: a new chat
    assert window.chat.chat_id is None and agrees()

    # A first question makes a chat: it is listed and marked; Regenerate keeps it marked.
    window.picker.retrieval.setChecked(False)
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as asked:
        window.chat.input.setPlainText("Name a colour.")
        window.chat.send()
    made = asked.args[0].chat_id
    assert window.chat.chat_id == made and chats.titles()[0] == "Name a colour." and agrees()
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000):
        window.chat.message_views()[-1].regenerate_button.click()
    assert window.chat.chat_id == made and agrees()
