"""The fine-tuning studio's Train and Jobs tabs, and the watcher that follows running jobs.

Starting a job validates the dataset first and shows what would be uploaded (each file, its
examples and size, and where it goes) in one confirmation; nothing is sent before Upload.
``JobWatcher`` runs ``FineTuning.watch`` in the background: the main window starts it at
launch, so jobs started before a restart are followed again.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from desktop.core.errors import FolioError
from desktop.core.finetune.jobs import POLL_SECONDS, UploadPlan
from desktop.core.finetune.pricing import BASE_MODELS, DEFAULT_BASE, PRICES_AS_OF
from desktop.core.finetune.records import Job as FineTuneJob
from desktop.core.finetune.records import JobEvent, JobState, Metric
from desktop.core.models.ids import LOCAL
from desktop.core.models.providers import provider
from desktop.core.tasks import clock_time, eta_phrase
from desktop.services import Services
from desktop.ui.finetune.loss_plot import LossPlot
from desktop.ui.finetune.train_form import TrainForm
from desktop.ui.messages import error_text, message_label, plain_box, say
from desktop.ui.qt import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QObject,
    QPushButton,
    QSpinBox,
    QSplitter,
    Qt,
    QTimer,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown, lines_shown, tooltip_shown
from desktop.ui.workers import Job

_ROLE = Qt.ItemDataRole.UserRole
# OpenAI's deprecations page, "Update to OpenAI's self-serve fine-tuning" (2026-05-07).
OPENAI_CLOSING = (
    "OpenAI is closing self-serve fine-tuning: organisations that never fine-tuned cannot "
    "start jobs, and no new jobs are accepted from anyone after 2027-01-06. Train locally "
    "teaches a model the same way on this computer."
)
TRAIN_LOCALLY = "To train without OpenAI, use the Train locally tab."


def size_text(size: int) -> str:
    """Bytes as KB or MB, the way the confirmation shows a file's size."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size / 1024, 0.1):.1f} KB"


def _when(timestamp: float | None) -> str:
    return clock_time(timestamp) if timestamp else ""


def _escaped(text: str) -> str:
    """A name from the server or a person in rich text: read as written (``shown``), and
    a "<b>" in it shown, not applied."""
    return html.escape(line_shown(text))


def _progress_parts(progress: dict[str, Any] | None) -> list[str]:
    """A local run's newest step: step of total, tokens/s, time left, peak memory."""
    if not progress:
        return ["loading the base model"]
    return [
        f"step {progress['step']}/{progress['total_steps']}",
        f"{progress['tokens_per_s']:.0f} tokens/s{eta_phrase(progress['eta_s'])}",
        f"peak memory {progress['peak_memory_mb'] / 1024:.1f} GB",
    ]


class JobWatcher(QObject):
    """Polls every unfinished job in the background until each has ended, or ``stop``."""

    updated = Signal(object)  # FineTuneJob, as each poll finds it
    succeeded = Signal(object)  # FineTuneJob, once, when it has just succeeded
    failed = Signal(str)  # why watching stopped

    def __init__(
        self, services: Services, interval: float = POLL_SECONDS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.interval = interval
        self.job: Job | None = None
        self._again = False  # start again once the current watch has stopped
        self._stopped = False
        self._seen: dict[str, str] = {}  # job id -> the status last seen

    @property
    def running(self) -> bool:
        return self.job is not None

    def start(self) -> bool:
        """Follow every unfinished job (newly started ones included, and any a start that
        was interrupted created); False if there is none."""
        if self._stopped:
            return False
        if self.job is not None:
            # A running watch picks new jobs up at its next round; one about to end because
            # it saw none left is started again when it has.
            self._again = True
            return True
        try:
            jobs = self.services.finetune_jobs.all()
            interrupted = self.services.finetune_jobs.pending()
        except (FolioError, OSError) as exc:
            self.failed.emit(error_text(exc))
            return False
        for known in jobs:
            self._seen.setdefault(known.id, known.status)
        if all(known.finished for known in jobs) and not interrupted:
            return False
        finetuning, interval = self.services.finetuning, self.interval

        def work(job: Job) -> None:
            finetuning.watch(on_update=job.report, cancel=job.cancel, interval=interval)

        job = Job(work)
        job.progress.connect(self._on_update)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._on_finished)
        self.job = job
        job.start()
        return True

    def stop(self) -> None:
        """Stop polling for good (the window is closing); jobs go on at the provider."""
        self._stopped = True
        if self.job is not None:
            self.job.cancel.cancel()

    def _on_update(self, job: FineTuneJob) -> None:
        before = self._seen.get(job.id)
        self._seen[job.id] = job.status
        self.updated.emit(job)
        if job.status == JobState.SUCCEEDED and before != JobState.SUCCEEDED:
            self.succeeded.emit(job)

    def _on_failed(self, text: str) -> None:
        self.failed.emit(text)

    def _on_finished(self) -> None:
        self.job = None
        again, self._again = self._again, False
        if again:
            self.start()
        elif not self._stopped:
            # Ended with every job it knew finished: one started meanwhile is picked up
            # after a pause (never at once, so a watch that keeps failing cannot spin).
            QTimer.singleShot(int(self.interval * 1000), self._start_if_idle)

    def _start_if_idle(self) -> None:
        if self.job is None:
            self.start()


class TrainPanel(TrainForm):
    """Base model, suffix, hyperparameters and lineage for a new job; Start asks first."""

    failure_hint = TRAIN_LOCALLY

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, "Train message", parent)
        self.plan: UploadPlan | None = None
        self.base = QComboBox()
        self.base.setAccessibleName("Base model")
        self.base.addItems([m.name for m in BASE_MODELS])
        self.base.setCurrentText(DEFAULT_BASE)
        self.suffix = QLineEdit()
        self.suffix.setPlaceholderText("optional: a word in the model's name, e.g. zen")
        self.suffix.setMaxLength(64)
        self.epochs = QSpinBox(minimum=0, maximum=50)
        self.batch_size = QSpinBox(minimum=0, maximum=256)
        self.learning_rate = QDoubleSpinBox(minimum=0.0, maximum=10.0, singleStep=0.1)
        for spin in (self.epochs, self.batch_size, self.learning_rate):
            spin.setSpecialValueText("auto")  # the lowest value: the server chooses
            spin.setToolTip("auto lets OpenAI choose from the dataset's size")
        self.destination = QLabel()
        self.destination.setWordWrap(True)
        self.closing = QLabel(OPENAI_CLOSING)
        self.closing.setWordWrap(True)
        form = QFormLayout()
        form.addRow("", self.closing)
        form.addRow("Dataset", self.dataset)
        form.addRow("Base model", self.base)
        form.addRow("Suffix", self.suffix)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate multiplier", self.learning_rate)
        form.addRow("Persona", self.persona)
        form.addRow("", self.destination)
        form.addRow("", self.start_button)
        form.addRow("", self.message)
        self.lay_out(form)
        self.reload()

    def reload(self, select: str | None = None) -> None:
        """Datasets and personas as they are now, and where uploads would go."""
        self.reload_choices(select)
        try:
            p = provider(self.services.finetuning.provider, self.services.settings)
            self.destination.setText(f"Training files are uploaded to {p.label} at {p.base_url}.")
        except FolioError as exc:
            say(self.destination, error_text(exc), error=True)

    def start(self) -> Job | None:
        """Validate and plan the upload in the background, then ask before anything is sent."""
        name, base = self.dataset_name(), self.base.currentText()
        if not name or self.job is not None or self.confirm_box is not None:
            return None
        finetuning, epochs = self.services.finetuning, self.epochs.value() or None

        def work(_job: Job) -> UploadPlan:
            return finetuning.plan(name, base, epochs)

        return self._run(work, self.confirm, f"Checking {line_shown(name)} for {base}…")

    def confirm(self, plan: UploadPlan) -> QMessageBox:
        """One question listing every file that would leave the computer, and where to."""
        self.plan = plan
        try:
            p = provider(plan.provider, self.services.settings)
            where, url = p.label, p.base_url
        except FolioError:
            where, url = plan.provider, "its configured address"
        count = len(plan.files)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Upload training data?",
            f"Upload {count} file{'' if count == 1 else 's'} to {where} to fine-tune {plan.base}?",
            parent=self,
        )
        lines = [
            f"• {path.name} ({path.parent.name}): {examples} examples, {size_text(size)}"
            for path, examples, size in plan.files
        ]
        report = plan.report
        cost = (
            f"Training costs about ${report.estimated_cost_usd:,.2f} "
            f"({report.tokens:,} tokens × {report.epochs} epochs; an estimate from prices as "
            f"of {PRICES_AS_OF})."
            if report.estimated_cost_usd is not None
            else "Folio knows no price for this model."
        )
        box.setInformativeText(
            "\n".join(lines)
            + f"\n\nThey are sent to {url} and kept there until you delete them. {cost}"
            + "\nNothing is sent until you choose Upload and start."
        )
        plain_box(box)
        upload = box.addButton("Upload and start", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _: self._on_confirmed(box.clickedButton() is upload))
        self.confirm_box = box
        box.open()  # window-modal without a nested event loop, like the chat's consent
        return box

    def _on_confirmed(self, allowed: bool) -> None:
        plan = self.plan
        if not allowed or plan is None:
            self._declined("Nothing was sent.")
            return
        self.confirm_box = None
        finetuning, name = self.services.finetuning, self.dataset_name()
        options = {
            "suffix": self.suffix.text().strip() or None,
            "epochs": self.epochs.value() or None,
            "batch_size": self.batch_size.value() or None,
            "learning_rate_multiplier": self.learning_rate.value() or None,
            # The field starts as the dataset's persona: left empty, the model has none.
            "persona": self.persona_name(),
        }

        def work(_job: Job) -> FineTuneJob:
            return finetuning.start(name, plan.base, **options)  # type: ignore[arg-type]

        self._run(work, self._on_started, f"Uploading {line_shown(name)} and creating the job…")

    def _on_started(self, job: FineTuneJob) -> None:
        started = f"Started {line_shown(job.id)} ({line_shown(job.status)})"
        say(self.message, f"{started}: follow it in the Jobs tab.")
        self.started.emit(job)


class JobsPanel(QWidget):
    """Every job Folio started, and the chosen one's events, loss, error and actions."""

    use_model = Signal(str)  # the picker id of a fine-tuned model, e.g. openai:ft:...

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.current: str | None = None
        self.action: Job | None = None  # a refresh or a cancel
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Status", "Base", "Dataset", "Created", "Model"])
        self.list.setRootIsDecorated(False)
        self.list.setAccessibleName("Jobs")
        self.list.currentItemChanged.connect(
            lambda item, _: self.show_job(item.data(0, _ROLE) if item else None)
        )
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = message_label()
        self.error.setAccessibleName("Job error")
        self.events = QListWidget()
        self.events.setAccessibleName("Job events")
        self.plot = LossPlot()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_selected)
        self.cancel_button = QPushButton("Cancel job")
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.use_button = QPushButton("Use this model")
        self.use_button.clicked.connect(self._use)
        self.message = message_label()
        self.message.setAccessibleName("Jobs message")
        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.cancel_button, self.use_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        details = QWidget()
        column = QVBoxLayout(details)
        column.addWidget(self.title)
        column.addWidget(self.error)
        column.addLayout(buttons)
        column.addWidget(self.plot, 2)
        column.addWidget(QLabel("Events"))
        column.addWidget(self.events, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.addWidget(self.list, 1)
        left_column.addWidget(self.message)
        splitter.addWidget(left)
        splitter.addWidget(details)
        splitter.setSizes([460, 680])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.reload()

    def reload(self, select: str | None = None) -> None:
        try:
            jobs = self.services.finetune_jobs.all()
        except (FolioError, OSError) as exc:
            say(self.message, f"Cannot read the jobs: {error_text(exc)}", error=True)
            jobs = []
        wanted = select or self.current or (jobs[0].id if jobs else None)
        self.list.blockSignals(True)
        self.list.clear()
        for job in jobs:
            item = QTreeWidgetItem(
                [
                    line_shown(job.status),
                    # Names the provider sent back, set apart (``shown``).
                    line_shown(job.base),
                    line_shown(job.dataset or ""),
                    _when(job.created_at),
                    line_shown(job.fine_tuned_model or ""),
                ]
            )
            item.setData(0, _ROLE, job.id)
            item.setToolTip(0, tooltip_shown(line_shown(job.id)))
            self.list.addTopLevelItem(item)
            if job.id == wanted:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        for column in range(self.list.columnCount() - 1):
            self.list.resizeColumnToContents(column)
        if not jobs:
            say(self.message, "No jobs yet: start one in the Train tab.")
        elif self.message.text().startswith("No jobs yet"):
            say(self.message, "")
        self.show_job(wanted if any(job.id == wanted for job in jobs) else None)

    def statuses(self) -> dict[str, str]:
        """Job id -> the status the list shows."""
        items = (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))
        return {item.data(0, _ROLE): item.text(0) for item in items if item is not None}

    def on_update(self, job: FineTuneJob) -> None:
        """A poll found ``job`` as it is now."""
        self.reload()

    def show_job(self, job_id: str | None) -> None:
        self.current = job_id
        job = None
        if job_id is not None:
            try:
                job = self.services.finetune_jobs.get(job_id)
                events = self.services.finetune_jobs.events(job_id)
                metrics = self.services.finetune_jobs.metrics(job_id)
            except (FolioError, OSError) as exc:
                say(self.message, error_text(exc), error=True)
                job = None
        if job is None:
            self.title.setText("<i>Choose a job to see how it goes.</i>")
            say(self.error, "")
            self.events.clear()
            self.plot.set_metrics([])
        else:
            self._show(job, events, metrics)
        running = job is not None and not job.finished
        self.refresh_button.setEnabled(job is not None and self.action is None)
        self.cancel_button.setEnabled(running and self.action is None)
        self.use_button.setEnabled(job is not None and job.model_id is not None)

    def _show(self, job: FineTuneJob, events: list[JobEvent], metrics: list[Metric]) -> None:
        e = _escaped  # rich text, for the bold id: each name came from the server or a person
        lines = [
            f"<b>{e(job.id)}</b>: {e(job.status)}",
            f"{e(job.base)} on {e(job.dataset or '?')}",
        ]
        if job.persona:
            lines.append(f"persona {e(job.persona)}")
        if job.fine_tuned_model:
            lines.append(f"→ {e(job.fine_tuned_model)}")
        if job.trained_tokens:
            lines.append(f"{job.trained_tokens:,} tokens trained")
        if job.provider == LOCAL and not job.finished:
            lines += _progress_parts(self.services.local_training.progress(job.id))
        self.title.setText(" · ".join(lines))
        if job.status == JobState.FAILED:
            reason = lines_shown(job.error) if job.error else "the server gave no reason."
            say(self.error, f"Failed: {reason}", error=True)
        elif job.status == JobState.CANCELLED:
            say(self.error, lines_shown(job.error or "Cancelled."), error=bool(job.error))
        else:
            say(self.error, "")
        if self.events.count() > len(events):
            self.events.clear()
        for event in events[self.events.count() :]:
            mark = {"warn": "⚠ ", "error": "✗ "}.get(event.level, "")
            self.events.addItem(f"{_when(event.created_at)}  {mark}{line_shown(event.message)}")
        if events:
            self.events.scrollToBottom()
        self.plot.set_metrics(metrics)

    def _run(self, work: Callable[[str], FineTuneJob], verb: str) -> Job | None:
        job_id = self.current
        if job_id is None or self.action is not None:
            return None
        job = Job(lambda _job: work(job_id))
        job.failed.connect(lambda text: say(self.message, text, error=True))
        job.succeeded.connect(
            lambda found: say(self.message, f"{line_shown(found.id)}: {line_shown(found.status)}.")
        )
        job.finished.connect(self._on_action_finished)
        self.action = job
        say(self.message, f"{verb} {line_shown(job_id)}…")
        self.show_job(job_id)
        return job.start()

    def refresh_selected(self) -> Job | None:
        return self._run(self.services.finetuning.refresh, "Asking about")

    def cancel_selected(self) -> Job | None:
        return self._run(self.services.finetuning.cancel, "Cancelling")

    def _on_action_finished(self) -> None:
        self.action = None
        self.reload()

    def _use(self) -> None:
        if self.current is None:
            return
        model_id = self.services.finetune_jobs.get(self.current).model_id
        if model_id:
            self.use_model.emit(model_id)
