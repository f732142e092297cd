"""The Evaluate window's "Over time" tab: a set's runs side by side, each configuration's
chosen score with its change since the run before, coloured by whether it got better."""

from __future__ import annotations

from desktop.core.evaluate.sets import SetSource
from desktop.services import Services
from desktop.ui.evaluate.history_view import BETTER, WORSE
from desktop.ui.evaluate.window import EvaluateWindow
from desktop.ui.qt import QApplication, QEvent
from desktop.ui.workers import wait_for_jobs
from tests.core.test_eval_history import write_runs

BASE_NAME = "SmolLM2 135M · built in, retrieval"


def test_runs_over_time_show_each_configurations_scores_and_changes(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    write_runs(services.evals)
    window = EvaluateWindow(services)
    qtbot.addWidget(window)
    assert window.show_set("leave", tab=window.tabs.indexOf(window.history))
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Over time"
    view = window.history
    heads = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]  # type: ignore[union-attr]
    assert heads == [
        BASE_NAME,
        f"{BASE_NAME.split(',')[0]}, no retrieval",
        "snark · fine-tuned, retrieval",
    ]
    rows = view.rows()  # newest first: unfinished, second, first
    assert rows[0][0].endswith("· unfinished") and rows[0][1:] == ["–", "–", "–"]
    assert rows[1][1:] == ["0.50  (-0.25)", "–", "1.00"]
    assert rows[2][1:] == ["0.75", "0.00", "–"]
    assert view.table.item(1, 0).foreground().color() == WORSE  # type: ignore[union-attr]
    view.score.setCurrentIndex(view.score.findData("hit_at_k"))
    assert view.rows()[1][1:] == ["0.50  (-0.50)", "–", "1.00"]
    assert view.rows()[2][2] == "no retrieval"  # nothing searched: no hit@k of 0.00
    view.score.setCurrentIndex(view.score.findData("ttft_ms"))
    assert view.rows()[2][1] == "100"
    assert view.table.item(1, 0).foreground().color() not in (BETTER, WORSE)  # no change
    window.close()


def test_an_empty_set_says_it_has_no_runs(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    services.evals.create("empty", SetSource.IMPORTED)
    window = EvaluateWindow(services)
    qtbot.addWidget(window)
    assert window.show_set("empty")
    assert window.history.rows() == [] and "No runs yet" in window.history.message.text()
    window.close()


def test_closing_while_a_report_computes_touches_no_deleted_widget(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    write_runs(services.evals)
    window = EvaluateWindow(services)
    assert window.show_set("leave")  # the newest run's report starts computing
    assert window.report.job is not None
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # its widgets are gone
    assert wait_for_jobs()
    qtbot.wait(100)  # the report arrives: a slot reaching a deleted widget would raise here
