"""The Evaluate window's "Over time" tab: a set's runs side by side, so a change shows.

One row per run (newest first), one column per configuration, and in each cell the chosen
score with how it moved since the configuration's run before: fine-tune a model, run the
set again, and the fine-tuned row's facts say whether it helped. The figures are the ones
each run stored (``core.evaluate.history``); style is in each run's report.
"""

from __future__ import annotations

from desktop.core.errors import FolioError
from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.history import RunScores, change, configurations, run_history
from desktop.core.evaluate.scores import DEFINITIONS
from desktop.core.tasks import clock_time
from desktop.services import Services
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QAbstractItemView,
    QColor,
    QComboBox,
    QHBoxLayout,
    QLabel,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.shown import line_shown, tooltip_shown

NONE = "–"  # not measured in that run
NOT_SEARCHED = "no retrieval"  # hit@k and MRR of a configuration with retrieval off
# The scores a person can follow over time, as (ConfigScores field, name shown).
SCORES = [
    ("facts", "facts"),
    ("hit_at_k", "hit@k"),
    ("mrr", "MRR"),
    ("correctness", "correctness"),
    ("faithfulness", "faithfulness"),
    ("ttft_ms", "first token (ms)"),
]
LOWER_IS_BETTER = {"ttft_ms"}
RETRIEVAL = {"hit_at_k", "mrr"}  # scored only on the questions with a known source
BETTER, WORSE = QColor("#17803d"), QColor("#b3261e")
# A change smaller than this is shown without a colour: noise, not a difference.
SAME = 0.005


class HistoryView(QWidget):
    """Runs × configurations for the chosen score; ``load_set`` fills it."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.set_name: str | None = None
        self.history: list[RunScores] = []
        self.score = QComboBox()
        self.score.setAccessibleName("Score")
        for key, name in SCORES:
            self.score.addItem(name, key)
            self.score.setItemData(
                self.score.count() - 1, DEFINITIONS.get(key, ""), Qt.ItemDataRole.ToolTipRole
            )
        self.score.currentIndexChanged.connect(lambda _: self._fill())
        self.message = message_label()
        self.table = QTableWidget()
        self.table.setAccessibleName("Runs over time")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.coverage = QLabel()
        self.coverage.setTextFormat(Qt.TextFormat.PlainText)  # it names configurations
        self.coverage.setAccessibleName("What hit@k and MRR are over")
        self.coverage.setWordWrap(True)
        self.coverage.setStyleSheet("color: gray")
        note = QLabel(
            "Each run of the set, newest first, with the chosen score for each configuration "
            "and its change since that configuration's run before. Style is in each run's "
            "report."
        )
        note.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Score"))
        top.addWidget(self.score)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.coverage)

    def load_set(self, name: str | None) -> None:
        """Show the runs of set ``name`` (nothing for None)."""
        self.set_name = name
        try:
            self.history = run_history(self.services.evals, name) if name else []
        except FolioError as exc:
            self.history = []
            say(self.message, error_text(exc), error=True)
        else:
            if not name:
                say(self.message, "Choose an evaluation set.")
            elif not self.history:
                say(self.message, "No runs yet: run the set in the Run tab.")
            else:
                say(self.message, "")
        self._fill()

    def renamed(self, old: str, new: str) -> None:
        """The set was renamed: its runs follow it."""
        if self.set_name == old:
            self.set_name = new

    def _fill(self) -> None:
        key = str(self.score.currentData())
        columns = configurations(self.history)
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(self.history))
        for column, (spec, label) in enumerate(columns):
            # A configuration names a persona and a model: shown set apart.
            head = QTableWidgetItem(line_shown(label))
            head.setToolTip(tooltip_shown(line_shown(spec)))
            self.table.setHorizontalHeaderItem(column, head)
        for row, index in enumerate(reversed(range(len(self.history)))):
            run = self.history[index].run
            state = "" if run.finished_at is not None else " · unfinished"
            head = QTableWidgetItem(clock_time(run.started_at) + state)
            head.setToolTip(f"Run {run.id}")
            self.table.setVerticalHeaderItem(row, head)
            for column, (spec, _label) in enumerate(columns):
                self.table.setItem(row, column, self._cell(index, spec, key))
        self.table.resizeColumnsToContents()
        self.coverage.setText(self.coverage_text(key))
        self.coverage.setVisible(bool(self.coverage.text()))

    def coverage_text(self, key: str) -> str:
        """For hit@k and MRR, the questions the newest run's scores are over; "" otherwise."""
        if key not in RETRIEVAL or not self.history:
            return ""
        newest = self.history[-1]
        counts = ", ".join(
            f"{line_shown(c.label)} {c.coverage(newest.questions)}"
            for c in newest.configs
            if c.answered
        )
        return (
            "hit@k and MRR count only the questions with a source passage or file"
            + (f"; in the newest run: {counts}" if counts else "")
            + ". Each cell's tooltip has its own run's count."
        )

    def _cell(self, index: int, spec: str, key: str) -> QTableWidgetItem:
        value = self.history[index].score(spec, key)
        moved = change(self.history, index, spec, key)
        if value is not None and key in RETRIEVAL and not CellConfig.parse(spec).retrieval:
            # Nothing was searched: a hit@k of 0.00 would read as a search that failed.
            moved = None
            text = NOT_SEARCHED
        elif value is None:
            text = NONE
        elif key == "ttft_ms":
            text = f"{value:,.0f}" + ("" if moved is None else f"  ({moved:+,.0f})")
        else:
            text = f"{value:.2f}" + ("" if moved is None else f"  ({moved:+.2f})")
        cell = QTableWidgetItem(text)
        cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if moved is not None and abs(moved) >= SAME * (1000 if key == "ttft_ms" else 1):
            better = (moved < 0) if key in LOWER_IS_BETTER else (moved > 0)
            cell.setForeground(BETTER if better else WORSE)
        found = next((c for c in self.history[index].configs if c.config == spec), None)
        if found is not None:
            cell.setToolTip(
                f"{found.answered} answered, {found.failed} failed · hit@k and MRR over "
                f"{found.coverage(self.history[index].questions)} questions · "
                + " · ".join(
                    f"{name} {getattr(found, k):.2f}"
                    for k, name in SCORES
                    if k != "ttft_ms" and getattr(found, k) is not None
                )
            )
        return cell

    def rows(self) -> list[list[str]]:
        """The table's text, run by run (newest first), the run's start first."""
        rows = []
        for row in range(self.table.rowCount()):
            head = self.table.verticalHeaderItem(row)
            cells = [self.table.item(row, column) for column in range(self.table.columnCount())]
            rows.append([head.text() if head else "", *(c.text() if c else "" for c in cells)])
        return rows
