"""Evaluate's Report tab: a run's scores per configuration, the chart, the answers that differ
most and the recommendation; exported as HTML or CSV.

The report is computed in the background: the style score and the differing answers need
the answers embedded, with the library's embedding model. Only the latest request is shown
(choosing another run while one computes drops the first). Every text from a person, a
model or a document is escaped before it is shown as rich text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from pathlib import Path

from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.report import ConfigScores, Report, hit_name, recommend
from desktop.core.evaluate.report_html import CHARTED, to_html
from desktop.core.evaluate.scores import DEFINITIONS
from desktop.core.files import write_atomically
from desktop.core.names import file_name_for
from desktop.core.plurals import counted
from desktop.services import Services
from desktop.ui.evaluate.chart import ScoreChart, colour
from desktop.ui.evaluate.run_panel import when
from desktop.ui.messages import message_label, say
from desktop.ui.qt import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown, lines_shown, name_shown, tooltip_shown
from desktop.ui.workers import Job

_ID = Qt.ItemDataRole.UserRole
_NUMBER = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
NONE = "–"  # not measured


@dataclass(frozen=True)
class Column:
    """A score column: its heading, the ``ConfigScores`` field, and the digits shown."""

    heading: str
    key: str
    digits: int


COLUMNS = [
    *(Column(heading, key, 2) for key, heading in CHARTED.items()),
    # Long headings on two lines: the table is wide already.
    Column("first token\nms", "ttft_ms", 0),
    Column("total s", "seconds", 1),
    Column("tokens in", "tokens_in", 0),
    Column("prompt tokens\nadded", "prompt_tokens_added", 0),
    Column("$/1,000", "cost_per_1000_usd", 2),
]
# Before the score columns; the third is what hit@k and MRR are over ("12 of 20").
LEADING = ["configuration", "answered", "hit@k, MRR\nover"]
COVERAGE = 2


def figure(scores: ConfigScores, column: Column) -> str:
    """One cell's text: the value with the column's digits, "free" for no cost, "–" for
    not measured."""
    value = getattr(scores, column.key)
    if value is None:
        return NONE
    if column.key == "cost_per_1000_usd" and value == 0:
        return "free"
    return f"{value:,.{column.digits}f}"


class ReportView(QWidget):
    """Run picker, recommendation, scores table, chart, differing answers, exports."""

    shown = Signal(object)  # Report, once it is on screen

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.set_name: str | None = None
        self.report: Report | None = None
        self.job: Job | None = None
        self._generation = 0  # only the latest request's report is shown
        self.runs = QComboBox()
        self.runs.setAccessibleName("Run")
        self.runs.activated.connect(lambda _: self.show_run(self.runs.currentData(_ID)))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip(
            "Compute the report again (an unfinished run may have grown)"
        )
        self.refresh_button.clicked.connect(lambda: self.show_run(self.runs.currentData(_ID)))
        self.export_html_button = QPushButton("Export HTML…")
        self.export_html_button.clicked.connect(self.choose_html)
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_csv_button.clicked.connect(self.choose_csv)
        self.message = message_label()
        self.message.setAccessibleName("Report message")
        self.heading = QLabel()
        self.heading.setAccessibleName("Report heading")
        self.recommendation = QLabel()
        # These name sets, personas and models: a name like "<b>" is shown, not applied.
        for label in (self.heading, self.recommendation):
            label.setTextFormat(Qt.TextFormat.PlainText)
        self.recommendation.setAccessibleName("Recommendation")
        self.recommendation.setWordWrap(True)
        self.recommendation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.recommendation.setStyleSheet("font-weight: bold")
        self.table = QTableWidget(0, len(LEADING) + len(COLUMNS))
        self.table.setAccessibleName("Scores")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setHorizontalHeaderLabels(LEADING + [c.heading for c in COLUMNS])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for index, column in enumerate(COLUMNS, start=len(LEADING)):
            heading = self.table.horizontalHeaderItem(index)
            if heading is not None:
                heading.setToolTip(DEFINITIONS[column.key])
        answered = self.table.horizontalHeaderItem(1)
        if answered is not None:
            answered.setToolTip(
                "answered: the questions this configuration answered (failed ones are in the "
                "cell's tooltip)"
            )
        over = self.table.horizontalHeaderItem(COVERAGE)
        if over is not None:
            over.setToolTip(
                "The questions hit@k and MRR are over, of the set's: those with a source "
                "passage, or a source file (scored by file)"
            )
        self.coverage = QLabel()
        self.coverage.setTextFormat(Qt.TextFormat.PlainText)
        self.coverage.setAccessibleName("What hit@k and MRR are over")
        self.coverage.setWordWrap(True)
        self.coverage.setStyleSheet("color: gray")
        self.style_note = QLabel()
        self.style_note.setAccessibleName("Style note")
        self.style_note.setWordWrap(True)
        self.style_note.setStyleSheet("color: gray")
        self.chart = ScoreChart()
        self.differing = QTextBrowser()
        self.differing.setAccessibleName("Answers that differ most")
        self.differing.setMinimumHeight(240)

        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.runs, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.export_html_button)
        top.addWidget(self.export_csv_button)
        below = QSplitter()
        below.addWidget(self.chart)
        below.addWidget(self.differing)
        below.setSizes([380, 520])
        content = QWidget()
        page = QVBoxLayout(content)
        page.addWidget(self.heading)
        page.addWidget(self.recommendation)
        page.addWidget(self.table)
        page.addWidget(self.coverage)
        page.addWidget(self.style_note)
        page.addWidget(below, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(scroll, 1)
        self.display(None)

    # -- runs -------------------------------------------------------------------------------

    def load_set(self, name: str | None, select: str | None = None) -> Job | None:
        """List the runs of set ``name``, newest first, and report on ``select`` (else the
        newest); the Job computing it, or None when there is nothing to report on."""
        self.set_name = name
        runs = self.services.evals.runs(name) if name else []
        self.runs.clear()
        for run in runs:
            state = "finished" if run.finished_at is not None else "unfinished"
            count = len(run.configs)
            self.runs.addItem(
                f"{when(run.started_at)} · {state} · {count} configuration"
                f"{'' if count == 1 else 's'} · run {run.id}",
                run.id,
            )
        index = self.runs.findData(select) if select else 0
        self.runs.setCurrentIndex(max(index, 0) if runs else -1)
        if not runs:
            self._generation += 1  # a report still computing is not shown
            self.display(None)
            say(
                self.message,
                "No runs yet: run the set in the Run tab." if name else "Choose an evaluation set.",
            )
            return None
        return self.show_run(self.runs.currentData(_ID))

    def renamed(self, old: str, new: str) -> None:
        """The set was renamed: its runs follow it."""
        if self.set_name == old:
            self.set_name = new

    def show_run(self, run_id: str | None) -> Job | None:
        """Compute run ``run_id``'s report in the background and show it."""
        if not run_id:
            return None
        self._generation += 1
        generation, services = self._generation, self.services
        job = Job(lambda _job: services.eval_report(run_id))
        job.succeeded.connect(lambda report: self._on_report(generation, report))
        job.failed.connect(lambda text: self._on_failed(generation, text))
        job.finished.connect(lambda: self._on_finished(job))
        self.job = job
        self.refresh_button.setEnabled(False)
        say(self.message, "Computing the report (the embedding model reads the answers)…")
        return job.start()

    def shutdown(self) -> None:
        """The window closes: a report still being computed is dropped when it arrives, so
        nothing touches this view's widgets after they are gone."""
        self._generation += 1
        self.job = None

    def _on_report(self, generation: int, report: Report) -> None:
        if generation == self._generation:
            say(self.message, "")
            self.display(report)

    def _on_failed(self, generation: int, text: str) -> None:
        if generation == self._generation:
            say(self.message, f"Could not make the report: {text}", error=True)

    def _on_finished(self, job: Job) -> None:
        if self.job is job:
            self.job = None
            self.refresh_button.setEnabled(self.runs.count() > 0)

    # -- showing ----------------------------------------------------------------------------

    def display(self, report: Report | None) -> None:
        """Show ``report`` (empty for None)."""
        self.report = report
        for button in (self.export_html_button, self.export_csv_button):
            button.setEnabled(report is not None)
        self.refresh_button.setEnabled(self.runs.count() > 0 and self.job is None)
        self.chart.set_report(report)
        if report is None:
            self.heading.clear()
            self.recommendation.clear()
            self.style_note.clear()
            self.coverage.clear()
            self.table.setRowCount(0)
            self.differing.clear()
            return
        self.heading.setText(
            f"Run {report.run.id} of {line_shown(report.set_name)}, "
            f"started {when(report.run.started_at)}: "
            f"{counted(report.questions, 'question')}"
            + ("" if report.complete else " (not finished: these figures may change)")
        )
        self.recommendation.setText(recommendation_shown(report))
        # Each configuration it names set apart, so a Hebrew persona keeps its count beside it.
        self.coverage.setText(report.coverage_note(label=line_shown))
        self.style_note.setText(line_shown(report.style_note or ""))
        self.style_note.setVisible(bool(report.style_note))
        self._fill_table(report)
        self.differing.setHtml(differing_html(report))
        self.shown.emit(report)

    def _fill_table(self, report: Report) -> None:
        self.table.setRowCount(len(report.configs))
        for row, scores in enumerate(report.configs):
            name = QTableWidgetItem(line_shown(scores.label))
            name.setToolTip(tooltip_shown(line_shown(scores.config)))
            name.setData(Qt.ItemDataRole.DecorationRole, colour(row))  # the chart's colour
            answered = _number(str(scores.answered))
            if scores.failed:
                answered.setToolTip(f"{scores.failed} failed: Run again to try them again")
            over = _number(scores.coverage(report.questions))
            over.setToolTip(
                f"{hit_name(report.k)} and MRR over {scores.coverage(report.questions)} "
                f"questions ({scores.retrieval_by_file} of them by source file only)"
            )
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, answered)
            self.table.setItem(row, COVERAGE, over)
            for index, column in enumerate(COLUMNS, start=len(LEADING)):
                cell = _number(figure(scores, column))
                tip = DEFINITIONS[column.key]
                if column.key in ("hit_at_k", "mrr"):
                    tip += f" Here over {scores.coverage(report.questions)} questions."
                cell.setToolTip(tip)
                self.table.setItem(row, index, cell)
        hit = self.table.horizontalHeaderItem(
            len(LEADING) + [c.key for c in COLUMNS].index("hit_at_k")
        )
        if hit is not None:  # the run's k, once known
            hit.setText(hit_name(report.k))
        # As tall as its rows and a horizontal scroll bar: the page scrolls, not the table.
        table = self.table
        height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
        height += sum(table.rowHeight(r) for r in range(table.rowCount()))
        table.setFixedHeight(height + table.horizontalScrollBar().sizeHint().height() + 2)

    def rows(self) -> list[list[str]]:
        """The table's text, row by row (the configuration first)."""
        return [
            [
                (cell.text() if (cell := self.table.item(row, column)) is not None else "")
                for column in range(self.table.columnCount())
            ]
            for row in range(self.table.rowCount())
        ]

    # -- export -----------------------------------------------------------------------------

    def choose_html(self) -> None:
        """Ask where to write the HTML page, then write it."""
        path = self._ask_path("html", "HTML (*.html)")
        if path:
            self.export_html(path)

    def choose_csv(self) -> None:
        """Ask where to write the CSV file, then write it."""
        path = self._ask_path("csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def suggested_file(self, suffix: str) -> str:
        """The file name the export dialog starts with: the set's name and the run's number,
        made a file name (``file_name_for``: a "/" in a set's name is not a folder)."""
        stem = f"{self.report.set_name} {self.report.run.id}" if self.report else "report"
        return file_name_for(stem, f".{suffix}")

    def _ask_path(self, suffix: str, kind: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the report", self.suggested_file(suffix), f"{kind};;All files (*)"
        )
        return Path(path) if path else None

    def export_html(self, path: Path) -> bool:
        """Write the shown report as one standalone HTML page."""
        return self._write(path, to_html(self.report) if self.report else None)

    def export_csv(self, path: Path) -> bool:
        """Write the shown report's scores as CSV, a row per configuration."""
        return self._write(path, self.report.to_csv() if self.report else None)

    def _write(self, path: Path, text: str | None) -> bool:
        if text is None:
            return False
        try:
            write_atomically(path, [text])
        except OSError as exc:
            shown = name_shown(str(path))
            say(self.message, f"Could not write {shown}: {exc.strerror or exc}.", error=True)
            return False
        say(self.message, f"Exported to {name_shown(str(path))}.")
        return True


def recommendation_shown(report: Report) -> str:
    """``report``'s recommendation with each configuration it names read as written and set
    apart (``line_shown``): right-to-left letters in a persona's name keep their own order
    without pulling the facts or price beside the name into it."""
    parsed = [CellConfig.parse(scores.config) for scores in report.configs]
    # The style note it may quote names a persona too: read as written, a sentence apart.
    note = line_shown(report.style_note) if report.style_note else report.style_note
    return recommend(replace(report, style_note=note), parsed, label=line_shown)


def _number(text: str) -> QTableWidgetItem:
    cell = QTableWidgetItem(text)
    cell.setTextAlignment(_NUMBER)
    return cell


def differing_html(report: Report) -> str:
    """The answers that differ most as rich text: the question, its reference, and each
    configuration's answer in its chart colour; every text read as written (``shown``)."""
    if not report.differing:
        return "<p><i>No question has two answers to compare yet.</i></p>"
    labels = [s.label for s in report.configs]
    e = html.escape
    parts = ["<h3>Where the answers differ most</h3>"]
    for d in report.differing:
        parts.append(
            f"<h4>{e(line_shown(d.question))}</h4><p><i>Reference:</i> {_lines(d.reference)}</p>"
        )
        for label, answer, facts in d.answers:
            tint = colour(labels.index(label)).name() if label in labels else "gray"
            shown_facts = NONE if facts is None else f"{facts:.2f}"
            text = _lines(answer.strip() or "(no text)")
            parts.append(
                f'<p><b style="color:{tint}">{e(line_shown(label))}</b> '
                f'<span style="color:gray">facts {shown_facts}</span><br>{text}</p>'
            )
    return "".join(parts)


def _lines(text: str) -> str:
    """A person's or a model's text in rich text, its lines kept (``lines_shown``)."""
    return html.escape(lines_shown(text)).replace("\n", "<br>")
