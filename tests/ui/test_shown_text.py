"""Text a person or a file supplied reads as written wherever the window shows it: a
right-to-left override turns nothing around it, a newline splits no row, ESC shows as
``\\x1b``. Checked with Qt's own text layout (``reads_as_written``), on real stores."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from PySide6.QtGui import QFont  # the window lays no text out itself

from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.sets import EvalItem, ResultRecord, SetSource
from desktop.core.finetune.examples import Example
from desktop.core.finetune.pricing import DEFAULT_BASE
from desktop.core.models.local_files import embedded_llm_path
from desktop.core.settings import Settings
from desktop.services import Services
from desktop.ui.compare.window import CompareWindow
from desktop.ui.dialogs import PersonaDialog
from desktop.ui.evaluate.build_dialog import BuildDialog
from desktop.ui.evaluate.history_view import HistoryView
from desktop.ui.evaluate.report_view import ReportView
from desktop.ui.evaluate.set_table import PASSAGE
from desktop.ui.evaluate.window import EvaluateWindow
from desktop.ui.finetune.editor import ExamplesEditor, ValidationPanel
from desktop.ui.finetune.local_train import LocalTrainPanel
from desktop.ui.main_window import MainWindow
from desktop.ui.model_combo import ModelCombo
from desktop.ui.qt import QMessageBox, Qt
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


def test_a_persona_named_with_controls_reads_as_written_in_a_compare_cell_and_runs(  # type: ignore[no-untyped-def]
    qtbot, make_services
) -> None:
    services = make_services(Settings(max_answer_tokens=16))
    _store_odd_names(services)
    compare = CompareWindow(services)
    qtbot.addWidget(compare)

    # A saved grid's persona, shown set apart and given back as stored.
    compare.set_configs([CellConfig("local:default", ODD, retrieval=False)])
    [cell] = compare.cells
    one_line_as_written(cell.persona.currentText(), cell.persona.font())
    assert cell.config() == CellConfig("local:default", ODD, retrieval=False)

    # Chosen from the list of personas, it answers in that persona.
    compare.set_configs([CellConfig("local:default", retrieval=False)])
    [cell] = compare.cells
    assert cell.config().persona is None
    entries = [cell.persona.itemText(i) for i in range(cell.persona.count())]
    [index] = [i for i in range(cell.persona.count()) if cell.persona.itemData(i) == ODD]
    one_line_as_written(entries[index], cell.persona.font())
    cell.persona.setCurrentIndex(index)
    assert cell.config().persona == ODD
    compare.question.setText("Who is on the night shift?")
    with qtbot.waitSignal(compare.finished, timeout=120_000) as done:
        assert compare.run() is not None
    [result] = done.args[0].cells
    assert result.error is None and result.config.persona == ODD  # no "unknown persona"
    compare.close()
    wait_for_jobs()


def test_a_library_folder_named_with_controls_reads_as_written_and_is_built_from(  # type: ignore[no-untyped-def]
    qtbot, services: Services, tmp_path: Path
) -> None:
    folder = tmp_path / ODD
    folder.mkdir()
    (folder / "rota.md").write_text("# Rota\n\nThe night shift starts at ten.", encoding="utf-8")
    services.ingestor.ingest([folder])
    [stored] = services.library.folders()
    dialog = BuildDialog(services, ["local:default"])
    qtbot.addWidget(dialog)
    one_line_as_written(dialog.folder.currentText(), dialog.folder.font())
    assert dialog.folder_chosen() == stored and dialog.indexed.text() == "1 indexed file"
    # The set is named as the folder reads: a set's name may hold no control characters.
    assert dialog.name.text() == "Night\\u202eshift\\nrota\\x1b 2027"
    assert dialog.check()
    assert dialog.choice().folder == folder

    # Another folder outside the library is refused, named as written.
    outside = tmp_path / f"elsewhere\u202e{ODD}"
    outside.mkdir()
    assert not dialog.use_folder(str(outside))
    one_line_as_written(dialog.problem.text().split(":")[0], dialog.problem.font())
    # Inside it, a folder is added to the list as written, standing for itself.
    inside = folder / "week\u202e 1"
    inside.mkdir()
    assert dialog.use_folder(str(inside))
    one_line_as_written(dialog.folder.currentText(), dialog.folder.font())
    assert dialog.choice().folder == inside and dialog.folder.count() == 2


def _store_finished_run(services: Services, persona_name: str, item: EvalItem, right: str) -> str:
    """A set "rota" holding ``item`` with a finished run of the embedded model without
    retrieval, alone (answering "At noon.", no fact) and in persona ``persona_name``
    (answering ``right``, the fact); the persona's configuration spec."""
    persona = f"local:default,persona={persona_name},retrieval=off"
    base = "local:default,retrieval=off"
    services.evals.create("rota", SetSource.IMPORTED, [item])
    run = services.evals.start_run("rota", [base, persona])
    for config, answer, facts in ((base, "At noon.", 0.0), (persona, right, 1.0)):
        services.evals.record(
            run.id, ResultRecord(item.id, config, item.question, answer, [], facts=facts)
        )
    services.evals.finish(run.id)
    return persona


def _store_odd_evaluation(services: Services) -> str:
    """A set named ``ODD`` (as an older Folio could have stored it) with a finished run of
    two configurations, one in the persona ``ODD``; the persona's configuration spec."""
    persona = _store_finished_run(
        services, ODD, EvalItem(f"When does the {ODD} start?", "At ten.\nSharp."), "At ten\u202e."
    )
    with sqlite3.connect(services.home / "evaluations.db") as db:
        db.execute("PRAGMA foreign_keys = ON")  # the items and runs follow the set's name
        db.execute("UPDATE eval_sets SET name = ? WHERE name = 'rota'", (ODD,))
    db.close()
    return persona


def test_evaluation_sets_and_configurations_named_with_controls_read_as_written(  # type: ignore[no-untyped-def]
    qtbot, services: Services, tmp_path: Path
) -> None:
    _store_odd_names(services)
    persona = _store_odd_evaluation(services)
    label = "SmolLM2 135M · built in + Night\\u202eshift rota\\x1b 2027, no retrieval"

    # Over time: a column per configuration, named as written, the spec its tooltip.
    history = HistoryView(services)
    qtbot.addWidget(history)
    history.load_set(ODD)
    heads = [history.table.horizontalHeaderItem(c) for c in range(history.table.columnCount())]
    assert heads[1] is not None and heads[1].text() == label
    for head in heads:
        assert head is not None
        one_line_as_written(head.text(), history.table.font())
        one_line_as_written(head.toolTip(), history.table.font())
    assert history.rows()[0][2] == "1.00"  # the persona's scores, found by its spec
    history.score.setCurrentIndex(history.score.findData("hit_at_k"))
    one_line_as_written(history.coverage.text(), history.coverage.font())
    assert history.coverage.textFormat() == Qt.TextFormat.PlainText

    # The report: its heading, recommendation, table and differing answers.
    report = ReportView(services)
    qtbot.addWidget(report)
    report.load_set(ODD)
    qtbot.waitUntil(lambda: report.report is not None, timeout=60_000)
    assert report.heading.text().startswith("Run ") and " of Night\\u202eshift rota" in (
        report.heading.text()
    )
    assert f"Use {label}" in report.recommendation.text()  # the most facts
    for shown in (report.heading, report.recommendation, report.coverage):
        one_line_as_written(shown.text(), shown.font())
        assert shown.textFormat() == Qt.TextFormat.PlainText  # a "<b>" in a name shows
    name = report.table.item(1, 0)
    assert name is not None and name.text() == label
    # The export dialog's file name: the set's name with its controls made "-".
    assert report.suggested_file("html") == f"Night-shift-rota- 2027 {report.report.run.id}.html"
    one_line_as_written(name.toolTip(), report.table.font())
    assert CellConfig.parse(persona).persona == ODD
    lines = report.differing.toPlainText().split("\n")
    assert "When does the Night\\u202eshift rota\\x1b 2027 start?" in lines
    assert "At ten\\u202e." in lines  # the answer, its override written out
    for line in lines:
        one_line_as_written(line, report.differing.font())
    # Exported under the set's name, as the file dialog offers it: the message reads as written.
    assert report.export_csv(tmp_path / f"{ODD}.csv")
    assert report.message.text().endswith("/Night\\u202eshift\\nrota\\x1b 2027.csv.")
    one_line_as_written(report.message.text(), report.message.font())
    report.shutdown()
    wait_for_jobs()


def test_a_local_base_model_named_with_controls_reads_as_written_and_is_trained_from(  # type: ignore[no-untyped-def]
    qtbot, make_services
) -> None:
    gguf = embedded_llm_path()
    assert gguf is not None
    services = make_services(Settings(local_models={ODD: str(gguf)}))
    empty = [{"role": "user", "content": "When?"}, {"role": "assistant", "content": ""}]
    services.datasets.create("rota", [Example(empty)], source="manual")
    panel = LocalTrainPanel(services)
    qtbot.addWidget(panel)
    entries = [panel.base.itemText(i) for i in range(panel.base.count())]
    [index] = [i for i in range(panel.base.count()) if panel.base.itemData(i) == f"local:{ODD}"]
    one_line_as_written(entries[index], panel.base.font())
    panel.base.setCurrentIndex(index)
    assert panel.base_model() == f"local:{ODD}"
    panel.reload()  # the choice stays when the lists are made again
    assert panel.base_model() == f"local:{ODD}"

    # Start… reaches the dataset's own problem: the base model was found by its id.
    job = panel.start()
    assert job is not None and wait_for_jobs()
    qtbot.waitUntil(lambda: panel.job is None)
    message = panel.message.text()
    assert "line 1" in message and "Unknown model" not in message, message

    # The question before training names it as written.
    estimate = {"train_examples": 1, "validation_examples": 0, "tokens": 12, "epochs": 1,
                "steps": 1, "seconds": 60, "tokens_per_s": 10.0, "peak_memory_mb": 900}  # fmt: skip
    box = panel.confirm(estimate, panel.config())
    assert box.text() == "Train local:Night\\u202eshift rota\\x1b 2027 on rota?"
    one_line_as_written(box.text(), box.font())
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert panel.message.text() == "Not started."


RTL_DATASET = "משמרות 2027"


def test_a_dataset_and_its_examples_read_as_written_in_the_editor(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    odd_role = [{"role": "user", "content": ODD}, {"role": "assi\u202estant", "content": "Ten."}]
    simple = [{"role": "user", "content": "When?"}, {"role": "assistant", "content": "Ten."}]
    services.datasets.create(RTL_DATASET, [Example(simple), Example(odd_role)], source="manual")
    editor = ExamplesEditor(services)
    qtbot.addWidget(editor)
    assert editor.load(RTL_DATASET)
    # Hebrew keeps its own order, set apart from the counts after it.
    assert plain(editor.title.text()).startswith(f"\u2068{RTL_DATASET}\u2069: 2 for training")
    editor.table.setCurrentCell(1, 1)
    assert editor.messages.toPlainText() == (
        "user: Night\\u202eshift\nrota\\x1b 2027\n\nassi\\u202estant: Ten."
    )
    assert editor.table.item(1, 1).text() == ODD  # type: ignore[union-attr]  # edited as it is

    validation = ValidationPanel(services, editor.examples)
    qtbot.addWidget(validation)
    assert validation.base.currentData() == DEFAULT_BASE
    assert validation.run() is not None
    qtbot.waitUntil(lambda: not validation.busy, timeout=30_000)
    assert validation.report is not None and validation.report.base_model == DEFAULT_BASE
    texts = [validation.problems.item(i).text() for i in range(validation.problems.count())]
    [problem] = [t for t in texts if "role" in t]
    assert '"assi\\u202estant"' in problem
    one_line_as_written(problem, validation.problems.font())


# -- markup in names: shown as the characters typed, never applied --------------------------

MARKUP = "<b>bold</b>"
RTL_PERSONA = "משמרות לילה"


def test_a_set_named_with_markup_is_shown_as_typed_in_its_message_title_and_tooltip(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    item = EvalItem("When?", "At ten.", "/docs/rota.md", "The <i>night</i> shift\u202e starts.")
    services.evals.create(MARKUP, SetSource.IMPORTED, [item])
    window = EvaluateWindow(services)
    qtbot.addWidget(window)

    # Renamed: the message names both as typed, in a label that applies no markup.
    assert window.sets.rename(MARKUP, "a<br>b")
    message = window.sets.message
    assert message.text() == "Renamed <b>bold</b> to a<br>b."
    assert message.textFormat() == Qt.TextFormat.PlainText

    # The set's title is rich text (its name bold), its name escaped in it.
    assert window.editor.load("a<br>b")
    title = window.editor.title
    assert title.textFormat() == Qt.TextFormat.RichText
    assert plain(title.text()) == "a<br>b: 1 question"
    # The passage's tooltip: its markup and its override written out, not applied.
    passage = window.editor.table.item(0, PASSAGE)
    assert passage is not None
    assert plain(passage.toolTip()) == "The <i>night</i> shift\\u202e starts."
    window.editor.load(None)
    window.close()
    wait_for_jobs()


def test_a_saved_comparisons_tooltip_and_a_grids_name_with_markup_are_shown_as_typed(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    specs = [f"local:default,persona={MARKUP},retrieval=off", "local:default,retrieval=on"]
    services.comparer.saved.create("Who is on the night shift?", specs)
    compare = CompareWindow(services)
    qtbot.addWidget(compare)
    [row] = [compare.history.item(i) for i in range(compare.history.count())]
    assert plain(row.toolTip()) == ", ".join(specs)  # the persona's "<b>" shows

    compare.save_set("<i>pair</i>")
    assert compare.message.text() == "Saved the grid as '<i>pair</i>'."
    assert compare.message.textFormat() == Qt.TextFormat.PlainText
    compare.close()
    wait_for_jobs()


def test_a_hebrew_persona_in_the_recommendation_is_set_apart_from_its_figures(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    _store_finished_run(
        services, RTL_PERSONA, EvalItem("When does the night shift start?", "At ten."), "At ten."
    )

    report = ReportView(services)
    qtbot.addWidget(report)
    report.load_set("rota")
    qtbot.waitUntil(lambda: report.report is not None, timeout=60_000)
    label = f"SmolLM2 135M · built in + {RTL_PERSONA}, no retrieval"
    # The name alone is isolated, so the facts after it stay where they are written.
    shown = report.recommendation.text()
    assert f"Use \u2068{label}\u2069: the most facts (1.00)" in shown, shown
    before = shown[: shown.index("Use ")]  # the sentence is in no isolate of its own
    assert before.count("\u2068") == before.count("\u2069")
    assert report.recommendation.textFormat() == Qt.TextFormat.PlainText
    report.shutdown()
    wait_for_jobs()
