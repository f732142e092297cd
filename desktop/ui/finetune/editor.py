"""The fine-tuning studio's example editor and its validation panel.

The editor shows a dataset's training examples, then its validation examples, one a row;
the row headers are the line numbers in ``train.jsonl`` (``V1``… in ``validation.jsonl``),
the numbers every validation problem names. Edits stay in the table until Save writes both
files at once; leaving with unsaved edits asks first. Validation runs in the background on
what the table holds, so problems show before anything is saved or sent.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.errors import FolioError
from desktop.core.finetune.datasets import DatasetInfo
from desktop.core.finetune.examples import Example, LineProblem, image_count, text_of
from desktop.core.finetune.pricing import BASE_MODELS, DEFAULT_BASE, PRICES_AS_OF
from desktop.core.finetune.validate import ValidationReport, validate_examples
from desktop.services import Services
from desktop.ui.messages import error_text, message_label, plain_box, say
from desktop.ui.qt import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import controls_escaped, line_shown
from desktop.ui.workers import Job

_ROLE = Qt.ItemDataRole.UserRole
TRAIN, VALIDATION = "train", "validation"
COLUMNS = ("System", "Question", "Answer")
VALIDATE_DELAY_MS = 400  # validate once typing pauses, not on every cell


@dataclass
class Row:
    """One example in the table and the file it belongs to."""

    messages: list[dict[str, str]]
    part: str  # TRAIN or VALIDATION

    @property
    def single_turn(self) -> bool:
        """A question and its answer (after an optional system message), all plain text:
        editable in cells."""
        roles = [m.get("role") for m in self.messages]
        if roles[:1] == ["system"]:
            roles = roles[1:]
        plain = all(isinstance(m.get("content"), str) for m in self.messages)
        return roles == ["user", "assistant"] and plain

    def cell(self, column: int) -> str:
        role = ("system", "user", "assistant")[column]
        found = [shown(m.get("content")) for m in self.messages if m.get("role") == role]
        return found[0] if role == "system" and found else found[-1] if found else ""

    def set_cell(self, column: int, text: str) -> None:
        role = ("system", "user", "assistant")[column]
        if role == "system":
            rest = [m for m in self.messages if m.get("role") != "system"]
            self.messages = ([{"role": "system", "content": text}] if text else []) + rest
        else:
            message = [m for m in self.messages if m.get("role") == role][-1]
            message["content"] = text


def shown(content: object) -> str:
    """A message's content as the table shows it: text, images marked, anything else as JSON
    (validation says what is wrong with it)."""
    text = text_of(content)
    if text is None:
        return json.dumps(content, ensure_ascii=False)
    return text + " [image]" * image_count(content)


class ExamplesEditor(QWidget):
    """A dataset's examples in a table: edit single-turn cells, add, delete, split, save."""

    changed = Signal()  # the examples in the table changed (edited, added, deleted, loaded)
    saved = Signal(object)  # DatasetInfo

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.name: str | None = None
        self.rows: list[Row] = []
        self.dirty = False
        self.read_only_reason: Callable[[], str | None] = lambda: None  # e.g. being generated
        self._loaded_split = 0
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)  # the name in it is escaped
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setAccessibleName("Examples")
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Tab and Shift+Tab leave the table for the buttons, the split, Save and validation,
        # as they leave the chat's question box; the arrow keys move between cells.
        self.table.setTabKeyNavigation(False)
        # Two lines of each example; the whole of the chosen one is shown below the table.
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(2 * self.fontMetrics().lineSpacing() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.currentCellChanged.connect(lambda row, *_: self._show_messages(row))
        self.messages = QPlainTextEdit()
        self.messages.setReadOnly(True)
        self.messages.setAccessibleName("Messages")
        self.messages.setPlaceholderText("The chosen example's messages, in order")
        self.messages.setMaximumHeight(120)
        self.add_button = QPushButton("Add example")
        self.add_button.clicked.connect(self.add_row)
        self.delete_button = QPushButton("Delete selected")
        self.delete_button.clicked.connect(self.delete_selected)
        self.split = QSpinBox(minimum=0, maximum=50)
        self.split.setSuffix(" % held out for validation")
        self.split.setAccessibleName("Validation split")
        self.split.setToolTip(
            "Examples OpenAI does not train on but scores the model with after each step "
            "(the validation loss). Save shuffles and splits again when this changes."
        )
        self.split.valueChanged.connect(lambda _: self._mark_dirty(examples=False))
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.message = message_label()
        self.message.setAccessibleName("Editor message")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.split)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.messages)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.load(None)

    # -- loading and showing ----------------------------------------------------------------

    def load(self, name: str | None) -> bool:
        """Show dataset ``name`` as it is on disk (nothing for ``None``); unsaved edits go."""
        rows: list[Row] = []
        if name is not None:
            try:
                train, validation = self.services.datasets.load(name)
            except (FolioError, OSError) as exc:
                say(self.message, error_text(exc), error=True)
                name = None
            else:
                rows = [Row(_copy(e.messages), TRAIN) for e in train]
                rows += [Row(_copy(e.messages), VALIDATION) for e in validation]
                say(self.message, "")
        self.name, self.rows = name, rows
        self._fill()
        total = len(rows)
        held = sum(r.part == VALIDATION for r in rows)
        self._loaded_split = round(100 * held / total) if total else 0
        self.split.blockSignals(True)
        self.split.setValue(self._loaded_split)
        self.split.blockSignals(False)
        self._set_dirty(False)
        for widget in (self.add_button, self.delete_button, self.split, self.table):
            widget.setEnabled(name is not None)
        self.changed.emit()
        return name is not None

    def _fill(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            for column in range(len(COLUMNS)):
                item = QTableWidgetItem(row.cell(column))
                flags = item.flags()
                if not row.single_turn:
                    flags &= ~Qt.ItemFlag.ItemIsEditable
                    item.setToolTip(
                        f"A conversation of {len(row.messages)} messages, or content that is "
                        "not plain text (images, parts): shown below the table. Only single "
                        "questions and answers in plain text are edited here."
                    )
                item.setFlags(flags)
                self.table.setItem(index, column, item)
        self.table.setVerticalHeaderLabels(self._row_labels())
        self.table.blockSignals(False)
        self._show_title()
        self._follow_current()

    def _follow_current(self) -> None:
        """Highlight the current row and show its example below the table.

        Refilling the table (after a load, Save or Delete) holds its signals back, and the
        rows under the current index change: neither moves by itself.
        """
        row = self.table.currentRow()
        if 0 <= row < len(self.rows):
            self.table.selectRow(row)
        self._show_messages(row)

    def _row_labels(self) -> list[str]:
        counts = {TRAIN: 0, VALIDATION: 0}
        labels = []
        for row in self.rows:
            counts[row.part] += 1
            labels.append(f"{'V' if row.part == VALIDATION else ''}{counts[row.part]}")
        return labels

    def _show_title(self) -> None:
        if self.name is None:
            self.title.setText("<i>Choose or add a dataset to see its examples.</i>")
            return
        train = sum(r.part == TRAIN for r in self.rows)
        name = html.escape(line_shown(self.name))
        text = f"<b>{name}</b>: {train} for training, {len(self.rows) - train} for validation"
        self.title.setText(text + (" · <i>unsaved changes</i>" if self.dirty else ""))

    def _show_messages(self, index: int) -> None:
        if 0 <= index < len(self.rows):
            messages = self.rows[index].messages
            # Read only, so shown as written: an override in an example turns nothing.
            self.messages.setPlainText(
                controls_escaped(
                    "\n\n".join(f"{m.get('role')}: {shown(m.get('content'))}" for m in messages)
                )
            )
        else:
            self.messages.clear()

    # -- editing ----------------------------------------------------------------------------

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        row = self.rows[item.row()]
        if row.single_turn:
            row.set_cell(item.column(), item.text())
            self._show_messages(item.row())
            self._mark_dirty()

    def add_row(self) -> int:
        """A new, empty training example (after the last one); its question cell is edited."""
        index = sum(r.part == TRAIN for r in self.rows)
        messages = [{"role": "user", "content": ""}, {"role": "assistant", "content": ""}]
        self.rows.insert(index, Row(messages, TRAIN))
        self._fill()
        self.table.setCurrentCell(index, 1)
        item = self.table.item(index, 1)
        if item is not None:
            self.table.editItem(item)
        self._mark_dirty()
        return index

    def delete_selected(self) -> int:
        chosen = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        for index in reversed(chosen):
            del self.rows[index]
        if chosen:
            self._fill()
            self._mark_dirty()
        return len(chosen)

    def _mark_dirty(self, examples: bool = True) -> None:
        self._set_dirty(True)
        if examples:
            self.changed.emit()

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        self.save_button.setEnabled(dirty)
        self._show_title()

    def examples(self) -> tuple[list[Example], list[Example]]:
        """(train, validation) as the table holds them, each numbered by its line on save."""
        parts: dict[str, list[Example]] = {TRAIN: [], VALIDATION: []}
        for row in self.rows:
            examples = parts[row.part]
            examples.append(Example(_copy(row.messages), len(examples) + 1))
        return parts[TRAIN], parts[VALIDATION]

    def select_line(self, part: str, line: int) -> bool:
        """Select the example on ``line`` of the training or validation file."""
        count = 0
        for index, row in enumerate(self.rows):
            if row.part == part:
                count += 1
                if count == line:
                    self.table.selectRow(index)
                    item = self.table.item(index, 1)
                    if item is not None:
                        self.table.scrollToItem(item)
                    self._show_messages(index)
                    return True
        return False

    # -- saving -----------------------------------------------------------------------------

    def save(self) -> bool:
        """Write both files (then split again if the held-out share changed)."""
        if self.name is None:
            return False
        reason = self.read_only_reason()
        if reason:
            say(self.message, reason, error=True)
            return False
        train, validation = self.examples()
        datasets = self.services.datasets
        try:
            info: DatasetInfo = datasets.save(self.name, train, validation)
            if self.split.value() != self._loaded_split:
                info = datasets.split(self.name, self.split.value() / 100)
        except (FolioError, OSError) as exc:
            say(self.message, f"Not saved: {error_text(exc)}", error=True)
            return False
        self.load(self.name)
        say(
            self.message,
            f"Saved {info.train_examples} training and {info.validation_examples} validation "
            "examples.",
        )
        self.saved.emit(info)
        return True

    def maybe_save(self) -> bool:
        """Before leaving the dataset: True when there is nothing unsaved or it may go."""
        if not self.dirty or self.name is None:
            return True
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved changes",
            f"Save the changes to {line_shown(self.name)}?",
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
        """The dataset was renamed: keep editing it (unsaved edits included) under ``new``."""
        if self.name == old:
            self.name = new
            self._show_title()


def _copy(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    return [dict(m) for m in messages]


class ValidationPanel(QWidget):
    """Validation of what the editor holds, for a base model: counts, cost, problems."""

    validated = Signal(object)  # ValidationReport of the training examples
    problem_chosen = Signal(str, int)  # part (TRAIN or VALIDATION), line

    def __init__(
        self,
        services: Services,
        examples: Callable[[], tuple[list[Example], list[Example]] | None],
        parent: QWidget | None = None,
    ) -> None:
        """``examples``: (train, validation) to check, or None when no dataset is chosen."""
        super().__init__(parent)
        self.services = services
        self.examples = examples
        self.report: ValidationReport | None = None
        self.problems_found: list[tuple[str, LineProblem, bool]] = []  # part, problem, error?
        self.job: Job | None = None
        self._generation = 0  # only the latest run is shown
        self._shown = 0  # the run whose report is shown
        self.base = QComboBox()
        self.base.setAccessibleName("Base model")
        for model in BASE_MODELS:
            self.base.addItem(line_shown(model.name), model.name)
        self.base.setCurrentIndex(max(self.base.findData(DEFAULT_BASE), 0))
        self.base.currentIndexChanged.connect(lambda _: self.run())
        self.validate_button = QPushButton("Validate")
        self.validate_button.clicked.connect(self.run)
        self.verdict = message_label()  # a failure's text may hold a name such as "<b>x</b>"
        self.verdict.setAccessibleName("Validation verdict")
        self.summary = message_label()
        self.summary.setAccessibleName("Validation summary")
        self.problems = QListWidget()
        self.problems.setAccessibleName("Problems")
        self.problems.setWordWrap(True)
        self.problems.itemClicked.connect(self._on_problem_clicked)
        self.problems.itemActivated.connect(self._on_problem_clicked)
        self._timer = QTimer(self, singleShot=True, interval=VALIDATE_DELAY_MS)
        self._timer.timeout.connect(self.run)
        row = QHBoxLayout()
        row.addWidget(QLabel("Check for"))
        row.addWidget(self.base, 1)
        row.addWidget(self.validate_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Validation</b> (nothing leaves this computer)"))
        layout.addLayout(row)
        layout.addWidget(self.verdict)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems, 1)
        # Nothing to validate until a dataset is chosen (``schedule`` and ``clear`` follow).
        self.validate_button.setEnabled(examples() is not None)

    @property
    def busy(self) -> bool:
        """A validation is due or running: what is shown is not yet of the latest examples."""
        return self._timer.isActive() or self._shown != self._generation

    def schedule(self) -> None:
        """Validate shortly: edits come in bursts."""
        self.validate_button.setEnabled(True)
        self._timer.start()

    def clear(self) -> None:
        """Nothing to validate (no dataset is chosen)."""
        self._timer.stop()
        self._generation += 1  # a run still going is not shown
        self._shown = self._generation
        self.report, self.problems_found = None, []
        self.problems.clear()
        say(self.verdict, "")
        self.summary.clear()
        self.validate_button.setEnabled(False)

    def run(self) -> Job | None:
        """Validate the editor's examples in the background (tiktoken may load its files)."""
        found = self.examples()
        if found is None:
            self.clear()
            return None
        self._timer.stop()
        self.validate_button.setEnabled(True)
        self._generation += 1
        generation, base = self._generation, str(self.base.currentData())
        train, validation = found

        def work(_job: Job) -> tuple[int, ValidationReport, ValidationReport | None]:
            report = validate_examples(train, base)
            held = validate_examples(validation, base) if validation else None
            return generation, report, held

        job = Job(work)
        job.succeeded.connect(self._on_validated)
        job.failed.connect(lambda text: self._on_failed(generation, text))
        self.job = job
        say(self.verdict, "Checking…")  # not in red, after a failure
        return job.start()

    def _on_failed(self, generation: int, text: str) -> None:
        if generation == self._generation:
            self._shown = generation
            say(self.verdict, f"Could not validate: {text}", error=True)

    def _on_validated(self, result: tuple[int, ValidationReport, ValidationReport | None]) -> None:
        generation, report, held = result
        if generation != self._generation:
            return
        self._shown = generation
        self.report = report
        found = [(TRAIN, p, True) for p in report.errors]
        found += [(TRAIN, p, False) for p in report.warnings]
        if held is not None:
            # The minimum count is the training file's: a small validation file is fine.
            found += [(VALIDATION, p, True) for p in held.errors if p.line > 0]
            found += [(VALIDATION, p, False) for p in held.warnings if p.line > 0]
        self.problems_found = found
        self.problems.clear()
        for part, problem, error in found:
            where = "validation " if part == VALIDATION else ""
            line = f"{where}line {problem.line}" if problem.line else "the dataset"
            # A reason quotes the file (a role, a key): shown on one line, as written.
            reason = line_shown(problem.reason)
            item = QListWidgetItem(f"{'Error' if error else 'Warning'}: {line}: {reason}")
            item.setData(_ROLE, (part, problem.line))
            self.problems.addItem(item)
        errors = sum(error for _, _, error in found)
        if report.examples == 0 and not found:
            say(self.verdict, "No examples yet.")
        elif errors:
            s = "" if errors == 1 else "s"
            say(self.verdict, f"✗ {errors} error{s}: fix them before training.", error=True)
        else:
            warned = f" ({len(found)} warning{'' if len(found) == 1 else 's'})" if found else ""
            say(self.verdict, f"✓ Ready to train{warned}.")
        self.summary.setText(summary_text(report))
        self.validated.emit(report)

    def _on_problem_clicked(self, item: QListWidgetItem) -> None:
        part, line = item.data(_ROLE)
        if line:
            self.problem_chosen.emit(part, line)


def summary_text(report: ValidationReport) -> str:
    """Examples, tokens, epochs and the estimated cost, with the date of the prices."""
    if report.estimated_cost_usd is None:
        cost = f"no price known for {report.base_model}"
    else:
        cost = f"about ${report.estimated_cost_usd:,.2f} (estimate; prices as of {PRICES_AS_OF})"
    return (
        f"{report.examples} examples · {report.tokens:,} tokens per epoch · "
        f"{report.epochs} epochs · {cost}"
    )
