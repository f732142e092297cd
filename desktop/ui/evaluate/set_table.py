"""Evaluate's Questions tab: an evaluation set's items in an editable table.

One row per item: the question and the reference answer, edited in their cells; the source
file and passage it was written from, shown but not edited (hit@k and MRR look for that
passage: an edited copy would never be found). The passage is shortened in its cell and
whole in its tooltip. Row headers are the row numbers that Save's messages name. Edits stay
in the table until Save writes them all at once; leaving with unsaved edits asks first.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from desktop.core.errors import FolioError
from desktop.core.evaluate.sets import EvalItem
from desktop.core.plurals import counted
from desktop.services import Services
from desktop.ui.messages import error_text, message_label, plain_box, say
from desktop.ui.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown, lines_shown

COLUMNS = ("Question", "Reference answer", "Source file", "Source passage")
QUESTION, REFERENCE, SOURCE_FILE, PASSAGE = range(len(COLUMNS))
PASSAGE_SHOWN = 90  # characters of the passage in its cell; the tooltip has all of it


def shortened(text: str, limit: int = PASSAGE_SHOWN) -> str:
    """``text`` on one line, cut at a word to at most ``limit`` characters with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0].rstrip(" ,.;:") + " …"


def passage_tooltip(text: str) -> str:
    """The whole passage as a tooltip: rich text, so Qt wraps its long lines."""
    return "<p>" + html.escape(lines_shown(text)).replace("\n", "<br>") + "</p>"


class SetEditor(QWidget):
    """An evaluation set's questions: edit, add and remove rows, save them all at once."""

    saved = Signal(object)  # EvalSet, as stored after Save

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.name: str | None = None
        self.items: list[EvalItem] = []
        self.dirty = False
        # Why the set cannot be edited now (a build is writing into it), or None.
        self.read_only_reason: Callable[[], str | None] = lambda: None
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setAccessibleName("Questions")
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Two lines of each item: enough to tell questions apart, a screenful of them.
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(2 * self.fontMetrics().lineSpacing() + 8)
        header = self.table.horizontalHeader()
        for column in (QUESTION, REFERENCE, PASSAGE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(SOURCE_FILE, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(self._on_item_changed)
        self.add_button = QPushButton("Add question")
        self.add_button.clicked.connect(self.add_row)
        self.remove_button = QPushButton("Remove selected")
        self.remove_button.clicked.connect(self.remove_selected)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.message = message_label()
        self.message.setAccessibleName("Questions message")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.load(None)

    # -- loading and showing ----------------------------------------------------------------

    def load(self, name: str | None) -> bool:
        """Show set ``name`` as stored (nothing for None); unsaved edits go."""
        items: list[EvalItem] = []
        if name is not None:
            try:
                items = self.services.evals.get(name).items
            except FolioError as exc:
                say(self.message, error_text(exc), error=True)
                name = None
            else:
                say(self.message, "")
        self.name, self.items = name, list(items)
        self._fill()
        self._set_dirty(False)
        self._enable()
        return name is not None

    def _fill(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.items))
        for row, item in enumerate(self.items):
            self._fill_row(row, item)
        self.table.blockSignals(False)

    def _fill_row(self, row: int, item: EvalItem) -> None:
        question = QTableWidgetItem(item.question)
        reference = QTableWidgetItem(item.reference)
        reference.setToolTip(item.reference)
        page = f", page {item.source_page}" if item.source_page is not None else ""
        source = _fixed(Path(item.source_path).name + page if item.source_path else "")
        source.setToolTip(
            item.source_path + page
            if item.source_path
            else "No source file: counts for facts, not hit@k"
        )
        passage = _fixed(shortened(item.source_text or ""))
        if item.source_text:
            passage.setToolTip(passage_tooltip(item.source_text))
        elif item.source_path:
            passage.setToolTip(
                "No source passage: hit@k and MRR score this question by its source file "
                "(a hit when a passage from that file"
                + (" and page" if page else "")
                + " is given)"
            )
        else:
            passage.setToolTip(
                "No source passage or file: this question counts for facts, not for hit@k or MRR"
            )
        for column, cell in enumerate((question, reference, source, passage)):
            self.table.setItem(row, column, cell)

    def _enable(self) -> None:
        editable = self.name is not None and not self.read_only_reason()
        for widget in (self.add_button, self.remove_button):
            widget.setEnabled(editable)
        triggers = (
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            if editable
            else QAbstractItemView.EditTrigger.NoEditTriggers
        )
        self.table.setEditTriggers(triggers)
        self.save_button.setEnabled(editable and self.dirty)
        self._show_title()

    def _show_title(self) -> None:
        if self.name is None:
            self.title.setText("<i>Choose or make an evaluation set to see its questions.</i>")
            return
        count = len(self.items)
        name = html.escape(line_shown(self.name))  # read as written, a "<b>" in it shown
        text = f"<b>{name}</b>: {count} question{'' if count == 1 else 's'}"
        reason = self.read_only_reason()
        if reason:
            text += f" · <i>{html.escape(reason)}</i>"
        self.title.setText(text + (" · <i>unsaved changes</i>" if self.dirty else ""))

    def refresh(self) -> None:
        """Show the set as stored now (a build added to it), unless it has unsaved edits."""
        if self.dirty:
            self._enable()
        else:
            self.load(self.name)

    # -- editing ----------------------------------------------------------------------------

    def _on_item_changed(self, cell: QTableWidgetItem) -> None:
        row, column = cell.row(), cell.column()
        item = self.items[row]
        if column == QUESTION and cell.text() != item.question:
            self.items[row] = replace(item, question=cell.text())
        elif column == REFERENCE and cell.text() != item.reference:
            self.items[row] = replace(item, reference=cell.text())
            cell.setToolTip(cell.text())
        else:
            return
        self._set_dirty(True)

    def add_row(self) -> int:
        """A new, empty question at the end; its question cell is edited."""
        self.items.append(EvalItem("", ""))
        row = len(self.items) - 1
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.items))
        self._fill_row(row, self.items[row])
        self.table.blockSignals(False)
        self.table.setCurrentCell(row, QUESTION)
        cell = self.table.item(row, QUESTION)
        if cell is not None:
            self.table.editItem(cell)
        self._set_dirty(True)
        return row

    def remove_selected(self) -> int:
        """Remove the selected rows (saved with Save); how many."""
        chosen = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        for row in reversed(chosen):
            del self.items[row]
        if chosen:
            self._fill()
            self._set_dirty(True)
        return len(chosen)

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        self._enable()

    # -- saving -----------------------------------------------------------------------------

    def save(self) -> bool:
        """Store every row at once; a row without a question or reference, or one asking
        the question of an earlier row (named too), is named and nothing is saved."""
        if self.name is None:
            return False
        reason = self.read_only_reason()
        if reason:
            say(self.message, reason, error=True)
            return False
        items = [
            replace(i, question=i.question.strip(), reference=i.reference.strip())
            for i in self.items
        ]
        try:
            stored = self.services.evals.save_items(self.name, items)
        except FolioError as exc:
            say(self.message, f"Not saved: {error_text(exc)}", error=True)
            return False
        self.load(stored.name)
        say(self.message, f"Saved {counted(len(stored.items), 'question')}.")
        self.saved.emit(stored)
        return True

    def maybe_save(self) -> bool:
        """Before leaving the set: True when there is nothing unsaved or it may go."""
        if not self.dirty or self.name is None:
            return True
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved changes",
            f"Save the changes to the questions of {line_shown(self.name)}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        choice = plain_box(box).exec()
        if choice == QMessageBox.StandardButton.Save:
            return self.save()
        if choice == QMessageBox.StandardButton.Discard:
            self.load(self.name)
            return True
        return False

    def renamed(self, old: str, new: str) -> None:
        """The set was renamed: keep editing it (unsaved edits included) under ``new``."""
        if self.name == old:
            self.name = new
            self._show_title()


def _fixed(text: str) -> QTableWidgetItem:
    """A cell that is shown but not edited."""
    cell = QTableWidgetItem(text)
    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return cell
