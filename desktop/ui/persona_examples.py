"""The persona editor's example exchanges: a two-column table (question, answer) a person
fills in, in the persona's voice."""

from __future__ import annotations

from desktop.core.chat.personas import MAX_EXAMPLES
from desktop.ui.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

HINT = (
    "Sent before every question as earlier turns of the chat. Small models copy a voice they "
    f"have just read more than they follow a prompt; each example costs tokens. Up to "
    f"{MAX_EXAMPLES}."
)


class ExampleTable(QWidget):
    """Up to ``MAX_EXAMPLES`` (question, answer) rows, with Add and Remove buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Question", "Answer"])
        self.table.setAccessibleName("Example exchanges")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # Tab leaves the table as it leaves every other field; arrows move between cells.
        self.table.setTabKeyNavigation(False)
        self.add = QPushButton("Add example")
        self.remove = QPushButton("Remove example")
        self.add.clicked.connect(self.add_row)
        self.remove.clicked.connect(self.remove_row)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        hint = QLabel(HINT)
        hint.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(hint)
        self._update_buttons()

    def examples(self) -> tuple[tuple[str, str], ...]:
        """The rows as (question, answer), in order; a row left wholly empty is skipped (a
        row with one side empty is kept, so saving names it)."""
        rows = []
        for row in range(self.table.rowCount()):
            question, answer = (self._text(row, column) for column in (0, 1))
            if question.strip() or answer.strip():
                rows.append((question, answer))
        return tuple(rows)

    def set_examples(self, examples: tuple[tuple[str, str], ...]) -> None:
        """Show ``examples``, replacing the rows."""
        self.table.setRowCount(0)
        for question, answer in examples:
            self._append(question, answer)
        self._update_buttons()

    def add_row(self) -> None:
        """A new empty row, its question cell open for typing."""
        if self.table.rowCount() >= MAX_EXAMPLES:
            return
        row = self._append("", "")
        self.table.setCurrentCell(row, 0)
        self.table.setFocus()
        item = self.table.item(row, 0)
        if item is not None:  # always: _append set it
            self.table.editItem(item)
        self._update_buttons()

    def remove_row(self) -> None:
        """Remove the selected row."""
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
        self._update_buttons()

    def _append(self, question: str, answer: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(question))
        self.table.setItem(row, 1, QTableWidgetItem(answer))
        return row

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def _update_buttons(self) -> None:
        self.add.setEnabled(self.table.rowCount() < MAX_EXAMPLES)
        self.remove.setEnabled(bool(self.table.selectedItems()))
