"""The Evaluate window with the real model, embedder and store: a set written from a folder,
edited and saved, run over two configurations, stopped and resumed, reported and exported;
and a bad JSONL file refused with its lines named."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop.core.evaluate.report import StyleContext, make_report
from desktop.core.evaluate.scores import DEFINITIONS
from desktop.core.evaluate.sets import EvalItem, ResultRecord, RunRecord
from desktop.core.library.citation import Citation
from desktop.core.settings import Settings
from desktop.services import Services
from desktop.ui.evaluate.build_dialog import BuildDialog
from desktop.ui.evaluate.report_view import COLUMNS, COVERAGE, LEADING
from desktop.ui.evaluate.set_table import PASSAGE, QUESTION
from desktop.ui.evaluate.window import REPORT_TAB, EvaluateWindow
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import QKeySequence, QMessageBox, Qt
from desktop.ui.workers import wait_for_jobs
from tests.ui.confirm import confirmed
from tests.ui.test_library_names import seen

# Six short documents, a chunk each: the build asks for two questions, so passages the
# small model writes no usable question from leave others to try.
DOCUMENTS = {
    "coffee.md": "# Coffee machine\n\nThe coffee machine on the third floor is cleaned every "
    "Friday by the facilities team. Report faults to extension 4410 so that a technician can "
    "come the same day.\n",
    "library.md": "# Office library\n\nThe office library lends books for three weeks. Books "
    "are borrowed at the front desk on the ground floor, and late returns cost one euro a "
    "day.\n",
    "bikes.md": "# Bicycle parking\n\nStaff may park bicycles in the basement garage, which "
    "opens at 7 am. The garage has 40 racks and a repair stand with a pump.\n",
    "printers.md": "# Printers\n\nThe colour printer by the kitchen prints on both sides by "
    "default. Toner cartridges are kept in the locked cupboard; the office manager has the "
    "key.\n",
    "visitors.md": "# Visitors\n\nVisitors sign in at reception and wear a paper badge. They "
    "must be met at the lift by the colleague they visit and may not enter the server room.\n",
    "parking.md": "# Car park\n\nThe car park behind the building has 60 spaces, 4 of them "
    "with chargers for electric cars. Spaces are not reserved; the gate closes at 10 pm.\n",
}
ON, OFF = "local:default,retrieval=on", "local:default,retrieval=off"
EDITED = "When is the coffee machine on the third floor cleaned?"


def _close(window: EvaluateWindow) -> None:
    window.editor.load(None)  # edits a failed test left are dropped, not asked about
    window.close()
    wait_for_jobs()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCUMENTS.items():
        (docs / name).write_text(text, encoding="utf-8")
    return docs.resolve()


@pytest.fixture
def services(make_services, folder: Path) -> Services:  # type: ignore[no-untyped-def]
    services: Services = make_services(Settings(max_answer_tokens=24))
    services.ingestor.ingest([folder])
    return services


@pytest.fixture
def window(qtbot, services: Services) -> Iterator[EvaluateWindow]:  # type: ignore[no-untyped-def]
    evaluate = EvaluateWindow(services)
    qtbot.addWidget(evaluate)
    yield evaluate
    _close(evaluate)


@pytest.mark.slow
def test_a_set_is_built_edited_run_stopped_resumed_reported_and_exported(  # type: ignore[no-untyped-def]
    qtbot, window: EvaluateWindow, services: Services, folder: Path, tmp_path: Path
) -> None:
    # The dialog offers the library's folders and refuses one outside the library.
    dialog = BuildDialog(services, ["local:default"], window)
    assert dialog.folder_chosen() == str(folder)
    assert dialog.indexed.text() == "6 indexed files"
    assert not dialog.use_folder(str(tmp_path))
    assert "is not in the library" in dialog.problem.text()
    dialog.name.setText("office")
    dialog.questions.setValue(2)
    assert dialog.check()

    # Building: progress with the file being read, then the set listed with its questions.
    sets = window.sets
    assert sets.start_build(dialog.choice()) is not None
    assert not sets.progress.isHidden() and sets.stop_button.isEnabled()
    qtbot.waitUntil(lambda: sets.build is None, timeout=240_000)
    assert sets.message.text().startswith("office has 2 of 2 questions.")  # some may be skipped
    assert sets.progress.format() == "2 of 2 questions" and sets.progress.isHidden()
    assert sets.reading.text().endswith(".md…")  # the last file read
    assert sets.names() == ["office"] and sets.counts == {"office": 2}
    editor = window.editor
    assert editor.name == "office" and editor.table.rowCount() == 2
    stored = services.evals.get("office").items
    passage = editor.table.item(0, PASSAGE)
    source = stored[0].source_text
    assert passage is not None and source is not None and len(passage.text()) < len(source)
    assert html.escape(source.splitlines()[-1]) in passage.toolTip()  # the passage in full

    # Editing: flagged until saved; an empty row is named and nothing is saved.
    cell = editor.table.item(0, QUESTION)
    assert cell is not None
    cell.setText(EDITED)
    assert editor.dirty and editor.save_button.isEnabled() and "unsaved" in editor.title.text()
    editor.add_row()
    assert not editor.save()
    assert "Row 3 of 'office' has no question" in editor.message.text()
    assert services.evals.get("office").items == stored
    editor.table.selectRow(2)
    assert editor.remove_selected() == 1
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert not editor.dirty and "Saved 2 questions" in editor.message.text()
    items = services.evals.get("office").items
    assert items[0].question == EDITED and items[0].id == stored[0].id and items[1] == stored[1]

    # Run: the CLI's default grid first, then two configurations, stopped after one result.
    panel = window.run_panel
    assert panel.specs() == [c.spec() for c in services.default_grid()]
    panel.set_specs(["local:default", "local:default, retrieval=off"])
    assert panel.specs() == [ON, OFF]  # written out in full as they are checked
    with qtbot.waitSignal(panel.started, timeout=60_000) as started:
        assert panel.run() is not None
    run = started.args[0]
    assert f"Run {run.id} started." in panel.message.text()
    assert not sets.rename_button.isEnabled()  # the set keeps its name while it runs
    qtbot.waitUntil(lambda: panel.results_made >= 1, timeout=120_000)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.job is None, timeout=120_000)
    assert services.evals.run(run.id).finished_at is None
    kept = len(services.evals.results(run.id))
    assert 1 <= kept < 4 and panel.progress.format() == f"{kept} of 4 answers"
    assert panel.message.text().startswith("Stopped.") and "Run goes on from here" in (
        panel.message.text()
    )
    assert sets.rename_button.isEnabled()
    # Another grid would start a new run: the unfinished run's configurations are offered.
    panel.set_specs([OFF])
    assert not panel.resume_button.isHidden()
    panel.use_unfinished()
    assert panel.specs() == [ON, OFF]

    # Run again: the same run goes on and finishes with every answer.
    with qtbot.waitSignal(panel.started, timeout=60_000) as resumed:
        assert panel.run() is not None
    assert resumed.args[0].id == run.id
    assert f"Resuming run {run.id}" in panel.message.text()
    qtbot.waitUntil(lambda: panel.job is None, timeout=180_000)
    assert "Finished: see the Report tab." in panel.message.text()
    assert panel.resume_button.isHidden()
    finished = services.evals.run(run.id)
    results = services.evals.results(run.id)
    assert finished.finished_at is not None and [r.id for r in services.evals.runs("office")] == [
        run.id
    ]
    assert sorted((r.item_id, r.config) for r in results) == sorted(
        (i.id, c) for i in items for c in (ON, OFF)
    )
    assert all(r.error is None for r in results)

    # The report of the finished run: a row per configuration, hit@k 0 without retrieval.
    report = window.report
    window.tabs.setCurrentIndex(REPORT_TAB)
    qtbot.waitUntil(
        lambda: report.report is not None and report.report.complete and report.job is None,
        timeout=60_000,
    )
    assert report.runs.count() == 1 and "finished" in report.runs.currentText()
    rows = report.rows()
    hit = len(LEADING) + [c.key for c in COLUMNS].index("hit_at_k")
    # Configurations by the names a person reads; the spec is the row's tooltip.
    assert [row[0] for row in rows] == [
        "SmolLM2 135M · built in, retrieval",
        "SmolLM2 135M · built in, no retrieval",
    ]
    assert [row[1] for row in rows] == ["2", "2"]
    tip = report.table.item(1, 0).toolTip()  # type: ignore[union-attr]
    assert seen(tip) == "local:default,retrieval=off"
    assert rows[1][hit] == "0.00"
    facts = len(LEADING) + [c.key for c in COLUMNS].index("facts")
    assert rows[0][-1] == "free" and rows[0][facts] != "–"  # measured without a judge
    heading = report.table.horizontalHeaderItem(hit)
    assert heading is not None and heading.toolTip() == DEFINITIONS["hit_at_k"]
    assert report.recommendation.text().startswith(("Retrieval on", "Use SmolLM2 135M · built in"))
    assert "not finished" not in report.heading.text()
    assert "hit@k" in report.chart.description()
    assert "Reference:" in report.differing.toPlainText()

    html_path, csv_path = tmp_path / "report.html", tmp_path / "report.csv"
    assert report.export_html(html_path) and report.export_csv(csv_path)
    page = html_path.read_text(encoding="utf-8")
    assert (
        "SmolLM2 135M · built in, retrieval" in page
        and "SmolLM2 135M · built in, no retrieval" in page
    )
    assert "<svg" in page
    table = csv_path.read_text(encoding="utf-8")
    assert f'"{ON}"' in table and f'"{OFF}"' in table


def test_a_bad_jsonl_file_is_refused_naming_its_lines(  # type: ignore[no-untyped-def]
    qtbot, make_services, tmp_path: Path
) -> None:
    window = EvaluateWindow(make_services())
    qtbot.addWidget(window)
    try:
        sets = window.sets
        bad = tmp_path / "bad.jsonl"
        bad.write_text(
            json.dumps({"question": "Where is the garage?", "reference": "In the basement."})
            + '\n{"question": "How many racks?"}\nnot json\n',
            encoding="utf-8",
        )
        assert sets.import_file(bad, "racks") is None
        text = sets.message.text()
        assert 'line 2: no "reference" answer text' in text and "line 3: not JSON" in text
        assert "nothing was imported" in text and sets.names() == []
        assert "color: #b00020" in sets.message.styleSheet()

        good = tmp_path / "good.jsonl"
        good.write_text(bad.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
        assert sets.import_file(good, "garage") is not None
        assert sets.names() == ["garage"] and window.editor.name == "garage"
        assert window.editor.table.rowCount() == 1
        assert sets.export("garage", tmp_path / "out.jsonl")
        assert json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))["question"] == (
            "Where is the garage?"
        )

        # Removing asks first; Cancel keeps the set.
        _, asked = confirmed(False, lambda: sets.ask_remove())
        assert 'Remove the evaluation set "garage"?' in asked and sets.names() == ["garage"]
    finally:
        _close(window)


def test_a_remote_configuration_with_retrieval_asks_before_anything_is_sent(  # type: ignore[no-untyped-def]
    qtbot, make_services, tmp_path: Path
) -> None:
    services = make_services()
    good = tmp_path / "one.jsonl"
    good.write_text(json.dumps({"question": "Q?", "reference": "A."}) + "\n", encoding="utf-8")
    window = EvaluateWindow(services)
    qtbot.addWidget(window)
    try:
        window.sets.import_file(good, "one")
        panel = window.run_panel
        panel.set_specs(["openai:gpt-4o-mini", "openai:gpt-4o-mini,retrieval=off"])
        assert panel.consent_needed(panel.chosen_configs(), None) == ["openai"]
        assert panel.run() is None
        box = panel.consent_box
        assert box is not None and "OpenAI" in box.text()
        box.button(QMessageBox.StandardButton.Cancel).click()
        qtbot.waitUntil(lambda: panel.consent_box is None)
        assert panel.job is None
        assert panel.message.text() == "Nothing was sent: the run did not start."
        assert services.evals.runs("one") == []
        assert "openai" not in services.settings.remote_consent
    finally:
        _close(window)


def test_the_chat_menu_opens_one_evaluate_window(qtbot, make_services) -> None:  # type: ignore[no-untyped-def]
    main = MainWindow(make_services())
    qtbot.addWidget(main)
    chat = next(a.menu() for a in main.menuBar().actions() if a.text() == "&Chat")
    action = next(a for a in chat.actions() if a.text() == "Evaluate…")
    assert action.shortcut() == QKeySequence("Ctrl+Shift+E")
    action.trigger()
    first = main.evaluate_window
    assert first is not None and first.isVisible()
    assert main.open_evaluate() is first
    main.close()  # stops background work, the Evaluate window's included


def test_repeated_questions_are_named_on_import_and_refused_by_the_editor(  # type: ignore[no-untyped-def]
    qtbot, make_services, tmp_path: Path
) -> None:
    window = EvaluateWindow(make_services())
    qtbot.addWidget(window)
    try:
        source = tmp_path / "set.jsonl"
        lines = [("Where is the garage?", "In the basement."), ("How many racks?", "40."),
                 ("where is the  GARAGE?", "Downstairs.")]  # fmt: skip
        source.write_text(
            "".join(json.dumps({"question": q, "reference": r}) + "\n" for q, r in lines),
            encoding="utf-8",
        )
        assert window.sets.import_file(source, "garage") is not None
        said = window.sets.message.text()
        assert "Imported 2 questions as garage." in said and "line 3 (same as line 1)" in said

        editor = window.editor
        assert editor.name == "garage" and editor.table.rowCount() == 2
        row = editor.add_row()
        editor.table.item(row, QUESTION).setText(" how many RACKS? ")  # type: ignore[union-attr]
        editor.table.item(row, 1).setText("Forty.")  # type: ignore[union-attr]
        assert not editor.save()
        assert "Row 3 of 'garage' asks the same question as row 2" in editor.message.text()
        assert len(window.services.evals.get("garage").items) == 2  # nothing saved
    finally:
        _close(window)


def test_the_report_view_says_how_many_questions_hit_at_k_is_over(  # type: ignore[no-untyped-def]
    qtbot, make_services
) -> None:
    window = EvaluateWindow(make_services())
    qtbot.addWidget(window)
    try:
        items = [
            EvalItem("When is it cleaned?", "Friday", "/d/coffee.md", "Cleaned every Friday."),
            EvalItem("How long are books lent?", "three weeks", "/d/library.md"),
            EvalItem("Who has the key?", "the office manager"),
        ]
        given = [Citation("/d/library.md", None, 0.5, "Books for three weeks.", "library.md")]
        run = RunRecord("r", "s", [ON], 3, None, None, None, 0.0, 1.0)
        results = [ResultRecord(i.id, ON, i.question, "x", given, facts=0.5) for i in items]
        report = make_report(run, items, results, lambda t: np.eye(len(t)), StyleContext(None, []))
        view = window.report
        view.display(report)
        row = view.rows()[0]
        assert row[COVERAGE] == "2 of 3"
        hit = len(LEADING) + [c.key for c in COLUMNS].index("hit_at_k")
        assert row[hit] == "0.50"  # the file-level question is found, the passage is not
        assert view.table.horizontalHeaderItem(hit).text() == "hit@3"  # type: ignore[union-attr]
        assert view.coverage.text().startswith("hit@3 and MRR are over 2 of the 3 questions")
        assert "over 2 of 3 questions" in view.chart.description()
    finally:
        _close(window)
