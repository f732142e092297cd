"""The fine-tuning studio: build and check a training set, train a model, follow the job.

A persona prompt changes how a model answers on each question; fine-tuning teaches a model
to answer that way by itself. The studio is modeless, so a generation or a job goes on (and
can be watched) while the person chats. Its parts:

- Datasets (``finetune_datasets``): import, from liked answers, generated from documents.
- The editor and validation (``finetune_editor``): examples in a table, problems by line.
- Train locally (``local_train``): a LoRA adapter trained here, after a measured plan.
- Train on OpenAI and Jobs (``jobs``): a confirmed upload, then status, events and loss.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.core.finetune.jobs import POLL_SECONDS
from desktop.core.finetune.records import Job as FineTuneJob
from desktop.core.finetune.sources.generate import GenerationReport
from desktop.core.models.local_files import list_models
from desktop.services import Services
from desktop.ui.finetune.datasets import DatasetsPanel
from desktop.ui.finetune.editor import ExamplesEditor, ValidationPanel
from desktop.ui.finetune.jobs import JobsPanel, JobWatcher, TrainPanel
from desktop.ui.finetune.local_train import LocalTrainPanel
from desktop.ui.qt import (
    QCloseEvent,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QSplitter,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)


class FinetuneStudio(QDialog):
    """Chat → Fine-tuning…: datasets, their editor and validation, training, jobs."""

    use_model = Signal(str)  # "Use this model": the picker id of a fine-tuned model
    job_started = Signal(object)  # FineTuneJob

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        watcher: JobWatcher | None = None,
        models: Callable[[], list[str]] | None = None,
        poll_interval: float = POLL_SECONDS,
    ) -> None:
        """``watcher``: the window's, shared; without one the studio polls on its own.

        ``models``: the ids a generation may use (by default every configured local model).
        """
        super().__init__(parent)
        self.setWindowTitle("Fine-tuning")
        self.resize(1180, 720)
        self.services = services
        self.own_watcher = watcher is None
        self.watcher = watcher or JobWatcher(services, poll_interval, self)
        models = models or (lambda: [m.id for m in list_models(services.settings)])
        self.datasets = DatasetsPanel(services, models)
        self.editor = ExamplesEditor(services)
        self.validation = ValidationPanel(
            services, lambda: self.editor.examples() if self.editor.name else None
        )
        self.train_local = LocalTrainPanel(services)
        self.train = TrainPanel(services)
        self.jobs = JobsPanel(services)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.editor)
        right.addWidget(self.validation)
        right.setSizes([440, 200])
        data_tab = QSplitter(Qt.Orientation.Horizontal)
        data_tab.addWidget(self.datasets)
        data_tab.addWidget(right)
        data_tab.setSizes([380, 780])
        self.tabs = QTabWidget()
        self.tabs.addTab(data_tab, "Datasets")
        self.tabs.addTab(self.train_local, "Train locally")
        self.tabs.addTab(self.train, "Train on OpenAI")
        self.tabs.addTab(self.jobs, "Jobs")
        intro = QLabel(
            "A persona's prompt changes how a model answers each question; fine-tuning "
            "teaches a model to answer that way by itself. Retrieval still brings the facts."
        )
        intro.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(close)

        self.datasets.can_leave = self.editor.maybe_save
        self.datasets.selected.connect(self._on_dataset_selected)
        self.datasets.renamed.connect(self.editor.renamed)
        self.datasets.changed.connect(self.train.reload)
        self.datasets.changed.connect(self.train_local.reload)
        self.datasets.generated.connect(self._on_generated)
        self.editor.read_only_reason = self._read_only_reason
        self.editor.changed.connect(self._on_examples_changed)
        self.editor.saved.connect(lambda _: self.datasets.reload())
        self.editor.saved.connect(lambda _: self.train.reload())
        self.editor.saved.connect(lambda _: self.train_local.reload())
        self.validation.problem_chosen.connect(self.editor.select_line)
        self.train.started.connect(self._on_job_started)
        self.train_local.started.connect(self._on_job_started)
        self.watcher.updated.connect(self.jobs.on_update)
        self.jobs.use_model.connect(self.use_model)
        self.datasets.reload()
        self.watcher.start()

    def reload(self) -> None:
        """Show what is on disk now: another window or the CLI may have changed it."""
        self.datasets.reload()
        self.train.reload()
        self.train_local.reload()
        self.jobs.reload()

    def _on_dataset_selected(self, name: str | None) -> None:
        self.editor.load(name)
        if name is not None:
            self.train.reload(select=name)
            self.train_local.reload(select=name)

    def _on_examples_changed(self) -> None:
        if self.editor.name is None:
            self.validation.clear()  # at once: a scheduled run would clear it only later
        else:
            self.validation.schedule()

    def _read_only_reason(self) -> str | None:
        if self.datasets.generation is not None and self.datasets.generating == self.editor.name:
            return "Examples are being generated into this dataset: save when it is done."
        return None

    def _on_generated(self, _report: GenerationReport) -> None:
        # The editor shows the pairs just written, unless it holds edits of its own.
        name = self.datasets.generating
        if name == self.editor.name and not self.editor.dirty:
            self.editor.load(name)

    def _on_job_started(self, job: FineTuneJob) -> None:
        self.jobs.reload(select=job.id)
        self.tabs.setCurrentWidget(self.jobs)
        self.watcher.start()
        self.job_started.emit(job)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Hide (work goes on); unsaved edits are saved or dropped only when the person says."""
        if self.editor.maybe_save():
            event.accept()
        else:
            event.ignore()

    def reject(self) -> None:  # Esc
        self.close()

    def shutdown(self) -> None:
        """Stop a generation at its next chunk, and the studio's own polling, if any."""
        self.datasets.stop_generation()
        if self.own_watcher:
            self.watcher.stop()
