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
    write_jsonl,
)
from desktop.core.evaluate.sets import EvalSet, SetSource
from desktop.core.models.names import display_name
from desktop.core.tasks import eta_phrase
from desktop.services import Services
from desktop.ui.chat.pane import model_name
from desktop.ui.dialogs import ask_consent, confirm_deletion
from desktop.ui.evaluate.build_dialog import BuildChoice, BuildDialog
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QAbstractItemView,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    Qt,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.workers import Job

_NAME = Qt.ItemDataRole.UserRole


def suggested_name(path: Path) -> str:
    """A set name from a file name: ``hr-questions.jsonl`` -> ``hr questions``."""
    return " ".join(re.split(r"[-_\s]+", path.stem)).strip() or "imported"


class SetsPanel(QWidget):
    """The evaluation sets, newest first, and what can be done to them."""

    selected = Signal(object)  # the chosen set's name, or None
    renamed = Signal(str, str)  # old name, new name
    grew = Signal(str)  # a build wrote another question into this set
    changed = Signal()  # a set was added, renamed, removed or grew

    def __init__(
        self, services: Services, models: Callable[[], list[str]], parent: QWidget | None = None
    ) -> None:
        """``models``: the ids a build may write with (the picker's)."""
        super().__init__(parent)
        self.services = services
        self.models = models
        self.current: str | None = None
        self.counts: dict[str, int] = {}
        # Asked before another set is shown: the question table's "save your changes?".
        self.can_leave: Callable[[], bool] = lambda: True
        # The set a run is answering, which keeps its name until the run ends.
        self.in_use: Callable[[], str | None] = lambda: None
        self.build: Job | None = None
        self.building: str | None = None  # the set a build writes into
        self._written = -1  # questions the build had written at its last progress
        self.consent_box: QMessageBox | None = None  # asking to send documents away

        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Evaluation set", "Questions"])
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAccessibleName("Evaluation sets")
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.empty_hint = QLabel(
            "No evaluation sets yet. Write one from a library folder, import a JSONL file, "
            "or take the answers you liked (thumbs up in the chat)."
        )
        self.empty_hint.setWordWrap(True)
        self.new_button = QPushButton("New from folder…")
        self.new_button.clicked.connect(self.ask_build)
        self.import_button = QPushButton("Import JSONL…")
        self.import_button.clicked.connect(self.ask_import)
        self.liked_button = QPushButton("From liked answers…")
        self.liked_button.clicked.connect(self.ask_from_liked)
        self.export_button = QPushButton("Export JSONL…")
        self.export_button.clicked.connect(self.ask_export)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(self.ask_rename)
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
        self.message = message_label()
        self.message.setAccessibleName("Sets message")

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

    def reload(self, select: str | None = None) -> None:
        """Show the sets as stored; select ``select`` (after asking to leave unsaved edits)."""
        try:
            sets = self.services.evals.sets()
        except FolioError as exc:
            say(self.message, f"Cannot list the evaluation sets: {error_text(exc)}", error=True)
            sets = []
        self.counts = {s.name: len(s.items) for s in sets}
        if select in self.counts:
            wanted: str | None = select
        elif self.current in self.counts:
            wanted = self.current
        else:
            wanted = sets[0].name if sets else None
        if wanted != self.current and self.current in self.counts and not self.can_leave():
            wanted = self.current
        self.list.blockSignals(True)
        self.list.clear()
        for found in sets:
            item = QTreeWidgetItem([found.name, str(len(found.items))])
            item.setData(0, _NAME, found.name)
            item.setToolTip(0, _origin(found))
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
            if found.name == wanted:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self.list.resizeColumnToContents(0)
        self.empty_hint.setVisible(not sets)
        if wanted != self.current:
            self.current = wanted
            self.selected.emit(wanted)
        self._enable()

    def names(self) -> list[str]:
        """The listed sets, top to bottom."""
        return [item.data(0, _NAME) for item in self._items()]

    def _items(self) -> list[QTreeWidgetItem]:
        items = (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))
        return [item for item in items if item is not None]

    def select(self, name: str) -> bool:
        """Choose ``name`` as if clicked; False when it is not listed or the person stayed."""
        for item in self._items():
            if item.data(0, _NAME) == name:
                self.list.setCurrentItem(item)
                return self.current == name
        return False

    def _on_current_changed(
        self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None
    ) -> None:
        name = item.data(0, _NAME) if item is not None else None
        if name == self.current:
            return
        if self.can_leave() and name in self.counts:
            self.current = name
            self.selected.emit(name)
        # Staying (or a save that rebuilt the list) leaves the current set highlighted.
        self.list.blockSignals(True)
        for row in self._items():
            if row.data(0, _NAME) == self.current:
                self.list.setCurrentItem(row)
        self.list.blockSignals(False)
        self._enable()

    def busy(self, name: str | None) -> bool:
        """Whether ``name`` is being written or run, and so keeps its name and questions."""
        return name is not None and name in (self.building, self.in_use())

    def _enable(self) -> None:
        chosen = self.current is not None
        building = self.build is not None
        self.rename_button.setEnabled(chosen and not self.busy(self.current))
        self.remove_button.setEnabled(chosen and not self.busy(self.current))
        self.export_button.setEnabled(chosen)
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
        self.consent_box = ask_consent(
            self,
            "Send your documents to a remote model?",
            f"Writing questions with {model_name(choice.model, self.services)} sends passages "
            f"of your documents to {provider}.",
            f"They leave this computer. Folio asks once for {provider}. To keep your "
            "documents here, Cancel and choose a local model.",
            lambda allowed: self._on_consent(allowed, provider, partial(self._build, choice)),
        )
        return None

    def _on_consent(self, allowed: bool, provider: str, go: Callable[[], object]) -> None:
        self.consent_box = None
        if not allowed:
            say(self.message, f"Nothing was sent to {provider}.")
            return
        try:
            self.services.allow_remote(provider)
        except (FolioError, OSError) as exc:
            say(
                self.message,
                f"Could not save the permission for {provider}: {error_text(exc)}",
                error=True,
            )
            return
        go()

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
        """A new set ``name`` from a JSONL file; every bad line is named if there is one."""
        try:
            made = import_jsonl(self.services.evals, name, path)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return None
        say(self.message, f"Imported {len(made.items)} questions as {made.name}.")
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
        """A new set ``name`` of the liked answers, each with its question and best source."""
        try:
            made = from_liked(self.services.chats, self.services.evals, name)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return None
        say(self.message, f"Made {made.name} from {len(made.items)} liked answers.")
        self._added(made.name)
        return made

    def _added(self, name: str) -> None:
        self.reload(select=name)
        self.changed.emit()

    def ask_export(self) -> None:
        """Ask where to write the chosen set as JSONL, then write it."""
        if self.current is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export the evaluation set",
            f"{self.current}.jsonl",
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

    def ask_rename(self) -> None:
        """Ask for the chosen set's new name, then rename it."""
        if self.current is None:
            return
        name, ok = QInputDialog.getText(
            self, "Rename the evaluation set", "New name:", text=self.current
        )
        if ok and name.strip() and name.strip() != self.current:
            self.rename(self.current, name.strip())

    def rename(self, name: str, new_name: str) -> bool:
        """Rename a set; its runs follow it."""
        if self.busy(name):
            say(self.message, f"{name} is in use: rename it once it is written or run.")
            return False
        try:
            renamed = self.services.evals.rename(name, new_name)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return False
        if self.current == name:
            self.current = renamed.name  # the same set: nothing to ask or load again
        say(self.message, f"Renamed {name} to {renamed.name}.")
        self.renamed.emit(name, renamed.name)
        self.reload(select=renamed.name)
        self.changed.emit()
        return True

    def ask_remove(self) -> None:
        """Confirm, then remove the chosen set with its runs."""
        if self.current is not None and confirm_deletion(
            self,
            f'Remove the evaluation set "{self.current}"?',
            f"Its {self.counts.get(self.current, 0)} questions, its runs and their results are "
            "deleted. Export it as JSONL first to keep the questions.",
        ):
            self.remove(self.current)

    def remove(self, name: str) -> bool:
        """Remove a set with its runs and results."""
        if self.busy(name):
            say(self.message, f"{name} is in use: remove it once it is written or run.")
            return False
        try:
            self.services.evals.delete(name)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return False
        if self.current == name:
            self.current = None  # gone: its unsaved edits go with it, nothing to ask
            self.selected.emit(None)
        say(self.message, f"Removed {name} and its runs.")
        self.reload()
        self.changed.emit()
        return True


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
