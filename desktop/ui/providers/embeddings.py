"""The Embeddings tab: switch the library's embedding model, with consent for a remote one."""

from __future__ import annotations

from collections.abc import Callable

from desktop.core.errors import FolioError
from desktop.core.library.reembed import ReembedReport, pending_switch
from desktop.core.models.embeddings import LOCAL_EMBEDDING_ID, OPENAI_EMBEDDING_MODELS
from desktop.core.tasks import Progress, eta_phrase
from desktop.services import Services
from desktop.ui.dialogs import ask_consent, remember_consent
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.workers import Job

EMBEDDING_CHOICES = (LOCAL_EMBEDDING_ID, *(f"openai:{name}" for name in OPENAI_EMBEDDING_MODELS))


class EmbeddingsTab(QWidget):
    """The library's embedding model: switch it, watch the switch, stop it and resume it.

    The window's counterpart of ``folio-cli reembed``. The whole switch runs as one ``Job``;
    search and chat go on with the current model until its last step swaps in the new one.
    That last step must not overlap an ingest, so a switch is refused while ``is_busy()``
    (the library pane is indexing), and ``running`` tells the window to hold indexing back
    until the switch ends.
    """

    changed = Signal()  # the library's embedding model changed
    running = Signal(bool)  # a switch started (True) or ended (False)

    def __init__(
        self,
        services: Services,
        is_busy: Callable[[], bool] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.is_busy = is_busy or (lambda: False)
        self.job: Job | None = None
        self.consent_box: QMessageBox | None = None
        self.current = QLabel()
        self.current.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pending = QLabel()
        self.pending.setWordWrap(True)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self.resume)
        self.choice = QComboBox()
        self.choice.setEditable(True)
        self.choice.addItems(EMBEDDING_CHOICES)
        self.choice.setAccessibleName("Embedding model")
        self.choice.setToolTip(
            "Choose a model, or type <server>:<model> for a server added in the Servers tab."
        )
        self.switch_button = QPushButton("Switch")
        self.switch_button.clicked.connect(self.switch)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.message = message_label()
        self.message.setAccessibleName("Embeddings message")
        pending_row = QHBoxLayout()
        pending_row.addWidget(self.pending, 1)
        pending_row.addWidget(self.resume_button)
        choice_row = QHBoxLayout()
        choice_row.addWidget(self.choice, 1)
        choice_row.addWidget(self.switch_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.bar, 1)
        progress_row.addWidget(self.cancel_button)
        form = QFormLayout()
        form.addRow("Library uses", self.current)
        form.addRow("", pending_row)
        form.addRow("Switch to", choice_row)
        form.addRow("", progress_row)
        form.addRow("", self.message)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Every chunk is embedded again with the new model; search goes on with the "
                "current one until the switch is done. A stopped switch resumes where it "
                "stopped. A remote model receives the text of every document."
            )
        )
        layout.addLayout(form)
        layout.addStretch(1)
        self.show_state()

    @property
    def busy(self) -> bool:
        return self.job is not None or self.consent_box is not None

    def show_state(self) -> None:
        """The library's model, a switch left unfinished, and which buttons apply now."""
        running = self.job is not None
        try:
            self.current.setText(self.services.embed_model_name)
            switch = pending_switch(self.services.library)
        except (FolioError, OSError) as exc:
            say(self.message, error_text(exc), error=True)
            switch = None
        if switch is not None and not running:
            self.pending.setText(
                f"Switching to {switch.model} is unfinished: {switch.done} of {switch.total} "
                "chunks re-embedded."
            )
        self.pending.setVisible(switch is not None and not running)
        self.resume_button.setVisible(switch is not None and not running)
        self.resume_button.setEnabled(not self.busy)
        self.switch_button.setEnabled(not self.busy)
        self.choice.setEnabled(not self.busy)
        self.bar.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)

    def resume(self) -> bool:
        switch = pending_switch(self.services.library)
        if switch is None:
            self.show_state()
            return False
        self.choice.setCurrentText(switch.model)
        return self.switch()

    def switch(self) -> bool:
        """Switch to the chosen model, asking first to send documents to a remote one.

        Refused while the library pane indexes. An ingest started during the switch is not
        held back (the pane is not told); the re-embedding catches up with what it added,
        but its final swap may then overlap that ingest.
        """
        model_id = self.choice.currentText().strip()
        if self.busy:
            return False
        if ":" not in model_id:
            say(self.message, "Choose a model, or type <server>:<model>.", error=True)
            return False
        if self.is_busy():
            say(self.message, "The library is indexing: switch when it is done.", error=True)
            return False
        try:
            # A missing key or server is said before the person is asked to send anything.
            self.services.check_embedding_model(model_id)
        except (FolioError, OSError) as exc:
            say(self.message, error_text(exc), error=True)
            return False
        name = self.services.needs_consent(model_id)
        if name is not None:
            self.ask_consent(model_id, name)
            return True
        self.start(model_id)
        return True

    def ask_consent(self, model_id: str, name: str) -> QMessageBox:
        """Ask whether ``name`` may receive every document's text; Allow starts the switch."""
        self.consent_box = ask_consent(
            self,
            "Send your documents to a remote model?",
            f"Switching to {model_id} sends the text of every document in the library to {name}.",
            f"Every chunk is embedded again by {name}, and so are documents added later and "
            f"your searches; they leave this computer. To keep your documents here, Cancel "
            f"and choose {LOCAL_EMBEDDING_ID}.",
            lambda allowed: self._on_consent(allowed, model_id),
        )
        self.show_state()
        return self.consent_box

    def _on_consent(self, allowed: bool, model_id: str) -> None:
        self.consent_box = None
        name = self.services.needs_consent(model_id)
        if not allowed:
            say(self.message, f"Nothing was sent to {name}.")
        elif self.is_busy():
            say(self.message, "The library is indexing: switch when it is done.", error=True)
        else:
            problem = remember_consent(self.services, [name] if name is not None else [])
            if problem is not None:
                say(self.message, problem, error=True)
            else:
                self.start(model_id)
                return
        self.show_state()

    def start(self, model_id: str) -> Job:
        """Run the switch in the background; consent, if needed, was given."""
        services = self.services

        def work(job: Job) -> ReembedReport:
            return services.switch_embedding_model(model_id, job.report, job.cancel)

        job = Job(work)
        job.progress.connect(self._on_progress)
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(lambda: say(self.message, "Cancelled."))
        job.finished.connect(self._on_finished)
        self.job = job
        self.bar.setRange(0, 0)  # busy until the first count: loading the model comes first
        self.bar.setFormat("")
        say(self.message, f"Preparing {model_id}…")
        self.show_state()
        self.running.emit(True)
        return job.start()

    def cancel(self) -> None:
        """Stop after the current batch; what was re-embedded is kept for Resume."""
        if self.job is not None:
            self.job.cancel.cancel()
            self.cancel_button.setEnabled(False)
            say(self.message, "Stopping after the current batch…")

    def _on_progress(self, p: Progress) -> None:
        self.bar.setRange(0, max(p.chunks_total, 1))
        self.bar.setValue(p.chunks_done)
        self.bar.setFormat(f"{p.chunks_done}/{p.chunks_total} chunks")
        if self.cancel_button.isEnabled():
            say(self.message, f"Re-embedding the library{eta_phrase(p.eta_seconds)}…")

    def _on_done(self, r: ReembedReport) -> None:
        if r.cancelled:
            say(self.message, f"Stopped; Resume goes on with {r.model} from there.")
        elif r.swapped:
            say(
                self.message,
                f"The library now uses {r.model}: search uses the new model from now on "
                f"({r.chunks} chunks, in {r.seconds:.1f}s).",
            )
            self.changed.emit()
        else:
            say(self.message, f"The library already uses {r.model} ({r.chunks} chunks).")

    def _on_failed(self, message: str) -> None:
        say(self.message, " ".join(message.split()), error=True)  # one line

    def _on_finished(self) -> None:
        self.job = None
        self.show_state()
        self.running.emit(False)
