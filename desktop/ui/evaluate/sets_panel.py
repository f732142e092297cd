"""Evaluate's list of evaluation sets: new from a folder, import, from liked answers, export,
rename and remove.

Writing a set from a folder runs as a background ``Job`` with its progress, the file being
read and Stop; each question is committed as it is written, so Stop (or an error) keeps
what was written, and building again under the same name goes on from there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from desktop.core.errors import FolioError
from desktop.core.evaluate.build import (
    BuildProgress,
    BuildReport,
    build_from_folder,
    from_liked,
    import_jsonl,
    skipped_text,
    write_jsonl,
)
from desktop.core.evaluate.sets import EvalSet, SetSource
from desktop.core.models.names import display_name
from desktop.core.names import file_name_for
from desktop.core.plurals import counted
from desktop.core.tasks import eta_phrase
from desktop.services import Services
from desktop.ui.chat.pane import model_name
from desktop.ui.dialogs import confirm_deletion
from desktop.ui.evaluate.build_dialog import BuildChoice, BuildDialog
from desktop.ui.messages import error_text, say
from desktop.ui.named_list import NamedListPanel, Wording
from desktop.ui.qt import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    Qt,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown
from desktop.ui.workers import Job


def suggested_name(path: Path) -> str:
    """A set name from a file name: ``hr-questions.jsonl`` -> ``hr questions``."""
    return " ".join(re.split(r"[-_\s]+", path.stem)).strip() or "imported"


class SetsPanel(NamedListPanel):
    """The evaluation sets, newest first, and what can be done to them.

    ``selected``, ``renamed`` and ``changed`` are about sets; ``grew`` is this panel's own.
    """

    grew = Signal(str)  # a build wrote another question into this set

    wording = Wording(
        list_name="Evaluation sets",
        columns=("Evaluation set", "Questions"),
        empty=(
            "No evaluation sets yet. Write one from a library folder, import a JSONL file, "
            "or take the answers you liked (thumbs up in the chat)."
        ),
        message_name="Sets message",
        rename_title="Rename the evaluation set",
        remove="remove",
        removed="Removed {name} and its runs.",
        in_use="{name} is in use: {action} it once it is written or run.",
    )

    def __init__(
        self, services: Services, models: Callable[[], list[str]], parent: QWidget | None = None
    ) -> None:
        """``models``: the ids a build may write with (the picker's)."""
        super().__init__(services, models, parent)
        self.counts: dict[str, int] = {}
        # The set a run is answering, which keeps its name until the run ends.
        self.in_use: Callable[[], str | None] = lambda: None
        self.build: Job | None = None
        self.building: str | None = None  # the set a build writes into
        self._written = -1  # questions the build had written at its last progress

        self.new_button = QPushButton("New from folder…")
        self.new_button.clicked.connect(self.ask_build)
        self.import_button = QPushButton("Import JSONL…")
        self.import_button.clicked.connect(self.ask_import)
        self.liked_button = QPushButton("From liked answers…")
        self.liked_button.clicked.connect(self.ask_from_liked)
        self.export_button = QPushButton("Export JSONL…")
        self.export_button.clicked.connect(self.ask_export)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.ask_remove)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Build progress")
        self.progress.setTextVisible(True)
        self.reading = QLabel()
        self.reading.setAccessibleName("File being read")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current question; what was written is kept")
        self.stop_button.clicked.connect(self.stop_build)

        buttons = QGridLayout()
        for index, button in enumerate(
            (
                self.new_button,
                self.import_button,
                self.liked_button,
                self.export_button,
                self.rename_button,
                self.remove_button,
            )
        ):
            buttons.addWidget(button, index // 2, index % 2)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_hint)
        layout.addLayout(buttons)
        layout.addLayout(running)
        layout.addWidget(self.reading)
        layout.addWidget(self.message)
        self._enable()

    # -- the list ---------------------------------------------------------------------------

    def _rows(self) -> list[QTreeWidgetItem]:
        try:
            sets = self.services.evals.sets()
        except FolioError as exc:
            say(self.message, f"Cannot list the evaluation sets: {error_text(exc)}", error=True)
            sets = []
        self.counts = {s.name: len(s.items) for s in sets}
        rows = []
        for found in sets:
            item = self._row(found.name, [found.name, str(len(found.items))])
            item.setToolTip(0, _origin(found))
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            rows.append(item)
        return rows

    def _fit_columns(self) -> None:
        # Only the names: the count column keeps its width, which a narrow list would
        # otherwise shrink to the numbers (and scroll sideways for).
        self.list.resizeColumnToContents(0)

    def _enable(self) -> None:
        super()._enable()
        building = self.build is not None
        self.remove_button.setEnabled(self._changeable())
        self.export_button.setEnabled(self.current is not None)
        self.new_button.setEnabled(not building)
        self.progress.setVisible(building)
        self.stop_button.setVisible(building)
        self.reading.setVisible(building)

    # -- writing a set from a folder --------------------------------------------------------

    def ask_build(self) -> None:
        """Ask what to build from (``BuildDialog``), then build it."""
        dialog = BuildDialog(self.services, self.models(), self)
        if dialog.exec():
            self.start_build(dialog.choice())

    def start_build(self, choice: BuildChoice) -> Job | None:
        """Write the set in the background; a remote model needs the person's permission first.

        While that is asked, nothing runs and None is returned; Allow starts the build.
        """
        if self.build is not None or self.consent_box is not None:
            return None
        provider = self.services.needs_consent(choice.model)
        if provider is None:
            return self._build(choice)
        self._ask_consent(
            f"Writing questions with {model_name(choice.model, self.services)}",
            provider,
            partial(self._build, choice),
        )
        return None

    def _build(self, choice: BuildChoice) -> Job:
        services = self.services

        def work(job: Job) -> BuildReport:
            return build_from_folder(
                services.library,
                services.store,
                services.evals,
                choice.name,
                choice.folder,
                services.llama_index_llm(choice.model),
                model_id=choice.model,
                questions=choice.questions,
                on_progress=job.report,
                cancel=job.cancel,
            )

        job = Job(work)
        job.progress.connect(self._on_build_progress)
        job.succeeded.connect(self._on_built)
        job.failed.connect(
            lambda text: say(self.message, f"{text} What was written is kept.", error=True)
        )
        job.finished.connect(self._on_build_finished)
        self.build, self.building = job, choice.name
        self._written = -1
        self.progress.setRange(0, choice.questions)
        self.progress.setValue(0)
        self.progress.setFormat(f"0 of {choice.questions} questions")
        self.reading.setText("Loading the model…")
        self.stop_button.setEnabled(True)
        writer = model_name(choice.model, self.services)
        say(self.message, f"Writing {choice.name} from {choice.folder} with {writer}…")
        self._enable()
        return job.start()

    def stop_build(self) -> None:
        """Stop after the current question; the questions written so far stay in the set."""
        if self.build is not None:
            self.build.cancel.cancel()
            self.stop_button.setEnabled(False)
            say(self.message, "Stopping after the current question…")

    def _on_build_progress(self, p: BuildProgress) -> None:
        self.progress.setRange(0, max(p.questions_wanted, 1))
        self.progress.setValue(min(p.questions_written, p.questions_wanted))
        # The estimate is for the questions still to write: none once the build is ending.
        eta = eta_phrase(p.eta_seconds if p.current else None)
        self.progress.setFormat(f"{p.questions_written} of {p.questions_wanted} questions{eta}")
        if p.current:
            self.reading.setText(f"Reading {Path(p.current).name}…")
            self.reading.setToolTip(p.current)
        if p.questions_written != self._written:
            # The set appears with its first question and its count grows as they come.
            self._written = p.questions_written
            self.reload(select=self.building if self.current is None else None)
            if self.building:
                self.grew.emit(self.building)

    def _on_built(self, report: BuildReport) -> None:
        text = f"{self.building} has {report.in_set} of {report.wanted} questions."
        if report.chunks_skipped:
            s = "" if report.chunks_skipped == 1 else "s"
            text += (
                f" {report.chunks_skipped} passage{s} gave no usable question and "
                f"{'was' if s == '' else 'were'} skipped."
            )
        if report.duplicates:
            text += " " + skipped_text(list(report.duplicates))
        if report.cancelled:
            text = "Stopped: what was written is kept. " + text
        elif report.in_set < report.wanted:
            text += " The folder has no more passages to ask about: add documents for more."
        say(self.message, text)

    def _on_build_finished(self) -> None:
        name = self.building
        self.build, self.building = None, None
        self.reload(select=name if self.current is None else None)
        if name:
            self.grew.emit(name)
        self.changed.emit()

    # -- import, liked answers, export ------------------------------------------------------

    def ask_import(self) -> None:
        """Ask for a JSONL file and a name for its set, then import it."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Import an evaluation set", "", "JSON Lines (*.jsonl *.json);;All files (*)"
        )
        if not path:
            return
        name, ok = QInputDialog.getText(
            self, "Import an evaluation set", "Name of the set:", text=suggested_name(Path(path))
        )
        if ok and name.strip():
            self.import_file(Path(path), name.strip())

    def import_file(self, path: Path, name: str) -> EvalSet | None:
        """A new set ``name`` from a JSONL file; every bad line is named if there is one,
        and every line left out as a repeated question."""
        try:
            new = import_jsonl(self.services.evals, name, path)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return None
        made = new.made
        text = f"Imported {counted(len(made.items), 'question')} as {made.name}."
        say(self.message, " ".join(filter(None, (text, skipped_text(new.skipped)))))
        self._added(made.name)
        return made

    def ask_from_liked(self) -> None:
        """Ask for the new set's name, then make it from the liked answers."""
        name, ok = QInputDialog.getText(
            self, "Evaluation set from liked answers", "Name of the set:", text="liked answers"
        )
        if ok and name.strip():
            self.from_liked(name.strip())

    def from_liked(self, name: str) -> EvalSet | None:
        """A new set ``name`` of the liked answers, each with its question and best source;
        a question liked twice is kept once, and the message names the ones left out."""
        try:
            new = from_liked(self.services.chats, self.services.evals, name)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return None
        made = new.made
        text = f"Made {made.name} from {len(made.items)} liked answers."
        say(self.message, " ".join(filter(None, (text, skipped_text(new.skipped)))))
        self._added(made.name)
        return made

    def ask_export(self) -> None:
        """Ask where to write the chosen set as JSONL, then write it."""
        if self.current is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export the evaluation set",
            file_name_for(self.current, ".jsonl"),
            "JSON Lines (*.jsonl);;All files (*)",
        )
        if path:
            self.export(self.current, Path(path))

    def export(self, name: str, path: Path) -> bool:
        """Write the set's saved questions to ``path`` as JSONL, to edit and import again."""
        try:
            items = self.services.evals.get(name).items
            write_jsonl(items, path)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return False
        except OSError as exc:
            say(self.message, f"Could not write {path}: {exc.strerror or exc}.", error=True)
            return False
        say(self.message, f"Wrote the {len(items)} saved questions of {name} to {path}.")
        return True

    # -- rename and remove ------------------------------------------------------------------

    def busy(self, name: str | None) -> bool:
        """Whether ``name`` is being written or run, and so keeps its name and questions."""
        return name is not None and name in (self.building, self.in_use())

    def _store_rename(self, name: str, new_name: str) -> str:
        # The store moves the set's runs with it, so they follow the new name.
        return self.services.evals.rename(name, new_name).name

    def _store_delete(self, name: str) -> None:
        self.services.evals.delete(name)

    def ask_remove(self) -> None:
        """Confirm, then remove the chosen set with its runs."""
        if self.current is not None and confirm_deletion(
            self,
            f'Remove the evaluation set "{line_shown(self.current)}"?',
            f"Its {counted(self.counts.get(self.current, 0), 'question')}, its runs and their "
            "results are deleted. Export it as JSONL first to keep the questions.",
        ):
            self.remove(self.current)

    def remove(self, name: str) -> bool:
        """Remove a set with its runs and results; False (and why) if it is in use."""
        return self._remove(name)


def _origin(found: EvalSet) -> str:
    """Where a set's questions came from, for its tooltip."""
    origin = {
        SetSource.GENERATED: (
            f"Written by {display_name(found.model) if found.model else 'a model'} "
            f"from {found.folder}"
        ),
        SetSource.IMPORTED: "Imported from a JSONL file",
        SetSource.LIKED: "From liked answers",
        SetSource.MANUAL: "Written by hand",
    }
    return origin[found.source]
