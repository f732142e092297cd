"""The dialog that sets up writing an evaluation set from a library folder.

Only what can be built is offered: the folder is one of the library's folders or a folder
inside one, with indexed files under it (the questions are written from its indexed
chunks); the name is new, or that of a set written from the same folder, which the build
then continues. OK stays off, with the reason shown, until both hold.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from desktop.core.errors import FolioError
from desktop.core.evaluate.sets import SetSource
from desktop.core.library.filenames import one_line
from desktop.core.names import name_problem
from desktop.services import Services
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.model_combo import ModelCombo, services_names
from desktop.ui.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)
from desktop.ui.shown import name_shown

DEFAULT_QUESTIONS = 30
MAX_QUESTIONS = 1000


@dataclass(frozen=True)
class BuildChoice:
    """What to build: from ``folder``, into the set ``name``, ``questions`` of them, written
    by ``model``."""

    folder: Path
    name: str
    questions: int
    model: str


def inside_library(path: str, folders: list[str]) -> bool:
    """Whether ``path`` is one of the library's ``folders`` or inside one."""
    path = os.path.abspath(path)
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


class BuildDialog(QDialog):
    """Folder, set name, number of questions and the model that writes them."""

    def __init__(self, services: Services, models: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("New evaluation set from a folder")
        self.services = services
        self.library_folders = services.library.folders()
        self.folder = QComboBox()
        self.folder.setAccessibleName("Library folder")
        for folder in self.library_folders:
            # Shown as folio-cli writes it (``name_shown``); the entry's data is the folder.
            self.folder.addItem(name_shown(folder), folder)
        self.folder.setToolTip("A folder of the library, or a folder inside one")
        self.inside_button = QPushButton("Folder inside…")
        self.inside_button.setToolTip("Write the questions from one folder inside the library's")
        self.inside_button.clicked.connect(self.choose_inside)
        self.indexed = QLabel()
        self.indexed.setAccessibleName("Indexed files")
        self.name = QLineEdit()
        self.name.setAccessibleName("Evaluation set name")
        self.questions = QSpinBox(minimum=1, maximum=MAX_QUESTIONS, value=DEFAULT_QUESTIONS)
        self.questions.setAccessibleName("Number of questions")
        self.questions.setToolTip("One question and its reference answer per passage")
        self.model = ModelCombo(models, services_names(services))
        self.model.select(services.settings.default_model)
        self.problem = message_label()
        self.problem.setAccessibleName("Build problem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.inside_button)
        form = QFormLayout(self)
        note = QLabel(
            "The model reads passages spread over the folder's indexed documents and writes a "
            "question about each, with its reference answer. The passage is kept with the "
            "question, so a run can tell whether search found it."
        )
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow("Folder", folder_row)
        form.addRow("", self.indexed)
        form.addRow("Name", self.name)
        form.addRow("Questions", self.questions)
        form.addRow("Written by", self.model)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self._suggested = ""
        self._indexed_count = 0  # of the chosen folder; counted once per choice, not per key
        self.folder.currentIndexChanged.connect(lambda _: self._on_folder())
        self.name.textChanged.connect(lambda _: self.check())
        self.model.currentTextChanged.connect(lambda _: self.check())
        self._on_folder()

    def choice(self) -> BuildChoice:
        """The build as chosen."""
        return BuildChoice(
            Path(self.folder_chosen()),
            self.name.text().strip(),
            self.questions.value(),
            self.model.model_id(),
        )

    def folder_chosen(self) -> str:
        """The chosen folder's path, as the library stores it ("" when there is none)."""
        return str(self.folder.currentData() or "")

    def choose_inside(self) -> None:
        """Pick a folder inside the library's with the file dialog."""
        start = self.folder_chosen()
        path = QFileDialog.getExistingDirectory(self, "Choose a folder inside the library", start)
        if path:
            self.use_folder(path)

    def use_folder(self, path: str) -> bool:
        """Build from ``path`` if it is in the library; else say so and keep the folder."""
        path = os.path.abspath(path)
        if not inside_library(path, self.library_folders):
            say(
                self.problem,
                f"{name_shown(path)} is not in the library: choose one of its folders or a "
                "folder inside one (File → Add Folder… adds a folder to the library).",
                error=True,
            )
            return False
        if self.folder.findData(path) < 0:
            self.folder.addItem(name_shown(path), path)
        self.folder.setCurrentIndex(self.folder.findData(path))
        return True

    def _on_folder(self) -> None:
        folder = self.folder_chosen()
        count = len(self.services.library.indexed_under(folder)) if folder else 0
        self._indexed_count = count
        self.indexed.setText(f"{count} indexed file{'' if count == 1 else 's'}" if folder else "")
        # The name follows the folder until the person types one of their own; as the
        # folder reads in the list, since a set's name may hold no control characters.
        if self.name.text().strip() in ("", self._suggested):
            self._suggested = one_line(Path(folder).name) if folder else ""
            self.name.setText(self._suggested)
        self.check()

    def problem_text(self) -> str | None:
        """Why the build cannot start as chosen, or None."""
        folder, name = self.folder_chosen(), self.name.text().strip()
        if not self.library_folders:
            return "The library is empty: add a folder first (File → Add Folder…)."
        if not self._indexed_count:
            return (
                f"Nothing under {name_shown(folder)} is indexed yet: wait until the library "
                "has indexed it, or choose another folder."
            )
        if not name:
            return "Name the evaluation set."
        if problem := name_problem(name):
            return problem
        if self.model.count() == 0:
            return "There is no model to write the questions with: add one in Models and Providers."
        try:
            existing = self.services.evals.get(name) if self.services.evals.exists(name) else None
        except FolioError as exc:
            return error_text(exc)
        if existing is not None and (
            existing.source != SetSource.GENERATED or existing.folder != str(Path(folder).resolve())
        ):
            return f"An evaluation set called {name!r} exists already: choose another name."
        return None

    def check(self) -> bool:
        """OK only when the build can start; the reason, or a note, below the form."""
        problem = self.problem_text()
        name = self.name.text().strip()
        if problem:
            say(self.problem, problem, error=True)
        elif self.services.evals.exists(name):
            say(self.problem, f"{name!r} was written from this folder: the build adds to it.")
        else:
            say(self.problem, "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)
        return problem is None
