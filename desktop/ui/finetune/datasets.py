"""The fine-tuning studio's dataset list: import, build from liked answers, generate, rename.

Importing and generating run as background ``Job``s; generation shows its progress and can
be stopped, keeping the pairs written so far (``generate_pairs`` appends as it goes).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from desktop.core.errors import FolioError
from desktop.core.finetune.datasets import DatasetInfo
from desktop.core.finetune.examples import LineProblem, named_problems
from desktop.core.finetune.sources.from_chats import liked_examples
from desktop.core.finetune.sources.generate import (
    GenerationProgress,
    GenerationReport,
    generate_pairs,
)
from desktop.core.plurals import counted
from desktop.services import Services
from desktop.ui.chat.pane import model_name
from desktop.ui.dialogs import confirm_deletion
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.model_combo import ModelCombo, services_names
from desktop.ui.named_list import NamedListPanel, Wording
from desktop.ui.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown, name_shown
from desktop.ui.workers import Job

SHOWN_PROBLEMS = 10  # lines listed after an import; the rest are counted


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


class NameDialog(QDialog):
    """A dataset name, and maybe one more choice below it (a checkbox or a combo box).

    OK closes it only for a name ``check`` takes (the datasets store's own rule, e.g.
    ``DatasetStore.check_new_name``): otherwise it says why and stays open, keeping what
    was typed and chosen.
    """

    def __init__(
        self,
        title: str,
        name: str,
        extra: QWidget | None,
        check: Callable[[str], object],
        parent: QWidget | None = None,
    ) -> None:
        """``check``: raises FolioError saying why for a name that cannot be used."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.check = check
        self.name = QLineEdit(name)
        self.name.setAccessibleName("Dataset name")
        self.message = message_label()
        self.message.setAccessibleName("Dataset name message")
        form = QFormLayout(self)
        form.addRow("Dataset name", self.name)
        if extra is not None:
            form.addRow("", extra)
        form.addRow(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen_name(self) -> str:
        """The name as typed, without the spaces around it."""
        return self.name.text().strip()

    def accept(self) -> None:
        """Close with a name the store takes; else say why here and stay open."""
        try:
            self.check(self.chosen_name())
        except (FolioError, OSError) as exc:
            say(self.message, error_text(exc), error=True)
            self.name.setFocus()
            return
        super().accept()


class GenerateDialog(QDialog):
    """What to generate from: a library folder, a persona, a model, how many chunks."""

    def __init__(self, services: Services, models: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Generate examples from documents")
        self.folder = QComboBox()
        self.folder.setAccessibleName("Library folder")
        # Shown set apart (``shown``); each entry's data is the folder or name itself.
        for folder in services.library.folders():
            self.folder.addItem(name_shown(folder), folder)
        self.persona = QComboBox()
        self.persona.setAccessibleName("Persona")
        for persona in services.chats.personas.all():
            self.persona.addItem(line_shown(persona.name), persona.name)
        self.model = ModelCombo(models, services_names(services))
        self.max_chunks = QSpinBox(minimum=0, maximum=100_000, value=50)
        self.max_chunks.setSpecialValueText("all")
        self.max_chunks.setToolTip("Each chunk becomes one question and its answer")
        self.name = QLineEdit()
        self.name.setAccessibleName("Dataset name")
        self.name.setPlaceholderText("new, or an existing generated dataset to add to")
        self.folder.currentIndexChanged.connect(self._suggest_name)
        self.persona.currentIndexChanged.connect(self._suggest_name)
        self._suggest_name()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(
            QLabel(
                "The model reads chunks of the folder's documents and writes a question a "
                "reader might ask and its answer in the persona's voice. The pairs are kept "
                "without the persona's prompt, so the fine-tuned model learns the voice itself."
            )
        )
        form.addRow("Library folder", self.folder)
        form.addRow("Persona", self.persona)
        form.addRow("Model", self.model)
        form.addRow("Chunks", self.max_chunks)
        form.addRow("Dataset name", self.name)
        missing = [
            what
            for what, combo in (("a library folder", self.folder), ("a persona", self.persona))
            if combo.count() == 0
        ]
        if missing:
            form.addRow(QLabel(f"Add {' and '.join(missing)} first."))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not missing and self.model.count() > 0)
        form.addRow(self.buttons)

    def _suggest_name(self) -> None:
        folder = Path(self.folder.currentData()).name if self.folder.currentData() else ""
        self.name.setText(_slug(f"{self.persona.currentData() or ''} {folder}"))


class DatasetsPanel(NamedListPanel):
    """The datasets, newest first, and what can be done to them.

    ``selected``, ``renamed`` and ``changed`` are about datasets; the others are its own.
    """

    imported = Signal(object)  # (DatasetInfo, [LineProblem]) after an import
    generated = Signal(object)  # GenerationReport, and the dataset's name in ``generating``

    wording = Wording(
        list_name="Datasets",
        columns=("Name", "Source", "Persona", "Train", "Validation"),
        empty=(
            "No datasets yet. Import a JSONL file, build one from the answers you liked "
            "(thumbs up in the chat), or generate one from your documents."
        ),
        message_name="Datasets message",
        rename_title="Rename the dataset",
        remove="delete",
        removed="Deleted {name}.",
        in_use="{name} is being generated: {action} it once the generation ends.",
    )

    def __init__(
        self,
        services: Services,
        models: Callable[[], list[str]],
        parent: QWidget | None = None,
    ) -> None:
        """``models``: the ids a generation may use (the picker's)."""
        super().__init__(services, models, parent)
        self.infos: dict[str, DatasetInfo] = {}
        self.import_job: Job | None = None
        self.generation: Job | None = None
        self.generating: str | None = None  # the dataset a generation writes to

        self.import_button = QPushButton("Import JSONL…")
        self.import_button.clicked.connect(self.ask_import)
        self.chats_button = QPushButton("From liked answers…")
        self.chats_button.clicked.connect(self.ask_from_chats)
        self.generate_button = QPushButton("Generate from documents…")
        self.generate_button.clicked.connect(self.ask_generate)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.ask_delete)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current chunk; what was written is kept")
        self.stop_button.clicked.connect(self.stop_generation)

        adding = QHBoxLayout()
        for button in (self.import_button, self.chats_button, self.generate_button):
            adding.addWidget(button)
        changing = QHBoxLayout()
        changing.addWidget(self.rename_button)
        changing.addWidget(self.delete_button)
        changing.addStretch(1)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Datasets</b>"))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_hint)
        layout.addLayout(changing)
        layout.addLayout(adding)
        layout.addLayout(running)
        layout.addWidget(self.message)
        self._enable()

    # -- the list ---------------------------------------------------------------------------

    def _rows(self) -> list[QTreeWidgetItem]:
        try:
            infos = self.services.datasets.all()
        except (FolioError, OSError) as exc:
            say(self.message, f"Cannot list the datasets: {error_text(exc)}", error=True)
            infos = []
        self.infos = {info.name: info for info in infos}
        rows = []
        for info in infos:
            item = self._row(
                info.name,
                [
                    info.name,
                    info.source,
                    info.persona or "",
                    str(info.train_examples),
                    str(info.validation_examples),
                ],
            )
            item.setToolTip(0, str(info.train_path.parent))
            rows.append(item)
        return rows

    def busy(self, name: str | None) -> bool:
        """Whether a generation is writing to ``name``, which keeps its name and files until
        it ends."""
        return name is not None and self.generation is not None and name == self.generating

    def _enable(self) -> None:
        super()._enable()
        generating = self.generation is not None
        self.delete_button.setEnabled(self._changeable())
        self.generate_button.setEnabled(not generating)
        self.import_button.setEnabled(self.import_job is None)
        self.progress.setVisible(generating)
        self.stop_button.setVisible(generating)

    # -- import -----------------------------------------------------------------------------

    def ask_import(self) -> None:
        """Ask for a JSONL file, its name and a system prompt for its pairs, then import it."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a training file", "", "JSON Lines (*.jsonl *.json);;All files (*)"
        )
        if not path:
            return
        personas = QComboBox()
        personas.setAccessibleName("System prompt for prompt/response pairs")
        personas.addItem("No system prompt for prompt/response pairs", None)
        for persona in self.services.chats.personas.all():
            personas.addItem(
                f"Start pairs with {line_shown(persona.name)}'s prompt", persona.prompt
            )
        datasets = self.services.datasets
        dialog = NameDialog(
            "Import a training file",
            _slug(Path(path).stem),
            personas,
            # No name: the file's own, made unique by the store.
            lambda name: datasets.check_new_name(name) if name else None,
            self,
        )
        if dialog.exec():
            self.import_file(Path(path), dialog.chosen_name(), personas.currentData())

    def import_file(
        self, path: Path, name: str | None = None, system_prompt: str | None = None
    ) -> Job | None:
        """Copy a JSONL file in, in the background; lines that could not be read are listed."""
        if self.import_job is not None:
            return None
        datasets = self.services.datasets

        def work(_job: Job) -> tuple[DatasetInfo, list[LineProblem]]:
            return datasets.import_file(path, name or None, system_prompt)

        job = Job(work)
        job.succeeded.connect(self._on_imported)
        job.failed.connect(lambda text: say(self.message, text, error=True))
        job.finished.connect(self._on_import_finished)
        self.import_job = job
        say(self.message, f"Reading {path.name}…")
        self._enable()
        return job.start()

    def _on_imported(self, result: tuple[DatasetInfo, list[LineProblem]]) -> None:
        info, problems = result
        examples = counted(info.train_examples + info.validation_examples, "example")
        text = f"Imported {examples} as {info.name}."
        if problems:
            count = len(problems)
            listed = named_problems(problems, SHOWN_PROBLEMS, one_a_line=True)
            text += (
                f"\n{count} line{'' if count == 1 else 's'} could not be read and "
                f"{'was' if count == 1 else 'were'} left out:\n{listed}"
            )
        say(self.message, text, error=bool(problems))
        self._added(info.name)
        self.imported.emit(result)

    def _on_import_finished(self) -> None:
        self.import_job = None
        self._enable()

    # -- from liked answers -----------------------------------------------------------------

    def ask_from_chats(self) -> None:
        """Ask for the name and whether to keep the persona's prompt, then build the dataset."""
        include = QCheckBox("Include the persona's system prompt in each example")
        include.setToolTip(
            "Without it the model learns to answer that way with no prompt at all; with it, "
            "only when the persona's prompt is given."
        )
        dialog = NameDialog(
            "Dataset from liked answers",
            "liked-answers",
            include,
            self.services.datasets.check_new_name,
            self,
        )
        if dialog.exec():
            self.from_chats(dialog.chosen_name(), include.isChecked())

    def from_chats(self, name: str, include_system_prompt: bool = False) -> DatasetInfo | None:
        """A dataset of the answers given a thumbs up; None (and why) if none or it fails."""
        try:
            examples = liked_examples(self.services.chats, include_system_prompt)
            if not examples:
                say(
                    self.message,
                    "No liked answers yet: give good answers a thumbs up in the chat, then try "
                    "again.",
                    error=True,
                )
                return None
            info = self.services.datasets.create(name, examples, source="chats")
        except (FolioError, OSError) as exc:
            say(self.message, error_text(exc), error=True)
            return None
        say(self.message, f"Made {info.name} from {info.train_examples} liked answers.")
        self._added(info.name)
        return info

    # -- generation -------------------------------------------------------------------------

    def ask_generate(self) -> None:
        """Ask what to generate from (``GenerateDialog``), then generate it."""
        dialog = GenerateDialog(self.services, self.models(), self)
        if dialog.exec():
            self.start_generation(
                Path(dialog.folder.currentData()),
                dialog.persona.currentData(),
                dialog.model.model_id(),
                dialog.name.text().strip(),
                dialog.max_chunks.value() or None,
            )

    def start_generation(
        self, folder: Path, persona: str, model: str, dataset: str, max_chunks: int | None
    ) -> Job | None:
        """Write pairs in the background; a remote model needs the person's permission first.

        While that is asked, nothing runs and None is returned; Allow starts the generation.
        """
        if self.generation is not None or self.consent_box is not None or not dataset:
            return None
        provider = self.services.needs_consent(model)
        if provider is None:
            return self._generate(folder, persona, model, dataset, max_chunks)
        go = partial(self._generate, folder, persona, model, dataset, max_chunks)
        self._ask_consent("Generating with this model", provider, go)
        return None

    def _generate(
        self, folder: Path, persona: str, model: str, dataset: str, max_chunks: int | None
    ) -> Job:
        services = self.services

        def work(job: Job) -> GenerationReport:
            return generate_pairs(
                services.library,
                services.store,
                folder,
                services.chats.personas.get(persona),
                services.llm(model),
                services.datasets,
                dataset,
                max_chunks=max_chunks,
                on_progress=job.report,
                cancel=job.cancel,
            )

        job = Job(work)
        job.progress.connect(self._on_generation_progress)
        job.succeeded.connect(self._on_generated)
        job.failed.connect(self._on_generation_failed)
        job.cancelled.connect(lambda: say(self.message, "Stopped: what was written is kept."))
        job.finished.connect(self._on_generation_finished)
        self.generation, self.generating = job, dataset
        self.progress.setRange(0, 0)  # busy until the chunks are counted
        self.progress.setFormat("")
        self.stop_button.setEnabled(True)
        who = f"{line_shown(model_name(model, services))} as {line_shown(persona)}"
        say(self.message, f"Generating {line_shown(dataset)} with {who}…")
        self._enable()
        return job.start()

    def stop_generation(self) -> None:
        """Stop after the current chunk; the pairs written so far stay in the dataset."""
        if self.generation is not None:
            self.generation.cancel.cancel()
            self.stop_button.setEnabled(False)
            say(self.message, "Stopping after the current chunk…")

    def _on_generation_progress(self, p: GenerationProgress) -> None:
        self.progress.setRange(0, max(p.chunks_total, 1))
        self.progress.setValue(p.chunks_done)
        self.progress.setFormat(
            f"{p.chunks_done}/{p.chunks_total} chunks · {p.pairs_written} pairs"
        )
        if p.current and self.stop_button.isEnabled():
            say(self.message, f"Writing a pair from {Path(p.current).name}…")

    def _on_generated(self, report: GenerationReport) -> None:
        text = (
            f"Wrote {counted(report.pairs_written, 'pair')} into "
            f"{line_shown(self.generating or '')} from {counted(report.chunks_used, 'chunk')}."
        )
        if report.chunks_skipped:
            were = "was" if report.chunks_skipped == 1 else "were"
            text += (
                f" {counted(report.chunks_skipped, 'reply', 'replies')} could not be read as a "
                f"question and an answer about their passage and {were} skipped."
            )
        if report.duplicates_skipped:
            were = "was" if report.duplicates_skipped == 1 else "were"
            text += (
                f" {counted(report.duplicates_skipped, 'question')} the dataset already had "
                f"{were} left out."
            )
        if report.cancelled:
            text = "Stopped: what was written is kept. " + text
        say(self.message, text)
        self.generated.emit(report)

    def _on_generation_failed(self, text: str) -> None:
        say(self.message, f"{text} What was written before is kept.", error=True)

    def _on_generation_finished(self) -> None:
        dataset = self.generating
        self.generation, self.generating = None, None
        self.reload(select=dataset if self.current is None else None)
        self.changed.emit()

    # -- rename and delete ------------------------------------------------------------------

    def ask_rename(self) -> None:
        """Ask for the chosen dataset's new name, checked before the dialog closes, then
        rename it."""
        current = self.current
        if current is None:
            return
        dialog = NameDialog(
            self.wording.rename_title,
            current,
            None,
            lambda name: self.services.datasets.check_new_name(name, current),
            self,
        )
        if dialog.exec() and dialog.chosen_name() != current:
            self.rename(current, dialog.chosen_name())

    def _store_rename(self, name: str, new_name: str) -> str:
        return self.services.datasets.rename(name, new_name).name

    def _store_delete(self, name: str) -> None:
        self.services.datasets.delete(name)

    def ask_delete(self) -> None:
        """Confirm, then delete the chosen dataset and its training files."""
        if self.current is not None and confirm_deletion(
            self,
            f'Delete the dataset "{line_shown(self.current)}"?',
            "Its training files are deleted. Jobs already started keep their uploaded copy, "
            "and fine-tuned models made from it stay.",
        ):
            self.delete(self.current)

    def delete(self, name: str) -> bool:
        """Delete a dataset and its training files; False (and why) if it is being generated."""
        return self._remove(name)
