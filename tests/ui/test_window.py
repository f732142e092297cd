"""The window, offscreen, on real services: drop, index, ask, switch, restart, cancel."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QFont, QTextLayout  # the window lays no text out itself

from desktop.core.library.catalog import FileStatus
from desktop.core.library.ingest import IngestReport
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import QDropEvent, QMimeData, QPoint, Qt, QTextDocument, QTimer, QUrl
from desktop.ui.viewer.highlight import WORD_BACKGROUND
from desktop.ui.viewer.window import SourceViewer
from tests.consistency import assert_consistent
from tests.ui.highlights import highlighted

pytestmark = pytest.mark.slow


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text(
        "# Leave policy\n\nUnused leave can be carried over to the next year, up to 5 days."
    )
    (folder / "it.md").write_text("# IT\n\nLaptops are replaced every four years.")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this file was cut short")
    return folder


def _notes(folder: Path, count: int) -> Path:
    """``folder`` made with ``count`` notes of a few hundred words each: enough that indexing
    them takes a while, ``n00.md`` first."""
    folder.mkdir()
    for i in range(count):
        (folder / f"n{i:02}.md").write_text(f"Note {i} on subject {i}. " * 60)
    return folder


def drop(window: MainWindow, *paths: Path) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def ingest(qtbot, window: MainWindow, *paths: Path):  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.library.ingest_finished, timeout=120_000) as blocker:
        drop(window, *paths)
    return blocker.args[0]


def ask(qtbot, window: MainWindow, question: str):  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        window.chat.input.setPlainText(question)
        window.chat.send()
    return blocker.args[0]


def test_first_run_shows_a_drop_target(window: MainWindow) -> None:
    assert window.library.empty_hint.isVisible()
    assert "Drop folders" in window.library.empty_hint.text()
    assert window.picker.choice().model == "local:default"


def test_drop_indexes_and_lists_failures(qtbot, window: MainWindow, docs: Path) -> None:  # type: ignore[no-untyped-def]
    report = ingest(qtbot, window, docs)
    assert report.added == 2 and report.failed == 1
    qtbot.waitUntil(lambda: not window.library.busy)
    assert window.library.folders.count() == 1
    assert "2 indexed, 1 not indexed" in window.library.folders.item(0).text()
    failure = window.library.failures.topLevelItem(0)
    assert failure.text(0) == "broken.pdf" and "damaged" in failure.text(1)
    assert not window.library.empty_hint.isVisible()


def test_a_store_that_lost_chunks_is_shown_and_mended_by_sync_now(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, docs: Path
) -> None:
    ingest(qtbot, window, docs)
    qtbot.waitUntil(lambda: not window.library.busy)
    assert not window.library.store_warning.isVisible()
    lost = next(r for r in window.services.library.all_files() if r.path.endswith("leave.md"))
    window.services.store.delete_nodes(node_ids=lost.chunk_ids)
    window.services.store.commit()
    window.library.refresh()
    assert window.library.store_warning.isVisible()
    warning = window.library.store_warning.text()
    assert "holds only" in warning and "press Sync now" in warning and "folio-cli" not in warning
    with qtbot.waitSignal(window.library.ingest_finished, timeout=120_000) as blocker:
        window.library.sync_button.click()
    assert blocker.args[0].repaired == 1
    qtbot.waitUntil(lambda: not window.library.busy)
    assert not window.library.store_warning.isVisible()
    assert "1 indexed again, as the store had lost their chunks" in window.library.status.text()
    assert_consistent(window.services)


def test_event_loop_keeps_running_during_ingest(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _notes(tmp_path / "many", 40)
    ticks: list[float] = []
    timer = QTimer(interval=20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    # The ticks counted each time the progress bar moves: a loop that ran only between the
    # files, or only at the end, would show the same count at most of them.
    ticks_at_progress: list[int] = []
    window.library.progress.valueChanged.connect(lambda _: ticks_at_progress.append(len(ticks)))
    timer.start()
    ingest(qtbot, window, folder)
    timer.stop()
    assert len(ticks_at_progress) >= 20, ticks_at_progress
    steps = list(itertools.pairwise(ticks_at_progress))
    ticked_between = sum(after > before for before, after in steps)
    assert ticked_between >= len(steps) // 2, ticks_at_progress


def test_question_streams_an_answer_with_sources(qtbot, window: MainWindow, docs: Path) -> None:  # type: ignore[no-untyped-def]
    ingest(qtbot, window, docs)
    tokens: list[str] = []
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        window.chat.input.setPlainText("How many days of leave carry over?")
        window.chat.send()
        window.chat._job.token.connect(tokens.append)  # the job streaming this answer
    answer = blocker.args[0]
    assert tokens and answer.citations[0].file_name == "leave.md"
    view = window.chat.message_views()[-1]
    assert view.sources.count() == len(answer.citations)
    assert view.sources.item(0).text().startswith("[1] leave.md")
    assert view.text == answer.text
    # The answer is stored and can be rated at once.
    stored = window.services.chats.messages(answer.chat_id)[-1]
    assert view.message_id == answer.message_id == stored.id and stored.role == "assistant"
    assert view.like_button.isEnabled()
    passage = view.show_passage()
    assert passage is not None
    # The question's words in the passage are painted highlighted, as Qt renders them.
    marked = highlighted(passage.browser.document(), WORD_BACKGROUND)
    assert "leave" in [word.casefold() for word in marked]
    assert window.chats.titles() == ["How many days of leave carry over?"]


def test_retrieval_off_answers_without_sources(qtbot, window: MainWindow, docs: Path) -> None:  # type: ignore[no-untyped-def]
    ingest(qtbot, window, docs)
    window.picker.retrieval.setChecked(False)
    assert "retrieval off" in window.chat.header.text()
    answer = ask(qtbot, window, "How many days of leave carry over?")
    assert answer.citations == [] and not answer.retrieval
    assert not window.chat.message_views()[-1].sources.isVisible()


def test_persona_changes_the_system_prompt(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.picker.retrieval.setChecked(False)
    assert window.picker.select("local:default", "Sarcastic techie")
    answer = ask(qtbot, window, "What is a compiler?")
    assert answer.persona == "Sarcastic techie"
    assert answer.prompt[0].content.startswith("You are a sarcastic young techie")
    assert "Sarcastic techie" in window.chat.header.text()
    window.picker.select("local:default", None)
    plain = ask(qtbot, window, "What is a compiler?")
    assert plain.persona is None and not plain.prompt[0].content.startswith("You are a sarcastic")


def test_chat_history_survives_a_restart(qtbot, make_services) -> None:  # type: ignore[no-untyped-def]
    first_services = make_services()
    first = MainWindow(first_services)
    qtbot.addWidget(first)
    first.picker.retrieval.setChecked(False)
    ask(qtbot, first, "Remember the word heliotrope.")
    first.close()
    first_services.close()

    second = MainWindow(make_services())
    qtbot.addWidget(second)
    assert second.chats.titles() == ["Remember the word heliotrope."]
    second.chats.list.setCurrentRow(0)
    second.chats.selected.emit(second.chats.list.item(0).data(Qt.ItemDataRole.UserRole))
    views = second.chat.message_views()
    assert [v.role for v in views] == ["user", "assistant"]
    assert views[0].text == "Remember the word heliotrope."


def test_files_changed_while_a_folder_is_first_indexed_are_synced_after(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = _notes(tmp_path / "changing", 40)
    runs: list[IngestReport] = []
    window.library.ingest_finished.connect(runs.append)
    drop(window, folder)
    qtbot.waitUntil(lambda: window.library.progress.value() >= 1, timeout=60_000)
    (folder / "n39.md").unlink()  # deleted before Folio reached it
    (folder / "late.md").write_text("A note written while the folder was being indexed.")
    # The first run ends, then the sync the changes queued.
    qtbot.waitUntil(lambda: len(runs) == 2 and not window.library.busy, timeout=120_000)
    indexed = {Path(r.path).name for r in window.services.library.all_files()}
    assert "late.md" in indexed and "n39.md" not in indexed
    assert_consistent(window.services)


def test_cancel_during_ingest_leaves_a_consistent_library(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = _notes(tmp_path / "many", 60)
    with qtbot.waitSignal(window.library.ingest_finished, timeout=120_000) as blocker:
        drop(window, folder)
        qtbot.waitUntil(lambda: window.library.progress.value() >= 2, timeout=60_000)
        window.library.cancel_button.click()
    report = blocker.args[0]
    assert report.cancelled and 0 < report.added < 60
    qtbot.waitUntil(lambda: not window.library.busy)
    assert_consistent(window.services)
    indexed = [r for r in window.services.library.all_files() if r.status == FileStatus.INDEXED]
    assert len(indexed) == report.added
    item = window.library.folders.item(0)
    assert item.text().endswith("  ·  stopped before the end")
    assert "Sync now indexes the rest." in item.toolTip()
    with qtbot.waitSignal(window.library.ingest_finished, timeout=120_000):
        window.library.sync_button.click()
    assert "stopped" not in window.library.folders.item(0).text()


def test_closing_during_ingest_cancels_cleanly(qtbot, services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _notes(tmp_path / "many", 60)
    win = MainWindow(services)
    qtbot.addWidget(win)
    drop(win, folder)
    qtbot.waitUntil(lambda: win.library.progress.value() >= 1, timeout=60_000)
    win.close()  # cancels and waits for the worker to stop at a safe point
    assert_consistent(services)
    indexed = [r for r in services.library.all_files() if r.status == FileStatus.INDEXED]
    assert 0 < len(indexed) < 60


def test_a_model_error_is_shown_as_a_message(qtbot, home, embed_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from desktop.core.settings import Settings
    from desktop.services import Services

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF but not really a model")
    services = Services(home, Settings(local_models={"mine": str(broken)}), embed_model=embed_model)
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.picker.retrieval.setChecked(False)
    assert win.picker.select("local:mine", None)
    with qtbot.waitSignal(win.chat.error, timeout=60_000) as blocker:
        win.chat.input.setPlainText("Hello?")
        win.chat.send()
    assert "broken.gguf" in blocker.args[0] and "GGUF" in blocker.args[0]
    assert win.last_error is not None and "broken.gguf" in win.last_error.text()
    assert "Traceback" not in win.last_error.text()
    qtbot.waitUntil(lambda: not win.chat.busy)
    assert win.chat.send_button.isEnabled()
    services.close()


def test_changes_on_disk_are_picked_up_while_running(qtbot, window: MainWindow, docs: Path) -> None:  # type: ignore[no-untyped-def]
    ingest(qtbot, window, docs)
    assert str(docs) in window.library.watcher.watched()
    with qtbot.waitSignal(window.library.ingest_finished, timeout=60_000) as blocker:
        (docs / "new.md").write_text("A note written while Folio was running.")
        (docs / "it.md").unlink()
    report = blocker.args[0]
    assert (report.added, report.removed) == (1, 1)


def test_a_second_instance_is_told_the_library_is_open(qtbot, services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from desktop.app import run_window
    from desktop.ui import messages

    shown: list[str] = []
    monkeypatch.setattr(messages, "show_critical", shown.append)
    assert services.store.count() == 0  # the first instance holds the library
    assert run_window(["--home", str(services.home)]) == 1
    assert shown and "open in another Folio" in shown[0]


def test_regenerate_and_copy(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from desktop.ui.qt import QGuiApplication

    window.picker.retrieval.setChecked(False)
    first = ask(qtbot, window, "Name a programming language.")
    view = window.chat.message_views()[-1]
    view.copy_button.click()
    assert QGuiApplication.clipboard().text() == first.text
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        view.regenerate_button.click()
    again = blocker.args[0]
    assert again.chat_id == first.chat_id
    questions = [
        m.content for m in window.services.chats.messages(first.chat_id) if m.role == "user"
    ]
    assert questions == ["Name a programming language."] * 2


def reads_as_written(text: str, font: QFont) -> bool:
    """Whether Qt lays ``text`` out left to right in the order it is written: each character
    at or to the right of the one before it, as a person reads the line."""
    layout = QTextLayout(text, font)
    layout.beginLayout()
    line = layout.createLine()
    line.setLineWidth(100_000)
    layout.endLayout()
    xs = [line.cursorToX(i)[0] for i in range(len(text) + 1)]
    return all(a <= b for a, b in itertools.pairwise(xs))


def plain(rich: str) -> str:
    document = QTextDocument()
    document.setHtml(rich)
    return document.toPlainText()


def test_names_and_questions_with_controls_read_as_written(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    # A right-to-left override, a newline and an escape in names: all three are allowed.
    (folder / "tides\u202etxt.exe.md").write_text(
        "# Tides\n\nThe harbour tide tables are posted at the pier every Monday."
    )
    (folder / "pier\nnotes\x1b.md").write_text(
        "# Pier\n\nThe pier tide tables list high water for each Monday."
    )
    ingest(qtbot, window, folder)
    question = "When are the \u202etide tables posted?"
    answer = ask(qtbot, window, question)
    view = window.chat.message_views()[-1]
    font = view.sources.font()
    rows = [view.sources.item(i).text() for i in range(view.sources.count())]
    assert len(rows) == len(answer.citations) == 2
    for number, (row, citation) in enumerate(zip(rows, answer.citations, strict=True), 1):
        assert "\n" not in row and "\x1b" not in row and "\u202e" not in row  # one row
        assert reads_as_written(row, font), row
        score = f"({citation.score:.2f})"
        assert row.index(f"[{number}]") < row.index(".md") < row.index(score), row
    assert any(row[4:].startswith("tides\\u202etxt.exe.md  (") for row in rows), rows
    assert any(row[4:].startswith("pier\\nnotes\\x1b.md  (") for row in rows), rows
    # The supporting sentence's link names its file the same way.
    support = plain(view.support.text())
    assert "\x1b" not in support and "\u202e" not in support
    assert support.endswith(("tides\\u202etxt.exe.md", "pier\\nnotes\\x1b.md"))
    # The question's override turns neither the chat's header nor its row in the list.
    header = plain(window.chat.header.text())
    assert header.startswith("When are the \\u202etide tables posted? — ")
    assert reads_as_written(header, window.chat.header.font()), header
    assert window.chats.titles() == ["When are the \\u202etide tables posted?"]
    # The viewer's title too.
    pier = next(i for i, c in enumerate(answer.citations) if c.file_name.startswith("pier"))
    view.sources.itemActivated.emit(view.sources.item(pier))  # a double-click
    viewer = view.findChild(SourceViewer)
    assert viewer is not None and viewer.windowTitle() == "pier\\nnotes\\x1b.md"
    viewer.close()


def test_a_question_with_nothing_visible_is_not_sent(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    for invisible in ("\u200b\u200b", "\ufeff", "\u2060 \u200b\n", "\u202e", "  \n"):
        window.chat.input.setPlainText(invisible)
        window.chat.send()
        assert not window.chat.busy and not window.chat.stop_button.isEnabled()
        assert window.chat.message_views() == []
    assert window.chats.titles() == [] and window.services.chats.all() == []
