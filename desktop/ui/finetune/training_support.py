"""Installing training support from the window (the packaged app): the person sees the
download size and the disk space first, then progress, and can cancel at any time.

The work is ``TrainingEnvironment.plan`` and ``install`` (core), run off the UI thread.
"""

from __future__ import annotations

from desktop.core.finetune.local.environment import InstallPlan, InstallProgress
from desktop.core.finetune.local.runtime import TrainerRuntime
from desktop.ui.dialogs import ask
from desktop.ui.messages import message_label, say
from desktop.ui.qt import (
    QHBoxLayout,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.workers import Job

MB = 1_000_000
BUILDS = {"cpu": "PyTorch's CPU build", "cuda": "PyTorch's CUDA build (NVIDIA GPU found)"}


def plan_text(plan: InstallPlan) -> str:
    """The plan as the confirmation shows it: sizes, what, where."""
    build = BUILDS.get(plan.build, "PyTorch")
    return (
        f"Downloads {plan.download_bytes / MB:,.0f} MB: {build}, transformers, PEFT and "
        f"{len(plan.packages) - 3} smaller packages.\n"
        f"Takes about {plan.disk_bytes / 1e9:.1f} GB on disk, in {plan.folder}.\n"
        f"Uses {plan.python} to make a private environment; nothing else on this computer "
        "changes."
    )


class TrainingSupport(QWidget):
    """ "Install training support…": measure, ask, install with progress and Cancel.

    Shown by the Train locally tab when training support is missing and this app installs it
    on demand; ``installed`` is emitted once it is ready.
    """

    installed = Signal()

    def __init__(self, runtime: TrainerRuntime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self.job: Job | None = None
        self.confirm_box: QMessageBox | None = None
        self.install_button = QPushButton("Install training support…")
        self.install_button.clicked.connect(self.check)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Training support download")
        self.bar.hide()
        self.message = message_label()
        self.message.setAccessibleName("Training support message")
        row = QHBoxLayout()
        row.addWidget(self.install_button)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.message)

    def _run(self, job: Job, doing: str) -> Job:
        job.failed.connect(lambda text: say(self.message, text, error=True))
        job.cancelled.connect(lambda: say(self.message, "Cancelled: nothing was installed."))
        # The finding job's end can come after the person answered and the install began:
        # it must not end the install's state (its bar, its Cancel).
        job.finished.connect(lambda: self._on_finished(job))
        self.job = job
        self.install_button.setEnabled(False)
        self.cancel_button.show()
        say(self.message, doing)
        return job.start()

    def check(self) -> Job | None:
        """Find what installing takes here (a few seconds), then ask."""
        if self.job is not None or self.confirm_box is not None:
            return None
        environment = self.runtime.environment
        job = Job(lambda j: environment.plan(lambda: j.cancel.cancelled))
        job.succeeded.connect(self.confirm)
        return self._run(job, "Finding what to download for this computer…")

    def confirm(self, plan: InstallPlan) -> QMessageBox:
        """The sizes and one question: Install or Cancel."""
        box = ask(
            self,
            "Install training support?",
            "Install PyTorch, transformers and PEFT for training on this computer?",
            plan_text(plan),
            "Install",
            lambda allowed: self._on_confirmed(allowed, plan),
        )
        self.confirm_box = box
        return box

    def _on_confirmed(self, allowed: bool, plan: InstallPlan) -> None:
        self.confirm_box = None
        if not allowed:
            self.runtime.environment.remove_partial()
            say(self.message, "Not installed.")
            return
        self.install(plan)

    def install(self, plan: InstallPlan) -> Job:
        """Download and install ``plan`` in the background, with progress."""
        environment = self.runtime.environment
        job = Job(lambda j: environment.install(plan, j.report, lambda: j.cancel.cancelled))
        job.progress.connect(self._on_progress)
        job.succeeded.connect(self._on_installed)
        self.bar.setRange(0, max(1, plan.download_bytes // MB))
        self.bar.setValue(0)
        self.bar.show()
        return self._run(job, f"Downloading {plan.download_bytes / MB:,.0f} MB…")

    def _on_progress(self, step: InstallProgress) -> None:
        if step.phase == "install":
            self.bar.setRange(0, 0)  # unpacking: no byte count, a busy bar
            say(self.message, "Installing (unpacking the packages)…")
            return
        self.bar.setValue(step.done // MB)
        say(
            self.message,
            f"Downloading {step.package}: {step.done / MB:,.0f} of {step.total / MB:,.0f} MB…",
        )

    def _on_installed(self, _result: object) -> None:
        say(self.message, "Training support is installed.")
        self.installed.emit()

    def cancel(self) -> None:
        """Stop finding or installing; nothing installed so far is kept."""
        if self.job is not None:
            self.job.cancel.cancel()
            say(self.message, "Cancelling…")

    def _on_finished(self, job: Job) -> None:
        if self.job is not job:
            return
        self.job = None
        self.bar.hide()
        self.cancel_button.hide()
        self.install_button.setEnabled(True)
