"""Text a person or a file supplied reads as written wherever the window shows it: a
right-to-left override turns nothing around it, a newline splits no row, ESC shows as
``\\x1b``. Checked with Qt's own text layout (``reads_as_written``), on real stores."""

from __future__ import annotations

import json
import sqlite3
import time

from PySide6.QtGui import QFont  # the window lays no text out itself

from desktop.services import Services
from desktop.ui.compare.window import CompareWindow
from desktop.ui.dialogs import PersonaDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.model_combo import ModelCombo
from desktop.ui.qt import Qt
from desktop.ui.workers import wait_for_jobs
from tests.ui.confirm import confirmed
from tests.ui.test_window import plain, reads_as_written

# An override, a newline and an escape: what a name from an older Folio, a hand-edited
# file or a server can hold, though Folio refuses them in names typed today.
ODD = "Night\u202eshift\nrota\x1b 2027"
HIDDEN = ("\u202e", "\n", "\x1b")
SET = ["local:default,retrieval=on", "local:default,retrieval=off"]


def one_line_as_written(text: str, font: QFont) -> None:
    """``text`` (what a row, an entry or a label shows) is one line that reads as written."""
    assert not any(char in text for char in HIDDEN), repr(text)
    assert reads_as_written(text, font), repr(text)


def test_the_question_and_the_answer_read_as_written(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    chats = window.services.chats
    chat = chats.create("Forms")
    question = "Send the \u202e50 forms to room 12\nby Friday\x1b?"
    chats.add_message(chat.id, "user", question)
    answer = "The \u202e50 forms go to room 12 by *Friday*."
    chats.add_message(chat.id, "assistant", answer, model="local:default")
    window.chat.show_chat(chat.id)
    asked, answered = window.chat.message_views()

    # The question, shown as typed: its two lines kept, each read left to right.
    shown = asked.body.text()
    assert shown.split("\n") == ["Send the \\u202e50 forms to room 12", "by Friday\\x1b?"]
    for line in shown.split("\n"):
        one_line_as_written(line, asked.body.font())
    assert asked.text == question  # kept as typed
    # The answer, still Markdown (the emphasis is gone from the text), without the turn.
    rendered = plain(answered.body.text())
    assert rendered == "The \\u202e50 forms go to room 12 by Friday."
    one_line_as_written(rendered, answered.body.font())
    assert answered.text == answer  # Copy gives the answer as the model wrote it


def _store_odd_names(services: Services) -> None:
    """A persona and a comparison set named ``ODD``, written into the chat database as an
    older Folio could have left them (the stores refuse such names now)."""
    services.chats.personas.all()  # the database and its tables, made
    with sqlite3.connect(services.home / "chats.db") as db:
        db.execute("INSERT INTO personas (name, prompt) VALUES (?, ?)", (ODD, "Be brief."))
        db.execute(
            "INSERT INTO comparison_sets VALUES (?, ?, ?)",
            (ODD, json.dumps(SET), time.time()),
        )
    db.close()


def test_names_with_controls_read_as_written_in_lists_pickers_and_dialogs(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    _store_odd_names(services)

    # The persona editor's list, its message and its deletion question.
    dialog = PersonaDialog(services)
    qtbot.addWidget(dialog)
    rows = [dialog.list.item(i) for i in range(dialog.list.count())]
    [row] = [r for r in rows if r.data(Qt.ItemDataRole.UserRole) == ODD]
    one_line_as_written(row.text(), dialog.list.font())
    dialog.list.setCurrentItem(row)
    assert dialog.name.text() == ODD  # the field holds the name itself, to edit
    _, asked = confirmed(False, dialog.delete)
    question = asked.split("\n")[0]
    assert question.startswith('Delete the persona "Night\\u202eshift rota\\x1b 2027"')
    one_line_as_written(question, dialog.font())
    assert ODD in [p.name for p in services.chats.personas.all()]  # Cancel kept it

    # The model picker and the chat header, with the persona chosen.
    window = MainWindow(services)
    qtbot.addWidget(window)
    assert window.picker.select("local:default", ODD)
    one_line_as_written(window.picker.combo.currentText(), window.picker.combo.font())
    header = plain(window.chat.header.text())
    one_line_as_written(header, window.chat.header.font())

    # A server's model named with the same characters, in a model list.
    model_id = f"lab:{ODD}"
    combo = ModelCombo([model_id], lambda m: m.split(":", 1)[1])
    qtbot.addWidget(combo)
    one_line_as_written(combo.itemText(0), combo.font())
    assert combo.model_id() == model_id  # the entry still stands for the server's id

    # A saved comparison set, listed and used by its name.
    compare = CompareWindow(services)
    qtbot.addWidget(compare)
    texts = [compare.sets.itemText(i) for i in range(compare.sets.count())]
    [index] = [i for i in range(compare.sets.count()) if compare.sets.itemData(i) == ODD]
    one_line_as_written(texts[index], compare.sets.font())
    compare.sets.setCurrentIndex(index)
    compare.sets.activated.emit(index)
    assert [c.spec() for c in compare.configs()] == SET
    compare.close()
    wait_for_jobs()
