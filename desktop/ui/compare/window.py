"""The Compare window: one question put to a grid of configurations at once.

By default the grid is {base, persona-prompted, fine-tuned} × {retrieval on, off}: the
default model, the founding persona on it, and the newest model fine-tuned here (that row is
left out, and the window says so, until one exists). Cells can be changed, added and
removed, and the grid saved as a named set. Run answers every cell (``Comparer``: one search
for all, local cells one after another, remote ones at once), Stop stops them all. Earlier
comparisons are listed on the left to reopen; Export writes the shown one as Markdown or
HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktop.core.errors import FolioError
from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.compare import CellResult, Comparison
from desktop.core.evaluate.export import to_html, to_markdown
from desktop.core.models.ids import is_fine_tuned
from desktop.services import Services
from desktop.ui.compare.cell import CompareCell
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.model_combo import services_names
from desktop.ui.qt import (
    QCloseEvent,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown, tooltip_shown
from desktop.ui.workers import Job

COLUMNS = 2  # retrieval on | off, side by side in the default grid
_ID = Qt.ItemDataRole.UserRole


class CompareWindow(QWidget):
    """Question, grid, Run/Stop, saved sets and saved comparisons."""

    finished = Signal(object)  # Comparison, once a run ends

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        models: Callable[[], list[str]] | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Compare — Folio")
        self.resize(1100, 760)
        self.services = services
        self._models = models or (lambda: [services.settings.default_model])
        self.job: Job | None = None
        self.cells: list[CompareCell] = []
        self.shown: Comparison | None = None
        self.question = QLineEdit()
        self.question.setPlaceholderText("One question, answered by every cell")
        self.question.setAccessibleName("Question")
        self.question.returnPressed.connect(self.run)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.add_button = QPushButton("Add cell")
        self.add_button.clicked.connect(lambda: self.add_cell(self._new_config()))
        self.sets = QComboBox()
        self.sets.setAccessibleName("Comparison sets")
        self.sets.activated.connect(lambda _: self.use_set(self.sets.currentData()))
        self.save_set_button = QPushButton("Save set…")
        self.save_set_button.clicked.connect(self.ask_set_name)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.choose_export)
        self.export_button.setEnabled(False)
        self.message = message_label()
        self.message.setAccessibleName("Compare message")
        self.history = QListWidget()
        self.history.setAccessibleName("Saved comparisons")
        self.history.itemActivated.connect(lambda item: self.open_saved(item.data(_ID)))
        self.grid = QGridLayout()
        holder = QWidget()
        holder.setLayout(self.grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        controls = QHBoxLayout()
        for button in (self.run_button, self.stop_button, self.add_button):
            controls.addWidget(button)
        controls.addStretch(1)
        controls.addWidget(self.sets)
        controls.addWidget(self.save_set_button)
        controls.addWidget(self.export_button)
        right = QWidget()
        column = QVBoxLayout(right)
        column.addWidget(self.question)
        column.addLayout(controls)
        column.addWidget(self.message)
        column.addWidget(scroll, 1)
        splitter = QSplitter()
        splitter.addWidget(self.history)
        splitter.addWidget(right)
        splitter.setSizes([220, 880])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        for config in self.default_configs():
            self.add_cell(config)
        self.reload()

    # The grid -------------------------------------------------------------------------

    def default_configs(self) -> list[CellConfig]:
        """The six-cell grid for this library (four until a model is fine-tuned here)."""
        grid = self.services.default_grid()
        if not any(is_fine_tuned(c.model) for c in grid):
            say(
                self.message,
                "No model is fine-tuned yet, so the fine-tuned row is left out: train one in "
                "Chat → Fine-tuning…, then add it here.",
            )
        return grid

    def _new_config(self) -> CellConfig:
        return self.cells[-1].config() if self.cells else CellConfig(self._models()[0])

    def add_cell(self, config: CellConfig) -> CompareCell:
        """A new cell at the end of the grid."""
        personas = [p.name for p in self.services.chats.personas.all()]
        cell = CompareCell(config, self._models(), personas, services_names(self.services))
        cell.removed.connect(lambda: self.remove_cell(cell))
        cell.rated.connect(lambda rating: self._rate(cell, rating))
        self.cells.append(cell)
        self._layout_cells()
        return cell

    def remove_cell(self, cell: CompareCell) -> None:
        """Drop ``cell`` from the grid (at least one stays)."""
        if len(self.cells) > 1 and self.job is None:
            self.cells.remove(cell)
            self.grid.removeWidget(cell)
            cell.deleteLater()
            self._layout_cells()

    def _layout_cells(self) -> None:
        for i, cell in enumerate(self.cells):
            self.grid.addWidget(cell, i // COLUMNS, i % COLUMNS)

    def configs(self) -> list[CellConfig]:
        """The grid's configurations, in order."""
        return [cell.config() for cell in self.cells]

    def set_configs(self, configs: list[CellConfig]) -> None:
        """Replace the grid with ``configs``."""
        for cell in self.cells:
            self.grid.removeWidget(cell)
            cell.deleteLater()
        self.cells = []
        for config in configs:
            self.add_cell(config)

    # Saved sets and comparisons --------------------------------------------------------

    def reload(self) -> None:
        """Saved sets and comparisons as they are now."""
        saved = self.services.comparer.saved
        self.sets.clear()
        for name in saved.sets():
            self.sets.addItem(line_shown(name), name)  # shown set apart, used by its name
        self.sets.setCurrentIndex(-1)
        self.sets.setPlaceholderText("Saved sets")
        self.history.clear()
        for record in saved.all():
            item = QListWidgetItem(line_shown(record.question))
            item.setData(_ID, record.id)
            # Its configurations' specs, persona names among them, read as written.
            specs = ", ".join(line_shown(cell.config) for cell in record.cells)
            item.setToolTip(tooltip_shown(specs))
            self.history.addItem(item)

    def use_set(self, name: str) -> None:
        """Put the saved set ``name`` in the grid."""
        try:
            specs = self.services.comparer.saved.sets().get(name) or []
            configs = [CellConfig.parse(spec) for spec in specs]
        except FolioError as exc:
            say(self.message, f"The set {name!r} cannot be used: {error_text(exc)}", error=True)
            return
        if configs:
            self.set_configs(configs)

    def ask_set_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Save set", "Name of this grid:")
        if ok and name.strip():
            self.save_set(name.strip())

    def save_set(self, name: str) -> None:
        """Keep the grid's configurations as the set ``name``."""
        try:
            replaced = self.services.comparer.saved.save_set(
                name, [c.spec() for c in self.configs()]
            )
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return
        self.reload()
        was = f" (it replaces {replaced!r})" if replaced is not None else ""
        say(self.message, f"Saved the grid as {name!r}{was}.")

    def open_saved(self, comparison_id: str) -> Comparison | None:
        """Show a saved comparison: its question, cells and answers."""
        try:
            comparison = self.services.comparer.load(comparison_id)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return None
        self.question.setText(comparison.question)
        self.set_configs([cell.config for cell in comparison.cells])
        ratings = {}
        for result in comparison.cells:
            if result.chat_id:
                for m in self.services.chats.messages(result.chat_id):
                    ratings[m.id] = m.rating
        for cell, result in zip(self.cells, comparison.cells, strict=True):
            message = result.answer.message_id if result.answer else None
            cell.show_result(result, comparison.question, ratings.get(message or -1))
        self.shown = comparison
        self.export_button.setEnabled(True)
        return comparison

    # Running --------------------------------------------------------------------------

    def run(self) -> Job | None:
        """Answer the question with every cell, in the background."""
        question = self.question.text().strip()
        if not question or self.job is not None:
            return None
        configs = self.configs()
        for cell in self.cells:
            cell.clear()
            cell.set_editable(False)
        comparer = self.services.comparer

        def work(job: Job) -> Comparison:
            return comparer.run(
                question,
                configs,
                on_token=lambda position, text: job.report(("token", position, text)),
                on_cell=lambda position, result: job.report(("cell", position, result)),
                cancel=job.cancel,
            )

        job = Job(work)
        job.progress.connect(lambda event: self._on_event(event, question))
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._on_finished)
        self.job = job
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        say(self.message, f"Asking {len(configs)} configurations…")
        return job.start()

    def _on_event(self, event: tuple[str, int, object], question: str) -> None:
        kind, position, payload = event
        if kind == "token":
            self.cells[position].stream(str(payload))
        elif isinstance(payload, CellResult):
            self.cells[position].show_result(payload, question)

    def _on_done(self, comparison: Comparison) -> None:
        self.shown = comparison
        self.export_button.setEnabled(True)
        failed = sum(1 for c in comparison.cells if c.error)
        say(
            self.message,
            f"Done: {len(comparison.cells)} answers"
            + (f", {failed} failed." if failed else ".")
            + (
                f" One search for all, {comparison.search_ms:,.0f} ms."
                if comparison.search_ms
                else ""
            ),
            error=bool(failed),
        )
        self.finished.emit(comparison)

    def _on_failed(self, text: str) -> None:
        # Nothing is shown as a saved comparison: the cells keep their errors on screen,
        # and when none answered (``NothingAnswered``) the message says nothing was saved.
        self.shown = None
        self.export_button.setEnabled(False)
        say(self.message, text, error=True)

    def stop(self) -> None:
        """Stop every cell; what arrived is kept."""
        if self.job is not None:
            self.job.cancel.cancel()
            say(self.message, "Stopping…")

    def _on_finished(self) -> None:
        self.job = None
        for cell in self.cells:
            cell.set_editable(True)
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.reload()

    def _rate(self, cell: CompareCell, rating: int | None) -> None:
        if cell.answer.message_id is None:
            return
        try:
            self.services.chats.rate(cell.answer.message_id, rating)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)

    # Export ---------------------------------------------------------------------------

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export comparison", "comparison.html", "HTML (*.html);;Markdown (*.md)"
        )
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> bool:
        """Write the shown comparison to ``path`` (.md: Markdown, else HTML)."""
        if self.shown is None:
            return False
        text = to_markdown(self.shown) if path.suffix.lower() == ".md" else to_html(self.shown)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            say(self.message, f"Could not write {path}: {exc.strerror or exc}.", error=True)
            return False
        say(self.message, f"Exported to {path}.")
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing stops a running comparison (what arrived is kept)."""
        self.stop()
        super().closeEvent(event)
