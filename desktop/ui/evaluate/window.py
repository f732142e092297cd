"""The Evaluate window: evaluation sets on the left; their questions, runs and reports in tabs.

A set is written from a library folder by a model, imported from JSONL or taken from liked
answers (``sets_panel``); its questions are edited in a table (``set_table``); a run answers
them with every configuration of a grid, resumably (``run_panel``); a run's report scores
each configuration and recommends one (``report_view``). Everything goes through the core's
``desktop.core.evaluate`` as ``folio-cli eval`` does, so a set made here runs there and back.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.core.evaluate.sets import RunRecord
from desktop.services import Services
from desktop.ui.evaluate.history_view import HistoryView
from desktop.ui.evaluate.report_view import ReportView
from desktop.ui.evaluate.run_panel import RunPanel
from desktop.ui.evaluate.set_table import SetEditor
from desktop.ui.evaluate.sets_panel import SetsPanel
from desktop.ui.qt import QCloseEvent, QSplitter, Qt, QTabWidget, QVBoxLayout, QWidget

QUESTIONS_TAB, RUN_TAB, REPORT_TAB = range(3)


class EvaluateWindow(QWidget):
    """Evaluation sets, their questions, runs and reports."""

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        models: Callable[[], list[str]] | None = None,
    ) -> None:
        """``models``: the model ids to offer (the picker's); the default model without it."""
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Evaluate — Folio")
        self.resize(1200, 780)
        self.services = services
        self._models = models or (lambda: [services.settings.default_model])
        self.sets = SetsPanel(services, self._models)
        self.editor = SetEditor(services)
        self.run_panel = RunPanel(services, self._models)
        self.report = ReportView(services)
        self.history = HistoryView(services)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.editor, "Questions")
        self.tabs.addTab(self.run_panel, "Run")
        self.tabs.addTab(self.report, "Report")
        self.tabs.addTab(self.history, "Over time")
        splitter = QSplitter()
        splitter.addWidget(self.sets)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([300, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.sets.can_leave = self.editor.maybe_save
        self.sets.in_use = lambda: self.run_panel.running_set
        self.sets.selected.connect(self._on_set_chosen)
        self.sets.renamed.connect(self._on_renamed)
        self.sets.grew.connect(self._on_grew)
        self.editor.read_only_reason = self._read_only_reason
        self.editor.saved.connect(lambda _: self.sets.reload())
        self.run_panel.before_run = self.editor.maybe_save
        self.run_panel.busy_reason = self._run_blocked
        self.run_panel.started.connect(lambda _: self.sets.reload())  # its set is now in use
        self.run_panel.ended.connect(self._on_run_ended)
        self.reload()

    def reload(self) -> None:
        """The sets, models, personas, datasets and saved comparison sets as they are now."""
        self.sets.reload()
        self.run_panel.reload_options()

    def show_set(self, name: str, tab: int | None = None) -> bool:
        """Choose the set ``name`` (and the tab ``tab``); False when it is not there."""
        if not self.sets.select(name):
            return False
        if tab is not None:
            self.tabs.setCurrentIndex(tab)
        return True

    def _on_set_chosen(self, name: str | None) -> None:
        self.editor.load(name)
        self.run_panel.set_set(name)
        self.report.load_set(name)
        self.history.load_set(name)

    def _on_renamed(self, old: str, new: str) -> None:
        self.editor.renamed(old, new)
        self.run_panel.renamed(old, new)
        self.report.renamed(old, new)
        self.history.renamed(old, new)

    def _on_grew(self, name: str) -> None:
        if self.editor.name == name:
            self.editor.refresh()

    def _read_only_reason(self) -> str | None:
        if self.editor.name is not None and self.editor.name == self.sets.building:
            return "being written: edit it once the build has ended"
        return None

    def _run_blocked(self, name: str) -> str | None:
        if name == self.sets.building:
            return f"{name} is still being written: run it once the build has ended (or Stop it)."
        return None

    def _on_run_ended(self, run: RunRecord | None) -> None:
        self.sets.reload()  # the set is free to rename or remove again
        if run is not None and self.report.set_name == run.set_name:
            self.report.load_set(run.set_name, select=run.id)
        if run is not None and self.history.set_name == run.set_name:
            self.history.load_set(run.set_name)

    def shutdown(self) -> None:
        """Stop the build and the run at their next safe point; what they made is kept."""
        self.sets.stop_build()
        self.run_panel.stop()
        self.report.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Unsaved question edits are asked about first (staying cancels the close); then
        the build and the run stop, keeping what they made."""
        if not self.editor.maybe_save():
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)
