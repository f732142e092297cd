"""An answer tells the truth about itself: its supporting sentence, a cut at the length
limit (with Continue), an empty library, actions only when they can work, and Regenerate
with the choices that made the answer. Offscreen, real model, real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.chat.service import EMPTY_LIBRARY_NOTICE
from desktop.ui.chat.pane import CONTINUE_QUESTION, Choice
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import QApplication, Qt
from desktop.ui.viewer.window import SourceViewer
from tests.corpus import write_folder
from tests.ui.test_window import ask, ingest

pytestmark = pytest.mark.slow

FACT = "The backup tapes are stored in the Zurich vault of Helvetia Storage."


def test_the_supporting_sentence_is_shown_with_its_file_and_opens_in_folio(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    handbook = "# Office handbook\n\nThe cafeteria serves soup on Mondays. "
    handbook += f"{FACT} Visitors sign in at reception.\n"
    ingest(qtbot, window, write_folder(tmp_path / "docs", {"handbook.md": handbook}))
    answer = ask(qtbot, window, "Where are the backup tapes stored?")
    view = window.chat.message_views()[-1]
    assert answer.support is not None and answer.support.sentence.startswith(FACT)
    assert view.support.isVisible()
    assert FACT in view.support.text() and "handbook.md" in view.support.text()
    viewer = view.show_support()
    assert isinstance(viewer, SourceViewer)
    viewer.close()
    # Reopened from the store, the sentence is still there.
    window.chat.show_chat(answer.chat_id)
    assert FACT in window.chat.message_views()[-1].support.text()


def test_an_answer_cut_at_the_limit_says_so_and_continues_with_its_model(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow
) -> None:
    window.picker.retrieval.setChecked(False)
    # The test model answers in at most 48 tokens: an essay is cut.
    answer = ask(qtbot, window, "Write a long essay about the history of the bicycle.")
    view = window.chat.message_views()[-1]
    assert answer.cut_off
    assert view.cut_off.isVisible() and view.continue_button.isVisible()
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        view.continue_button.click()
    more = blocker.args[0]
    assert more.chat_id == answer.chat_id and more.model == answer.model
    asked = [m.content for m in window.services.chats.messages(answer.chat_id) if m.role == "user"]
    assert asked[-1] == CONTINUE_QUESTION
    window.chat.show_chat(answer.chat_id)  # reopened: the cut is still marked
    reopened = window.chat.message_views()[1]
    assert reopened.cut_off.isVisibleTo(reopened)


def test_continue_goes_on_with_the_sources_of_the_answer_it_continues(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    history = "# Bicycles\n\nThe draisine of 1817 had no pedals. Pedals came in the 1860s. "
    history += "The safety bicycle of the 1880s had a chain drive and equal wheels.\n"
    office = "# Office\n\nThe cafeteria serves soup on Mondays.\n"
    folder = write_folder(tmp_path / "docs", {"history.md": history, "office.md": office})
    ingest(qtbot, window, folder)
    window.picker.retrieval.setChecked(True)
    answer = ask(qtbot, window, "Write a long essay on the history of the bicycle and its pedals.")
    assert answer.cut_off and answer.citations and answer.support is not None
    searched: list[str] = []
    search = window.services.retriever.search
    window.services.retriever.search = lambda query, **kw: (
        searched.append(query)
        or search(  # type: ignore[method-assign]
            query, **kw
        )
    )
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        window.chat.message_views()[-1].continue_button.click()
    more = blocker.args[0]
    # No new search for "Continue…": the same passages, the same supporting sentence.
    assert searched == []
    assert more.retrieval and more.citations == answer.citations
    assert more.support == answer.support
    window.services.chat.search("pedals")  # the chat's searches do pass through the counter
    assert searched == ["pedals"]


def test_an_empty_library_is_said_not_searched(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.picker.retrieval.setChecked(True)
    answer = ask(qtbot, window, "How many days of leave carry over?")
    view = window.chat.message_views()[-1]
    assert answer.notice == EMPTY_LIBRARY_NOTICE
    assert view.notice.isVisible() and "library is empty" in view.notice.text()


def test_actions_wait_for_the_answer_and_are_off_on_a_failed_one(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text("# Leave\n\nUp to 5 days of leave carry over.\n")
    ingest(qtbot, window, folder)
    seen: list[tuple[bool, bool, bool]] = []

    def look(_text: str) -> None:
        view = window.chat.message_views()[-1]
        seen.append(
            (
                view.passage_button.isEnabled(),
                view.open_button.isEnabled(),
                view.regenerate_button.isEnabled(),
            )
        )

    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000):
        window.chat.input.setPlainText("How many days of leave carry over?")
        window.chat.send()
        assert window.chat._job is not None
        window.chat._job.token.connect(look)
    assert seen and all(state == (False, False, False) for state in seen)
    done = window.chat.message_views()[-1]
    assert done.passage_button.isEnabled() and done.regenerate_button.isEnabled()

    # A failed answer: a model whose file is gone.
    window.picker.retrieval.setChecked(False)
    with qtbot.waitSignal(window.chat.error, timeout=60_000):
        window.chat.ask("Hello?", Choice("local:gone", None, False))
    qtbot.waitUntil(lambda: not window.chat.busy)
    failed = window.chat.message_views()[-1]
    assert not failed.passage_button.isEnabled() and not failed.open_button.isEnabled()
    assert not failed.like_button.isEnabled()


def test_regenerate_uses_the_choices_that_made_the_answer(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.picker.retrieval.setChecked(False)
    assert window.picker.select("local:default", "Sarcastic techie")
    first = ask(qtbot, window, "What is a compiler?")
    assert first.persona == "Sarcastic techie"
    window.picker.select("local:default", None)  # the picker now says something else
    window.picker.retrieval.setChecked(True)
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        window.chat.message_views()[-1].regenerate_button.click()
    again = blocker.args[0]
    assert (again.model, again.persona, again.retrieval) == (
        first.model,
        first.persona,
        first.retrieval,
    )
    assert "Sarcastic techie" in window.chat.message_views()[-1].header.text()


def test_opening_another_chat_while_an_answer_streams_stays_there(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow
) -> None:
    window.picker.retrieval.setChecked(False)
    other = ask(qtbot, window, "Name a colour.")
    window.chat.show_chat(None)
    window.chat.input.setPlainText("Write a long essay about the history of the bicycle.")
    window.chat.send()
    assert window.chat._job is not None
    qtbot.waitUntil(lambda: bool(window.chat._pending), timeout=60_000)
    window.chat.show_chat(other.chat_id)  # stops the answer and shows the other chat
    qtbot.waitUntil(lambda: not window.chat.busy, timeout=60_000)
    assert window.chat.chat_id == other.chat_id
    assert window.chat.message_views()[0].text == "Name a colour."
    assert window.chats.list.currentItem().text() == "Name a colour."


def test_regenerate_on_an_earlier_answer_asks_its_own_question(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.picker.retrieval.setChecked(False)
    assert window.picker.select("local:default", "Sarcastic techie")
    first = ask(qtbot, window, "What is a compiler?")
    earlier = window.chat.message_views()[-1]
    window.picker.select("local:default", None)
    enabled: list[bool] = []

    def look(_text: str) -> None:
        enabled.append(earlier.regenerate_button.isEnabled())

    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000):
        window.chat.input.setPlainText("Name a colour.")
        window.chat.send()
        assert window.chat._job is not None
        window.chat._job.token.connect(look)
    # One question at a time: an earlier answer's Regenerate waits while another is made.
    assert enabled and not any(enabled)
    assert earlier.regenerate_button.isEnabled()
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        earlier.regenerate_button.click()
    again = blocker.args[0]
    assert again.persona == "Sarcastic techie" == first.persona
    asked = [m.content for m in window.services.chats.messages(first.chat_id) if m.role == "user"]
    assert asked == ["What is a compiler?", "Name a colour.", "What is a compiler?"]


def test_an_answer_stopped_before_it_began_is_not_kept_and_regenerate_answers(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow
) -> None:
    window.picker.retrieval.setChecked(False)
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        window.chat.input.setPlainText("Name a colour.")
        window.chat.send()
        window.chat.stop_button.click()  # before the model's first word
    stopped = blocker.args[0]
    assert stopped.interrupted and stopped.text == "" and stopped.message_id is None
    view = window.chat.message_views()[-1]
    assert "stopped before the answer began" in view.body.text()
    assert view.regenerate_button.isEnabled()
    assert not view.like_button.isEnabled()  # nothing stored to rate
    chats = window.services.chats
    assert [(m.role, m.content) for m in chats.messages(stopped.chat_id)] == [
        ("user", "Name a colour.")
    ]
    assert window.chats.titles() == ["Name a colour."]
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        view.regenerate_button.click()
    again = blocker.args[0]
    assert again.chat_id == stopped.chat_id and again.text and again.message_id is not None
    # Reopened: the question asked twice, one answer, no empty one.
    window.chat.show_chat(stopped.chat_id)
    shown = [(v.role, v.text) for v in window.chat.message_views()]
    assert shown == [
        ("user", "Name a colour."),
        ("user", "Name a colour."),
        ("assistant", again.text),
    ]


def test_a_reopened_question_whose_answer_was_stopped_before_it_began_can_be_answered(  # type: ignore[no-untyped-def]
    qtbot, make_services
) -> None:
    services = make_services()
    first = MainWindow(services)
    qtbot.addWidget(first)
    first.picker.retrieval.setChecked(False)
    ask(qtbot, first, "Name a colour.")
    with qtbot.waitSignal(first.chat.answer_finished, timeout=120_000) as blocker:
        first.chat.input.setPlainText("Name a fruit.")
        first.chat.send()
        first.chat.stop_button.click()  # before the model's first word
    stopped = blocker.args[0]
    assert stopped.message_id is None

    # Another chat and back: the question has Regenerate in its answer's place.
    first.chat.show_chat(None)
    first.chat.show_chat(stopped.chat_id)
    *_, question, unanswered = first.chat.message_views()
    assert (question.role, question.text) == ("user", "Name a fruit.")
    assert unanswered.role == "assistant" and unanswered.message_id is None
    assert "not answered" in unanswered.body.text()
    assert unanswered.regenerate_button.isEnabled()
    assert not unanswered.copy_button.isEnabled() and not unanswered.like_button.isEnabled()
    first.close()
    services.close()

    # A new window on the same data folder: reached from the question box with Tab, and
    # pressed with the space bar.
    second = MainWindow(make_services())
    qtbot.addWidget(second)
    second.show()
    second.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is second)
    second.chats.selected.emit(stopped.chat_id)
    unanswered = second.chat.message_views()[-1]
    qtbot.waitUntil(unanswered.isVisible)
    box = second.chat.input
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    for _ in range(50):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        if QApplication.focusWidget() is unanswered.regenerate_button:
            break
    assert QApplication.focusWidget() is unanswered.regenerate_button
    assert unanswered.focus_ring.around is unanswered.regenerate_button
    with qtbot.waitSignal(second.chat.answer_finished, timeout=120_000) as blocker:
        qtbot.keyClick(unanswered.regenerate_button, Qt.Key.Key_Space)
    again = blocker.args[0]
    assert again.chat_id == stopped.chat_id and again.text and again.message_id is not None
    asked = [(m.role, m.content) for m in second.services.chats.messages(stopped.chat_id)]
    fruit = ("user", "Name a fruit.")
    assert asked[-3:] == [fruit, fruit, ("assistant", again.text)]
    # Answered now: reopened, it has no stand-in answer.
    second.chat.show_chat(stopped.chat_id)
    assert [v.text for v in second.chat.message_views()][-1] == again.text
