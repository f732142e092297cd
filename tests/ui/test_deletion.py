"""Nothing is destroyed in silence: chats, personas and folders are deleted only once confirmed."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.ui.dialogs import PersonaDialog
from desktop.ui.main_window import MainWindow
from tests.ui.confirm import confirmed

pytestmark = pytest.mark.slow


def test_deleting_a_chat_asks_first_and_cancel_keeps_it(window: MainWindow) -> None:
    chats = window.services.chats
    chat = chats.create("Leave questions")
    chats.add_message(chat.id, "user", "How much leave carries over?")
    window.chats.reload()
    deleted, text = confirmed(False, lambda: window.chats.delete(chat.id))
    assert deleted is False
    assert 'Delete the chat "Leave questions"?' in text and "1 message " in text
    assert [c.id for c in chats.all()] == [chat.id]
    assert window.chats.titles() == ["Leave questions"]

    deleted, _ = confirmed(True, lambda: window.chats.delete(chat.id))
    assert deleted is True and chats.all() == [] and window.chats.titles() == []


def test_deleting_another_chat_leaves_the_open_chat_open(window: MainWindow) -> None:
    chats = window.services.chats
    open_chat, other = chats.create("Open one"), chats.create("Other one")
    chats.add_message(open_chat.id, "user", "Keep me on screen.")
    window.chats.reload()
    window.chat.show_chat(open_chat.id)
    _, text = confirmed(True, lambda: window.chats.delete(other.id))
    assert '"Other one"' in text and "0 messages" in text
    assert window.chat.chat_id == open_chat.id
    assert window.chats.titles() == ["Open one"]
    assert window.chats.list.currentItem().text() == "Open one"

    confirmed(True, lambda: window.chats.delete(open_chat.id))
    assert window.chat.chat_id is None  # the open chat itself went: a new chat is shown


def test_deleting_a_persona_asks_first_and_cancel_keeps_it(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    dialog = PersonaDialog(services)
    qtbot.addWidget(dialog)
    dialog.list.setCurrentRow(0)
    _, text = confirmed(False, dialog.delete)
    assert 'Delete the persona "Sarcastic techie"?' in text
    assert [p.name for p in services.chats.personas.all()] == ["Sarcastic techie"]
    confirmed(True, dialog.delete)
    assert services.chats.personas.all() == [] and dialog.list.count() == 0


def test_removing_a_folder_says_what_re_embedding_costs_and_cancel_keeps_it(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text("# Leave\n\nUnused leave carries over, up to 5 days.")
    (folder / "it.md").write_text("# IT\n\nLaptops are replaced every four years.")
    with qtbot.waitSignal(window.library.ingest_finished, timeout=120_000):
        window.library.add_paths([folder])
    qtbot.waitUntil(lambda: not window.library.busy)
    library = window.services.library
    chunks = sum(len(r.chunk_ids) for r in library.files_under(str(folder)).values())
    window.library.folders.setCurrentRow(0)

    _, text = confirmed(False, window.library.remove_selected)
    assert f'Remove the folder "{folder}"' in text
    assert f"2 files and {chunks} chunk" in text and "re-embeds" in text
    assert not window.library.busy and library.folders() == [str(folder)]

    confirmed(True, window.library.remove_selected)
    qtbot.waitUntil(lambda: not window.library.busy and not library.folders(), timeout=60_000)
    assert library.folders() == [] and window.library.folders.count() == 0


def test_removing_an_outer_folder_counts_only_what_leaves(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    parent = tmp_path / "parent"
    (parent / "child").mkdir(parents=True)
    (parent / "child" / "inner.md").write_text("Inner notes about herons.")
    (parent / "outer.md").write_text("Outer notes about egrets.")
    for folder in (parent / "child", parent):
        with qtbot.waitSignal(window.library.ingest_finished, timeout=120_000):
            window.library.add_paths([folder])
        qtbot.waitUntil(lambda: not window.library.busy)
    rows = [window.library.folders.item(i).toolTip() for i in range(2)]
    window.library.folders.setCurrentRow(rows.index(str(parent)))
    _, text = confirmed(False, window.library.remove_selected)
    # The inner folder is a library folder of its own: its file stays.
    assert "Its 1 file and 1 chunk leave the library" in text


def test_an_unplugged_folder_is_shown_unavailable_and_synced_when_back(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    drive = tmp_path / "media" / "usb"
    drive.mkdir(parents=True)
    (drive / "manual.md").write_text("The pump manual: prime the pump before use.")
    with qtbot.waitSignal(window.library.ingest_finished, timeout=120_000):
        window.library.add_paths([drive])
    qtbot.waitUntil(lambda: not window.library.busy)

    with qtbot.waitSignal(window.library.ingest_finished, timeout=60_000) as gone:
        drive.rename(tmp_path / "media" / "usb-away")
    assert gone.args[0].unavailable == [str(drive)] and gone.args[0].removed == 0
    item = window.library.folders.item(0)
    assert "1 indexed" in item.text() and "unavailable" in item.text()
    assert "Cannot be reached" in item.toolTip()
    assert "1 folder unavailable" in window.library.status.text()

    # The folder above it is watched, so plugging the drive back in starts a sync.
    with qtbot.waitSignal(window.library.ingest_finished, timeout=60_000) as back:
        (tmp_path / "media" / "usb-away").rename(drive)
    report = back.args[0]
    assert (report.unchanged, report.chunks_embedded, report.unavailable) == (1, 0, [])
    assert "unavailable" not in window.library.folders.item(0).text()


def test_deleting_the_chat_that_is_answering_stops_and_drops_the_answer(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow
) -> None:
    errors: list[str] = []
    window.chat.error.connect(errors.append)
    window.picker.retrieval.setChecked(False)
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        window.chat.input.setPlainText("Name a colour.")
        window.chat.send()
    chat_id = blocker.args[0].chat_id
    window.chat.input.setPlainText("Write a long essay about the history of the bicycle.")
    window.chat.send()
    # Deleted while the answer's words are arriving on screen.
    qtbot.waitUntil(lambda: window.chat.message_views()[-1].text != "", timeout=60_000)
    assert window.chat.busy
    deleted, text = confirmed(True, lambda: window.chats.delete(chat_id))
    assert deleted is True and '"Name a colour."' in text
    qtbot.waitUntil(lambda: not window.chat.busy, timeout=60_000)
    qtbot.wait(50)  # any message the ended answer would show is shown by now
    assert errors == [] and window.last_error is None
    assert "went wrong" not in window.statusBar().currentMessage()
    assert window.chat.chat_id is None and window.chat.message_views() == []
    assert window.chat.send_button.isEnabled() and not window.chat.stop_button.isEnabled()
    assert window.chats.titles() == []
    assert window.services.chats.all() == [] and window.services.chats.messages(chat_id) == []
